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
    PARSE_LANG,
    _count,
    _fraction,
    _positive,
    _probability,
    _seconds,
    _setup_logging,
    _years,
    tell,
)
from cadrex.cli.horizon import cmd_horizon
from cadrex.cli.plan import cmd_replan, cmd_solve
from cadrex.cli.robust import cmd_robustness
from cadrex.i18n import LANGS, catalogue, resolve_lang, say
from cadrex.io import CaseError
from cadrex.io.outdir import OutDirError
from cadrex.jobs.families import FAMILIES
from cadrex.version import __version__


def cmd_batch(args) -> int:
    from cadrex.jobs.batch import run_batch

    lang = args.lang
    df = run_batch(args.scenarios, args.out, scheduler=args.scheduler, workers=args.workers, lang=lang)
    ok = df["status"].isin(["optimal", "feasible"])
    print(say("cli.batch_done", lang, ok=int(ok.sum()), n=len(df), skipped=int(df["skipped"].sum()),
              index=os.path.join(args.out, "index.csv")))
    for r in df[~ok].to_dict("records"):
        st = say(f"status.{r['status']}", lang) if f"status.{r['status']}" in catalogue() else r["status"]
        print(say("cli.batch_failed", lang, scenario=r["scenario"], status=st, error=r["error"]), file=sys.stderr)
    return EXIT_OK


def cmd_compare(args) -> int:
    from cadrex.reports.compare import compare, labelled

    t = compare(args.dirs, html_path=args.html, xlsx_path=args.xlsx, lang=args.lang)
    import pandas as pd

    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(labelled(t, args.lang).T.to_string(header=False))
    files = ", ".join(f for f in (args.html, args.xlsx) if f)
    print(say("cli.compare_done", args.lang, n=len(t), files=say("cli.compare_files", args.lang, files=files) if files else ""))
    return EXIT_OK


def cmd_generate(args) -> int:
    from cadrex.jobs.generate import generate_case

    if args.cadres < 5:
        print(say("cli.generate_small", args.lang), file=sys.stderr)
        return EXIT_INPUT
    generate_case(args.out, n_cadres=args.cadres, seed=args.seed, family=args.family)
    print(say("cli.generated", args.lang, n=args.cadres, seed=args.seed, family=args.family, out=args.out))
    return EXIT_OK


def _solve_options(s, method: bool = True) -> None:
    """The options ``solve``, ``replan`` and ``horizon`` share (``horizon``: no ``--method``, no ``--xlsx``)."""
    s.add_argument("--out", required=True)
    s.add_argument("--backend", choices=["highs", "cpsat", "pyomo"])
    s.add_argument("--time-limit", type=_seconds)
    s.add_argument("--seed", type=int)
    s.add_argument("--num-workers", type=int)
    if method:
        s.add_argument("--method", choices=["auto", "full", "cg"], default="auto")
    s.add_argument("--policy")
    s.add_argument("--gap", type=_fraction, default=None)
    if method:
        s.add_argument("--xlsx", action="store_true")
        s.add_argument("--closure-cap", type=int)
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--verbose", action="store_true")
    s.add_argument("--log-file")


def _argv_lang(argv: list[str]) -> str:
    """The language ``--lang`` asks for in ``argv`` (so that ``--help`` speaks it too), else the default's."""
    for i, a in enumerate(argv):
        v = argv[i + 1] if a == "--lang" and i + 1 < len(argv) else a[len("--lang="):] if a.startswith("--lang=") else None
        if v in LANGS:
            return v
    return resolve_lang(None)


def _help_lines(p: argparse.ArgumentParser, sub, lang: str) -> None:
    """Every command's and option's help line from the catalogue: ``help.CMD.OPTION``, else ``help.OPTION``."""
    cat = catalogue()

    def line(cmd: str, dest: str) -> str:
        return say(f"help.{cmd}.{dest}", lang) if f"help.{cmd}.{dest}" in cat else say(f"help.{dest}", lang)

    for a in p._actions:
        if not isinstance(a, argparse._SubParsersAction):
            a.help = line("main", "lang" if a.dest == "lang_main" else a.dest)
    for ch in sub._choices_actions:
        ch.help = say(f"help.cmd.{ch.dest}", lang)
    for name, sp in sub.choices.items():
        sp.description = say(f"help.cmd.{name}", lang)
        for a in sp._actions:
            a.help = line(name, a.dest)


def _speak_argparse(lang: str) -> None:
    """argparse's own texts (usage, headings, errors) in ``lang``, from the catalogue's ``argparse.*``."""
    import gettext

    table = {m["en"]: m[lang] for k, m in catalogue().items() if k.startswith("argparse.")}
    argparse._ = (lambda s: table.get(s, s)) if lang == "zh" else gettext.gettext


