"""``cadrex`` command line (SPEC §8). Exit codes: 0 ok, 2 invalid input, 3 infeasible/violations,
4 no plan found in time, 1 internal error."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from cadrex.cli.check import cmd_explain, cmd_validate, cmd_verify
from cadrex.cli.common import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    _count,
    _fraction,
    _positive,
    _probability,
    _seconds,
    _setup_logging,
    _years,
)
from cadrex.cli.horizon import cmd_horizon
from cadrex.cli.plan import cmd_replan, cmd_solve
from cadrex.cli.robust import cmd_robustness
from cadrex.io import CaseError
from cadrex.io.outdir import OutDirError
from cadrex.version import __version__


def cmd_batch(args) -> int:
    from cadrex.jobs.batch import run_batch

    df = run_batch(args.scenarios, args.out, scheduler=args.scheduler, workers=args.workers)
    ok = df["status"].isin(["optimal", "feasible"])
    print(f"batch: {int(ok.sum())} of {len(df)} scenarios solved ({int(df['skipped'].sum())} unchanged, skipped); "
          f"index: {os.path.join(args.out, 'index.csv')}")
    for r in df[~ok].to_dict("records"):
        print(f"  {r['scenario']}: {r['status']}: {r['error']}", file=sys.stderr)
    return EXIT_OK


def cmd_compare(args) -> int:
    from cadrex.reports.compare import compare

    t = compare(args.dirs, html_path=args.html, xlsx_path=args.xlsx)
    import pandas as pd

    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(t.T.to_string(header=False))
    return EXIT_OK


def cmd_generate(args) -> int:
    from cadrex.jobs.generate import generate_case

    if args.cadres < 5:
        print("cadrex generate: --cadres must be at least 5", file=sys.stderr)
        return EXIT_INPUT
    generate_case(args.out, n_cadres=args.cadres, seed=args.seed)
    print(f"generated case with {args.cadres} cadres in play (seed {args.seed}) -> {args.out}")
    return EXIT_OK


def _solve_options(s, method: bool = True) -> None:
    """The options ``solve``, ``replan`` and ``horizon`` share (``horizon``: no ``--method``, no ``--xlsx``)."""
    s.add_argument("--out", required=True, help="output folder (replaced only if cadrex wrote it)")
    s.add_argument("--backend", choices=["highs", "cpsat", "pyomo"], help="solver backend (default: the policy's)")
    s.add_argument("--time-limit", type=_seconds, help="seconds for the whole solve (default: the policy's)")
    s.add_argument("--seed", type=int, help="solver seed (default: the policy's)")
    s.add_argument("--num-workers", type=int, help="solver threads (full model only)")
    if method:
        s.add_argument("--method", choices=["auto", "full", "cg"], default="auto",
                       help="full model, column generation (highs), or auto (column generation on large cases)")
    s.add_argument("--policy", help="policy file or scenario name in models/policies/")
    s.add_argument("--gap", type=_fraction, default=0.0,
                   help="stop once the certified relative gap is at most this (default 0: prove optimality)")
    if method:
        s.add_argument("--xlsx", action="store_true", help="also write plan.xlsx")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.add_argument("--log-file", help="also write the log to this file")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cadrex", description="Exact planning of cross-province cadre exchanges.")
    p.add_argument("--version", action="version", version=f"cadrex {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="check a case; report every problem as file:line:column")
    v.add_argument("case", help="case folder / 案例目录")
    v.add_argument("--policy", help="policy file or scenario name in models/policies/")
    v.set_defaults(fn=cmd_validate)
    s = sub.add_parser("solve", help="solve a case and write the plan")
    s.add_argument("case", help="case folder / 案例目录")
    _solve_options(s)
    s.set_defaults(fn=cmd_solve)

    rp = sub.add_parser("replan", help="re-plan a published plan after events (declines, vacancies, pins) with "
                                       "the fewest changes worth making (SPEC §10)")
    rp.add_argument("case", help="case folder / 案例目录")
    rp.add_argument("--plan", required=True, help="the baseline plan folder (a plan of CASE)")
    rp.add_argument("--events", required=True, help="events.csv or .xlsx: event,cadre_id,post_id,note")
    rp.add_argument("--max-changes", type=_count, help="at most this many cadres change from the baseline plan")
    rp.add_argument("--frontier", type=_count, default=0,
                    help="also report the best objective with at most k changes, k = k_min … k_min + N − 1")
    _solve_options(rp)
    rp.set_defaults(fn=cmd_replan)

    rb = sub.add_parser("robustness", help="how much of a plan survives declines: sampled re-plans, fragile posts, "
                                           "backups, chains (SPEC §11)")
    rb.add_argument("case", help="case folder / 案例目录")
    rb.add_argument("--plan", required=True, help="the plan folder (a plan of CASE)")
    rb.add_argument("--out", required=True, help="report folder (replaced only if cadrex wrote it as a robustness report)")
    rb.add_argument("--samples", type=_positive, default=200, help="number of samples (default 200)")
    rb.add_argument("--seed", type=int, help="sample k draws from the generator seeded by (seed, k) (default: the policy's)")
    dr = rb.add_mutually_exclusive_group()
    dr.add_argument("--decline-rate", type=_probability, help="probability that a mover declines (default: the policy's)")
    dr.add_argument("--declines", help="per-cadre probabilities: cadre_id,probability")
    rb.add_argument("--keep-samples", action="store_true", help="keep samples/k/ (events.csv and the re-plan)")
    rb.add_argument("--scheduler", help="address of an existing dask.distributed scheduler (default: a local cluster)")
    rb.add_argument("--workers", type=int, help="local cluster worker processes (default: cores; 0: in this process)")
    rb.add_argument("--time-limit", type=_seconds, help="seconds per sample's re-plan (default: the policy's)")
    rb.add_argument("--gap", type=_fraction,
                    help="each sample's re-plan stops at this certified relative gap (default 0.0005, or less to keep "
                         "the slack below half a change; 0: prove optima)")
    rb.add_argument("--policy", help="policy file or scenario name in models/policies/")
    rb.add_argument("--quiet", action="store_true", help="no progress line")
    rb.add_argument("--log-file", help="also write the log to this file")
    rb.set_defaults(fn=cmd_robustness)

    hz = sub.add_parser("horizon", help="plan the next rounds together (multi-year plan, SPEC §12), with the myopic "
                                        "round-by-round plan as reference")
    hz.add_argument("case", help="case folder / 案例目录")
    hz.add_argument("--years", type=_years, required=True, help="rounds to plan, 1 to 10 (one round a year)")
    _solve_options(hz, method=False)
    hz.set_defaults(fn=cmd_horizon)

    r = sub.add_parser("verify", help="re-check a written plan against the case, independently of the solver")
    r.add_argument("case", help="case folder / 案例目录")
    r.add_argument("plan", help="plan folder written by cadrex / cadrex 写出的方案目录")
    r.add_argument("--policy", help="verify under this policy instead of the one recorded in summary.json")
    r.add_argument("--events", help="a re-plan: recheck the plan in the case changed by these events (SPEC §10)")
    r.add_argument("--baseline", help="a re-plan: its baseline plan folder; the changes are recounted")
    r.set_defaults(fn=cmd_verify)
    e = sub.add_parser("explain", help="why this post, why not that one: every pair of a cadre or a post, with rule ids")
    e.add_argument("case", help="case folder / 案例目录")
    e.add_argument("--plan", help="a solved plan folder (else the case is solved first)")
    grp = e.add_mutually_exclusive_group(required=True)
    grp.add_argument("--cadre", help="a cadre id: why its post, why not the others / 干部编号")
    grp.add_argument("--post", help="a post id: why its holder, why not the others / 岗位编号")
    e.add_argument("--policy", help="policy file or scenario name in models/policies/")
    e.add_argument("--top", type=int, default=5, help="forced-cost re-solves for the best N pairs by pair score")
    e.add_argument("--time-cap", type=_seconds, default=4.0, help="seconds per forced re-solve")
    e.add_argument("--json", action="store_true", help="print the answer as JSON / 以 JSON 输出")
    e.set_defaults(fn=cmd_explain)
    b = sub.add_parser("batch", help="solve every scenario of a scenarios file on Dask")
    b.add_argument("scenarios", help="scenarios file (TOML) / 情景文件")
    b.add_argument("--out", required=True, help="batch root folder (replaced only if cadrex wrote it) / 批量输出目录")
    b.add_argument("--scheduler", help="address of an existing dask.distributed scheduler (default: a local cluster)")
    b.add_argument("--workers", type=int, help="local cluster worker processes (default: cores)")
    b.add_argument("--quiet", action="store_true", help="no progress lines / 不显示进度")
    b.add_argument("--log-file", help="also write the full log to this file / 同时写入日志文件")
    b.set_defaults(fn=cmd_batch)
    c = sub.add_parser("compare", help="compare scenario folders; --html report, --xlsx workbook")
    c.add_argument("dirs", nargs="+", help="plan, batch or robustness folders / 方案、批量运行或稳健性报告目录")
    c.add_argument("--html", help="also write the comparison as an HTML report / 输出 HTML 报告")
    c.add_argument("--xlsx", help="also write the comparison as a workbook / 输出 Excel 工作簿")
    c.set_defaults(fn=cmd_compare)
    g = sub.add_parser("generate", help="write a realistic synthetic case")
    g.add_argument("--cadres", type=int, required=True, help="cadres in play")
    g.add_argument("--seed", type=int, required=True, help="generator seed (same seed, same case) / 生成种子")
    g.add_argument("out", help="folder for the new case / 新案例的目录")
    g.set_defaults(fn=cmd_generate)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _setup_logging(args)
        return args.fn(args)
    except CaseError as exc:
        for prob in exc.problems:
            print(prob, file=sys.stderr)
        print(f"cadrex: {len(exc.problems)} problem(s) in the input; nothing written", file=sys.stderr)
        return EXIT_INPUT
    except OutDirError as exc:  # nothing was written or removed
        print(f"cadrex: {exc.en}", file=sys.stderr)
        print(f"cadrex: {exc.zh}", file=sys.stderr)
        print("cadrex: nothing was written or removed / 未写入也未删除任何文件", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("cadrex: interrupted", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:  # never a bare traceback
        if args.debug:
            traceback.print_exc()
        print(f"cadrex: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
