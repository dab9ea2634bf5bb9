"""``cadrex`` command line (SPEC §8). Exit codes: 0 ok, 2 invalid input, 3 infeasible/violations,
4 no plan found in time, 1 internal error."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import traceback

from cadrex.io import CaseError, load_case
from cadrex.io.outdir import OutDirError
from cadrex.version import __version__

log = logging.getLogger("cadrex")
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN = 0, 1, 2, 3, 4


LOG_HEADER = "# cadrex log\n"


def _setup_logging(args) -> None:
    level = logging.WARNING if getattr(args, "quiet", False) else logging.INFO
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if getattr(args, "log_file", None):
        handlers.append(logging.FileHandler(_log_path(args), encoding="utf-8"))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
                        handlers=handlers, force=True)


def _log_path(args) -> str:
    """``--log-file`` checked like an output file: not an input, not a file of the case folder, not a folder, and
    appended to only when cadrex started it (its first line is :data:`LOG_HEADER`)."""
    from cadrex.io.outdir import check_out_file

    def ours(p: str) -> bool:
        with open(p, encoding="utf-8", errors="replace") as fh:
            return fh.readline() == LOG_HEADER

    inputs = [x for x in (getattr(args, "case", None), getattr(args, "scenarios", None), getattr(args, "policy", None)) if x]
    case = getattr(args, "case", None)
    path = check_out_file(args.log_file, inputs=inputs, case_dirs=[case] if case and os.path.isdir(case) else [],
                          ours=ours, option="--log-file")
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise OutDirError(path, f"the folder of log file {args.log_file} does not exist",
                          f"日志文件 {args.log_file} 所在目录不存在")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(LOG_HEADER)
    return path


def _number(text: str, ok, en: str, zh: str) -> float:
    """``text`` as a finite float for which ``ok`` holds, else an argparse error in English and Chinese."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and ok(v)):
        raise argparse.ArgumentTypeError(f"{text!r} is not {en} / 须为{zh}")
    return v


def _seconds(text: str) -> float:
    """A time limit: a finite number of seconds above 0."""
    return _number(text, lambda v: v > 0, "a finite number of seconds above 0", "大于 0 的有限秒数")


def _fraction(text: str) -> float:
    """A relative gap: a finite number from 0 up to (not including) 1."""
    return _number(text, lambda v: 0 <= v < 1, "a gap from 0 to below 1 (e.g. 0.001)", "0 到 1 之间的相对差距")


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


def cmd_solve(args) -> int:
    import cadrex

    if args.method == "cg" and args.backend not in (None, "highs"):
        print("cadrex solve: --method cg (column generation) runs on the highs backend", file=sys.stderr)
        return EXIT_INPUT
    from cadrex.io.outdir import check_out_dir
    from cadrex.reports.result import PlanRejected

    pol_file = args.policy if args.policy and os.path.isfile(args.policy) else None
    check_out_dir(args.out, "plan", case_dirs=[args.case], input_files=[pol_file])  # before a long solve
    case = load_case(args.case, policy_file=args.policy)

    def progress(elapsed, obj, bound):
        import math

        have = obj is not None and math.isfinite(obj)
        gap = f"{(bound - obj) / max(1.0, abs(obj)):.3%}" if have and bound is not None and math.isfinite(bound) else "n/a"
        log.info("solve %.0fs: incumbent %s, bound %s, gap %s", elapsed, f"{obj:.0f}" if have else "none",
                 f"{bound:.1f}" if bound is not None and math.isfinite(bound) else "none", gap)

    from cadrex.solvers.base import OptionError

    try:
        res = cadrex.solve(case, backend=args.backend, time_limit=args.time_limit, seed=args.seed,
                           num_workers=args.num_workers, progress=None if args.quiet else progress, method=args.method,
                           gap=args.gap)
    except OptionError as exc:  # an option the backend or method cannot honour: rejected, never ignored
        print(f"cadrex solve: {exc.en}", file=sys.stderr)
        print(f"cadrex solve: {exc.zh}", file=sys.stderr)
        return EXIT_INPUT
    try:
        res.write(args.out, xlsx=args.xlsx, inputs=[pol_file] if pol_file else ())
    except PlanRejected as exc:
        print(f"cadrex solve: {exc.en}; the previous output in {args.out}, if any, is unchanged", file=sys.stderr)
        print(f"cadrex solve: {exc.zh}；{args.out} 中原有的输出（如有）保持不变", file=sys.stderr)
        for v in exc.violations:
            print(f"  {v}", file=sys.stderr)
        return EXIT_INTERNAL
    s = res.summary
    if res.status in ("optimal", "feasible"):
        gap = f"{s['gap']:.4%}" if s["gap"] is not None else "n/a"
        print(f"{res.status}: objective {res.objective} (bound {s['best_bound']}, gap {gap}; status quo "
              f"{res.status_quo_objective}); {s['counts']['moves']} moves, {s['counts']['vacancies_filled']} "
              f"vacancies filled; backend {s['backend']}; {s['timings'].get('total', 0):.2f}s -> {args.out}")
        return EXIT_OK
    if res.status == "infeasible":
        print("infeasible: no plan satisfies every rule. Diagnosis:", file=sys.stderr)
        for d in res.diagnosis:
            print(f"  [{d['rule'] or '?'}] {d['message']}", file=sys.stderr)
            print(f"        {d['message_zh']}", file=sys.stderr)
        return EXIT_INFEASIBLE
    print(f"no plan found within the time limit ({s['time_limit']}s); summary in {args.out}", file=sys.stderr)
    return EXIT_NO_PLAN


