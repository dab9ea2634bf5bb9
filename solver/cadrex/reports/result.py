"""A solved plan: its tables (SPEC §7), summary, and atomic writing of the output folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from cadrex.i18n import Msg, Text, catalogue, column_label, resolve_lang, say
from cadrex.io import Case
from cadrex.io.outdir import atomic_dir
from cadrex.io.plan import placements, write_csv
from cadrex.solvers.base import Status


def localized(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``df`` with every :class:`cadrex.i18n.Text` cell rendered in ``lang`` (other cells as they are)."""
    cols = [c for c in df.columns if df[c].dtype.kind in "OT" and any(isinstance(v, Text) for v in df[c])]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        out[c] = out[c].map(lambda v: v.text(lang) if isinstance(v, Text) else v)
    return out


def _for_people(sheet: str, df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A §7 table for a workbook in ``lang``: column headings, and (zh) the action, exchange kind and yes/no values
    in words; ids stay ids."""
    if lang == "en":
        return df
    cat = catalogue()
    out = df.copy()
    if "action" in out.columns:
        out["action"] = out["action"].map(lambda v: say(f"action.{v}", lang) if f"action.{v}" in cat else v)
    if "kind" in out.columns:
        out["kind"] = out["kind"].map(lambda v: say(f"kind.{v}", lang) if f"kind.{v}" in cat else v)
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = out[c].map(lambda v: say("wb.yes" if v else "wb.no_", lang))
    names = {c: column_label(str(c), lang) for c in out.columns}
    if sheet == "teams":
        names["name"] = say("wb.team_name", lang)
    return out.rename(columns=names)


@dataclass
class Result:
    """Outcome of :func:`cadrex.solve`: ``status`` is a :class:`~cadrex.solvers.base.Status` (optimal | feasible |
    infeasible | no_solution | rejected; a str enum, so ``summary["status"]`` and JSON keep the plain strings)."""

    status: Status
    objective: int | None
    best_bound: float | None
    gap: float | None
    status_quo_objective: int
    assignments: pd.DataFrame
    posts: pd.DataFrame
    teams: pd.DataFrame
    summary: dict
    diagnosis: list[dict] = field(default_factory=list)
    case: Case | None = None
    #: further files written beside the §7 ones: CSV tables (a re-plan's ``changes.csv``, ``frontier.csv``),
    #: text files (``frontier.svg``) and copies of inputs (``events.csv``), by file name
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    copies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.status = Status(self.status)

    @property
    def plan(self) -> pd.DataFrame:
        """One row per cadre in play: who goes where."""
        return self.assignments

    @property
    def placements(self) -> dict[str, str | None]:
        """Cadre id -> post id (None: unassigned), for the cadres in play."""
        return placements(self.assignments)

    @property
    def timings(self) -> dict:
        return self.summary.get("timings", {})

    def write(self, out_dir: str | os.PathLike, xlsx: bool = False, inputs: Iterable[str | os.PathLike] = (),
              lang: str | None = None) -> None:
        """Write the outputs atomically: a temporary folder renamed into place (the previous output stays
        complete until the new one is, and is put back if the final rename fails).

        Raises :class:`PlanRejected` (nothing touched) when the independent verifier found violations, and
        :class:`cadrex.io.outdir.OutDirError` (nothing touched) when ``out_dir`` is not a folder cadrex may replace:
        the case folder or the working folder (or one containing them), or a non-empty folder cadrex did not write.
        ``inputs``: further input files (e.g. a ``--policy`` file) that ``out_dir`` must not be or contain.
        ``lang`` (zh | en; default :func:`cadrex.i18n.resolve_lang`): the language of the ``reasons`` and the
        workbook; the column names stay those of SPEC §7."""
        violations = list(self.summary.get("violations") or [])
        if violations or self.status == "rejected":
            raise PlanRejected(violations)
        case_dirs = [self.case.path] if self.case is not None else []
        files = list(self.case.files.values()) if self.case is not None else []
        with atomic_dir(out_dir, "plan", case_dirs=case_dirs, input_files=[*files, *inputs]) as tmp:
            self.write_files(tmp, xlsx, lang)

    def write_files(self, folder: str, xlsx: bool = False, lang: str | None = None) -> None:
        """The plan's files (SPEC §7 and any further tables, texts and copies) into the existing ``folder``."""
        lang = resolve_lang(lang)
        if self.status in ("optimal", "feasible"):
            write_csv(localized(self.assignments, lang), os.path.join(folder, "assignments.csv"))
            write_csv(self.posts, os.path.join(folder, "posts.csv"))
            write_csv(self.teams, os.path.join(folder, "teams.csv"))
        if self.diagnosis or self.status == "infeasible":
            with open(os.path.join(folder, "diagnosis.json"), "w", encoding="utf-8") as fh:
                json.dump(self.diagnosis, fh, ensure_ascii=False, indent=2, allow_nan=False)
        with open(os.path.join(folder, "summary.json"), "w", encoding="utf-8") as fh:
            json.dump(self.summary, fh, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
        for name, df in self.tables.items():
            write_csv(localized(df, lang), os.path.join(folder, name))
        for name, text in self.texts.items():
            with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
                fh.write(text)
        for name, src in self.copies.items():
            shutil.copyfile(src, os.path.join(folder, name))
        if xlsx and self.status in ("optimal", "feasible"):
            from cadrex.reports.workbook import plan_sheets
            from cadrex.reports.xlsx import write_xlsx

            assign = localized(self.assignments, lang)
            sheets: dict = {}
            if self.case is not None:  # the 方案表 first, then the §7 tables for analysts
                sheets |= plan_sheets(self.case, assign, self.posts, self.teams, lang, self.case.name or "")
            raw = {"assignments": assign, "posts": self.posts, "teams": self.teams}
            write_xlsx(sheets | {say(f"sheet.{k}", lang): _for_people(k, df, lang) for k, df in raw.items()},
                       os.path.join(folder, "plan.xlsx"))


class PlanRejected(Exception):
    """The independent verifier rejected the plan; nothing was written. ``violations``: each starts with its rule id;
    ``rules``: those ids; ``en``/``zh``: the message in English and Chinese."""

    def __init__(self, violations: list[str]):
        self.violations = list(violations)
        self.rules = sorted({v.split(":", 1)[0].strip() for v in self.violations if ":" in v})
        m = Msg("rejected.plan", ids=", ".join(self.rules) or "?")
        self.en, self.zh = m.text("en"), m.text("zh")
        super().__init__(self.en)
