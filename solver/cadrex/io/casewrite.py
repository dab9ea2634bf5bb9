"""Write a :class:`~cadrex.io.case.Case` back in the case format (SPEC §2), so that a derived case — a round of a
multi-year plan (SPEC §12) — is an ordinary case folder that ``cadrex validate`` / ``verify`` read as they read any
other. The effective policy is written in full as ``policy.toml`` and every structure model the case uses as
``structures/NAME.toml``, so the folder alone reproduces the case (shipped models with the same name are shadowed
by these copies, which are identical)."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd

from cadrex.io.case import Case
from cadrex.io.schema import EDUCATION, FILES, GRADES


def _cell(value, kind: str) -> str:
    if kind == "enum:grade":
        return GRADES[int(value)]
    if kind == "enum:education":
        return "" if int(value) < 0 else EDUCATION[int(value)]
    if kind == "enum:bool":
        return "true" if bool(value) else "false"
    if kind == "list":
        return ";".join(value)
    if kind == "date":
        return pd.Timestamp(value).date().isoformat()
    if kind == "float":
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    if kind == "int":
        return str(int(value))
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to TOML")


def toml_text(data: dict, header: str = "") -> str:
    """A flat TOML document: top-level keys, then one ``[table]`` per dict value (enough for policies and
    structure models)."""
    lines = [header] if header else []
    lines += [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"] + [f"{a} = {_toml_value(b)}" for a, b in v.items()]
    return "\n".join(lines) + "\n"


def write_case(case: Case, folder: str, policy: dict | None = None) -> None:
    """Write ``case`` (with ``policy``, default its own) into the existing, empty ``folder`` — the caller writes
    the folder atomically (a temporary folder renamed into place)."""
    frames = {"provinces": case.provinces, "specialties": case.specialties, "teams": case.teams, "posts": case.posts,
              "cadres": case.cadres, "relations": case.relations, "preferences": case.preferences, "pins": case.pins,
              "scores": case.scores}
    for spec in FILES:
        df = frames[spec.stem]
        if not spec.required_file and not len(df):
            continue
        cols = [c for c in spec.cols if c.name in df.columns]
        out = pd.DataFrame({c.name: [_cell(v, c.kind) for v in df[c.name]] for c in cols}, columns=[c.name for c in cols])
        out.to_csv(os.path.join(folder, f"{spec.stem}.csv"), index=False, encoding="utf-8-sig", lineterminator="\n")
    as_of = case.as_of if isinstance(case.as_of, dt.date) else pd.Timestamp(case.as_of).date()
    meta = {"as_of": as_of.isoformat(), "name": case.name, "description": case.description}
    with open(os.path.join(folder, "case.toml"), "w", encoding="utf-8") as fh:
        fh.write(f"as_of = {as_of.isoformat()}\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in meta.items()
                                                           if k != "as_of" and v))
    with open(os.path.join(folder, "policy.toml"), "w", encoding="utf-8") as fh:
        fh.write(toml_text(policy if policy is not None else case.policy, "# the effective policy of this round"))
    used = sorted(set(case.teams["structure_model"]))
    os.makedirs(os.path.join(folder, "structures"), exist_ok=True)
    for name in used:
        with open(os.path.join(folder, "structures", f"{name}.toml"), "w", encoding="utf-8") as fh:
            fh.write(toml_text({"rules": dict(case.structures[name])}, f"# structure model {name}"))


__all__ = ["toml_text", "write_case"]
