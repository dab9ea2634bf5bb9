"""Plan files on disk: CSV cells escaped against spreadsheet formulas, written and read back (``assignments.csv``
read as a plan, for verify and explain)."""

from __future__ import annotations

import os

import pandas as pd

from cadrex.i18n import Msg

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(v):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def unescape_cell(v):
    """The cell as written before :func:`escape_cell`."""
    if isinstance(v, str) and v.startswith("'") and v[1:].startswith(FORMULA_START):
        return v[1:]
    return v


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with every text cell escaped against formula injection."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(escape_cell)
    return out


def write_csv(df: pd.DataFrame, path: str) -> None:
    """``df`` as UTF-8 CSV with BOM (SPEC §7), text cells escaped."""
    safe_frame(df).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def read_plan(plan_dir: str) -> dict[str, str | None]:
    """cadre_id -> to_post (None when unassigned) from a written ``assignments.csv``."""
    from cadrex.io.errors import Collector

    path = os.path.join(plan_dir, "assignments.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = df.map(unescape_cell)
    out = Collector()
    for col in ("cadre_id", "to_post"):
        if col not in df.columns:
            out.add(path, 1, 1, Msg("input.missing_column", name=col))
    out.raise_if_any()
    dup = df.duplicated("cadre_id", keep="first").to_numpy()
    for i in dup.nonzero()[0]:
        out.add(path, int(i) + 2, 1, Msg("input.twice_in_plan", c=repr(df["cadre_id"].iat[i])))
    out.raise_if_any()
    return placements(df)


def placements(assignments: pd.DataFrame) -> dict[str, str | None]:
    """Cadre id -> post id (None: unassigned) from an assignments table (``cadre_id``, ``to_post``)."""
    return {c: (p or None) for c, p in zip(assignments["cadre_id"], assignments["to_post"], strict=True)}
