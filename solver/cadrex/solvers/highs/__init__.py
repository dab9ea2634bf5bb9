"""The HiGHS backend (highspy): ``solve(model, options)`` and what it honours (``SUPPORTS``); the translation lives
in :mod:`cadrex.solvers.highs.translate`. ``solve_model`` (keywords), ``new_highs`` and ``pass_model`` are also used
by column generation, the diagnosis and explain."""

from cadrex.solvers.base import silence_stdout
from cadrex.solvers.highs.translate import GUARD_ABOVE, SUPPORTS, new_highs, pass_model, solve, solve_model

__all__ = ["GUARD_ABOVE", "SUPPORTS", "new_highs", "pass_model", "silence_stdout", "solve", "solve_model"]
