"""What a backend returns."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field

import numpy as np


@dataclass
class BackendResult:
    """``status``: optimal | feasible | infeasible | no_solution. ``x`` = values of all model variables
    (None without a solution); ``bound`` = a valid upper bound on the model objective (maximization)."""

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    runtime: float
    message: str = ""
    log: list[str] = field(default_factory=list)


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
