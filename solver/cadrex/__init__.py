"""cadrex — exact planning of cross-province exchanges of leading cadres (厅局级干部跨省交流).

Public API::

    case = cadrex.load_case("data/sample")
    result = cadrex.solve(case, backend="highs", time_limit=60, seed=0)
    result.write("out/")
"""

from __future__ import annotations

from cadrex.io import Case, CaseError, load_case  # noqa: E402
from cadrex.solvers.base import Status  # noqa: E402
from cadrex.version import __version__  # noqa: E402


def solve(case, policy=None, backend=None, time_limit=None, seed=None, **kwargs):
    """Solve a case and return a :class:`cadrex.reports.result.Result` (see :func:`cadrex.jobs.solve.solve`)."""
    from cadrex.jobs.solve import solve as _solve

    return _solve(case, policy=policy, backend=backend, time_limit=time_limit, seed=seed, **kwargs)


def replan(case, baseline, events, policy=None, **kwargs):
    """Re-plan ``case`` after ``events`` with the fewest changes worth making to ``baseline`` (SPEC §10); see
    :func:`cadrex.jobs.replan.replan`."""
    from cadrex.jobs.replan import replan as _replan

    return _replan(case, baseline, events, policy=policy, **kwargs)


def horizon(case, years, policy=None, **kwargs):
    """Plan ``years`` rounds together (SPEC §12), with the myopic reference; see :func:`cadrex.jobs.horizon.horizon`."""
    from cadrex.jobs.horizon import horizon as _horizon

    return _horizon(case, years, policy=policy, **kwargs)


def robustness(case, plan_dir, **kwargs):
    """How much of the plan in ``plan_dir`` survives declines (SPEC §11); see :func:`cadrex.jobs.robustness.robustness`."""
    from cadrex.jobs.robustness import robustness as _robustness

    return _robustness(case, plan_dir, **kwargs)


__all__ = ["Case", "CaseError", "Status", "horizon", "load_case", "replan", "robustness", "solve", "__version__"]
