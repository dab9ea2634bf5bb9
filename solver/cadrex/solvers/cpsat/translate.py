"""OR-Tools CP-SAT: the same model with integer auxiliaries; deterministic with a seed and fixed workers. Honours
time_limit, seed, num_workers, gap (``relative_gap_limit``), hint (solution hint) and progress (a solution
callback: elapsed, objective, bound at each improving plan, at most every 5 s); rejects stop_bound."""

from __future__ import annotations

import logging
import time

import numpy as np
from ortools.sat.python import cp_model

from cadrex.solvers.base import BackendResult, SolveOptions, Status, Throttle

log = logging.getLogger(__name__)

#: CP-SAT workers unless ``num_workers`` is given: fixed, whatever the machine, so that a seed fixes the plan
DEFAULT_WORKERS = 1

#: options of :class:`SolveOptions` this backend honours
SUPPORTS = frozenset({"time_limit", "seed", "num_workers", "gap", "hint", "progress"})


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each improving plan: objective and the bound at that moment (throttled)."""

    def __init__(self, report: Throttle):
        super().__init__()
        self.report = report

    def on_solution_callback(self) -> None:
        self.report(self.objective_value, self.best_objective_bound)


def solve_model(model, time_limit: float = 60.0, seed: int = 0, num_workers: int | None = None,
                hint: np.ndarray | None = None, progress=None, gap: float = 0.0) -> BackendResult:
    """Keyword form of :func:`solve`."""
    return solve(model, SolveOptions(time_limit=time_limit, seed=seed, num_workers=num_workers, hint=hint,
                                     progress=progress, gap=gap))


def solve(model, options: SolveOptions) -> BackendResult:
    """Solve ``model`` with CP-SAT (all coefficients are integers; auxiliaries become integer variables)."""
    o = options
    time_limit, seed, num_workers, hint = o.time_limit, o.seed, o.num_workers, o.hint
    report = Throttle(o.progress)
    t0 = time.perf_counter()
    m = cp_model.CpModel()
    n = model.n_vars
    lb = np.ceil(model.lb - 1e-9).astype(np.int64)
    ub = np.floor(model.ub + 1e-9).astype(np.int64)
    xs = [m.new_int_var(int(lb[i]), int(ub[i]), f"x{i}") for i in range(n)]
    A = model.A
    indptr, indices = A.indptr, A.indices
    data = np.round(A.data).astype(np.int64)
    lo, hi = model.row_lo, model.row_hi
    for r in range(model.n_rows):
        s, e = indptr[r], indptr[r + 1]
        expr = cp_model.LinearExpr.weighted_sum([xs[j] for j in indices[s:e]], data[s:e].tolist())
        lo_r = int(np.ceil(lo[r] - 1e-9)) if np.isfinite(lo[r]) else cp_model.INT_MIN
        hi_r = int(np.floor(hi[r] + 1e-9)) if np.isfinite(hi[r]) else cp_model.INT_MAX
        m.add_linear_constraint(expr, lo_r, hi_r)
    obj = np.round(model.obj).astype(np.int64)
    nz = np.flatnonzero(obj)
    m.maximize(cp_model.LinearExpr.weighted_sum([xs[j] for j in nz], obj[nz].tolist()) + int(round(model.offset)))
    if hint is not None:
        for j in range(n):
            m.add_hint(xs[j], int(round(hint[j])))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(max(0.1, time_limit - (time.perf_counter() - t0)))
    solver.parameters.random_seed = int(seed)
    # One worker by default, on every machine: CP-SAT's multi-worker portfolio is not deterministic, and SPEC §8
    # promises byte-identical CSVs for the same seed. One worker with linearization level 2 proved the 300-in-play
    # benchmark in 16 s where 2 workers stalled at 29 %. More workers only when asked (``num_workers``), and then
    # the plan may differ from run to run among equal optima (docs/guide.md).
    solver.parameters.num_workers = DEFAULT_WORKERS if num_workers is None else int(num_workers)
    if solver.parameters.num_workers > 1:
        log.info("cpsat: %d workers: the search is not deterministic (ties among optima may differ between runs)",
                 solver.parameters.num_workers)
    solver.parameters.linearization_level = 2  # assignment structure: the LP relaxation is tight
    if o.gap > 0:
        solver.parameters.relative_gap_limit = float(o.gap)
    st = solver.solve(m, _Progress(report)) if o.progress is not None else solver.solve(m)
    rt = time.perf_counter() - t0
    x = None
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        x = np.array([solver.value(v) for v in xs], dtype=float)
    status = {cp_model.OPTIMAL: Status.OPTIMAL, cp_model.FEASIBLE: Status.FEASIBLE,
              cp_model.INFEASIBLE: Status.INFEASIBLE}.get(st, Status.NO_SOLUTION)
    bound = solver.best_objective_bound if x is not None or st == cp_model.UNKNOWN else None
    if x is not None:
        report(solver.objective_value, bound, force=report.last < 0)  # at least once when a plan is found
    log.info("cpsat: %s in %.2fs, objective %s, bound %s", solver.status_name(st), rt,
             solver.objective_value if x is not None else None, bound)
    return BackendResult(status=status, x=x, objective=model.objective_of(x) if x is not None else None,
                         bound=bound, runtime=rt, message=solver.status_name(st))
