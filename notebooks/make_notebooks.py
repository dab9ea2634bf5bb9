"""Write the scenario notebooks (run: python notebooks/make_notebooks.py). CI executes them with nbmake."""

from __future__ import annotations

import os

import nbformat as nbf

HERE = os.path.dirname(os.path.abspath(__file__))
SETUP = """import os, sys, tempfile
ROOT = os.path.abspath(os.path.join(os.getcwd(), '..')) if os.path.basename(os.getcwd()) == 'notebooks' else os.getcwd()
sys.path.insert(0, os.path.join(ROOT, 'solver'))
import cadrex
SAMPLE = os.path.join(ROOT, 'data', 'sample')
OUT = tempfile.mkdtemp(prefix='cadrex-nb-')"""

NOTEBOOKS = {
    "01_quick_start.ipynb": [
        ("md", "# Quick start: 样例案例\nLoad the sample case, solve it, check the plan independently, and ask why."),
        ("code", SETUP),
        ("code", "case = cadrex.load_case(SAMPLE)\nres = cadrex.solve(case, seed=0)\nres.status, res.objective, res.best_bound, res.status_quo_objective"),
        ("code", "res.plan[res.plan.action == 'move'][['cadre_id', 'name', 'from_post', 'to_post', 'score', 'reasons']]"),
        ("code", "from cadrex.analysis.verify import evaluate\nplan = {c: (p or None) for c, p in zip(res.plan.cadre_id, res.plan.to_post)}\n"
                 "ev = evaluate(case, plan)\nassert not ev.violations and ev.objective == res.objective\nev.terms"),
        ("code", "from cadrex.analysis.explain import explain, render\nres.write(os.path.join(OUT, 'plan'))\n"
                 "print(render(explain(case, post='P000054', plan_dir=os.path.join(OUT, 'plan'), top=2)))"),
    ],
    "02_scenario_comparison.ipynb": [
        ("md", "# 方案比较 / Scenario comparison\nThe same case under the default, care-first and promote policies."),
        ("code", SETUP),
        ("code", "from cadrex.reports.compare import compare, differences, load\ncase = cadrex.load_case(SAMPLE)\ndirs = []\n"
                 "for name in ['default', 'care-first', 'promote']:\n"
                 "    r = cadrex.solve(case, policy=None if name == 'default' else name)\n"
                 "    r.summary['scenario'] = name\n    d = os.path.join(OUT, name)\n    r.write(d)\n    dirs.append(d)\n"
                 "table = compare(dirs, html_path=os.path.join(OUT, 'report.html'))\n"
                 "table[['scenario', 'objective', 'moves', 'promotions', 'term_care', 'term_pref', 'flow_imbalance']]"),
        ("code", "differences(load(dirs[0]), load(dirs[1]))"),
        ("code", "from cadrex.reports.plots import hardship_filled, score_hist\nsummaries = {n: s for n, s, _ in map(load, dirs)}\n"
                 "fig = hardship_filled(summaries)\nfig"),
        ("code", "score_hist({n: a for n, _, a in map(load, dirs)})"),
    ],
    "03_team_structure.ipynb": [
        ("md", "# 班子结构 / Team structure before and after\nShortfalls per team and rule (SPEC §3), today and after the plan."),
        ("code", SETUP),
        ("code", "res = cadrex.solve(cadrex.load_case(SAMPLE))\nt = res.teams\n"
                 "cols = [c for c in t.columns if c.endswith('_before') or c.endswith('_after')]\nt[['team_id', 'name', 'structure_model'] + cols]"),
        ("code", "import pandas as pd\nrules = sorted({c.rsplit('_', 1)[0] for c in cols})\n"
                 "tot = pd.DataFrame({'before': [pd.to_numeric(t[r + '_before'], errors='coerce').sum() for r in rules],\n"
                 "                    'after': [pd.to_numeric(t[r + '_after'], errors='coerce').sum() for r in rules]}, index=rules)\n"
                 "assert (tot['after'] <= tot['before'] + 1).all()\ntot"),
        ("code", "from cadrex.reports.plots import structure_bars\nstructure_bars({'plan': res.summary})"),
    ],
    "04_replan.ipynb": [
        ("md", "# 最小变动重新规划 / Re-plan with minimum change\n"
               "方案发布后有三人本人不同意；在变动最少的前提下重新规划（SPEC §10），并与从头重新求解比较。\n\n"
               "A plan is published, then three cadres decline their new posts: re-plan with as few changes as "
               "is worth it (SPEC §10), and compare with solving the changed case from scratch."),
        ("code", SETUP),
        ("code", "case = cadrex.load_case(SAMPLE)\nbase = cadrex.solve(case, seed=0)\n"
                 "base_dir = os.path.join(OUT, 'baseline')\nbase.write(base_dir)  # the published plan / 已发布方案\n"
                 "base.status, base.objective"),
        ("md", "## 三人不同意 / Three declines\n按 cadre_id 取前三名调动干部，各自不同意其新岗位。\n"
               "The first three moving cadres by id each decline their new post."),
        ("code", "import pandas as pd\nmoves = base.plan[base.plan.action == 'move'].sort_values('cadre_id').head(3)\n"
                 "events = pd.DataFrame({'event': 'decline', 'cadre_id': moves.cadre_id, 'post_id': moves.to_post,\n"
                 "                       'note': '本人不同意 / declined'})\n"
                 "ev_path = os.path.join(OUT, 'events.csv')\nevents.to_csv(ev_path, index=False)\nevents"),
        ("code", "res = cadrex.replan(case, base_dir, ev_path, seed=0, frontier=4)\nrp = res.summary['replan']\n"
                 "res.status, res.objective, rp['changes'], rp['objective'], rp['k_min']"),
        ("code", "res.tables['changes.csv'][['cadre_id', 'name', 'baseline_post', 'new_post', 'cause', 'why_zh']]"),
        ("md", "## 变动与目标值的权衡 / Changes against objective\n"
               "最多 k 人变动时的最优 §6 目标值。The best §6 objective with at most k changes."),
        ("code", "from IPython.display import SVG\ndisplay(res.tables['frontier.csv'])\nSVG(res.texts['frontier.svg'])"),
        ("md", "## 与从头求解比较 / Against a fresh solve"),
        ("code", "from cadrex.io.events import apply_events, load_events\n"
                 "changed = apply_events(case, load_events(ev_path, case))\nfresh = cadrex.solve(changed, seed=0)\n"
                 "before = dict(zip(base.plan.cadre_id, base.plan.to_post))\n"
                 "fresh_changes = sum(c in before and p != before[c] for c, p in zip(fresh.plan.cadre_id, "
                 "fresh.plan.to_post))\n"
                 "more, gain = fresh_changes - rp['changes'], fresh.objective - res.objective\n"
                 "assert fresh.objective >= res.objective and fresh_changes >= rp['changes']\n"
                 "print(f'从头重新求解会多变动 {more} 人，目标值仅多 {gain} / '\n"
                 "      f'a fresh solve would move {more} more cadres for a gain of {gain}')"),
    ],
    "06_horizon.ipynb": [
        ("md", "# 多年度交流方案 / Multi-year plan: joint against myopic\n"
               "把今后三年的交流放在一个模型里统筹（SPEC §12）：第 t+1 年的案例由第 t 年的方案推演一年得到"
               "（任职年限、职级、艰苦地区年限、退休）；逐年（短视）方案在同一次运行中算出作对照。\n\n"
               "The next three rounds are planned in one model (SPEC §12): round t + 1's case is round t's plan applied "
               "and one year passed (tenure clocks, grades, hardship years, retirements); the round-by-round (myopic) "
               "plan is computed in the same run as the reference."),
        ("code", SETUP),
        ("code", "import pandas as pd\ncase = cadrex.load_case(SAMPLE)\n"
                 "h = cadrex.horizon(case, 3, seed=0)\ns = h.summary\n"
                 "assert h.status == 'optimal' and h.total >= h.myopic_total\n"
                 "pd.DataFrame({'joint / 联合': s['objectives'], 'myopic / 逐年': s['myopic_objectives'],\n"
                 "              'moves / 交流人数': s['moves'], 'H1 deadlines met / 到期已交流': s['deadlines_met']},\n"
                 "             index=[f'year {t} / 第{t}年' for t in (1, 2, 3)])"),
        ("md", "## 合计 / Totals\n联合方案的合计不低于逐年方案（以逐年方案为起点）；上界与 gap 针对三年合计。\n"
               "The joint total is never below the myopic one (the solve starts from it); the bound and gap are on "
               "the three-year total."),
        ("code", "print(f\"joint / 联合 {h.total} (bound / 上界 {h.best_bound}, gap {h.gap:.4%}); \"\n"
                 "      f\"myopic / 逐年 {h.myopic_total}; gain / 增益 {h.total - h.myopic_total}\")"),
        ("code", "from IPython.display import HTML\nfrom cadrex.reports.svg import bars\n"
                 "HTML(bars('objective per year / 每年目标值', ['1', '2', '3'],\n"
                 "          {'joint 联合': s['objectives'], 'myopic 逐年': s['myopic_objectives']}))"),
        ("md", "## 每轮规模上限 / Round caps (H8)\n`max_moves = 8`：每年至多 8 人交流（小幅度）。逐年方案在后面某一年无法满足"
               "（到期必须交流的人太多），联合方案提前分摊。\n"
               "`max_moves = 8`: at most 8 cadres move in a round. Round by round, a later year cannot be planned "
               "(too many deadlines at once); the joint plan spreads the moves."),
        ("code", "capped = cadrex.horizon(case, 3, policy={'max_moves': 8}, seed=0)\n"
                 "assert max(capped.summary['moves']) <= 8\n"
                 "pd.DataFrame({'no cap / 不设上限': [h.total, h.myopic_total, s['moves']],\n"
                 "              'max_moves 8': [capped.total, capped.myopic_total, capped.summary['moves']]},\n"
                 "             index=['joint total / 联合合计', 'myopic total / 逐年合计', 'moves / 每年交流人数'])"),
        ("md", "## 时间线与每年的案例 / Timeline and each year's case\n"
               "写出的目录中 `year-t/case/` 是第 t 年的案例，`cadrex verify` 可逐年复核。\n"
               "In the written folder `year-t/case/` is round t's case: `cadrex verify` rechecks each round."),
        ("code", "from cadrex.analysis.verify import evaluate\nout = os.path.join(OUT, 'horizon')\nh.write(out)\n"
                 "for t in (1, 2, 3):\n"
                 "    c = cadrex.load_case(os.path.join(out, f'year-{t}', 'case'))\n"
                 "    a = pd.read_csv(os.path.join(out, f'year-{t}', 'assignments.csv'), dtype=str, keep_default_na=False)\n"
                 "    ev = evaluate(c, {r.cadre_id: (r.to_post or None) for r in a.itertuples()})\n"
                 "    print(t, c.as_of, ev.objective, ev.violations)\n"
                 "h.timeline[h.timeline['action'].isin(['move', 'retire'])].head(12)"),
    ],
    "05_robustness.ipynb": [
        ("md", "# 稳健性报告 / Robustness: how much of a plan survives declines\n"
               "方案中每名调动干部以一定概率不同意其新岗位；对每个随机样本按最小变动重新规划（SPEC §10），"
               "统计目标值损失、变动人数、易变岗位、替补人选和连锁调整（SPEC §11）。\n\n"
               "Every cadre the plan moves declines the new post with some probability; each random sample is "
               "re-planned with minimum change (SPEC §10), and the report counts objective loss, changes, fragile "
               "posts, backups and chains (SPEC §11)."),
        ("code", SETUP),
        ("code", "from cadrex.jobs.robustness import robustness\ncase = cadrex.load_case(SAMPLE)\n"
                 "res = cadrex.solve(case, seed=0)\nplan_dir = os.path.join(OUT, 'plan')\n"
                 "res.write(plan_dir)  # the published plan / 已发布方案\nres.status, res.objective"),
        ("md", "## 抽样 / Sampling\n40 个样本，种子 1，不同意概率取政策默认值；`workers=0` 在本进程内运行（不启动 Dask 集群）。\n"
               "40 samples with seed 1 at the policy's decline rate; `workers=0` runs them in this process "
               "(no Dask cluster)."),
        ("code", "import pandas as pd\n"
                 "rep = robustness(case, plan_dir, samples=40, seed=1, workers=0, keep_samples=True)\ns = rep.summary\n"
                 "assert s['solved'] == 40\nassert rep.posts['p_changed'].between(0, 1).all()\n"
                 "print(f\"movers / 调动干部 {s['movers']}, decline rate / 不同意概率 {s['decline_rate']}, \"\n"
                 "      f\"plan objective / 方案目标值 {s['plan_objective']}, \"\n"
                 "      f\"no change beyond the decliners / 仅不同意者本人变动 {s['share_no_change_beyond_decliners']:.0%}\")\n"
                 "pd.DataFrame({'loss': s['loss'], 'changes': s['changes']}).T[['mean', 'q05', 'q50', 'q95']]"),
        ("md", "## 目标值损失分布 / Objective loss\n"
               "损失 = 方案目标值 − 重新规划后的目标值。样例中 C000091 被固定（require）到 P000067；"
               "其不同意会替换该固定，故损失可能为负。\n"
               "Loss = plan objective − re-planned objective. In the sample C000091 is pinned (require) to P000067; "
               "that cadre's decline replaces the pin, so a loss can be negative."),
        ("code", "from IPython.display import SVG\nfrom cadrex.reports.robustness import _hist_svg\n"
                 "SVG(_hist_svg([float(x) for x in rep.samples['loss'].dropna()]))"),
        ("md", "## 最易变动的岗位 / The most fragile posts\n"
               "`p_changed`：任职者与方案不同的样本比例；`p_vacant`：岗位空缺的比例。\n"
               "`p_changed`: share of samples whose holder differs from the plan; `p_vacant`: share left empty."),
        ("code", "rep.posts.head(10)"),
        ("md", "## 替补人选 / Backups\n"
               "`backups`：除方案人选外最常出任该岗位的干部及其样本比例（`C123:0.35`，以 `;` 分隔）。\n"
               "`backups`: the most frequent other holders with their shares (`C123:0.35`, `;`-joined)."),
        ("code", "names = case.cadres['name'].to_dict()\n"
                 "rows = [{'post_id': r.post_id, 'holder_plan': r.holder_plan, 'backup': b.split(':')[0],\n"
                 "         'name': names.get(b.split(':')[0], ''), 'share': float(b.split(':')[1])}\n"
                 "        for r in rep.posts.head(10).itertuples() for b in r.backups.split(';') if b]\n"
                 "pd.DataFrame(rows)"),
        ("md", "## 连锁调整 / Chains\n"
               "一人不同意后另有 3 人及以上随之变动的情况。样例案例中调动人数少、不同意概率低，此表可能为空。\n"
               "Declines after which 3 or more other cadres change. On the small sample case (few movers, a low "
               "decline rate) this table may well be empty."),
        ("code", "print(f'{len(rep.chains)} chain(s) / 条连锁调整')\nrep.chains"),
        ("md", "## 与方案并列比较 / Beside the plan\n"
               "写出报告目录后，`compare` 在方案目标值旁给出期望损失。\n"
               "Once the report folder is written, `compare` shows the expected loss beside the plan's objective."),
        ("code", "from cadrex.reports.compare import compare\nreport_dir = os.path.join(OUT, 'robustness')\n"
                 "rep.write(report_dir)\nprint(sorted(os.listdir(report_dir)))\n"
                 "compare([plan_dir, report_dir])[['scenario', 'objective', 'expected_loss', 'loss_q95', 'expected_changes']]"),
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = nbf.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
        nbf.write(nb, os.path.join(HERE, name))


if __name__ == "__main__":
    main()
