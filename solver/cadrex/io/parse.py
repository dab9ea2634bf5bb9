"""Typed, vectorized parsing of a raw table against its :class:`FileSpec`, collecting every problem."""

from __future__ import annotations

import difflib
import logging

import numpy as np
import pandas as pd

from cadrex.i18n import Msg
from cadrex.io.errors import Collector, shown
from cadrex.io.schema import ENUMS, FileSpec
from cadrex.io.tables import RawTable

log = logging.getLogger(__name__)


def _report_bad(out: Collector, raw: RawTable, df: pd.DataFrame, bad: np.ndarray, col: str, what: Msg) -> None:
    c = raw.col(col)
    for line, val in zip(df["_line"].to_numpy()[bad], df[col].to_numpy()[bad], strict=True):
        out.add(raw.path, int(line), c, Msg("input.is_not", col=col, val=shown(val), what=what))


def parse_table(raw: RawTable, spec: FileSpec, out: Collector) -> pd.DataFrame | None:
    """Return a typed frame (column ``_line`` = source line) or None when required columns are missing."""
    missing = [c.name for c in spec.cols if c.required and c.name not in raw.header]
    for name in missing:
        out.add(raw.path, 1, 1, Msg("input.missing_column", name=name))
    if missing:
        return None
    known = [c.name for c in spec.cols]
    for name in raw.header:  # SPEC §1: unknown columns are kept and ignored; one like a known column's name is said
        if name not in known and (near := difflib.get_close_matches(name, known, n=1, cutoff=0.75)):
            note = Msg("input.unknown_column", where=f"{raw.path}:1:{raw.col(name)}", name=name, near=near[0])
            log.warning(note)
            out.notes.append(note)
    width = len(raw.header)
    cells = [r[:width] + [""] * (width - len(r)) for r in raw.rows]
    for r, line in zip(raw.rows, raw.lines, strict=True):
        if len(r) > width and any(x for x in r[width:]):
            out.add(raw.path, line, width + 1, Msg("input.extra_fields", n=len(r), width=width))
    df = pd.DataFrame(cells, columns=raw.header, dtype=object) if cells else pd.DataFrame(columns=raw.header, dtype=object)
    df = df.loc[:, ~df.columns.duplicated()].copy()
    df["_line"] = np.asarray(raw.lines, dtype=np.int64)
    for c in spec.cols:
        if c.name not in df.columns:
            df[c.name] = "" if c.default is None else c.default
            if c.kind == "list":
                df[c.name] = [()] * len(df)
            continue
        s = df[c.name].astype(str).str.strip()
        empty = (s == "").to_numpy()
        if c.required:
            bad = empty
            if bad.any():
                _report_bad(out, raw, df.assign(**{c.name: s}), bad, c.name, Msg("input.required_value"))
        if c.kind in ("id", "str"):
            df[c.name] = s
        elif c.kind == "list":
            df[c.name] = [tuple(x.strip() for x in v.replace("；", ";").split(";") if x.strip()) for v in s]
        elif c.kind in ("int", "float"):
            num = pd.to_numeric(s.where(~empty, None), errors="coerce")
            bad = (~empty) & num.isna().to_numpy()
            if c.kind == "int":
                frac = (~empty) & (~num.isna().to_numpy()) & (np.mod(num.fillna(0).to_numpy(), 1) != 0)
                bad |= frac
            _report_bad(out, raw, df.assign(**{c.name: s}), bad, c.name, Msg("input.a_number" if c.kind == "float" else "input.an_integer"))
            vals = num.fillna(c.default if c.default is not None else 0).to_numpy(dtype=float)
            if c.allowed is not None:
                lo, hi = c.allowed
                oor = (~empty) & (~bad) & ((vals < lo) | (vals > hi))
                _report_bad(out, raw, df.assign(**{c.name: s}), oor, c.name, Msg("input.within", lo=f"{lo:g}", hi=f"{hi:g}"))
            df[c.name] = vals.astype(np.int64) if c.kind == "int" else vals
        elif c.kind == "date":
            d = pd.to_datetime(s.where(~empty, None), format="%Y-%m-%d", errors="coerce")
            bad = (~empty) & d.isna().to_numpy()
            _report_bad(out, raw, df.assign(**{c.name: s}), bad, c.name, Msg("input.a_date"))
            df[c.name] = d
        elif c.kind.startswith("enum:"):
            mapping, allowed = ENUMS[c.kind[5:]]
            low = s.str.lower()
            mapped = low.map(lambda v, m=mapping: m.get(v, m.get(v.replace(" ", "_"), None)))
            bad = (~empty) & mapped.isna().to_numpy()
            _report_bad(out, raw, df.assign(**{c.name: s}), bad, c.name, Msg("input.allowed", allowed=allowed))
            vals = mapped.where(~pd.Series(empty, index=mapped.index), c.default)
            vals = vals.where(vals.notna(), c.default)
            df[c.name] = vals.to_numpy()
    # duplicate keys
    key = list(spec.key)
    if not key:  # a table without a key (re-plan events): repeated rows are allowed
        return df
    dup = df.duplicated(subset=key, keep="first").to_numpy()
    if dup.any():
        first = df.drop_duplicates(subset=key, keep="first").set_index(key)["_line"]
        kc = raw.col(key[0])
        for _, row in df[dup].iterrows():
            k = tuple(row[x] for x in key)
            fl = first.loc[k if len(k) > 1 else k[0]]
            what = "/".join(str(x) for x in k)
            out.add(raw.path, int(row["_line"]), kc, Msg("input.duplicate", key="/".join(key), what=shown(what), line=int(fl)))
        df = df[~dup].copy()
    return df
