"""Solver backends: each translates the same :class:`cadrex.model.Model` and nothing else.

Backends are imported lazily so that a missing or conflicting solver never breaks the others.
"""

from __future__ import annotations

import importlib

from cadrex.solvers.base import BackendResult

BACKENDS = {"highs": "cadrex.solvers.highs", "cpsat": "cadrex.solvers.cpsat", "pyomo": "cadrex.solvers.pyomo"}
INSTALL_HINT = {"highs": "pip install highspy", "cpsat": "pip install ortools", "pyomo": "pip install pyomo highspy"}


def get_backend(name: str):
    """The ``solve_model`` function of backend ``name`` (highs, cpsat, pyomo)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")
    try:
        mod = importlib.import_module(BACKENDS[name])
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"backend {name!r} needs a solver that is not installed: {exc}. Try: {INSTALL_HINT[name]}") from exc
    return mod.solve_model


__all__ = ["BACKENDS", "BackendResult", "get_backend"]
