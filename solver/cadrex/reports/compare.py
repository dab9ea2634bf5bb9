"""``cadrex compare``: scenarios side by side, who goes where differently, and a static HTML report (plots embedded,
no external requests) and/or an Excel workbook.

Report files are cadrex's own: the HTML carries ``<meta name="generator" content="cadrex VERSION">``, the workbook a
sheet ``cadrex`` (generator, version, kind). An existing report is overwritten only when it carries that marker and
is not one of the inputs (a compared folder's files, a batch ``index.csv``, a file of a compared plan's case);
anything else is refused (:class:`cadrex.io.outdir.OutDirError`, nothing written)."""

from __future__ import annotations

import html
import json
import os

import pandas as pd

from cadrex.i18n import Msg, catalogue, column_label, resolve_lang, say
from cadrex.io.plan import escape_cell, unescape_cell

GENERATOR_META = '<meta name="generator" content="cadrex'
MARKER_SHEET = "cadrex"
TERMS = ("fit", "hard", "care", "pref", "assess", "fill", "move", "structure", "flow")


def scenario_dirs(paths: list[str]) -> list[str]:
    """Plan folders: each path itself, or every scenario listed in a batch folder's index.csv."""
    out = []
    for p in paths:
        idx = os.path.join(p, "index.csv")
        if os.path.isfile(idx) and not os.path.isfile(os.path.join(p, "summary.json")):
            df = pd.read_csv(idx, dtype=str, keep_default_na=False, encoding="utf-8-sig").map(unescape_cell)
            ok = df["status"].isin(["optimal", "feasible", "infeasible", "no_solution"])
            out += [os.path.join(p, s) for s in df.loc[ok, "scenario"] if os.path.isfile(os.path.join(p, s, "summary.json"))]
        else:
            out.append(p)
    return out


def _split_robustness(dirs: list[str]) -> tuple[list[str], dict[str, dict]]:
    """Plan folders, and robustness report folders (SPEC §11) by the real path of the plan they report on; a
    reported plan not among ``dirs`` is compared too (it is an input of its report)."""
    plans, robust = [], {}
    for d in dirs:
        with open(os.path.join(d, "summary.json"), encoding="utf-8") as fh:
            s = json.load(fh)
        if "loss" in s and "samples" in s and "plan" in s:
            robust[os.path.realpath(s["plan"])] = s
        else:
            plans.append(d)
    have = {os.path.realpath(d) for d in plans}
    plans += [p for p in robust if p not in have and os.path.isfile(os.path.join(p, "summary.json"))]
    return plans, robust


def load(d: str) -> tuple[str, dict, pd.DataFrame | None]:
    with open(os.path.join(d, "summary.json"), encoding="utf-8") as fh:
        s = json.load(fh)
    a = None
    ap = os.path.join(d, "assignments.csv")
    if os.path.isfile(ap):
        a = pd.read_csv(ap, dtype={"to_post": str, "from_post": str}, keep_default_na=False, encoding="utf-8-sig")
        a = a.map(unescape_cell)
    return s.get("scenario") or os.path.basename(os.path.normpath(d)), s, a


