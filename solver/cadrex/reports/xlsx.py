"""Excel workbooks an analyst opens and prints directly: one sheet per table, an optional title line, a bold header
row repeated on every printed page, frozen panes below it, A4 landscape fitted to the page width, page numbers,
cell borders, column widths set (CJK characters count double; a longer text column wraps), and every text cell
that starts with = + - @ written as text (never a formula)."""

from __future__ import annotations

import os
import tempfile
import unicodedata

import pandas as pd

from cadrex.io.plan import safe_frame


def _width(v) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(v))


def write_xlsx(tables: dict[str, pd.DataFrame | tuple[str, pd.DataFrame]], path: str) -> None:
    """Write ``tables`` (sheet name -> frame, or -> (title line, frame)) to ``path`` atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    wb.remove(wb.active)
    for name, item in tables.items():
        title, df = item if isinstance(item, tuple) else (None, item)
        ws = wb.create_sheet(title=name[:31])
        df = safe_frame(df)
        if title is not None:
            ws.append([title])
            ws.cell(row=1, column=1).font = Font(bold=True, size=14)
            if len(df.columns) > 1:
                ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(df.columns))
        head = ws.max_row + 1 if title is not None else 1
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([None if (isinstance(v, float) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v)
                       for v in row])
        for cell in ws[head]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.freeze_panes = f"A{head + 1}"
        ws.print_title_rows = f"1:{head}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.oddFooter.center.text = "&P / &N"  # page numbers on every printed page
        line = Side(style="thin", color="999999")
        box = Border(left=line, right=line, top=line, bottom=line)
        wrap = Alignment(wrap_text=True, vertical="top")
        for i, col in enumerate(df.columns, start=1):
            width = max([_width(col)] + [_width(v) for v in df[col].head(200)])
            letter = ws.cell(row=head, column=i).column_letter
            ws.column_dimensions[letter].width = min(60, max(6, width * 1.15))
            long = width * 1.15 > 60  # a long text column wraps instead of running off the printed page
            for cell in ws[letter][head - 1:]:
                cell.border = box
                if long and cell.row > head:
                    cell.alignment = wrap
        # openpyxl treats a str starting with '=' as a formula: mark every text cell explicitly as a string
        for r in ws.iter_rows(min_row=head + 1):
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
