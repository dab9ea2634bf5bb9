"""The 方案表: the workbook an organization department expects from a plan (``solve --xlsx``, ``compare --xlsx``):
交流人选名单 (序号, 姓名, 性别, 民族, 出生年月, 学历, 现任职务, 拟任职务, 交流类型, 交流理由), 岗位空缺与补充 and
班子结构变化, in the chosen language; print settings and escaping are :func:`cadrex.reports.xlsx.write_xlsx`'s.

The case format has no ethnicity, only the minority flag (SPEC §2), so 民族 reads 汉族 or 少数民族."""

from __future__ import annotations

import pandas as pd

from cadrex.i18n import catalogue, say
from cadrex.io import Case
from cadrex.io.schema import EDUCATION

__all__ = ["plan_sheets"]


def _post_name(case: Case, pid: str) -> str:
    if not pid or pid not in case.posts.index:
        return ""
    tid = case.posts.at[pid, "team_id"]
    team = case.teams.at[tid, "name"] if tid in case.teams.index else tid
    return f"{team}{case.posts.at[pid, 'title']}"


def plan_sheets(case: Case, assign: pd.DataFrame, posts: pd.DataFrame, teams: pd.DataFrame, lang: str,
                name: str = "") -> dict[str, tuple[str, pd.DataFrame]]:
    """Sheet name -> (title line, table) for one plan: ``assign``/``posts``/``teams`` are its §7 tables (reasons
    already in ``lang``)."""
    cat = catalogue()
    h = {k: say(f"wb.{k}", lang) for k in ("no", "name", "gender", "ethnicity", "born", "education", "current",
                                            "proposed", "kind", "reason", "post_id", "team", "post", "before", "after",
                                            "from", "state", "rule", "short_before", "short_after", "change")}
    cad = case.cadres
    movers = assign[assign["action"] == "move"].sort_values(["from_province", "cadre_id"], kind="stable")
    rows = []
    for k, r in enumerate(movers.itertuples(), 1):
        c = cad.loc[r.cadre_id]
        kind = str(r.kind or "")
        rows.append({h["no"]: k, h["name"]: c["name"],
                     h["gender"]: say("wb.female" if c["gender"] == "F" else "wb.male", lang),
                     h["ethnicity"]: say("wb.minority" if c["minority"] else "wb.han", lang),
                     h["born"]: c["birth_date"].strftime("%Y.%m") if pd.notna(c["birth_date"]) else "",
                     h["education"]: say(f"wb.{EDUCATION[int(c['education'])]}", lang),
                     h["current"]: _post_name(case, r.from_post) or say("wb.held_none", lang),
                     h["proposed"]: _post_name(case, r.to_post),
                     h["kind"]: say(f"kind.{kind}", lang) if f"kind.{kind}" in cat else kind,
                     h["reason"]: r.reasons})
    lst = pd.DataFrame(rows, columns=[h[k] for k in ("no", "name", "gender", "ethnicity", "born", "education", "current",
                                                     "proposed", "kind", "reason")])
    names = cad["name"].to_dict()
    vac = []
    from_post = dict(zip(assign["cadre_id"], assign["from_post"], strict=True))
    for r in posts.itertuples():
        before, after = r.holder_before or "", r.holder_after or ""
        if before and before == after:
            continue
        state = ("wb.still_vacant" if not after else "wb.filled") if not before else \
            ("wb.vacated" if not after else "wb.replaced")
        src = ""
        if after:
            fp = from_post.get(after, "")
            src = _post_name(case, fp) or say("wb.held_none", lang)
        tid = case.posts.at[r.post_id, "team_id"]
        vac.append({h["post_id"]: r.post_id, h["team"]: case.teams.at[tid, "name"], h["post"]: case.posts.at[r.post_id, "title"],
                    h["before"]: names.get(before, ""), h["after"]: names.get(after, ""), h["from"]: src,
                    h["state"]: say(state, lang)})
    vac_df = pd.DataFrame(vac, columns=[h[k] for k in ("post_id", "team", "post", "before", "after", "from", "state")])
    vac_df.insert(0, h["no"], range(1, len(vac_df) + 1))
    st = []
    rules = [c[: -len("_before")] for c in teams.columns if c.endswith("_before")]
    for r in teams.to_dict("records"):
        for k in rules:
            b, a = r.get(f"{k}_before", ""), r.get(f"{k}_after", "")
            if b in ("", None) or a in ("", None) or (float(b) == 0 and float(a) == 0):
                continue
            b, a = float(b), float(a)
            st.append({h["team"]: r["name"], h["rule"]: say(f"structure.{k}", lang) if f"structure.{k}" in cat else k,
                       h["short_before"]: f"{b:g}", h["short_after"]: f"{a:g}",
                       h["change"]: say("wb.better" if a < b else "wb.worse" if a > b else "wb.same", lang)})
    st_df = pd.DataFrame(st, columns=[h[k] for k in ("team", "rule", "short_before", "short_after", "change")])
    st_df.insert(0, h["no"], range(1, len(st_df) + 1))
    return {say("sheet.list", lang): (say("sheet.list_title", lang, name=name), lst),
            say("sheet.vacancies", lang): (say("sheet.vacancies_title", lang, name=name), vac_df),
            say("sheet.structure", lang): (say("sheet.structure_title", lang, name=name), st_df)}
