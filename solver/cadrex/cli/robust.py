"""``cadrex robustness`` (SPEC §11): sample declines of a plan's movers, re-plan each, write the report folder."""

from __future__ import annotations

import os
import sys

from cadrex.cli.common import EXIT_INPUT, EXIT_OK, log
from cadrex.io import load_case


def _bar(quiet: bool):
    """A live progress line on a terminal (a log line per tenth otherwise); None with ``--quiet``."""
    if quiet:
        return None
    tty = sys.stderr.isatty()
    shown = [-1]

    def progress(done: int, total: int, secs: float) -> None:
        if tty:
            w = 30
            k = int(w * done / max(1, total))
            sys.stderr.write(f"\r稳健性 robustness [{'#' * k}{'.' * (w - k)}] {done}/{total} samples, {secs:.0f}s")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif done * 10 // max(1, total) > shown[0]:
            shown[0] = done * 10 // max(1, total)
            log.info("robustness: %d/%d samples (%.0fs)", done, total, secs)

    return progress


def cmd_robustness(args) -> int:
    from cadrex.io.errors import gather
    from cadrex.io.events import load_decline_rates, read_baseline
    from cadrex.io.outdir import check_out_dir
    from cadrex.jobs.robustness import robustness

    pol_file = args.policy if args.policy and os.path.isfile(args.policy) else None
    inputs = [pol_file, args.declines, os.path.join(args.plan, "assignments.csv")]
    check_out_dir(args.out, "robustness", case_dirs=[args.case], input_files=inputs)  # before the samples run
    case = load_case(args.case, policy_file=args.policy)
    _, rates = gather(lambda: read_baseline(args.plan, case),
                      lambda: load_decline_rates(args.declines, case) if args.declines else None)
    rep = robustness(case, args.plan, samples=args.samples, seed=args.seed, decline_rate=args.decline_rate,
                     declines=rates, policy_file=args.policy, scheduler=args.scheduler, workers=args.workers,
                     time_limit=args.time_limit, keep_samples=args.keep_samples, progress=_bar(args.quiet),
                     gap=args.gap)
    rep.write(args.out, inputs=tuple(i for i in inputs if i))
    s = rep.summary
    lq, cq = s["loss"], s["changes"]
    print(f"robustness: {s['samples']} samples ({s['failed']} failed), decline rate {s['decline_rate']}: objective loss "
          f"mean {lq['mean']} (5 % {lq['q05']}, 95 % {lq['q95']}), changes mean {cq['mean']} (95 % {cq['q95']}); "
          f"no change beyond the decliners in {s['share_no_change_beyond_decliners']} of them -> {args.out}")
    print(f"稳健性：{s['samples']} 个样本（失败 {s['failed']}），不同意概率 {s['decline_rate']}：目标值损失均值 {lq['mean']}，"
          f"变动人数均值 {cq['mean']}；报告见 {os.path.join(args.out, 'report.html')}")
    return EXIT_OK if s["failed"] < s["samples"] else EXIT_INPUT
