"""The backend contract: what a backend is asked (:class:`SolveOptions`), what it returns (:class:`BackendResult`,
:class:`Status`), and how it says no (:class:`UnsupportedOption`).

Every backend module (``highs``, ``cpsat``, ``pyomo``) declares ``SUPPORTS``, the options it honours, and
implements ``solve(model, options) -> BackendResult``. An option that is requested but not in ``SUPPORTS`` is
rejected before any solving (:func:`check_options`), never silently ignored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from cadrex.i18n import Msg, Said


class Status(enum.StrEnum):
    """Outcome of a solve. A ``str`` enum: it compares equal to, formats as and is written to JSON as its plain
    value (``"optimal"`` …), so summary.json and index.csv read as before."""

    OPTIMAL = "optimal"  #: a plan with a proven zero gap
    FEASIBLE = "feasible"  #: a plan, optimality not proven (time limit, or a gap tolerance)
    INFEASIBLE = "infeasible"  #: proven: no plan satisfies every rule
    NO_SOLUTION = "no_solution"  #: no plan found in time, infeasibility not proven
    REJECTED = "rejected"  #: API results only: the independent verifier rejected the backend's plan
    RESTRICTED_INFEASIBLE = "restricted_infeasible"  #: column generation only: its restricted master is infeasible


@dataclass
class BackendResult:
    """``x`` = values of all model variables (None without a solution); ``bound`` = a valid upper bound on the model
    objective (maximization); ``status`` is coerced to :class:`Status`."""

    status: Status
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    runtime: float
    message: str = ""
    log: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.status = Status(self.status)


#: progress(elapsed_seconds, incumbent_objective or None, dual_bound or None)
Progress = Callable[[float, float | None, float | None], None]


@dataclass
class SolveOptions:
    """What a backend is asked to do. ``time_limit``: seconds of wall clock; ``seed``: fixes the plan for a given
    machine-independent setup; ``num_workers``: solver threads (None: the backend's deterministic default); ``gap``:
    stop once the relative gap (bound − objective) / max(1, |objective|) is at most this (0: prove optimality);
    ``hint``: a start plan (values of all model variables); ``progress``: called during the search, at most every
    few seconds and at least once when a plan is found; ``stop_bound``: stop as soon as the dual bound is at most
    this (a caller's certificate needs no more)."""

    time_limit: float = 60.0
    seed: int = 0
    num_workers: int | None = None
    gap: float = 0.0
    hint: np.ndarray | None = None
    progress: Progress | None = None
    stop_bound: float | None = None

    def __post_init__(self):
        if not (isinstance(self.gap, int | float) and math.isfinite(self.gap) and self.gap >= 0):
            raise OptionError("gap", Msg("option.gap", v=repr(self.gap)))
        if self.num_workers is not None and int(self.num_workers) < 1:
            raise OptionError("num_workers", Msg("option.workers", v=repr(self.num_workers)))

    def requested(self) -> list[str]:
        """Names of the options set to something other than "off" (time_limit and seed are always set)."""
        on = {"num_workers": self.num_workers is not None, "gap": self.gap > 0, "hint": self.hint is not None,
              "progress": self.progress is not None, "stop_bound": self.stop_bound is not None}
        return [f.name for f in dataclasses.fields(self) if on.get(f.name, True)]


def report(progress, elapsed: float, obj: float | None, bound: float | None, phase: str | None = None) -> None:
    """Call a progress callback; a ``phase`` (e.g. "LP 3", "dive", "closure MIP") goes only to callbacks that take a
    ``phase`` keyword (or ``**kwargs``), so a plain ``progress(elapsed, obj, bound)`` keeps working."""
    if progress is None:
        return
    import inspect

    try:
        ps = inspect.signature(progress).parameters.values()
        takes = any(p.name == "phase" or p.kind is inspect.Parameter.VAR_KEYWORD for p in ps)
    except (TypeError, ValueError):
        takes = False
    if takes:
        progress(elapsed, obj, bound, phase=phase)
    else:
        progress(elapsed, obj, bound)


#: every option of :class:`SolveOptions`
OPTIONS = frozenset(f.name for f in dataclasses.fields(SolveOptions))


class OptionError(Said, ValueError):
    """An option with a value no solve can honour: ``message`` (a catalogue message; ``en``/``zh`` its texts)."""

    def __init__(self, option: str, message: Msg):
        self.option, self.message = option, message
        super().__init__(str(message))


class UnsupportedOption(OptionError):
    """An option the chosen backend (or method) does not honour: rejected, never silently ignored; ``by``: who
    does not honour it (a catalogue message)."""

    def __init__(self, option: str, by: Msg):
        flag = "--" + option.replace("_", "-")
        self.by = by
        super().__init__(option, Msg("option.unsupported", flag=flag, by=by))


def check_options(options: SolveOptions, supports: frozenset[str], name: str) -> None:
    """Raise :class:`UnsupportedOption` for the first requested option backend ``name`` does not honour."""
    for opt in options.requested():
        if opt not in supports:
            raise UnsupportedOption(opt, Msg("option.by_backend", name=name))


class Backend(Protocol):
    """What every backend module provides."""

    SUPPORTS: frozenset[str]

    def solve(self, model, options: SolveOptions) -> BackendResult: ...


class Throttle:
    """Calls ``progress`` on the first report and then at most every ``every`` seconds (for the backends whose
    solver reports more often than a log should)."""

    def __init__(self, progress: Progress | None, every: float = 5.0):
        self.progress, self.every, self.last, self.t0 = progress, every, -math.inf, time.perf_counter()

    def __call__(self, obj: float | None, bound: float | None, force: bool = False) -> None:
        now = time.perf_counter()
        if self.progress is not None and (force or now - self.last >= self.every):
            self.last = now
            fin = lambda v: float(v) if v is not None and math.isfinite(v) else None  # noqa: E731
            self.progress(now - self.t0, fin(obj), fin(bound))


def default_workers() -> int:
    """Worker count for parallel solvers: the machine's cores."""
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def silence_stdout():
    """Send file descriptor 1 to /dev/null for the duration (solver banners are printed from C++)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def glibc_call(name: str, *args: int) -> int | None:
    """Call glibc's malloc tuning function ``name`` (``malloc_trim``, ``mallopt``) in this process; None where the C
    library is not glibc (nothing is done there)."""
    import ctypes

    try:
        return int(getattr(ctypes.CDLL(None), name)(*args))
    except (OSError, AttributeError):  # not glibc
        return None


def give_back_memory() -> None:
    """Return the memory freed so far to the system (glibc's ``malloc_trim(0)``; nothing elsewhere). glibc keeps freed
    blocks in its heap for reuse: after the LP phase at 5,000 in play 330 MB of 1,040 MB resident were such blocks.
    Called before a phase that holds a second large copy (the guarded HiGHS child), so that the peak over the process
    tree counts what is in use only."""
    glibc_call("malloc_trim", 0)
