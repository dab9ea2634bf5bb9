"""Reading one tabular file of a case: CSV (UTF-8, UTF-8 with BOM, GB18030) or the first sheet of an xlsx."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass

from cadrex.i18n import Msg
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


_BOM = b"\xef\xbb\xbf"


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode by content: a UTF-8 BOM, else strict UTF-8, else GB18030 (UnicodeDecodeError when none fits;
    :func:`decode_failure` then says where and why)."""
    if data.startswith(_BOM):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def line_col(prefix: str) -> tuple[int, int]:
    """1-based (line, column) of the character that follows ``prefix`` (CR, LF and CRLF each end a line)."""
    norm = prefix.replace("\r\n", "\n").replace("\r", "\n")
    start = norm.rfind("\n") + 1
    return norm.count("\n") + 1, len(norm) - start + 1




def decode_failure(data: bytes, gb18030: bool = True) -> tuple[int, int, Msg]:
    """Where a file that :func:`decode_bytes` cannot read goes wrong: ``(line, column, message)`` of its first
    undecodable byte under the most plausible encoding. A BOM means UTF-8; else the position where UTF-8 failed when
    the text before it holds valid non-ASCII UTF-8, else where whichever of UTF-8 and GB18030 read further failed.
    ``gb18030=False`` (TOML files, UTF-8 only) reports the UTF-8 failure."""
    bom = data.startswith(_BOM)
    body = data[3:] if bom else data
    fails: dict[str, int] = {}
    for enc in ("utf-8", "gb18030") if gb18030 and not bom else ("utf-8",):
        try:
            body.decode(enc)
        except UnicodeDecodeError as exc:
            fails[enc] = exc.start
    if "utf-8" not in fails:  # not called after a failed decode: nothing to locate
        return 1, 1, Msg("encoding.undecodable")
    eu = fails["utf-8"]
    if bom:
        enc, why = "utf-8", "bom"
    elif any(b >= 0x80 for b in body[:eu]):
        enc, why = "utf-8", "utf-8"
    elif fails.get("gb18030", -1) > eu:
        enc, why = "gb18030", "gb18030"
    else:
        enc, why = "utf-8", "ascii"
    pos = fails[enc]
    line, col = line_col(body[:pos].decode(enc, errors="replace"))
    byte = f"0x{body[pos]:02x}"
    reason = Msg(f"encoding.{why}")
    if gb18030 and not bom:
        where = "UTF-8" if enc == "utf-8" else "GB18030"
        return line, col, Msg("encoding.either", byte=byte, why=reason, where=where)
    if bom:
        return line, col, Msg("encoding.not_utf8", byte=byte, why=reason)
    hint: Msg | str = ""
    try:
        body.decode("gb18030")
        hint = Msg("encoding.gb_hint")
    except UnicodeDecodeError:
        pass
    return line, col, Msg("encoding.toml", byte=byte, hint=hint)


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


def _rest(text: str, line: int) -> str:
    return text.split("\n", line - 1)[-1] if line > 1 else text


def _unclosed(text: str, line: int) -> bool:
    """Does a quote opened in the CSV record starting on physical ``line`` (1-based) stay open to the end of the
    text? (An odd number of quote characters from there: a doubled quote inside a field counts twice.)"""
    return _rest(text, line).count('"') % 2 == 1


def _quote_field(text: str, line: int) -> int:
    """1-based field of physical ``line`` in which the last quote left open on that line was opened."""
    inside, field, opened = False, 1, 1
    for ch in _rest(text, line).split("\n", 1)[0]:
        if ch == '"':
            opened = field if not inside else opened
            inside = not inside
        elif ch == "," and not inside:
            field += 1
    return opened


def _unclosed_error(path: str, text: str, line: int, out: Collector) -> None:
    total = text.count("\n") + (0 if text.endswith("\n") else 1)
    out.add(path, line, _quote_field(text, line), Msg("input.unclosed_quote", n=max(1, total - line + 1)))


def _read_csv(path: str, out: Collector) -> RawTable | None:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text, enc = decode_bytes(data)
    except UnicodeDecodeError:
        out.add(path, *decode_failure(data))
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
        if "field larger than field limit" in str(exc) and _unclosed(text, prev_end + 1):
            _unclosed_error(path, text, prev_end + 1, out)  # a quote never closed, more than 128k characters before the end
        else:
            out.add(path, reader.line_num, 1, Msg("input.malformed_csv", error=str(exc)))
        return None
    if rows and _unclosed(text, lines[-1]):
        # the last record runs to the end of the file inside a quote opened there and never closed: it swallowed
        # every line after it (one cell, and every row after it lost: one error, not hundreds), or it is the last line
        _unclosed_error(path, text, lines[-1], out)
        return None
    if header is None:
        out.add(path, 1, 1, Msg("input.empty_file"))
        return None
    return RawTable(path, header, rows, lines, enc)


def _read_xlsx(path: str, out: Collector) -> RawTable | None:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        out.add(path, 1, 1, Msg("input.bad_workbook", error=str(exc)))
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
        out.add(path, 1, 1, Msg("input.empty_sheet"))
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
