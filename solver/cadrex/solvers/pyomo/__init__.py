"""The Pyomo backend (HiGHS through appsi): ``solve(model, options)`` and what it honours (``SUPPORTS``); the
translation lives in :mod:`cadrex.solvers.pyomo.translate`."""

from cadrex.solvers.pyomo.translate import SUPPORTS, build_pyomo, solve, solve_model

__all__ = ["SUPPORTS", "build_pyomo", "solve", "solve_model"]
