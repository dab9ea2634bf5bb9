"""``cadrex solve`` and ``cadrex replan`` (SPEC §8, §10): run, write the plan folder, say what happened."""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time

from cadrex.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_NO_PLAN,
    EXIT_OK,
    LiveLine,
    log,
    tell,
    whole,
)
from cadrex.i18n import rule_name, say, text
from cadrex.io import load_case

#: a full model with no plan in its time limit gets the column-generation hint from this many pairs
CG_HINT_PAIRS = 50_000


class _Progress:
    """The progress of a solve: one live line on a terminal (rewritten in place: phase, plan, bound, gap, time), log
    lines otherwise (at a phase change, or every 10 s; the LP rounds count as one phase there, each round has its own
    "CG round" line). The clock is the command's own, so phases read as one run."""

    def __init__(self, lang: str):
        self.lang, self.t0, self.phase, self.last = lang, time.perf_counter(), "", -1e9
        self.obj: float | None = None
        self.bound: float | None = None
        self.tty = sys.stderr.isatty()

    def __call__(self, elapsed, obj, bound, phase=None):
        lang = self.lang
        # in a log, "LP 1", "LP 2", … are one phase (each round logs its own "CG round" line)
        new_phase = phase is not None and _kind(phase) != _kind(self.phase)
        if phase is not None:
            self.phase = phase
        if obj is not None and math.isfinite(obj):
            self.obj = obj if self.obj is None else max(self.obj, obj)
        if bound is not None and math.isfinite(bound):
            self.bound = bound if self.bound is None else min(self.bound, bound)
        have, hb = self.obj is not None, self.bound is not None
        gap = f"{max(0.0, self.bound - self.obj) / max(1.0, abs(self.obj)):.4%}" if have and hb else say("cli.na", lang)
        now = time.perf_counter() - self.t0
        line = say("cli.progress", lang, secs=f"{now:.0f}", plan=f"{self.obj:.0f}" if have else say("cli.none", lang),
                   bound=f"{self.bound:.0f}" if hb else say("cli.none", lang), gap=gap)
        line = f"[{_phase(self.phase, lang)}] {line}" if self.phase else line
        if self.tty:
            sys.stderr.write("\r" + line.ljust(LiveLine.width))
            sys.stderr.flush()
            LiveLine.width = max(LiveLine.width, len(line))
        elif (new_phase or now - self.last >= 10) and (have or hb or self.phase):
            # a record with nothing in it yet (no phase, plan or bound: the very first call) is not logged
            self.last = now
            log.info(line, extra={"user": True})

    def done(self) -> None:
        if self.tty and LiveLine.width:
            sys.stderr.write("\n")
            sys.stderr.flush()
            LiveLine.width = 0


def _kind(phase: str) -> str:
    return "LP" if phase.startswith("LP ") else phase


def _phase(phase: str, lang: str) -> str:
    """A solver phase ("LP 3", "dive", "closure MIP", "master MIP") in ``lang``."""
    if phase.startswith("LP "):
        return say("phase.lp", lang, k=phase[3:])
    known = {"dive": "phase.dive", "closure MIP": "phase.closure", "master MIP": "phase.master"}
    return say(known[phase], lang) if phase in known else phase


def _progress(args):
    """The progress callback of a solve (:class:`_Progress`); with ``--quiet`` none, or with ``--log-file`` one that
    writes log records only (the file gets the full log, the terminal warnings only)."""
    if not args.quiet:
        return _Progress(args.lang)
    if not getattr(args, "log_file", None):
        return None
    p = _Progress(args.lang)
    p.tty = False  # records, not a live line: the stderr handler drops them (warnings only), the file keeps them
    return p


def say_rejected(name: str, out: str, exc, lang: str) -> int:
    """A plan the verifier rejected (nothing written), in the chosen language; the exit code."""
    tell(say("cli.rejected", lang, cmd=name, what=exc.zh if lang == "zh" else exc.en, out=out), file=sys.stderr)
    for v in exc.violations:
        tell(f"  {text(v, lang)}", file=sys.stderr)
    return EXIT_INTERNAL


def say_diagnosis(diagnosis: list[dict], lang: str) -> None:
    """Each conflict of a diagnosis: its rule id with the rule's name, and the message in the chosen language."""
    for d in diagnosis:
        msg = d["message_zh"] if lang == "zh" else d["message"]
        head = f"[{rule_name(d['rule'], lang) if d['rule'] else '?'}] "
        tell(f"  {'' if d['rule'] and msg.startswith(d['rule']) else head}{msg}", file=sys.stderr)


