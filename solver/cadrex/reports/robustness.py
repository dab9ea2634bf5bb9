"""The robustness report (SPEC §11) from the samples' re-plans: ``samples.csv``, ``posts.csv`` (p_changed, p_vacant,
backups with shares), ``cadres.csv`` (p_elsewhere), ``chains.csv`` (declines that pull 3+ others along),
``summary.json`` (loss and change quantiles) and an offline ``report.html`` (inline SVG: drawn by the reader's
browser, Chinese labels in the reader's fonts). Shares are over the samples that got a plan (``solved``); failed
samples are listed in ``samples.csv`` with their reason. Same inputs and seed ⇒ byte-identical files (no timings)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from cadrex.analysis.verify import evaluate
from cadrex.io import Case
from cadrex.io.events import Baseline
from cadrex.io.outdir import atomic_dir
from cadrex.io.plan import safe_frame, write_csv

SOLVED = ("optimal", "feasible", "unchanged")
#: a chain is reported when a decline pulls along at least this many other cadres
CHAIN_MIN = 3


@dataclass
class RobustnessReport:
    """The tables and summary of a robustness run; :meth:`write` writes them atomically."""

    samples: pd.DataFrame
    posts: pd.DataFrame
    cadres: pd.DataFrame
    chains: pd.DataFrame
    summary: dict
    kept: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    case: Case | None = None

    def write(self, out_dir: str | os.PathLike, inputs: tuple = (), lang: str | None = None) -> None:
        """Write RDIR (replaced only if cadrex wrote it as a robustness report; see :mod:`cadrex.io.outdir`);
        ``lang``: accepted for symmetry with the other results (the report is bilingual)."""
        case_dirs = [self.case.path] if self.case is not None else []
        files = list(self.case.files.values()) if self.case is not None else []
        with atomic_dir(out_dir, "robustness", case_dirs=case_dirs, input_files=[*files, *inputs]) as tmp:
            for name, df in (("samples.csv", self.samples), ("posts.csv", self.posts), ("cadres.csv", self.cadres),
                             ("chains.csv", self.chains)):
                write_csv(df, os.path.join(tmp, name))
            with open(os.path.join(tmp, "summary.json"), "w", encoding="utf-8") as fh:
                json.dump(self.summary, fh, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
            with open(os.path.join(tmp, "report.html"), "w", encoding="utf-8") as fh:
                fh.write(report_html(self))
            for k, (ev, plan) in sorted(self.kept.items()):
                d = os.path.join(tmp, "samples", str(k))
                os.makedirs(d)
                write_csv(ev, os.path.join(d, "events.csv"))
                write_csv(plan, os.path.join(d, "assignments.csv"))


def _q(values: list[float]) -> dict:
    """Mean and the 5/50/95 % quantiles: each quantile an observed sample value (the empirical distribution's,
    ``inverted_cdf``), so a count of people reads as whole people (3, not an interpolated 3.1)."""
    if not values:
        return {"mean": None, "q05": None, "q50": None, "q95": None}
    a = np.asarray(values, float)
    q = np.quantile(a, [0.05, 0.5, 0.95], method="inverted_cdf")
    return {"mean": round(float(a.mean()), 6), "q05": round(float(q[0]), 6), "q50": round(float(q[1]), 6),
            "q95": round(float(q[2]), 6)}


def aggregate(case: Case, baseline: Baseline, recs: list[dict], info: dict, keep_samples: bool = False) -> RobustnessReport:
    """The report of the samples ``recs`` (one dict per sample from :func:`cadrex.jobs.robustness.run_sample`)."""
    pol = info.get("policy") or case.policy
    ev0 = evaluate(case, baseline.plan, pol)
    P, I = ev0.posts_in_play, ev0.in_play
    own = {h: p for p, h in case.posts["holder_id"].items() if h}
    plan_post = {c: baseline.plan.get(c, own.get(c)) for c in I}
    plan_holder = {p: "" for p in P} | {p: c for c, p in plan_post.items() if p in P}
    names = case.cadres["name"].to_dict()
    plan_obj, plan_vacant = int(ev0.objective), sum(1 for p in P if not plan_holder[p])
    solved = [r for r in recs if r["status"] in SOLVED]
    n = max(1, len(solved))
    rows, held, elsewhere, chain_count = [], {p: Counter() for p in P}, Counter(), Counter()
    for r in recs:
        row = {"sample": r["sample"], "declines": len(r["declines"]), "changes": None, "objective": None,
               "replan_objective": None, "vacant": None, "loss": None, "status": r["status"],
               "decliners": ";".join(r["declines"]), "error": r.get("error", "")}
        if r["status"] in SOLVED:
            plan = {c: r["plan"].get(c, plan_post[c]) for c in I}
            after = {p: "" for p in P} | {p: c for c, p in plan.items() if p in P}
            obj = r.get("objective", plan_obj)
            row |= {"changes": len(r["changes"]), "objective": obj, "replan_objective": r.get("replan_objective", obj),
                    "vacant": sum(1 for p in P if not after[p]), "loss": plan_obj - obj}
            for p in P:
                held[p][after[p]] += 1
            elsewhere.update(c for c in I if plan[c] != plan_post[c])
            for d, follow in r["chains"]:
                if len(follow) >= CHAIN_MIN:
                    chain_count[(d, tuple(follow))] += 1
        rows.append(row)
    samples = pd.DataFrame(rows)
    for col in ("changes", "objective", "replan_objective", "vacant", "loss"):  # integers, empty for a failed sample
        samples[col] = samples[col].astype("Int64")
    post_rows = []
    for p in P:
        c = held[p]
        mine = plan_holder[p]
        others = sorted(((h, k) for h, k in c.items() if h and h != mine), key=lambda t: (-t[1], t[0]))[:3]
        post_rows.append({"post_id": p, "team_id": case.posts.at[p, "team_id"], "holder_plan": mine,
                          "p_changed": round(sum(k for h, k in c.items() if h != mine) / n, 6),
                          "p_vacant": round(c[""] / n, 6), "backups": ";".join(f"{h}:{k / n:.4f}" for h, k in others)})
    posts = pd.DataFrame(post_rows, columns=["post_id", "team_id", "holder_plan", "p_changed", "p_vacant", "backups"])
    posts = posts.sort_values(["p_changed", "post_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    cadres = pd.DataFrame([{"cadre_id": c, "name": names.get(c, ""), "post_plan": plan_post[c] or "",
                            "p_elsewhere": round(elsewhere[c] / n, 6)} for c in I],
                          columns=["cadre_id", "name", "post_plan", "p_elsewhere"])
    chains = pd.DataFrame([{"decliner": d, "name": names.get(d, ""), "followers": " → ".join(f), "n_followers": len(f),
                            "count": k, "share": round(k / n, 6)}
                           for (d, f), k in sorted(chain_count.items(), key=lambda t: (-t[1], t[0][0], t[0][1]))],
                          columns=["decliner", "name", "followers", "n_followers", "count", "share"])
    ok = samples[samples["status"].isin(SOLVED)]
    beyond = int(((ok["changes"] - ok["declines"]) <= 0).sum()) if len(ok) else 0
    summary = info | {"solved": len(solved), "failed": len(recs) - len(solved), "plan_vacant": plan_vacant,
                      "loss": _q([float(x) for x in ok["loss"]]), "changes": _q([float(x) for x in ok["changes"]]),
                      "share_no_change_beyond_decliners": round(beyond / n, 6) if solved else None}
    summary.pop("policy", None)
    kept = {}
    if keep_samples:
        for r in solved:
            if r["status"] == "unchanged":
                continue
            ev = pd.DataFrame({"event": "decline", "cadre_id": r["declines"],
                               "post_id": [baseline.plan[c] or "" for c in r["declines"]], "note": f"sample {r['sample']}"})
            pl = pd.DataFrame({"cadre_id": list(r["plan"]), "to_post": [p or "" for p in r["plan"].values()]})
            kept[r["sample"]] = (ev, pl)
    return RobustnessReport(samples, posts, cadres, chains, summary, kept, case)


def _num(v: float) -> str:
    """A bin edge as a whole number, never "-0"."""
    return f"{round(v) + 0:d}"


#: the posts table's headings, zh and en
POST_HEAD = {"post_id": "职位 post", "team_id": "班子 team", "holder_plan": "方案任职者 holder in the plan",
             "p_changed": "变动概率 P(changed)", "p_vacant": "空缺概率 P(vacant)", "backups": "备选 backups"}


def _hist_svg(loss: list[float], width: int = 560, height: int = 220) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
            'font-size="11">')
    if not loss:
        return head + '<text x="10" y="20">无样本 / no samples</text></svg>'
    lo, hi = min(loss), max(loss)
    bins = 20 if hi > lo else 1
    counts, edges = np.histogram(loss, bins=bins, range=(lo, hi if hi > lo else lo + 1))
    top = max(1, int(counts.max()))
    bw = (width - 60) / bins
    parts = [head]
    for i, k in enumerate(counts):
        h = (height - 50) * k / top
        parts.append(f'<rect x="{50 + i * bw:.1f}" y="{height - 30 - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" '
                     f'fill="#c0392b"><title>{_num(edges[i])} – {_num(edges[i + 1])}: {k}</title></rect>')
    parts.append(f'<text x="50" y="{height - 12}">{_num(lo)}</text>')
    parts.append(f'<text x="{width - 10}" y="{height - 12}" text-anchor="end">{_num(hi)}</text>')
    parts.append(f'<text x="{width / 2:.0f}" y="{height - 2}" text-anchor="middle">目标值损失 / objective loss</text>')
    parts.append(f'<text x="45" y="25" text-anchor="end">{top}</text></svg>')
    return "".join(parts)


def _chain_svg(d: str, followers: list[str]) -> str:
    nodes = [d, *followers]
    w = 90 * len(nodes)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="34" font-family="sans-serif" font-size="11">']
    for i, c in enumerate(nodes):
        fill = "#f5b7b1" if i == 0 else "#d6eaf8"
        parts.append(f'<rect x="{i * 90 + 2}" y="4" width="70" height="24" rx="4" fill="{fill}"/>'
                     f'<text x="{i * 90 + 37}" y="20" text-anchor="middle">{escape(c)}</text>')
        if i:
            parts.append(f'<text x="{i * 90 - 9}" y="20" text-anchor="middle">→</text>')
    return "".join(parts) + "</svg>"


def report_html(r: RobustnessReport) -> str:
    """One offline page: summary, loss histogram, posts by fragility, the worst chains drawn as chains."""
    s = r.summary
    loss = [float(x) for x in r.samples["loss"].dropna()]

    def table(df: pd.DataFrame, limit: int = 30) -> str:
        return safe_frame(df.head(limit)).to_html(index=False, escape=True, border=0)

    ch = "".join(f"<p>{_chain_svg(c['decliner'], c['followers'].split(' → '))} ×{c['count']} ({c['share']:.1%})</p>"
                 for c in r.chains.head(10).to_dict("records")) or "<p>无 / none</p>"
    lq, cq = s["loss"], s["changes"]
    return f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>稳健性报告 / robustness report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}} table{{border-collapse:collapse;font-size:90%}}
td,th{{padding:2px 8px;border-bottom:1px solid #ddd}} th{{position:sticky;top:0;background:#fff}}</style></head><body>
<h1>稳健性报告 / Robustness report</h1>
<p>{s['samples']} 个样本 / samples（已求解 / solved {s['solved']}，失败 / failed {s['failed']}）; 种子 / seed {s['seed']};
不同意概率 / decline rate {s['decline_rate']}{'（部分干部单独给定 / per-cadre rates given）' if s['per_cadre_rates'] else ''};
方案目标值 / plan objective {s['plan_objective']}; 交流人数 / movers {s['movers']}.</p>
<p>目标值损失 / objective loss: 均值 / mean {lq['mean']}, 5% 分位 {lq['q05']}, 50% 分位 {lq['q50']}, 95% 分位 {lq['q95']}.
变动人数 / changes: 均值 / mean {cq['mean']}, 5% 分位 {cq['q05']}, 50% 分位 {cq['q50']}, 95% 分位 {cq['q95']}.
除不同意者外无人变动的样本比例 / share of samples with no change beyond the decliners:
{s['share_no_change_beyond_decliners']}.</p>
<h2>目标值损失分布 / Loss histogram</h2>{_hist_svg(loss)}
<h2>岗位脆弱性 / Posts by fragility</h2>{table(r.posts.rename(columns=POST_HEAD))}
<h2>连锁变动 / Chains (a decline pulling {CHAIN_MIN}+ others along)</h2>{ch}
</body></html>
"""


__all__ = ["RobustnessReport", "aggregate", "report_html"]
