"""``cadrex robustness`` (SPEC §11): sample declines of a plan's movers, re-plan each, write the report folder."""

from __future__ import annotations

import os
import sys

from cadrex.cli.common import EXIT_INPUT, EXIT_OK, log
from cadrex.i18n import say
from cadrex.io import load_case


def _bar(quiet: bool, lang: str):
    """A live progress line on a terminal (a log line per tenth otherwise); None with ``--quiet``."""
    if quiet:
        return None
    tty = sys.stderr.isatty()
    shown = [-1]

    def progress(done: int, total: int, secs: float) -> None:
        if tty:
            w = 30
            k = int(w * done / max(1, total))
            sys.stderr.write("\r" + say("robustness.bar", lang, bar="#" * k + "." * (w - k), done=done, total=total,
                                         secs=f"{secs:.0f}"))
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif done * 10 // max(1, total) > shown[0]:
            shown[0] = done * 10 // max(1, total)
            log.info(say("robustness.bar", lang, bar="#" * (shown[0] * 3) + "." * (30 - shown[0] * 3), done=done,
                         total=total, secs=f"{secs:.0f}"), extra={"user": True})

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
                     time_limit=args.time_limit, keep_samples=args.keep_samples, progress=_bar(args.quiet, args.lang),
                     gap=args.gap)
    rep.write(args.out, inputs=tuple(i for i in inputs if i), lang=args.lang)
    s = rep.summary
    lq, cq = s["loss"], s["changes"]
    print(say("robustness.done", args.lang, samples=s["samples"], failed=s["failed"], rate=s["decline_rate"],
              mean=lq["mean"], q05=lq["q05"], q95=lq["q95"], cmean=cq["mean"], cq95=cq["q95"],
              share=f"{float(s['share_no_change_beyond_decliners']):.0%}", out=args.out))
    return EXIT_OK if s["failed"] < s["samples"] else EXIT_INPUT