def _run(args, name: str, run, inputs: list, prog: _Progress | None = None, notes: tuple = ()) -> int:
    """Run ``run()`` (a solve or a re-plan), write its result to ``--out`` and say what happened; the exit code.
    ``notes``: the case's reading warnings, said again when no plan comes (a misspelt column may be why)."""
    from cadrex.reports.result import PlanRejected
    from cadrex.solvers.base import OptionError

    lang = args.lang
    try:
        res = run()
        if prog is not None:
            prog.done()
    except OptionError as exc:  # an option the backend or method cannot honour: rejected, never ignored
        print(f"cadrex {name}: {exc.zh if lang == 'zh' else exc.en}", file=sys.stderr)
        return EXIT_INPUT
    try:
        res.write(args.out, xlsx=args.xlsx, inputs=[i for i in inputs if i], lang=lang)
    except PlanRejected as exc:
        return say_rejected(name, args.out, exc, lang)
    s = res.summary
    if res.status in ("optimal", "feasible"):
        gap = f"{s['gap']:.4%}" if s["gap"] is not None else say("cli.na", lang)
        bound = whole(s["best_bound"], lang)
        common = dict(status=_status_word(res.status, s, lang), objective=res.objective, bound=bound, gap=gap,
                      moves=s["counts"]["moves"], unassigned=_unassigned(s, lang), secs=f"{s['timings'].get('total', 0):.2f}", out=args.out)
        rp = s.get("replan")
        if rp:
            k_min = rp["k_min"] if rp["k_min"] is not None else say("cli.not_computed", lang)
            tell(say("cli.replanned", lang, replan=rp["objective"], cost=rp["change_cost"], changes=rp["changes"],
                     k_min=k_min, **common))
        else:
            points = s["best_bound"] - res.objective if s["gap"] and s["best_bound"] is not None else 0
            if points > 0:  # what the percentage means for this case: how far below the optimum the plan may be
                common["gap"] = say("cli.gap_points", lang, gap=gap, n=whole(points, lang))
            tell(say("cli.solved", lang, status_quo=res.status_quo_objective, backend=s["backend"],
                     filled=s["counts"]["vacancies_filled"], **common))
        cg = s.get("column_generation") or {}
        short = _short_of_goal(s)
        unclosed = cg.get("closed") is False  # the bound stayed the LP's: neither time nor --gap 0 lowers it
        if res.status == "feasible" and short and name == "solve" and unclosed:  # a larger closure MIP may
            n = int(cg["closure_pairs"])
            goal = f"{s['gap_goal']:.4%}" if s["gap_goal"] else say("plan.prove", lang)
            # the same options, the same gap goal; 10 % headroom (the closure varies a little from run to run)
            tell(say("plan.closure", lang, gap=gap, goal=goal, n=n, cap=cg["closure_cap"],
                     need=f"{-(-int(1.1 * n) // 100_000) * 100_000}", case=_sh(args.case), out=_sh_out(args.out),
                     opts=_same_options(args, _gap_option(s["gap_goal"]), closure=True)), file=sys.stderr)
        elif res.status == "feasible" and s["gap"] is not None and name == "solve" and not unclosed:
            tell(say("plan.tighter", lang, gap=gap, case=_sh(args.case), out=_sh_out(args.out), opts=_same_options(args),
                     limit=f"{2 * float(s['time_limit']):.15g}"), file=sys.stderr)
        return EXIT_OK
    if notes:
        tell(say("cli.notes_again", lang), file=sys.stderr)
        for note in notes:
            tell(f"  {text(note, lang)}", file=sys.stderr)
    if res.status == "infeasible":
        tell(say("cli.infeasible", lang), file=sys.stderr)
        say_diagnosis(res.diagnosis, lang)
        return EXIT_INFEASIBLE
    tell(say("cli.no_plan", lang, limit=f"{float(s['time_limit']):.0f}", out=args.out), file=sys.stderr)
    if name == "solve":
        gap_given = _gap_option(args.gap) if getattr(args, "gap", None) is not None else ""
        tell(say("plan.longer", lang, case=_sh(args.case), out=_sh(args.out), opts=_same_options(args, gap_given),
                 limit=f"{4 * float(s['time_limit']):.15g}"), file=sys.stderr)
        if s.get("method") == "full" and s.get("backend") == "highs" and (s.get("model") or {}).get("pairs", 0) >= CG_HINT_PAIRS:
            # a full model with no plan in time (a newcomer's 500 in play: none in 120 s on a loaded machine, where
            # column generation certified 0.17 % in 3 s)
            tell(say("plan.try_cg", lang, case=_sh(args.case), out=_sh(args.out),
                     opts=_same_options(argparse.Namespace(**{**vars(args), "method": "auto"}), gap_given)), file=sys.stderr)
    return EXIT_NO_PLAN


