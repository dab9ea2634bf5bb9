"""Reading one tabular file of a case: CSV (UTF-8, UTF-8 with BOM, GB18030) or the first sheet of an xlsx."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass

from cadrex.io.errors import Collector


@dataclass
class RawTable:
    """Cells as stripped strings, with the physical line of each record (header = line 1)."""

    path: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    encoding: str

    def col(self, name: str) -> int:
        """1-based column number of ``name`` (0 when absent)."""
        return self.header.index(name) + 1 if name in self.header else 0


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode by content: a UTF-8 BOM, else strict UTF-8, else GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _read_csv(path: str, out: Collector) -> RawTable | None:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text, enc = decode_bytes(data)
    except UnicodeDecodeError:
        out.add(path, 1, 1, "cannot decode file: not UTF-8, UTF-8 with BOM or GB18030")
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    prev_end = 0
    try:
        for rec in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if header is None:
                header = [h.strip() for h in rec]
                continue
            if not rec or all(not c.strip() for c in rec):
                continue
            rows.append([c.strip() for c in rec])
            lines.append(start)
    except csv.Error as exc:
        out.add(path, reader.line_num, 1, f"malformed CSV: {exc}")
        return None
    if header is None:
        out.add(path, 1, 1, "empty file: a header line is required")
        return None
    return RawTable(path, header, rows, lines, enc)


def _read_xlsx(path: str, out: Collector) -> RawTable | None:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        out.add(path, 1, 1, f"cannot read workbook: {exc}")
        return None
    ws = wb.worksheets[0]
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    for i, rec in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = [_cell_text(v) for v in rec]
        if header is None:
            while cells and cells[-1] == "":
                cells.pop()
            header = cells
            continue
        if all(c == "" for c in cells):
            continue
        rows.append(cells)
        lines.append(i)
    wb.close()
    if header is None:
        out.add(path, 1, 1, "empty sheet: a header row is required")
        return None
    return RawTable(path, header, rows, lines, "xlsx")


def find_table(folder: str, stem: str) -> str | None:
    """Path of ``stem.csv`` or ``stem.xlsx`` in ``folder`` (CSV first), or None."""
    for ext in (".csv", ".xlsx"):
        p = os.path.join(folder, stem + ext)
        if os.path.isfile(p):
            return p
    return None


def read_table(path: str, out: Collector) -> RawTable | None:
    """Read a CSV or xlsx file; problems go to ``out`` and None is returned when unreadable."""
    if path.lower().endswith(".xlsx"):
        return _read_xlsx(path, out)
    return _read_csv(path, out)
