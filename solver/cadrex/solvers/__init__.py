"""Solver backends: each translates the same :class:`cadrex.model.Model` and nothing else, behind one contract
(:mod:`cadrex.solvers.base`): ``solve(model, SolveOptions) -> BackendResult``, options outside a backend's
``SUPPORTS`` rejected with :class:`UnsupportedOption`.

Backends are imported lazily so that a missing or conflicting solver never breaks the others.
"""

from __future__ import annotations

import importlib

from cadrex.solvers.base import (
    BackendResult,
    OptionError,
    SolveOptions,
    Status,
    UnsupportedOption,
    check_options,
)

BACKENDS = {"highs": "cadrex.solvers.highs", "cpsat": "cadrex.solvers.cpsat", "pyomo": "cadrex.solvers.pyomo"}
INSTALL_HINT = {"highs": "pip install highspy", "cpsat": "pip install ortools", "pyomo": "pip install pyomo highspy"}


class BackendHandle:
    """A loaded backend: ``name``, ``supports``; ``solve(model, options)`` checks the options first;
    calling it with keywords (``backend(model, time_limit=…, seed=…)``) builds the options."""

    def __init__(self, name: str, module):
        self.name, self.module, self.supports = name, module, frozenset(module.SUPPORTS)

    def check(self, options: SolveOptions) -> None:
        check_options(options, self.supports, self.name)

    def solve(self, model, options: SolveOptions) -> BackendResult:
        self.check(options)
        return self.module.solve(model, options)

    def __call__(self, model, **options) -> BackendResult:
        return self.solve(model, SolveOptions(**options))


def get_backend(name: str) -> BackendHandle:
    """Backend ``name`` (highs, cpsat, pyomo)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")
    try:
        mod = importlib.import_module(BACKENDS[name])
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"backend {name!r} needs a solver that is not installed: {exc}. Try: {INSTALL_HINT[name]}") from exc
    return BackendHandle(name, mod)


__all__ = ["BACKENDS", "BackendHandle", "BackendResult", "OptionError", "SolveOptions", "Status", "UnsupportedOption",
           "get_backend"]
