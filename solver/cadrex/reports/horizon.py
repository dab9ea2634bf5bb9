"""The files of a multi-year plan (SPEC §12): ``year-t/`` (the §7 files of round t and ``year-t/case/``, case_t in
the case format), ``timeline.csv``, ``summary.json`` and an offline ``report.html`` (inline SVG, zh/en labels)."""

from __future__ import annotations

import json
import os
from html import escape

from cadrex.i18n import catalogue, say
from cadrex.io.casewrite import write_case
from cadrex.io.outdir import atomic_dir, write_marker
from cadrex.io.plan import safe_frame, write_csv
from cadrex.reports.page import page
from cadrex.reports.svg import bars


def write_horizon(h, out_dir, inputs=(), lang: str | None = None) -> None:
    """Write ``h`` (a :class:`cadrex.jobs.horizon.HorizonResult`) to ``out_dir`` atomically; raises
    :class:`cadrex.reports.result.PlanRejected` (nothing touched) when a round's plan was rejected."""
    from cadrex.reports.result import PlanRejected

    if h.status == "rejected":
        raise PlanRejected(list(h.summary.get("violations") or []))
    case_dirs = [h.case.path] if h.case is not None else []
    files = list(h.case.files.values()) if h.case is not None else []
    with atomic_dir(out_dir, "horizon", case_dirs=case_dirs, input_files=[*files, *inputs]) as tmp:
        for t, (r, c) in enumerate(zip(h.rounds, h.cases, strict=True), 1):
            d = os.path.join(tmp, f"year-{t}")
            os.makedirs(os.path.join(d, "case"))
            r.summary["year"] = t
            r.write_files(d, lang=lang)
            write_marker(d, "plan")
            write_case(c, os.path.join(d, "case"), h.summary.get("policy"))
            write_marker(os.path.join(d, "case"), "case")
        if len(h.timeline):
            write_csv(h.timeline, os.path.join(tmp, "timeline.csv"))
        if h.diagnosis:
            with open(os.path.join(tmp, "diagnosis.json"), "w", encoding="utf-8") as fh:
                json.dump(h.diagnosis, fh, ensure_ascii=False, indent=2, allow_nan=False)
        with open(os.path.join(tmp, "summary.json"), "w", encoding="utf-8") as fh:
            json.dump(h.summary, fh, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
        with open(os.path.join(tmp, "report.html"), "w", encoding="utf-8") as fh:
            fh.write(report_html(h))


RULE_ZH = {"min_female": "女性", "min_young": "年轻干部", "min_non_cpc": "党外干部", "min_minority": "少数民族干部",
           "min_grassroots": "基层经历", "max_same_specialty": "专业重复", "required_specialties": "必需专业",
           "max_avg_age": "平均年龄超限"}
TIMELINE_HEAD = {"cadre_id": "干部编号 cadre", "name": "姓名 name", "year": "年 year", "action": "动作 action",
                 "post_id": "岗位 post", "province_id": "省份 province"}


def report_html(h) -> str:
    """The offline report: totals (joint vs myopic), moves per round and province, H1 deadlines met per round,
    structure shortfalls over the years."""
    s = h.summary
    years = [f"第{t}年 / year {t}" for t in range(1, h.years + 1)]
    def val(v) -> str:  # a missing number as a dash, not Python's None
        return "—" if v is None else escape(f"{v:.0f}" if isinstance(v, float) else str(v))
    gap = "—" if s.get("gap") is None else f"{s['gap']:.4%}"
    st = str(s["status"])
    st = f"{say(f'status.{st}', 'zh')} / {say(f'status.{st}', 'en')}" if f"status.{st}" in catalogue() else st
    head = (f"<h1>多年度交流方案 / Multi-year rotation plan</h1><p>状态 / status: <b>{escape(st)}</b>; "
            f"年数 / years: {h.years}; 合计目标值 / total: <b>{val(s.get('total'))}</b>; 上界 / bound: {val(s.get('best_bound'))}; "
            f"差距 / gap: {gap}; 逐年（短视）合计 / myopic total: {val(s.get('myopic_total'))}</p>")
    parts = [head]
    if h.diagnosis:
        parts.append("<h2>无可行方案 / Infeasible</h2><ul>" + "".join(
            f"<li>{escape(d.get('message_zh', ''))}<br>{escape(d.get('message', ''))}</li>" for d in h.diagnosis) + "</ul>")
    if s.get("objectives"):
        series = {"联合 joint": s["objectives"]}
        if s.get("myopic_objectives"):
            series["逐年 myopic"] = s["myopic_objectives"]
        parts.append(bars("每年目标值 / objective per year", years, series))
        parts.append(bars("每年交流人数与到期必须交流 / moves and H1 deadlines per year", years,
                           {"交流 moves": s["moves"], "H1 到期已交流 deadlines met": s["deadlines_met"],
                            "H1 到期 deadlines": s["must_move"]}))
        if s.get("retired"):
            parts.append(bars("每年之后退休人数 / retirements after each year", years[:-1], {"退休 retired": s["retired"]}))
        rules = sorted({k for d in s["structure_after"] for k in d})
        if rules:
            parts.append(bars("班子结构缺口（交流后）/ structure shortfalls after each year", years,
                               {f"{RULE_ZH.get(r, r)} {r}": [d.get(r, 0) for d in s["structure_after"]] for r in rules}))
        tl = h.timeline
        mv = tl[tl["action"] == "move"]
        if len(mv):
            tab = mv.groupby(["province_id", "year"]).size().unstack(fill_value=0)
            rows = "".join(f"<tr><td>{escape(str(q))}</td>" + "".join(f"<td>{int(tab.at[q, t]) if t in tab.columns else 0}</td>"
                                                                      for t in range(1, h.years + 1)) + "</tr>" for q in tab.index)
            parts.append("<h2>各省每年调入人数 / arrivals per province and year</h2><table><tr><th>省 province</th>"
                         + "".join(f"<th>{escape(y)}</th>" for y in years) + f"</tr>{rows}</table>")
        body = safe_frame(mv.head(200)).rename(columns=TIMELINE_HEAD).to_html(index=False, escape=True) if len(mv) else ""
        parts.append(f"<h2>交流时间线 / timeline (moves)</h2>{body}")
    return page("cadrex horizon", "".join(parts), "zh")


__all__ = ["report_html", "write_horizon"]
