"""The files of a multi-year plan (SPEC §12): ``year-t/`` (the §7 files of round t and ``year-t/case/``, case_t in
the case format), ``timeline.csv``, ``summary.json`` and an offline ``report.html`` (inline SVG, zh/en labels)."""

from __future__ import annotations

import json
import os
from html import escape

from cadrex.io.casewrite import write_case
from cadrex.io.outdir import atomic_dir, write_marker
from cadrex.io.plan import safe_frame, write_csv


def write_horizon(h, out_dir, inputs=()) -> None:
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
            r.write_files(d)
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


def _bars(title: str, groups: list[str], series: dict[str, list[float]], width: int = 560, height: int = 220) -> str:
    """Grouped bar chart as inline SVG: one group per label of ``groups``, one bar per series."""
    colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"]
    vals = [v for s in series.values() for v in s if v is not None]
    top = max([1.0] + [abs(v) for v in vals])
    n, k = max(1, len(groups)), max(1, len(series))
    gw = (width - 60) / n
    bw = gw * 0.8 / k
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" aria-label="{escape(title)}">',
           f'<text x="10" y="16" font-size="13">{escape(title)}</text>',
           f'<line x1="50" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#333"/>']
    for i, g in enumerate(groups):
        x0 = 50 + i * gw + gw * 0.1
        out.append(f'<text x="{x0 + gw * 0.4:.1f}" y="{height + 16}" font-size="11" text-anchor="middle">{escape(g)}</text>')
        for j, (name, s) in enumerate(series.items()):
            v = s[i] if i < len(s) and s[i] is not None else 0.0
            hgt = (height - 30) * abs(v) / top
            out.append(f'<rect x="{x0 + j * bw:.1f}" y="{height - hgt:.1f}" width="{bw * 0.9:.1f}" height="{hgt:.1f}" '
                       f'fill="{colors[j % len(colors)]}"><title>{escape(name)} {escape(g)}: {v:g}</title></rect>')
            out.append(f'<text x="{x0 + j * bw + bw * 0.45:.1f}" y="{height - hgt - 3:.1f}" font-size="10" text-anchor="middle">{v:g}</text>')
    for j, name in enumerate(series):
        out.append(f'<rect x="{60 + j * 150}" y="{height + 24}" width="10" height="10" fill="{colors[j % len(colors)]}"/>'
                   f'<text x="{74 + j * 150}" y="{height + 33}" font-size="11">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


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
    gap = "" if s.get("gap") is None else f"{s['gap']:.4%}"
    head = (f"<h1>多年度交流方案 / Multi-year rotation plan</h1><p>状态 / status: <b>{escape(str(s['status']))}</b>; "
            f"年数 / years: {h.years}; 合计目标值 / total: <b>{s.get('total')}</b>; 上界 / bound: {s.get('best_bound')}; "
            f"gap: {gap}; 逐年（短视）合计 / myopic total: {s.get('myopic_total')}</p>")
    parts = [head]
    if h.diagnosis:
        parts.append("<h2>无可行方案 / Infeasible</h2><ul>" + "".join(
            f"<li>{escape(d.get('message_zh', ''))}<br>{escape(d.get('message', ''))}</li>" for d in h.diagnosis) + "</ul>")
    if s.get("objectives"):
        series = {"联合 joint": s["objectives"]}
        if s.get("myopic_objectives"):
            series["逐年 myopic"] = s["myopic_objectives"]
        parts.append(_bars("每年目标值 / objective per year", years, series))
        parts.append(_bars("每年交流人数与到期必须交流 / moves and H1 deadlines per year", years,
                           {"交流 moves": s["moves"], "H1 到期已交流 deadlines met": s["deadlines_met"],
                            "H1 到期 deadlines": s["must_move"]}))
        if s.get("retired"):
            parts.append(_bars("每年之后退休人数 / retirements after each year", years[:-1], {"退休 retired": s["retired"]}))
        rules = sorted({k for d in s["structure_after"] for k in d})
        if rules:
            parts.append(_bars("班子结构缺口（交流后）/ structure shortfalls after each year", years,
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
    css = ("body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;margin:2em;max-width:60em}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}th{position:sticky;top:0;background:#eee}")
    return (f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>cadrex horizon</title><style>{css}</style>"
            f"</head><body>{''.join(parts)}</body></html>\n")


__all__ = ["report_html", "write_horizon"]
