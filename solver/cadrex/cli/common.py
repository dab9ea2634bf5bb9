"""What every command shares: exit codes (SPEC §8), logging with a guarded ``--log-file``, option validators."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys

from cadrex.i18n import Msg, Text, say
from cadrex.io.outdir import OutDirError

log = logging.getLogger("cadrex")
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN = 0, 1, 2, 3, 4


LOG_HEADER = "# cadrex log\n"


class LiveLine:
    """The progress line a terminal shows, rewritten in place (``width``: its length, 0 when none is showing). A log
    line to stderr first clears it, so the two never run together; the next progress call writes it again."""

    width = 0

    @classmethod
    def clear(cls) -> bool:
        if cls.width:
            sys.stderr.write("\r" + " " * cls.width + "\r")
            cls.width = 0
        return True


def _setup_logging(args) -> None:
    """Log lines to stderr: the lines written for the user (marked ``extra={"user": True}``, in either language) and
    warnings; with ``--verbose`` the engine's detail lines too, with ``--quiet`` warnings only. With ``--log-file``,
    the full log goes to that file whatever ``--quiet`` says. The same lines in en and zh: the detail lines are
    English and for experts, so neither language shows them unless asked."""
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    err.addFilter(lambda r: not getattr(r, "file_only", False))  # printed already (:func:`tell`)
    lang = getattr(args, "lang", "en")
    if not getattr(args, "verbose", False):  # the engine's English detail lines go to --log-file only
        err.addFilter(lambda r: r.levelno >= logging.WARNING or getattr(r, "user", False))
    err.addFilter(_speaks(lang))
    err.addFilter(lambda r: LiveLine.clear())  # last: only for a record that is written
    err.setFormatter(_Levels(lang))
    handlers: list[logging.Handler] = [err]
    if getattr(args, "log_file", None):
        fh = logging.FileHandler(_log_path(args), encoding="utf-8")
        fh.setLevel(logging.INFO)
        handlers.append(fh)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
                        handlers=handlers, force=True)


class _Levels(logging.Formatter):
    """The console's log format, its level names in the user's language (警告, not WARNING, with --lang zh)."""

    def __init__(self, lang: str):
        super().__init__("%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
        self.names = {lv: say(f"cli.level_{lv}", lang) for lv in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}

    def format(self, record: logging.LogRecord) -> str:
        shown = logging.makeLogRecord(record.__dict__)  # the file handler keeps the English level name
        shown.levelname = self.names.get(record.levelname, record.levelname)
        return super().format(shown)


def whole(v: float | None, lang: str) -> str:
    """A bound as people read it: the integer when it is one (the objective is integral: 4659, not 4659.0)."""
    if v is None:
        return say("cli.none", lang)
    return str(int(v)) if float(v).is_integer() else f"{v}"


def tell(line: str, file=None) -> None:
    """Print ``line`` (to stdout, or ``file``) and keep it in the ``--log-file`` too: results, hints and input
    problems, so that the log says how the run ended (the console has the line already)."""
    print(line, file=file)
    log.info(line, extra={"file_only": True})


def _speaks(lang: str):
    """A logging filter that renders a catalogue message (:class:`cadrex.i18n.Msg`) in ``lang``."""

    def render(record: logging.LogRecord) -> bool:
        if isinstance(record.msg, Text):
            record.msg = record.msg.text(lang)
        return True

    return render


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
        raise OutDirError(path, Msg("outdir.log_dir", path=args.log_file))
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(LOG_HEADER)
    return path


#: the language of the command being parsed (set by ``cli.build_parser``), for the option checks below
PARSE_LANG = ["en"]


def _bad(mid: str, text: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(say(mid, PARSE_LANG[0], text=repr(text)))


def _number(text: str, ok, mid: str) -> float:
    """``text`` as a finite float for which ``ok`` holds, else the usage error ``mid``."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and ok(v)):
        raise _bad(mid, text)
    return v


def _seconds(text: str) -> float:
    """A time limit: a finite number of seconds above 0."""
    return _number(text, lambda v: v > 0, "value.seconds")


def _fraction(text: str) -> float:
    """A relative gap from 0 up to (not including) 1: a fraction below 0.01 (0.0005) or, as every output shows it, a
    percentage (0.05%). A bare number from 0.01 up is refused as ambiguous (``--gap 0.5``: 50 %, or half a percent?)
    and the message offers both readings."""
    text = text.replace("％", "%")  # the full-width sign a Chinese input method types
    pct = text.strip().endswith("%")
    try:
        v = round(float(text.strip()[:-1]) / 100, 12) if pct else float(text)  # 99.9% is 0.999, not 0.9990000000000001
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and 0 <= v < 1):
        if not pct and 1 <= v < 100:  # "--gap 5": a percentage without its sign
            raise argparse.ArgumentTypeError(say("value.fraction_pct", PARSE_LANG[0], text=repr(text), pct=f"{text.strip()}%"))
        raise _bad("value.fraction", text)
    if not pct and v >= 0.01:  # "--gap 0.5": 50 % as a fraction, or half a percent? Every output shows percentages
        raise argparse.ArgumentTypeError(say("value.fraction_ambiguous", PARSE_LANG[0], text=repr(text),
                                             frac=f"{v * 100:.4g}%", pct=f"{text.strip()}%"))
    return v


def _count(text: str) -> int:
    """A whole number ≥ 0 (``--max-changes``, ``--frontier``); else a usage error naming the option's value."""
    try:
        v = int(text)
    except ValueError:
        v = -1
    if v < 0:
        raise _bad("value.count", text)
    return v


def _positive(text: str) -> int:
    """A whole number ≥ 1 (``--samples``)."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise _bad("value.positive", text)
    return v


def _years(text: str) -> int:
    """A horizon length: a whole number of rounds from 1 to 10 (``--years``)."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 1 <= v <= 10:
        raise _bad("value.years", text)
    return v


def _probability(text: str) -> float:
    """A probability from 0 to 1 (``--decline-rate``)."""
    return _number(text, lambda v: 0 <= v <= 1, "value.probability")
