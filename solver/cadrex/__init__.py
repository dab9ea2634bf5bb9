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


__all__ = ["Case", "CaseError", "Status", "load_case", "solve", "__version__"]
