"""HiGHS through highspy: the model passed in bulk (CSR), a wall-clock guard, incumbents kept."""

from __future__ import annotations

import logging
import time

import highspy
import numpy as np

from cadrex.backends.base import BackendResult, silence_stdout

log = logging.getLogger(__name__)


def solve_model(model, time_limit: float = 60.0, seed: int = 0, num_workers: int | None = None,
                hint: np.ndarray | None = None, progress=None, gap: float = 0.0) -> BackendResult:
    """Solve ``model`` with HiGHS MIP; stop at ``time_limit`` seconds of wall clock whatever the phase."""
    t0 = time.perf_counter()
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("time_limit", float(max(0.1, time_limit)))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("mip_abs_gap", 0.5)  # integer objective: a gap below 1 proves optimality
    if num_workers:
        h.setOptionValue("threads", int(num_workers))
    A = model.A
    inf = highspy.kHighsInf
    lo = np.where(np.isinf(model.row_lo), -inf, model.row_lo)
    hi = np.where(np.isinf(model.row_hi), inf, model.row_hi)
    h.passModel(model.n_vars, model.n_rows, int(A.nnz), int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMaximize),
                float(model.offset), model.obj.astype(np.float64), model.lb.astype(np.float64), model.ub.astype(np.float64),
                lo.astype(np.float64), hi.astype(np.float64), A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32),
                A.data.astype(np.float64), model.integer.astype(np.int32))
    best = {"x": None, "obj": -np.inf, "bound": np.inf, "last": 0.0}
    deadline = t0 + time_limit

    def on_improve(e):
        v = e.data_out.objective_function_value
        if v > best["obj"]:
            best["obj"] = v
            best["x"] = np.array(e.data_out.mip_solution, dtype=float)

    def on_interrupt(e):
        now = time.perf_counter()
        try:
            b = e.data_out.mip_dual_bound
            if np.isfinite(b):
                best["bound"] = min(best["bound"], b)
        except AttributeError:
            pass
        if progress is not None and now - best["last"] >= 5.0:
            best["last"] = now
            progress(now - t0, best["obj"], best["bound"])
        if now > deadline:
            e.interrupt()

    h.cbMipImprovingSolution.subscribe(on_improve)
    for cbname in ("cbMipInterrupt", "cbSimplexInterrupt", "cbIpmInterrupt"):
        getattr(h, cbname).subscribe(on_interrupt)
    if hint is not None:
        h.setSolution(_sol(hint))
    h.run()
    info = h.getInfo()
    ms = h.getModelStatus()
    rt = time.perf_counter() - t0
    sol = h.getSolution()
    x = None
    if info.primal_solution_status == 2 and sol.value_valid:
        x = np.array(sol.col_value, dtype=float)
    elif best["x"] is not None:
        x = best["x"]
    bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else (best["bound"] if np.isfinite(best["bound"]) else None)
    if ms == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif ms == highspy.HighsModelStatus.kInfeasible:
        status = "infeasible"
    else:
        status = "feasible" if x is not None else "no_solution"
    obj = model.objective_of(np.round(x)) if x is not None else None
    log.info("highs: %s in %.2fs, objective %s, bound %s", h.modelStatusToString(ms), rt, obj, bound)
    return BackendResult(status=status, x=x, objective=obj, bound=bound, runtime=rt, message=h.modelStatusToString(ms))


def new_highs() -> highspy.Highs:
    """A silent Highs instance (its banner would otherwise go to stdout)."""
    with silence_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _sol(x: np.ndarray):
    s = highspy.HighsSolution()
    s.col_value = list(map(float, x))
    s.value_valid = True
    return s
