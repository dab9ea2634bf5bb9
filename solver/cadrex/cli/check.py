"""``cadrex validate``, ``verify`` (also of a re-plan, SPEC §10) and ``explain``: read a case and a plan, say what holds."""

from __future__ import annotations

import json
import os
import sys

from cadrex.cli.common import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK
from cadrex.i18n import Join, Msg, say, structure_name, text
from cadrex.io import load_case


def _summary_text(case, lang: str) -> str:
    from cadrex.rules import Context

    ctx = Context(case)
    import numpy as np

    I, J = ctx.I, ctx.J
    tcount = case.teams["structure_model"].value_counts().sort_index()
    by_model = Join([f"{structure_name(k, lang)} {v}" for k, v in tcount.items()], sep="reason.list")
    return say("validate.ok", lang, path=case.path, name=case.name or os.path.basename(case.path), as_of=case.as_of,
               cadres=len(case.cadres), in_play=len(I), must=int(ctx.c_must[I].sum()), posts=len(case.posts),
               posts_in_play=len(J), vacancies=int((ctx.p_holder[J] < 0).sum()), must_fill=int(np.sum(ctx.p_must[J])),
               teams=len(case.teams), models=by_model, provinces=len(case.provinces), relations=len(case.relations),
               preferences=len(case.preferences), pins=len(case.pins), scores=len(case.scores))


def cmd_validate(args) -> int:
    case = load_case(args.case, policy_file=args.policy)
    print(_summary_text(case, args.lang))
    return EXIT_OK


def cmd_verify(args) -> int:
    from cadrex.analysis.verify import evaluate
    from cadrex.io.plan import read_plan

    lang = args.lang
    case = load_case(args.case, policy_file=args.policy)
    if bool(args.events) != bool(args.baseline):
        print(say("verify.events_baseline", lang), file=sys.stderr)
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
        print(f"{args.plan}/assignments.csv:1:1: {say('verify.no_plan', lang)}", file=sys.stderr)
        return EXIT_INPUT
    plan = read_plan(args.plan)
    ev = evaluate(case, plan, pol)
    problems = list(ev.violations)
    if claimed is not None and claimed != ev.objective:
        problems.append(Msg("verify.objective", claimed=claimed, got=ev.objective))
    extra = ""
    if baseline is not None:  # recount the changes from the plan and the baseline (SPEC §10)
        own = {h: p for p, h in case.posts["holder_id"].items() if h}
        changed = sorted(c for c in ev.in_play if plan.get(c) != baseline.plan.get(c, own.get(c)))
        cost = int(pol.get("change_cost", 100))
        rp = s.get("replan") or {}
        for what, got in (("events", events.sha256), ("baseline", baseline.sha256)):
            if rp.get(f"{what}_sha256") and rp[f"{what}_sha256"] != got:
                problems.append(Msg("verify.other_file", what=what))
        if rp.get("changes") is not None and rp["changes"] != len(changed):
            problems.append(Msg("verify.changes", claimed=rp["changes"], got=len(changed)))
        if rp.get("objective") is not None and rp["objective"] != ev.objective - cost * len(changed):
            problems.append(Msg("verify.replan_objective", claimed=rp["objective"], got=ev.objective - cost * len(changed)))
        if rp.get("max_changes") is not None and len(changed) > rp["max_changes"]:
            problems.append(Msg("verify.max_changes", changes=len(changed), cap=rp["max_changes"]))
        extra = say("verify.replan_extra", lang, changes=len(changed), replan=ev.objective - cost * len(changed),
                    objective=ev.objective, cost=cost)
    if problems and s.get("replan") and baseline is None:
        problems.append(Msg("verify.is_replan", path=spath))
    if problems:
        print(*(text(p, lang) for p in problems), sep="\n", file=sys.stderr)
        print(say("verify.failed", lang, n=len(problems), objective=ev.objective), file=sys.stderr)
        return EXIT_INFEASIBLE
    # each term as it enters the objective: weight × term where the policy's weight is not 1 (SPEC §6)
    w = pol.get("weights") or {}
    key = {"hard": "hardship", "pref": "preference"}
    terms = {k: (f"{wk:g}×{v}" if (wk := w.get(key.get(k, k), 1)) != 1 else v) for k, v in ev.terms.items()}
    weighted = say("verify.weighted", lang) if terms != ev.terms else ""
    print(say("verify.ok", lang, objective=ev.objective, extra=extra, weighted=weighted, **terms))
    return EXIT_OK


def cmd_explain(args) -> int:
    from cadrex.analysis.explain import explain, render

    if args.plan_dir and args.plan and os.path.abspath(args.plan_dir) != os.path.abspath(args.plan):
        print(f"cadrex explain: {say('cli.two_plans', args.lang, a=args.plan_dir, b=args.plan)}", file=sys.stderr)
        return EXIT_INPUT
    plan_dir = args.plan or args.plan_dir
    case = load_case(args.case, policy_file=args.policy)
    try:
        d = explain(case, cadre=args.cadre, post=args.post, plan_dir=plan_dir, top=args.top, time_cap=args.time_cap)
    except (KeyError, ValueError) as exc:
        print(f"cadrex explain: {text(exc.args[0], args.lang) if exc.args else exc}", file=sys.stderr)
        return EXIT_INPUT
    if args.json:
        if "note" in d:
            d["note"] = text(d["note"], args.lang)
        print(json.dumps(d, ensure_ascii=False, indent=2, default=str))
    else:
        print(render(d, args.lang))
    return EXIT_OK