def _same_options(args, extra: str = "", closure: bool = False) -> str:
    """The options of this run a suggested rerun keeps (policy, method, backend, seed, workers; the closure cap, or
    for the closure hint, which sets its own cap, the time limit) and ``extra``: a rerun without them would solve
    another question. The other hints set their own time limit and gap."""
    kept = [("--policy", getattr(args, "policy", None)), ("--backend", getattr(args, "backend", None)),
            ("--method", m if (m := getattr(args, "method", "auto")) != "auto" else None),
            ("--seed", getattr(args, "seed", None)), ("--num-workers", getattr(args, "num_workers", None)),
            ("--time-limit", getattr(args, "time_limit", None)) if closure else
            ("--closure-cap", getattr(args, "closure_cap", None))]
    return "".join(f" {flag} {_sh(f'{v:.15g}' if isinstance(v, float) else str(v))}" for flag, v in kept
                   if v is not None) + extra


def _gap_option(gap: float) -> str:
    """``--gap`` as a suggested command writes it: a percentage (``--gap 1%``), which ``--gap`` reads back as this
    gap (a bare fraction from 0.01 up is refused as ambiguous), or 0."""
    return f" --gap {round(100 * gap, 10):.10g}%" if gap else " --gap 0"


def _sh(text: str) -> str:
    """A path or value as a shell reads it back (a suggested command is pasted into a shell)."""
    return shlex.quote(str(text))


def _sh_out(out: str) -> str:
    """The plan folder, for a hint that appends "-proof" or "-closure" to it (normalized: `r1/` would give `r1/-proof`,
    a folder inside the plan at hand)."""
    return _sh(os.path.normpath(out))


def _status_word(status: str, s: dict, lang: str) -> str:
    """SPEC §8's status word, and for ``feasible`` whether the plan met its gap goal: a plan stopped at its gap goal
    and one cut short by the time limit share the word, and only the gap tells them apart."""
    if status != "feasible":
        return say(f"status.{status}", lang)
    goal = s.get("gap_goal") or 0.0
    if s.get("gap") is None or goal <= 0:
        return say("cli.feasible_unproven", lang)
    return say("cli.feasible_short" if _short_of_goal(s) else "cli.feasible_within", lang, goal=f"{goal:.4%}")


def _unassigned(s: dict, lang: str) -> str:
    """The closing line's clauses on cadres in play left without a post and on posts the plan leaves empty (none:
    nothing said)."""
    n = int(s["counts"].get("unassigned", 0))
    left = int(s["counts"].get("left_vacant", 0))  # held before, empty after: a vacancy the plan makes
    return (say("cli.unassigned", lang, n=n) if n else "") + (say("cli.left_vacant", lang, n=left) if left else "")


def _short_of_goal(s: dict) -> bool:
    """Whether a plan's certified gap (summary ``s``) is above its gap goal (a goal of 0 unless it is proven)."""
    return s.get("gap") is not None and s["gap"] > (s.get("gap_goal") or 0.0) + 1e-12


def _cg_backend_ok(args, name: str) -> bool:
    if args.method == "cg" and args.backend not in (None, "highs"):
        print(say("cli.cg_highs", args.lang, cmd=name), file=sys.stderr)
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
    prog = _progress(args)
    return _run(args, "solve", lambda: cadrex.solve(
        case, backend=args.backend, time_limit=args.time_limit, seed=args.seed, num_workers=args.num_workers,
        progress=prog, method=args.method, gap=args.gap, closure_cap=args.closure_cap), [pol_file], prog, notes=case.notes)


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
    prog = _progress(args)
    return _run(args, "replan", lambda: cadrex.replan(
        case, baseline, events, backend=args.backend, time_limit=args.time_limit, seed=args.seed,
        num_workers=args.num_workers, progress=prog, method=args.method, gap=args.gap,
        max_changes=args.max_changes, frontier=args.frontier, closure_cap=args.closure_cap), inputs, prog,
        notes=case.notes)


