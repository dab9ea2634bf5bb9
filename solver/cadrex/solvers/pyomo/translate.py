"""Pyomo: the same model as a Pyomo ConcreteModel (linear expressions from the CSR rows), solved by HiGHS
through Pyomo's appsi interface. Honours time_limit, seed, num_workers (HiGHS ``threads``), gap (``mip_gap``), hint
(appsi warm start) and progress (HiGHS interrupt callbacks on the appsi solver's Highs instance); rejects
stop_bound."""

from __future__ import annotations

import logging
import time

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from cadrex.i18n import Msg
from cadrex.solvers.base import (
    BackendResult,
    SolveOptions,
    Status,
    Throttle,
    UnsupportedOption,
    silence_stdout,
)

log = logging.getLogger(__name__)


def build_pyomo(model) -> pyo.ConcreteModel:
    """A Pyomo model equal to ``model``: maximize obj·x + offset subject to the CSR rows."""
    m = pyo.ConcreteModel()
    n = model.n_vars
    idx = range(n)
    integer = model.integer.astype(bool)
    m.x = pyo.Var(idx, domain=lambda _m, i: pyo.Binary if integer[i] else pyo.NonNegativeReals,
                  bounds=lambda _m, i: (float(model.lb[i]), float(model.ub[i])))
    xs = [m.x[i] for i in idx]
    A = model.A
    indptr, indices, data = A.indptr, A.indices, A.data.tolist()
    lo = [None if not np.isfinite(v) else float(v) for v in model.row_lo]
    hi = [None if not np.isfinite(v) else float(v) for v in model.row_hi]

    def row(_m, r):
        s, e = indptr[r], indptr[r + 1]
        expr = LinearExpression(constant=0.0, linear_coefs=data[s:e], linear_vars=[xs[j] for j in indices[s:e]])
        return (lo[r], expr, hi[r])

    m.rows = pyo.Constraint(range(model.n_rows), rule=row)
    nz = np.flatnonzero(model.obj)
    m.obj = pyo.Objective(expr=LinearExpression(constant=float(model.offset), linear_coefs=model.obj[nz].tolist(),
                                                linear_vars=[xs[j] for j in nz]), sense=pyo.maximize)
    return m


#: options of :class:`SolveOptions` this backend honours
SUPPORTS = frozenset({"time_limit", "seed", "num_workers", "gap", "hint", "progress"})


def solve_model(model, time_limit: float = 60.0, seed: int = 0, num_workers: int | None = None,
                hint: np.ndarray | None = None, progress=None, gap: float = 0.0) -> BackendResult:
    """Keyword form of :func:`solve`."""
    return solve(model, SolveOptions(time_limit=time_limit, seed=seed, num_workers=num_workers, hint=hint,
                                     progress=progress, gap=gap))


def _subscribe_progress(opt, report: Throttle) -> None:
    """Report elapsed, incumbent and bound from the HiGHS instance appsi drives (its callbacks, as in the highs
    backend). Rejected, not ignored, if this appsi version does not expose it."""
    h = getattr(opt, "_solver_model", None)
    if h is None or not hasattr(h, "cbMipInterrupt"):
        raise UnsupportedOption("progress", Msg("option.by_pyomo_progress"))

    def on_event(e):
        try:
            report(e.data_out.mip_primal_bound, e.data_out.mip_dual_bound)
        except AttributeError:
            pass

    h.cbMipInterrupt.subscribe(on_event)
    h.cbMipImprovingSolution.subscribe(on_event)


def solve(model, options: SolveOptions) -> BackendResult:
    """Build the Pyomo model and solve it with HiGHS (appsi)."""
    o = options
    time_limit, seed = o.time_limit, o.seed
    report = Throttle(o.progress)
    t0 = time.perf_counter()
    m = build_pyomo(model)
    if o.hint is not None:  # appsi passes the variable values to HiGHS as a MIP start
        for i in range(model.n_vars):
            m.x[i].value = float(o.hint[i])
    import contextlib

    import pyomo.contrib.appsi.solvers.highs as appsi_highs

    # Pyomo wraps every HiGHS solve in capture_output(capture_fd=True), a tee thread over fd 1 that was seen to
    # deadlock on a full pipe under pytest (pyomo 6.10.1). We never stream solver output, so capture nothing.
    appsi_highs.capture_output = lambda *a, **k: contextlib.nullcontext()
    opt = appsi_highs.Highs()
    opt.config.time_limit = float(max(0.1, time_limit - (time.perf_counter() - t0)))
    opt.config.mip_gap = float(o.gap)
    opt.config.stream_solver = False
    opt.config.load_solution = False
    opt.config.warmstart = o.hint is not None
    opt.highs_options = {"random_seed": int(seed), "mip_abs_gap": 0.5, "output_flag": False, "log_to_console": False}
    if o.num_workers is not None:
        opt.highs_options["threads"] = int(o.num_workers)
    with silence_stdout():
        if o.progress is not None:
            opt.set_instance(m)
            _subscribe_progress(opt, report)
        res = opt.solve(m)
    rt = time.perf_counter() - t0
    tc = str(res.termination_condition)
    x = None
    if res.best_feasible_objective is not None:
        res.solution_loader.load_vars()
        x = np.array([pyo.value(m.x[i]) for i in range(model.n_vars)], dtype=float)
    if "optimal" in tc.lower():
        status = Status.OPTIMAL
    elif "infeasible" in tc.lower():
        status = Status.INFEASIBLE
    else:
        status = Status.FEASIBLE if x is not None else Status.NO_SOLUTION
    bound = res.best_objective_bound
    bound = float(bound) if bound is not None and np.isfinite(bound) else None
    if x is not None:
        report(res.best_feasible_objective, bound, force=report.last < 0)  # at least once when a plan is found
    log.info("pyomo: %s in %.2fs, objective %s, bound %s", tc, rt, res.best_feasible_objective, bound)
    return BackendResult(status=status, x=x, objective=model.objective_of(np.round(x)) if x is not None else None,
                         bound=bound, runtime=rt, message=tc)
