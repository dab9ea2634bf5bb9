"""Excel workbooks an analyst opens directly: one sheet per table, frozen header, column widths set, and every text
cell that starts with = + - @ written as text (never a formula)."""

from __future__ import annotations

import os
import tempfile

import pandas as pd

from cadrex.io.plan import safe_frame


def write_xlsx(tables: dict[str, pd.DataFrame], path: str) -> None:
    """Write ``tables`` (sheet name -> frame) to ``path`` atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, df in tables.items():
        ws = wb.create_sheet(title=name[:31])
        df = safe_frame(df)
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([None if (isinstance(v, float) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v)
                       for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for i, col in enumerate(df.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(60, max(8, width * 1.3))
        # openpyxl treats a str starting with '=' as a formula: mark every text cell explicitly as a string
        for r in ws.iter_rows(min_row=2):
            for cell in r:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=d)
    os.close(fd)
    try:
        wb.save(tmp)
        from cadrex.io.plan import _umask

        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
