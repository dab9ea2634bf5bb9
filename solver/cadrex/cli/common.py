"""What every command shares: exit codes (SPEC §8), logging with a guarded ``--log-file``, option validators."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys

from cadrex.io.outdir import OutDirError

log = logging.getLogger("cadrex")
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_PLAN = 0, 1, 2, 3, 4


LOG_HEADER = "# cadrex log\n"


def _setup_logging(args) -> None:
    """Log lines to stderr (warnings only with ``--quiet``) and, with ``--log-file``, the full log to that file
    whatever ``--quiet`` says."""
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    handlers: list[logging.Handler] = [err]
    if getattr(args, "log_file", None):
        fh = logging.FileHandler(_log_path(args), encoding="utf-8")
        fh.setLevel(logging.INFO)
        handlers.append(fh)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
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


def _count(text: str) -> int:
    """A whole number ≥ 0 (``--max-changes``, ``--frontier``); else a usage error naming the option's value."""
    try:
        v = int(text)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ≥ 0 / 不是非负整数")
    return v




def _positive(text: str) -> int:
    """A whole number ≥ 1 (``--samples``)."""
    v = _count(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ≥ 1 / 须为正整数")
    return v


def _years(text: str) -> int:
    """A horizon length: a whole number of rounds from 1 to 10 (``--years``)."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 1 <= v <= 10:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of years from 1 to 10 / 须为 1 到 10 之间的整数年数")
    return v


def _probability(text: str) -> float:
    """A probability from 0 to 1 (``--decline-rate``)."""
    return _number(text, lambda v: 0 <= v <= 1, "a probability from 0 to 1", "0 到 1 之间的概率")