def table(loaded: list[tuple[str, dict, pd.DataFrame | None]]) -> pd.DataFrame:
    """One row per scenario: objective and each term, moves, vacancies by hardship, must-move, promotions, structure
    before → after, flow balance, runtime, gap."""
    rows = []
    for name, s, _ in loaded:
        t, m, c = s.get("terms", {}), s.get("metrics", {}), s.get("counts", {})
        r = {"scenario": name, "status": s.get("status"), "objective": s.get("objective"), "best_bound": s.get("best_bound"),
             "gap": s.get("gap"), "status_quo_objective": s.get("status_quo_objective")}
        r |= {f"term_{k}": t.get(k) for k in TERMS}
        r |= {"moves": c.get("moves"), "vacancies_filled": c.get("vacancies_filled")}
        r |= {f"filled_hardship_{h}": m.get("vacancies_filled_by_hardship", {}).get(str(h)) for h in range(4)}
        r |= {"must_move_honoured": f"{m.get('must_move_honoured')}/{m.get('must_move')}" if m else None,
              "promotions": m.get("promotions"),
              "structure_units_before": sum(v for k, v in m.get("structure_before", {}).items() if k != "max_avg_age") if m else None,
              "structure_units_after": sum(v for k, v in m.get("structure_after", {}).items() if k != "max_avg_age") if m else None,
              "flow_imbalance": m.get("flow_imbalance"), "runtime_s": s.get("timings", {}).get("total"),
              "backend": s.get("backend"), "method": s.get("method")}
        if s.get("replan"):  # a re-plan: best_bound and gap refer to its re-plan objective (SPEC §10)
            r |= {"replan_objective": s["replan"].get("objective"), "changes": s["replan"].get("changes")}
        rb = s.get("robustness")  # a robustness report of this plan compared beside it (SPEC §11)
        if rb:
            r |= {"expected_loss": rb["loss"]["mean"], "loss_q95": rb["loss"]["q95"],
                  "expected_changes": rb["changes"]["mean"], "no_change_beyond_decliners": rb["share_no_change_beyond_decliners"],
                  "robustness_samples": rb["samples"], "decline_rate": rb["decline_rate"]}
        rows.append(r)
    return pd.DataFrame(rows)


