"""``cadrex horizon`` (SPEC §12): plan Y rounds together, write DIR (year-t/, timeline.csv, summary.json,
report.html), and say what happened — the joint total beside the myopic one, or the round that cannot be planned."""

from __future__ import annotations

import os
import sys

from cadrex.cli.common import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_NO_PLAN, EXIT_OK
from cadrex.cli.plan import _progress, say_diagnosis, say_rejected
from cadrex.io import load_case


def cmd_horizon(args) -> int:
    from cadrex.io.outdir import check_out_dir
    from cadrex.jobs.horizon import horizon
    from cadrex.reports.result import PlanRejected
    from cadrex.solvers.base import OptionError

    pol_file = args.policy if args.policy and os.path.isfile(args.policy) else None
    check_out_dir(args.out, "horizon", case_dirs=[args.case], input_files=[pol_file])  # before a long solve
    case = load_case(args.case, policy_file=args.policy)
    try:
        h = horizon(case, args.years, backend=args.backend, time_limit=args.time_limit, seed=args.seed, gap=args.gap,
                    num_workers=args.num_workers, progress=_progress(args))
    except OptionError as exc:
        print(f"cadrex horizon: {exc.en}\ncadrex horizon: {exc.zh}", file=sys.stderr)
        return EXIT_INPUT
    try:
        h.write(args.out, inputs=[pol_file] if pol_file else [])
    except PlanRejected as exc:
        return say_rejected("horizon", args.out, exc)
    s = h.summary
    if h.status in ("optimal", "feasible"):
        gap = f"{s['gap']:.4%}" if s["gap"] is not None else "n/a"
        my = s["myopic_total"] if s["myopic_total"] is not None else "infeasible / 不可行"
        print(f"{h.status}: {h.years} years, total {h.total} = {' + '.join(map(str, s['objectives']))} (bound "
              f"{s['best_bound']}, gap {gap}); myopic total {my}; moves per year {s['moves']}; "
              f"{s['timings']['total']:.1f}s -> {args.out}")
        print(f"{h.status}：{h.years} 年合计目标值 {h.total}（上界 {s['best_bound']}），逐年（短视）合计 {my}；"
              f"每年交流人数 {s['moves']}；报告见 {os.path.join(args.out, 'report.html')}")
        if not s["exact"]:
            print("note: min_years_in_post or mandatory_rotation_years is below --years, so a cadre may move twice in "
                  "the horizon; the joint model allows one move each and reports no bound / 注意：任职年限参数小于年数，"
                  "联合模型每人至多交流一次，不给出上界", file=sys.stderr)
        return EXIT_OK
    if h.status == "infeasible":
        t = s.get("infeasible_year")
        where = f" (year {t} cannot be planned / 第{t}年无法安排)" if t else ""
        print(f"infeasible: no plan over {h.years} years satisfies every rule{where}. Diagnosis:", file=sys.stderr)
        print(f"无可行方案：{h.years} 年内没有方案能满足全部规则。诊断：", file=sys.stderr)
        say_diagnosis(h.diagnosis)
        return EXIT_INFEASIBLE
    print(f"no plan found within the time limit ({s['time_limit']}s); summary in {args.out} / 时限内未找到方案",
          file=sys.stderr)
    if h.diagnosis:
        t = s.get("infeasible_year")
        print(f"the round-by-round plan cannot plan year {t}; its conflicts (not proven for every multi-year plan) / "
              f"逐年方案无法安排第{t}年，冲突如下（未证明对所有多年度方案成立）:", file=sys.stderr)
        say_diagnosis(h.diagnosis)
    return EXIT_NO_PLAN
