"""``cadrex solve`` and ``cadrex replan`` (SPEC §8, §10): run, write the plan folder, say what happened."""

from __future__ import annotations

import math
import os
import sys

from cadrex.cli.common import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_INTERNAL, EXIT_NO_PLAN, EXIT_OK, log
from cadrex.io import load_case


def _progress(args):
    """The progress callback of a solve (log lines), or None with ``--quiet``."""
    if args.quiet:
        return None

    def progress(elapsed, obj, bound):

        have = obj is not None and math.isfinite(obj)
        gap = f"{(bound - obj) / max(1.0, abs(obj)):.3%}" if have and bound is not None and math.isfinite(bound) else "n/a"
        log.info("solve %.0fs: incumbent %s, bound %s, gap %s", elapsed, f"{obj:.0f}" if have else "none",
                 f"{bound:.1f}" if bound is not None and math.isfinite(bound) else "none", gap)

    return progress


def say_rejected(name: str, out: str, exc) -> int:
    """A plan the verifier rejected (nothing written), in both languages; the exit code."""
    print(f"cadrex {name}: {exc.en}; the previous output in {out}, if any, is unchanged", file=sys.stderr)
    print(f"cadrex {name}: {exc.zh}；{out} 中原有的输出（如有）保持不变", file=sys.stderr)
    for v in exc.violations:
        print(f"  {v}", file=sys.stderr)
    return EXIT_INTERNAL


def say_diagnosis(diagnosis: list[dict]) -> None:
    """Each conflict of a diagnosis: rule id, English, Chinese."""
    for d in diagnosis:
        print(f"  [{d['rule'] or '?'}] {d['message']}", file=sys.stderr)
        print(f"        {d['message_zh']}", file=sys.stderr)


def _run(args, name: str, run, inputs: list) -> int:
    """Run ``run()`` (a solve or a re-plan), write its result to ``--out`` and say what happened; the exit code."""
    from cadrex.reports.result import PlanRejected
    from cadrex.solvers.base import OptionError

    try:
        res = run()
    except OptionError as exc:  # an option the backend or method cannot honour: rejected, never ignored
        print(f"cadrex {name}: {exc.en}", file=sys.stderr)
        print(f"cadrex {name}: {exc.zh}", file=sys.stderr)
        return EXIT_INPUT
    try:
        res.write(args.out, xlsx=args.xlsx, inputs=[i for i in inputs if i])
    except PlanRejected as exc:
        return say_rejected(name, args.out, exc)
    s = res.summary
    if res.status in ("optimal", "feasible"):
        gap = f"{s['gap']:.4%}" if s["gap"] is not None else "n/a"
        rp = s.get("replan")
        what = (f"re-plan objective {rp['objective']} = objective {res.objective} − {rp['change_cost']} × "
                f"{rp['changes']} changes (bound {s['best_bound']}, gap {gap}; fewest changes possible "
                f"{rp['k_min'] if rp['k_min'] is not None else 'not computed'})" if rp else
                f"objective {res.objective} (bound {s['best_bound']}, gap {gap}; status quo {res.status_quo_objective})")
        print(f"{res.status}: {what}; {s['counts']['moves']} moves, {s['counts']['vacancies_filled']} "
              f"vacancies filled; backend {s['backend']}; {s['timings'].get('total', 0):.2f}s -> {args.out}")
        zh = {"optimal": "最优", "feasible": "可行"}[str(res.status)]
        if not rp:
            print(f"{zh}：目标值 {res.objective}（上界 {s['best_bound']}，差距 {gap}；现状方案 {res.status_quo_objective}）；"
                  f"交流 {s['counts']['moves']} 人，补充空缺 {s['counts']['vacancies_filled']} 个；结果写入 {args.out}")
        if rp:
            print(f"{res.status}：重新规划目标值 {rp['objective']} = 目标值 {res.objective} − {rp['change_cost']} × "
                  f"{rp['changes']} 人变动；变动明细见 {os.path.join(args.out, 'changes.csv')}")
        return EXIT_OK
    if res.status == "infeasible":
        print("infeasible: no plan satisfies every rule. Diagnosis:", file=sys.stderr)
        print("无可行方案：没有方案能满足全部规则。诊断：", file=sys.stderr)
        say_diagnosis(res.diagnosis)
        return EXIT_INFEASIBLE
    print(f"no plan found within the time limit ({s['time_limit']}s); summary in {args.out}", file=sys.stderr)
    return EXIT_NO_PLAN


def _cg_backend_ok(args, name: str) -> bool:
    if args.method == "cg" and args.backend not in (None, "highs"):
        print(f"cadrex {name}: --method cg (column generation) runs on the highs backend", file=sys.stderr)
        return False
    return True


def cmd_solve(args) -> int:
    import cadrex

    if not _cg_backend_ok(args, "solve"):
        return EXIT_INPUT
    from cadrex.io.outdir import check_out_dir

    pol_file = args.policy if args.policy and os.path.isfile(args.policy) else None
    check_out_dir(args.out, "plan", case_dirs=[args.case], input_files=[pol_file])  # before a long solve
    case = load_case(args.case, policy_file=args.policy)
    return _run(args, "solve", lambda: cadrex.solve(
        case, backend=args.backend, time_limit=args.time_limit, seed=args.seed, num_workers=args.num_workers,
        progress=_progress(args), method=args.method, gap=args.gap), [pol_file])


def cmd_replan(args) -> int:
    import cadrex
    from cadrex.io.errors import gather
    from cadrex.io.events import load_events, read_baseline
    from cadrex.io.outdir import check_out_dir

    if not _cg_backend_ok(args, "replan"):
        return EXIT_INPUT
    pol_file = args.policy if args.policy and os.path.isfile(args.policy) else None
    base_file = os.path.join(args.plan, "assignments.csv")
    inputs = [pol_file, args.events, base_file]
    check_out_dir(args.out, "plan", case_dirs=[args.case], input_files=inputs)  # before a long solve
    case = load_case(args.case, policy_file=args.policy)
    # the baseline and the events: every problem of both in one run
    baseline, events = gather(lambda: read_baseline(args.plan, case), lambda: load_events(args.events, case))
    return _run(args, "replan", lambda: cadrex.replan(
        case, baseline, events, backend=args.backend, time_limit=args.time_limit, seed=args.seed,
        num_workers=args.num_workers, progress=_progress(args), method=args.method, gap=args.gap,
        max_changes=args.max_changes, frontier=args.frontier), inputs)