def labelled(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``df`` with its column names (:func:`cadrex.i18n.column_label`) and status values in ``lang``, for people."""
    cat = catalogue()
    out = df.rename(columns={c: column_label(str(c), lang) for c in df.columns})
    st = column_label("status", lang)
    if st in out.columns:
        out[st] = out[st].map(lambda v: say(f"status.{v}", lang) if f"status.{v}" in cat else v)
    return out


def differences(a: tuple, b: tuple) -> pd.DataFrame:
    """Cadres whose destination differs between two scenarios."""
    (na, _, da), (nb, _, db) = a, b
    if da is None or db is None:
        return pd.DataFrame(columns=["cadre_id", "name", f"to_post_{na}", f"to_post_{nb}"])
    m = da[["cadre_id", "name", "to_post"]].merge(db[["cadre_id", "to_post"]], on="cadre_id", how="outer",
                                                   suffixes=(f"_{na}", f"_{nb}"))
    m = m.fillna("")
    return m[m[f"to_post_{na}"] != m[f"to_post_{nb}"]].reset_index(drop=True)


def write_html(loaded: list, dirs: list[str], path: str, lang: str = "en") -> None:
    """One static file in ``lang`` (:mod:`cadrex.reports.compare_html`): no external resource."""
    from cadrex.reports.compare_html import report_html
    from cadrex.version import __version__

    diff = labelled(differences(loaded[0], loaded[1]), lang) if len(loaded) >= 2 else None
    text = report_html(loaded, dirs, lang, f"{GENERATOR_META} {html.escape(__version__)}\">", labelled(table(loaded), lang),
                       diff)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _plan_sheets(loaded: list, dirs: list[str], lang: str) -> dict:
    """Each solved plan's 方案表 sheets (:func:`cadrex.reports.workbook.plan_sheets`), named "sheet-scenario"
    (at most 31 characters, unique); plans whose case folder is gone are left out."""
    from cadrex.io import load_case
    from cadrex.reports.workbook import plan_sheets

    out: dict = {}
    for (name, s, a), d in zip(loaded, dirs, strict=True):
        cp = s.get("case_path")
        posts, teams = (os.path.join(d, f) for f in ("posts.csv", "teams.csv"))
        if a is None or not cp or not os.path.isdir(cp) or not os.path.isfile(posts) or not os.path.isfile(teams):
            continue
        read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
        sheets = plan_sheets(load_case(cp), a, pd.read_csv(posts, **read).map(unescape_cell),
                             pd.read_csv(teams, **read).map(unescape_cell), lang, str(name))
        for sheet, v in sheets.items():
            key, k = f"{sheet}-{name}"[:31], 2
            while key in out:
                key, k = f"{sheet}-{name}"[: 31 - len(str(k))] + str(k), k + 1
            out[key] = v
    return out


def is_cadrex_html(path: str) -> bool:
    """The file is an HTML report cadrex wrote (its generator meta tag, near the top)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return GENERATOR_META in fh.read(4096)
    except OSError:
        return False


def is_cadrex_xlsx(path: str) -> bool:
    """The file is a workbook cadrex's compare wrote (a ``cadrex`` sheet naming cadrex as its generator)."""
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            if MARKER_SHEET not in wb.sheetnames:
                return False
            rows = list(wb[MARKER_SHEET].iter_rows(min_row=2, max_row=4, max_col=2, values_only=True))
            return ("generator", "cadrex") in rows
        finally:
            wb.close()
    except Exception:  # not a workbook at all
        return False


def _inputs(paths: list[str], dirs: list[str], loaded: list) -> tuple[list[str], list[str]]:
    """Files this comparison reads, and the case folders of the compared plans."""
    from cadrex.io.outdir import MARKER, PLAN_FILES

    files = [os.path.join(p, "index.csv") for p in paths]
    files += [os.path.join(d, f) for d in dirs for f in (*PLAN_FILES, MARKER)]
    cases = [s.get("case_path") for _, s, _ in loaded if s.get("case_path")]
    return files, cases


def compare(paths: list[str], html_path: str | None = None, xlsx_path: str | None = None,
            lang: str | None = None) -> pd.DataFrame:
    """Compare scenario folders; optionally write the HTML report and the workbook (checked first: see the module
    docstring) in ``lang`` (default :func:`cadrex.i18n.resolve_lang`). Returns the table (SPEC column names)."""
    lang = resolve_lang(lang)
    from cadrex.io.errors import CaseError, Problem
    from cadrex.io.outdir import OutDirError, check_out_file

    dirs = scenario_dirs(paths)
    missing = [d for d in dirs if not os.path.isfile(os.path.join(d, "summary.json"))]
    if missing:
        raise CaseError([Problem(os.path.join(d, "summary.json"), 1, 1, "not a plan folder (no summary.json)") for d in missing])
    dirs, robust = _split_robustness(dirs)
    loaded = [load(d) for d in dirs]
    for d, (_, s, _) in zip(dirs, loaded, strict=True):
        if os.path.realpath(d) in robust:
            s["robustness"] = robust[os.path.realpath(d)]
    if not loaded:
        raise ValueError("no scenario folders with a summary.json")
    files, cases = _inputs(paths, dirs, loaded)
    if html_path and xlsx_path and os.path.abspath(html_path) == os.path.abspath(xlsx_path):
        raise OutDirError(os.path.abspath(html_path), Msg("outdir.same_file", path=html_path))
    if html_path:
        html_path = check_out_file(html_path, files, cases, is_cadrex_html, option="--html")
    if xlsx_path:
        xlsx_path = check_out_file(xlsx_path, files, cases, is_cadrex_xlsx, option="--xlsx")
    t = table(loaded)
    if html_path:
        os.makedirs(os.path.dirname(html_path), exist_ok=True)
        write_html(loaded, dirs, html_path, lang)
    if xlsx_path:
        from cadrex.reports.xlsx import write_xlsx
        from cadrex.version import __version__

        sheets: dict = {say("sheet.scenarios", lang): labelled(t, lang)}
        if len(loaded) >= 2:
            sheets[say("sheet.differences", lang)] = labelled(differences(loaded[0], loaded[1]), lang)
        sheets |= _plan_sheets(loaded, dirs, lang)
        sheets[MARKER_SHEET] = pd.DataFrame({"key": ["generator", "version", "kind"],
                                             "value": ["cadrex", __version__, "compare"]})
        os.makedirs(os.path.dirname(xlsx_path), exist_ok=True)
        write_xlsx(sheets, xlsx_path)
    return t


__all__ = ["compare", "differences", "escape_cell", "table"]
