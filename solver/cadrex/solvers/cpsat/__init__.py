"""The OR-Tools CP-SAT backend: ``solve(model, options)`` and what it honours (``SUPPORTS``); the translation lives
in :mod:`cadrex.solvers.cpsat.translate`."""

from cadrex.solvers.cpsat.translate import DEFAULT_WORKERS, SUPPORTS, solve, solve_model

__all__ = ["DEFAULT_WORKERS", "SUPPORTS", "solve", "solve_model"]