class _Parser(argparse.ArgumentParser):
    """argparse's parser, its section headings ending in a full-width colon in Chinese help ("选项：", as "用法：")."""

    def format_help(self) -> str:
        text = super().format_help()
        for key in ("positional", "options"):  # argparse appends an ASCII colon to each heading itself
            head = say(f"argparse.{key}", "zh")  # (never in English help: no language check needed)
            text = text.replace(f"\n{head}:\n", f"\n{head}：\n")
        return text


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """The command line; help lines and argparse's own texts in ``lang`` (default
    :func:`cadrex.i18n.resolve_lang`)."""
    lang = resolve_lang(lang)
    _speak_argparse(lang)
    PARSE_LANG[0] = lang
    p = _Parser(prog="cadrex", description=say("help.description", lang))
    p.add_argument("--version", action="version", version=f"cadrex {__version__}")
    p.add_argument("--debug", action="store_true")
    p.add_argument("--lang", dest="lang_main", choices=list(LANGS))
    sub = p.add_subparsers(dest="cmd", required=True, metavar=say("help.main.command", lang))
    v = sub.add_parser("validate", help="")
    v.add_argument("case")
    v.add_argument("--policy")
    v.set_defaults(fn=cmd_validate)
    s = sub.add_parser("solve", help="")
    s.add_argument("case")
    _solve_options(s)
    s.set_defaults(fn=cmd_solve)

    rp = sub.add_parser("replan", help="")
    rp.add_argument("case")
    rp.add_argument("--plan", required=True)
    rp.add_argument("--events", required=True)
    rp.add_argument("--max-changes", type=_count)
    rp.add_argument("--frontier", type=_count, default=0)
    _solve_options(rp)
    rp.set_defaults(fn=cmd_replan)

    rb = sub.add_parser("robustness", help="")
    rb.add_argument("case")
    rb.add_argument("--plan", required=True)
    rb.add_argument("--out", required=True)
    rb.add_argument("--samples", type=_positive, default=200)
    rb.add_argument("--seed", type=int)
    dr = rb.add_mutually_exclusive_group()
    dr.add_argument("--decline-rate", type=_probability)
    dr.add_argument("--declines")
    rb.add_argument("--keep-samples", action="store_true")
    rb.add_argument("--scheduler")
    rb.add_argument("--workers", type=int)
    rb.add_argument("--time-limit", type=_seconds)
    rb.add_argument("--gap", type=_fraction)
    rb.add_argument("--policy")
    rb.add_argument("--quiet", action="store_true")
    rb.add_argument("--verbose", action="store_true")
    rb.add_argument("--log-file")
    rb.set_defaults(fn=cmd_robustness)

    hz = sub.add_parser("horizon", help="")
    hz.add_argument("case")
    hz.add_argument("--years", type=_years, required=True)
    _solve_options(hz, method=False)
    hz.set_defaults(fn=cmd_horizon)

    r = sub.add_parser("verify", help="")
    r.add_argument("case")
    r.add_argument("plan")
    r.add_argument("--policy")
    r.add_argument("--events")
    r.add_argument("--baseline")
    r.set_defaults(fn=cmd_verify)
    e = sub.add_parser("explain", help="")
    e.add_argument("case")
    e.add_argument("plan_dir", nargs="?", metavar="plan")  # as in `cadrex verify CASE PLAN`; --plan too
    e.add_argument("--plan")
    grp = e.add_mutually_exclusive_group(required=True)
    grp.add_argument("--cadre")
    grp.add_argument("--post")
    e.add_argument("--policy")
    e.add_argument("--top", type=int, default=5)
    e.add_argument("--time-cap", type=_seconds, default=4.0)
    e.add_argument("--json", action="store_true")
    e.add_argument("--quiet", action="store_true")
    e.add_argument("--verbose", action="store_true")
    e.set_defaults(fn=cmd_explain)
    b = sub.add_parser("batch", help="")
    b.add_argument("scenarios")
    b.add_argument("--out", required=True)
    b.add_argument("--scheduler")
    b.add_argument("--workers", type=int)
    b.add_argument("--quiet", action="store_true")
    b.add_argument("--verbose", action="store_true")
    b.add_argument("--log-file")
    b.set_defaults(fn=cmd_batch)
    c = sub.add_parser("compare", help="")
    c.add_argument("dirs", nargs="+")
    c.add_argument("--html")
    c.add_argument("--xlsx")
    c.set_defaults(fn=cmd_compare)
    g = sub.add_parser("generate", help="")
    g.add_argument("--cadres", type=int, required=True)
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--family", choices=list(FAMILIES), default="base")
    g.add_argument("out")
    g.set_defaults(fn=cmd_generate)
    for sp in sub.choices.values():  # every command speaks the user's language
        sp.add_argument("--lang", choices=list(LANGS))
    _help_lines(p, sub, lang)
    return p


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit after a closed pipe raises nothing more."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's captured stream)
        pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_argv_lang(argv))
    args, extra = parser.parse_known_args(argv)
    extra = extra[1:] if extra[:1] == ["--"] else extra
    if extra and getattr(args, "plan_dir", "") is None and not extra[0].startswith("-"):
        args.plan_dir = extra.pop(0)  # `explain CASE --cadre X PLAN`: argparse fills the optional PLAN before the options
    if extra:  # argparse's own error for anything else, with the sub-command's usage (not the top level's)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[args.cmd]
        sub.error(argparse._("unrecognized arguments: %s") % " ".join(extra))
    args.lang = resolve_lang(args.lang or args.lang_main)
    lang = args.lang
    try:
        _setup_logging(args)
        return args.fn(args)
    except CaseError as exc:
        for prob in exc.problems:
            tell(prob.text(lang), file=sys.stderr)
        n = len(exc.problems)
        tell(say("cli.input_problems" if n != 1 else "cli.input_problem", lang, n=n), file=sys.stderr)
        return EXIT_INPUT
    except OutDirError as exc:  # nothing was written or removed
        print(('cadrex：' if lang == 'zh' else 'cadrex: ') + (exc.zh if lang == 'zh' else exc.en), file=sys.stderr)
        print(say("cli.nothing_written", lang), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(say("cli.interrupted", lang), file=sys.stderr)
        return EXIT_INTERNAL
    except BrokenPipeError:  # the reader closed the pipe (`cadrex explain … | head`): it has what it wanted
        _quiet_stdout()
        return 0
    except Exception as exc:  # never a bare traceback
        if args.debug:
            traceback.print_exc()
        print(say("cli.internal", lang, error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
