"""``cadrex validate``, ``verify`` (also of a re-plan, SPEC §10) and ``explain``: read a case and a plan, say what holds."""

from __future__ import annotations

import json
import os
import sys

from cadrex.cli.common import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK
from cadrex.io import load_case


def _summary_text(case) -> str:
    from cadrex.rules import Context

    ctx = Context(case)
    import numpy as np

    I, J = ctx.I, ctx.J
    tcount = case.teams["structure_model"].value_counts().sort_index()
    by_model = ", ".join(f"{k} {v}" for k, v in tcount.items())
    return (f"{case.path}: valid case '{case.name or os.path.basename(case.path)}' as of {case.as_of}: "
            f"{len(case.cadres)} cadres ({len(I)} in play, {int(ctx.c_must[I].sum())} must move under H1), "
            f"{len(case.posts)} posts ({len(J)} in play, {int((ctx.p_holder[J] < 0).sum())} vacancies, "
            f"{int(np.sum(ctx.p_must[J]))} must fill), {len(case.teams)} teams by structure model: {by_model}; "
            f"{len(case.provinces)} provinces, {len(case.relations)} relations, {len(case.preferences)} preferences, "
            f"{len(case.pins)} pins, {len(case.scores)} scores.")


def cmd_validate(args) -> int:
    case = load_case(args.case, policy_file=args.policy)
    print(_summary_text(case))
    return EXIT_OK


def cmd_verify(args) -> int:
    from cadrex.analysis.verify import evaluate
    from cadrex.io.plan import read_plan

    case = load_case(args.case, policy_file=args.policy)
    if bool(args.events) != bool(args.baseline):
        print("cadrex verify: --events and --baseline go together (a re-plan) / --events 与 --baseline 须同时给出",
              file=sys.stderr)
        return EXIT_INPUT
    baseline = None
    if args.events:
        from cadrex.io.errors import gather
        from cadrex.io.events import apply_events, load_events, read_baseline

        baseline, events = gather(lambda: read_baseline(args.baseline, case), lambda: load_events(args.events, case))
        case = apply_events(case, events)
    pol = case.policy
    spath = os.path.join(args.plan, "summary.json")
    claimed, s = None, {}
    if os.path.isfile(spath) and not args.policy:
        with open(spath, encoding="utf-8") as fh:
            s = json.load(fh)
        pol = s.get("policy", pol)
        claimed = s.get("objective")
    if not os.path.isfile(os.path.join(args.plan, "assignments.csv")):
        print(f"{args.plan}/assignments.csv:1:1: no plan to verify", file=sys.stderr)
        return EXIT_INPUT
    plan = read_plan(args.plan)
    ev = evaluate(case, plan, pol)
    problems = list(ev.violations)
    if claimed is not None and claimed != ev.objective:
        problems.append(f"objective: summary.json claims {claimed}, recomputed {ev.objective}")
    extra = ""
    if baseline is not None:  # recount the changes from the plan and the baseline (SPEC §10)
        own = {h: p for p, h in case.posts["holder_id"].items() if h}
        changed = sorted(c for c in ev.in_play if plan.get(c) != baseline.plan.get(c, own.get(c)))
        cost = int(pol.get("change_cost", 100))
        rp = s.get("replan") or {}
        for what, got in (("events", events.sha256), ("baseline", baseline.sha256)):
            if rp.get(f"{what}_sha256") and rp[f"{what}_sha256"] != got:
                problems.append(f"{what}: the plan was re-planned from another {what} file (sha256 differs) "
                                f"/ 该方案的{'事件' if what == 'events' else '基准方案'}文件与所给的不同")
        if rp.get("changes") is not None and rp["changes"] != len(changed):
            problems.append(f"changes: summary.json claims {rp['changes']}, recounted {len(changed)} "
                            f"/ 变动人数：summary.json 记为 {rp['changes']}，重新清点为 {len(changed)}")
        if rp.get("objective") is not None and rp["objective"] != ev.objective - cost * len(changed):
            problems.append(f"replan objective: summary.json claims {rp['objective']}, recomputed "
                            f"{ev.objective - cost * len(changed)} / 重新规划目标值：summary.json 记为 {rp['objective']}，"
                            f"重算为 {ev.objective - cost * len(changed)}")
        if rp.get("max_changes") is not None and len(changed) > rp["max_changes"]:
            problems.append(f"max_changes: {len(changed)} changes exceed --max-changes {rp['max_changes']} "
                            f"/ 变动 {len(changed)} 人，超过 --max-changes {rp['max_changes']}")
        extra = (f"; {len(changed)} changes from the baseline, re-plan objective {ev.objective - cost * len(changed)}"
                 f" = {ev.objective} − {cost} × {len(changed)} / 与基准方案相比变动 {len(changed)} 人，重新规划目标值 "
                 f"{ev.objective - cost * len(changed)}")
    if problems and s.get("replan") and baseline is None:
        problems.append(f"note: {spath} is a re-plan; verify it in its changed case with --events EVENTS --baseline "
                        "BASE / 这是重新规划的结果，请加 --events 与 --baseline 校验")
    if problems:
        print(*problems, sep="\n", file=sys.stderr)
        print(f"verify: {len(problems)} violation(s); recomputed objective {ev.objective} / 校验：{len(problems)} 处违规；"
              f"重算目标值 {ev.objective}", file=sys.stderr)
        return EXIT_INFEASIBLE
    t = ev.terms
    print(f"verify: plan satisfies E1–E10 and H1–H8; objective {ev.objective} = pairs(fit {t['fit']}, hard {t['hard']}, "
          f"care {t['care']}, pref {t['pref']}, assess {t['assess']}) + fill {t['fill']} − move {t['move']} − structure "
          f"{t['structure']} − flow {t['flow']} (unweighted terms){extra}")
    print(f"校验通过：方案满足 E1–E10 与 H1–H8；目标值 {ev.objective} = 配对项（匹配 {t['fit']}，艰苦 {t['hard']}，照顾 "
          f"{t['care']}，意愿 {t['pref']}，考察 {t['assess']}）+ 补充空缺 {t['fill']} − 调动成本 {t['move']} − 班子结构 "
          f"{t['structure']} − 流动失衡 {t['flow']}（未加权）")
    return EXIT_OK


def cmd_explain(args) -> int:
    from cadrex.analysis.explain import explain, render

    case = load_case(args.case, policy_file=args.policy)
    try:
        d = explain(case, cadre=args.cadre, post=args.post, plan_dir=args.plan, top=args.top, time_cap=args.time_cap)
    except (KeyError, ValueError) as exc:
        print(f"cadrex explain: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_INPUT
    if args.json:
        print(json.dumps(d, ensure_ascii=False, indent=2, default=str))
    else:
        print(render(d))
    return EXIT_OK


