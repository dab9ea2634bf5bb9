"""``cadrex horizon`` (SPEC §12): plan Y rounds together, write DIR (year-t/, timeline.csv, summary.json,
report.html), and say what happened — the joint total beside the myopic one, or the round that cannot be planned."""

from __future__ import annotations

import os
import sys

from cadrex.cli.common import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_NO_PLAN, EXIT_OK, whole
from cadrex.cli.plan import (
    _gap_option,
    _progress,
    _same_options,
    _sh,
    _sh_out,
    _short_of_goal,
    say_diagnosis,
    say_rejected,
)
from cadrex.i18n import Join, Msg, say
from cadrex.io import load_case


def cmd_horizon(args) -> int:
    from cadrex.io.outdir import check_out_dir
    from cadrex.jobs.horizon import horizon
    from cadrex.reports.result import PlanRejected
    from cadrex.solvers.base import OptionError

    pol_file = args.policy if args.policy and os.path.isfile(args.policy) else None
    check_out_dir(args.out, "horizon", case_dirs=[args.case], input_files=[pol_file])  # before a long solve
    case = load_case(args.case, policy_file=args.policy)
    lang = args.lang
    try:
        h = horizon(case, args.years, backend=args.backend, time_limit=args.time_limit, seed=args.seed, gap=args.gap,
                    num_workers=args.num_workers, progress=_progress(args))
    except OptionError as exc:
        print(f"cadrex horizon: {exc.zh if lang == 'zh' else exc.en}", file=sys.stderr)
        return EXIT_INPUT
    try:
        h.write(args.out, inputs=[pol_file] if pol_file else [], lang=lang)
    except PlanRejected as exc:
        return say_rejected("horizon", args.out, exc, lang)
    s = h.summary
    if h.status in ("optimal", "feasible"):
        gap = f"{s['gap']:.4%}" if s["gap"] is not None else say("cli.na", lang)
        my = s["myopic_total"] if s["myopic_total"] is not None else say("horizon.myopic_infeasible", lang)
        bound = whole(s["best_bound"], lang)
        print(say("horizon.done", lang, status=say(f"status.{h.status}", lang), years=h.years, total=h.total,
                  parts=" + ".join(map(str, s["objectives"])), bound=bound, gap=gap, myopic=my,
                  moves=Join([Msg("horizon.year_moves", year=k + 1, n=n) for k, n in enumerate(s["moves"])], sep="reason.list"),
                  secs=f"{s['timings']['total']:.1f}", out=args.out))
        if not s["exact"]:
            print(say("horizon.not_exact", lang), file=sys.stderr)
        elif h.status == "feasible" and _short_of_goal(s):
            # stopped short of its gap goal: say so, and what to run (a newcomer saw none); more time does not help
            # when the closure was over its cap (the bound stays the Lagrangian one)
            if (s.get("column_generation") or {}).get("closure_skipped") == "cap":
                print(say("horizon.unclosed", lang, gap=gap), file=sys.stderr)
                return EXIT_OK
            print(say("horizon.tighter", lang, gap=gap, case=_sh(args.case), years=h.years, out=_sh_out(args.out),
                      opts=_same_options(args, _gap_option(args.gap) if args.gap is not None else ""),
                      limit=f"{2 * float(s['time_limit']):.15g}"), file=sys.stderr)
        return EXIT_OK
    if h.status == "infeasible":
        t = s.get("infeasible_year")
        print(say("horizon.infeasible_year", lang, years=h.years, t=t) if t else
              say("horizon.infeasible", lang, years=h.years), file=sys.stderr)
        say_diagnosis(h.diagnosis, lang)
        return EXIT_INFEASIBLE
    print(say("horizon.no_plan", lang, limit=f"{float(s['time_limit']):.0f}", out=args.out), file=sys.stderr)
    if h.diagnosis:
        print(say("horizon.myopic_conflicts", lang, t=s.get("infeasible_year")), file=sys.stderr)
        say_diagnosis(h.diagnosis, lang)
    return EXIT_NO_PLAN