def cmd_verify(args) -> int:
    from cadrex.analysis.verify import evaluate
    from cadrex.io.plan import read_plan

    case = load_case(args.case, policy_file=args.policy)
    pol = case.policy
    spath = os.path.join(args.plan, "summary.json")
    claimed = None
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
    if problems:
        print(*problems, sep="\n", file=sys.stderr)
        print(f"verify: {len(problems)} violation(s); recomputed objective {ev.objective}", file=sys.stderr)
        return EXIT_INFEASIBLE
    t = ev.terms
    print(f"verify: plan satisfies E1–E10 and H1–H7; objective {ev.objective} = pairs(fit {t['fit']}, hard {t['hard']}, "
          f"care {t['care']}, pref {t['pref']}, assess {t['assess']}) + fill {t['fill']} − move {t['move']} − structure "
          f"{t['structure']} − flow {t['flow']} (unweighted terms)")
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cadrex", description="Exact planning of cross-province cadre exchanges.")
    p.add_argument("--version", action="version", version=f"cadrex {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="check a case; report every problem as file:line:column")
    v.add_argument("case")
    v.add_argument("--policy", help="policy file or scenario name in models/policies/")
    v.set_defaults(fn=cmd_validate)
    s = sub.add_parser("solve", help="solve a case and write the plan")
    s.add_argument("case")
    s.add_argument("--out", required=True)
    s.add_argument("--backend", choices=["highs", "cpsat", "pyomo"])
    s.add_argument("--time-limit", type=_seconds)
    s.add_argument("--seed", type=int)
    s.add_argument("--num-workers", type=int)
    s.add_argument("--method", choices=["auto", "full", "cg"], default="auto",
                   help="full model, column generation (highs), or auto (column generation on large cases)")
    s.add_argument("--policy", help="policy file or scenario name in models/policies/")
    s.add_argument("--gap", type=_fraction, default=0.0,
                   help="stop once the certified relative gap is at most this (default 0: prove optimality)")
    s.add_argument("--xlsx", action="store_true", help="also write plan.xlsx")
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--log-file")
    s.set_defaults(fn=cmd_solve)
    r = sub.add_parser("verify", help="re-check a written plan against the case, independently of the solver")
    r.add_argument("case")
    r.add_argument("plan")
    r.add_argument("--policy", help="verify under this policy instead of the one recorded in summary.json")
    r.set_defaults(fn=cmd_verify)
    e = sub.add_parser("explain", help="why this post, why not that one: every pair of a cadre or a post, with rule ids")
    e.add_argument("case")
    e.add_argument("--plan", help="a solved plan folder (else the case is solved first)")
    grp = e.add_mutually_exclusive_group(required=True)
    grp.add_argument("--cadre")
    grp.add_argument("--post")
    e.add_argument("--policy", help="policy file or scenario name in models/policies/")
    e.add_argument("--top", type=int, default=5, help="forced-cost re-solves for the best N pairs by pair score")
    e.add_argument("--time-cap", type=_seconds, default=4.0, help="seconds per forced re-solve")
    e.add_argument("--json", action="store_true")
    e.set_defaults(fn=cmd_explain)
    b = sub.add_parser("batch", help="solve every scenario of a scenarios file on Dask")
    b.add_argument("scenarios")
    b.add_argument("--out", required=True)
    b.add_argument("--scheduler", help="address of an existing dask.distributed scheduler (default: a local cluster)")
    b.add_argument("--workers", type=int, help="local cluster worker processes (default: cores)")
    b.add_argument("--quiet", action="store_true")
    b.add_argument("--log-file")
    b.set_defaults(fn=cmd_batch)
    c = sub.add_parser("compare", help="compare scenario folders; --html report, --xlsx workbook")
    c.add_argument("dirs", nargs="+")
    c.add_argument("--html")
    c.add_argument("--xlsx")
    c.set_defaults(fn=cmd_compare)
    g = sub.add_parser("generate", help="write a realistic synthetic case")
    g.add_argument("--cadres", type=int, required=True, help="cadres in play")
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("out")
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
