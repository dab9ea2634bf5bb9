"""HiGHS through highspy: the model passed in bulk (CSR), a wall-clock guard, incumbents kept. Honours every
option of :class:`~cadrex.solvers.base.SolveOptions`; :func:`solve_model` (keywords, plus HiGHS-only ``guard`` and
``options``) is kept for internal callers (column generation, diagnosis, explain)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time

import highspy
import numpy as np

from cadrex.solvers.base import OPTIONS, BackendResult, SolveOptions, give_back_memory, silence_stdout

log = logging.getLogger(__name__)


#: models with at least this many variables are solved in a child process that is killed at the deadline
GUARD_ABOVE = 150_000
#: the same for a full model solved through the backend contract (:func:`solve`), whose time limit is the user's: a
#: newcomer's 125,604-variable full model (500 in play, `preferences`) ran 276 s of a 120 s limit in process on a
#: loaded machine, while the sub-MIPs of column generation below GUARD_ABOVE end far inside their caps
FULL_GUARD_ABOVE = 100_000

#: the message of a MIP stopped by ``stop_near`` (:func:`solve_model`)
STOPPED_NEAR = "stopped near the outer bound"
#: the message of a MIP stopped by ``stop_plan`` (:func:`solve_model`)
STOPPED_AT_PLAN = "stopped at a plan the outer bound certifies"

#: the message of a MIP stopped by its node limit (HiGHS's ``mip_max_nodes``: a work cap, the same on every machine)
STOPPED_AT_NODES = "stopped at its node limit"

#: options of :class:`SolveOptions` this backend honours: all of them
SUPPORTS = OPTIONS


def solve(model, options: SolveOptions) -> BackendResult:
    """The backend contract: ``model`` solved under ``options``."""
    o = options
    progress = None
    if o.progress is not None:
        def progress(elapsed, obj, bound):
            o.progress(elapsed, obj if obj is not None and np.isfinite(obj) else None,
                       bound if bound is not None and np.isfinite(bound) else None)
    return solve_model(model, time_limit=o.time_limit, seed=o.seed, num_workers=o.num_workers, hint=o.hint,
                       progress=progress, gap=o.gap, stop_bound=o.stop_bound, guard_above=FULL_GUARD_ABOVE)


def solve_model(model, time_limit: float = 60.0, seed: int = 0, num_workers: int | None = None,
                hint: np.ndarray | None = None, progress=None, gap: float = 0.0, guard: bool | None = None,
                stop_bound: float | None = None, options: dict | None = None, guard_size: int | None = None,
                quiet: bool = False, guard_above: int | None = None, stop_near: tuple | None = None,
                stop_plan: float | None = None) -> BackendResult:
    """Solve ``model`` with HiGHS MIP and stop at ``time_limit`` seconds of wall clock whatever the phase, or as soon
    as the dual bound is at most ``stop_bound`` (the caller's certificate needs no more). ``stop_near``:
    ``(outer, share, below)``, a restricted MIP whose caller judges its plan against a larger model's bound ``outer``
    stops once its own bound is at most ``below`` and its plan is within ``share`` of the distance from that bound to
    ``outer`` (the message then says :data:`STOPPED_NEAR`). ``stop_plan``: stop once a plan is worth at least this (a
    caller's outer bound certifies such a plan at its gap goal; the message then says :data:`STOPPED_AT_PLAN`).
    ``options``: extra HiGHS options (e.g. ``{"presolve": "off"}``). ``quiet``: the closing "highs: …" line at debug
    level (a sub-MIP whose caller logs its own line).

    HiGHS checks its own time limit and our interrupt callbacks in most phases, but was measured overrunning a
    600 s limit by 430 s on a 500k-variable model. Large models therefore run in a spawned child process that
    streams every improving plan and the bound back; at the deadline (plus a small grace) the child is killed and
    the best plan received is returned (status feasible), or none (no_solution). In a daemonic process (a Dask
    worker) no child may be started: the solve runs in process there, stopped by the interrupt callbacks.
    ``guard_size``: decide by this many variables instead of the model's (a MIP reduced from a larger one);
    ``guard_above``: from how many (default :data:`GUARD_ABOVE`)."""
    if guard is None:  # a daemonic process (a Dask worker of batch or robustness) may not start a child
        import multiprocessing

        size = model.n_vars if guard_size is None else guard_size
        guard = size >= (GUARD_ABOVE if guard_above is None else guard_above) and not multiprocessing.current_process().daemon
    if guard:
        return _solve_guarded(model, time_limit, seed, num_workers, hint, progress, gap, stop_bound, options, stop_near,
                              stop_plan)
    return _solve_inprocess(model, time_limit, seed, num_workers, hint, progress, gap, stop_bound=stop_bound, options=options,
                            quiet=quiet, stop_near=stop_near, stop_plan=stop_plan)


class _Lp:
    """The arrays of a model a HiGHS solve needs (picklable, for the guarded child)."""

    def __init__(self, model):
        for k in ("A", "obj", "lb", "ub", "row_lo", "row_hi", "integer", "offset", "n_vars", "n_rows"):
            setattr(self, k, getattr(model, k))

    def objective_of(self, x: np.ndarray) -> float:
        return float(self.obj @ x + self.offset)


def _child(lp: _Lp, args: dict, q) -> None:
    n = lp.n_vars

    def on_inc(obj: float, x: np.ndarray) -> None:
        q.put(("inc", float(obj), np.round(x).astype(np.int8) if n else x))

    def on_prog(elapsed, obj, bound):
        q.put(("prog", elapsed, obj, bound))

    # the limit counts from the parent's call, not from here: starting the child (spawn, imports, the model's
    # transfer) takes seconds that are part of the caller's time limit (measured: 5 s over a 60 s solve)
    args["time_limit"] = max(0.1, args.pop("wall_deadline") - time.time())
    # a parent killed (SIGKILL, or SIGTERM to it alone) would leave the daemonic child running to its time limit on
    # both cores: a watchdog ends the child once its parent is gone, in any phase (HiGHS's, or a write to the queue
    # no one reads); the parent's pid comes from the parent, so a death during the child's start counts too
    if (parent := args.pop("parent", None)) is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    r = _solve_inprocess(lp, on_incumbent=on_inc, progress=on_prog, **args)
    q.put(("done", r.status, None if r.x is None else r.x, r.objective, r.bound, r.message, r.log))


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)  # no cleanup: no one is left to read a result


@contextlib.contextmanager
def _main_hidden():
    """While a spawned child starts: hide the caller's ``__main__`` file and spec, so that the child does not import
    the caller's script (a script without ``if __name__ == "__main__":`` would start the solve again in the child,
    which then dies and leaves this process blocked). The child needs cadrex only."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            if "__spec__" in main.__dict__:
                main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)


def _solve_guarded(model, time_limit, seed, num_workers, hint, progress, gap, stop_bound=None, options=None,
                   stop_near=None, stop_plan=None) -> BackendResult:
    import multiprocessing as mp
    import queue

    t0 = time.perf_counter()
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    args = {"wall_deadline": time.time() + time_limit, "seed": seed, "num_workers": num_workers, "hint": hint, "gap": gap,
            "stop_bound": stop_bound, "options": options, "stop_near": stop_near, "stop_plan": stop_plan,
            "parent": os.getpid()}
    p = ctx.Process(target=_child, args=(_Lp(model), args, q), daemon=True)
    give_back_memory()  # the child holds a copy of the model: this process should hold only what it uses
    with _main_hidden():
        p.start()
    deadline = t0 + time_limit + max(1.5, 0.01 * time_limit)  # the child stops itself at the limit: a short grace
    best_x, best_obj, bound, done = None, -np.inf, None, None
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        try:
            msg = q.get(timeout=min(1.0, left))
        except queue.Empty:
            if not p.is_alive():
                break
            continue
        if msg[0] == "inc" and msg[1] > best_obj:
            best_obj, best_x = msg[1], msg[2].astype(float)
        elif msg[0] == "prog":
            if msg[3] is not None and np.isfinite(msg[3]):
                bound = msg[3] if bound is None else min(bound, msg[3])
            if progress is not None:
                progress(*msg[1:])
        elif msg[0] == "done":
            done = msg
            break
    killed = done is None and p.is_alive()
    if killed:
        p.kill()
    p.join(timeout=10)
    rt = time.perf_counter() - t0
    if done is not None:
        _, status, x, obj, b, message, lines = done
        return BackendResult(status=status, x=x, objective=obj, bound=b, runtime=rt, message=message, log=lines)
    log.warning("highs: still running at the wall-clock deadline (%.0fs): stopped; best plan received kept", rt)
    if best_x is None:
        return BackendResult("no_solution", None, None, bound, rt, message="stopped at the wall-clock deadline")
    return BackendResult("feasible", best_x, model.objective_of(best_x), bound, rt, message="stopped at the wall-clock deadline")


def _solve_inprocess(model, time_limit: float = 60.0, seed: int = 0, num_workers: int | None = None,
                     hint: np.ndarray | None = None, progress=None, gap: float = 0.0, on_incumbent=None,
                     stop_bound: float | None = None, options: dict | None = None, quiet: bool = False,
                     stop_near: tuple | None = None, stop_plan: float | None = None) -> BackendResult:
    t0 = time.perf_counter()
    h = new_highs()
    h.setOptionValue("output_flag", bool(os.environ.get("CADREX_HIGHS_LOG")))  # HiGHS's own log, for diagnosis
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("time_limit", float(max(0.1, time_limit)))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("mip_abs_gap", 0.5)  # integer objective: a gap below 1 proves optimality
    if num_workers:
        h.setOptionValue("threads", int(num_workers))
    for k, v in (options or {}).items():
        if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:  # e.g. an option another HiGHS renamed: said, not hidden
            log.warning("highs: option %s = %r not accepted: the solve runs without it", k, v)
    pass_model(h, model)
    # "mip": the callbacks' dual bound is this model's. A start plan HiGHS finds infeasible or fractional is first
    # completed by a MIP of HiGHS's own, whose callbacks report *that* MIP's bound (measured: 21,891 where the model's
    # optimum is 21,904); its bound counts only once the model's own MIP has started (its clock restarts).
    # "rt", "b": the last callback's MIP clock and bound
    best = {"x": None, "obj": -np.inf, "bound": np.inf, "last": 0.0, "mip": hint is None or _feasible(model, hint),
            "rt": np.inf, "b": np.inf, "near": False, "at_plan": False}
    deadline = t0 + time_limit

    def on_improve(e):
        v = e.data_out.objective_function_value
        if v > best["obj"]:
            best["obj"] = v
            best["x"] = np.array(e.data_out.mip_solution, dtype=float)
            if on_incumbent is not None:
                on_incumbent(v, best["x"])

    def on_interrupt(e):
        now = time.perf_counter()
        try:
            b, rt = e.data_out.mip_dual_bound, e.data_out.running_time
            if not best["mip"] and 0 <= rt and (rt < best["rt"] - 1e-9 or (np.isfinite(best["b"]) and not np.isfinite(b))):
                best["mip"] = best["rt"] < np.inf  # a MIP solver started after the first one: the model's own
            if rt >= 0:
                best["rt"], best["b"] = rt, b
            if best["mip"] and np.isfinite(b):
                best["bound"] = min(best["bound"], b)
        except AttributeError:
            pass
        if progress is not None and now - best["last"] >= 5.0:
            best["last"] = now
            progress(now - t0, best["obj"], best["bound"])
        if now > deadline or (stop_bound is not None and best["bound"] <= stop_bound + 1e-6):
            e.interrupt()
        elif stop_near is not None and _near(best["obj"], best["bound"], *stop_near):
            best["near"] = True
            e.interrupt()
        elif stop_plan is not None and best["mip"] and best["obj"] >= stop_plan - 1e-6:
            best["at_plan"] = True
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
    nodes = max(0, int(info.mip_node_count))  # how far the search went (a dive's node cap: cg/dive.py)
    log.log(logging.DEBUG if quiet else logging.INFO, "highs: %s in %.2fs, objective %s, bound %s, %d nodes",
            h.modelStatusToString(ms), rt, obj, None if bound is None else round(float(bound), 2), nodes)
    message = h.modelStatusToString(ms)
    if status == "feasible" and (best["near"] or best["at_plan"]):
        message = STOPPED_NEAR if best["near"] else STOPPED_AT_PLAN
    elif ms == highspy.HighsModelStatus.kSolutionLimit and nodes >= (options or {}).get("mip_max_nodes", np.inf):
        message = STOPPED_AT_NODES
    return BackendResult(status=status, x=x, objective=obj, bound=bound, runtime=rt, message=message,
                         log=[f"{nodes} nodes"])


def _near(obj: float, bound: float, outer: float, share: float, below: float) -> bool:
    """A plan ``obj`` is within ``share`` of the distance from the MIP's ``bound`` (at most ``below``) to ``outer``."""
    return bool(np.isfinite(obj) and np.isfinite(bound) and bound <= below and bound - obj <= share * (outer - bound))


def pass_model(h: highspy.Highs, model, *, rows: np.ndarray | None = None, obj: np.ndarray | None = None,
               ub: np.ndarray | None = None, integer: bool = True, minimize: bool = False) -> None:
    """Load ``model`` (a :class:`~cadrex.model.Model` or anything with its arrays) into ``h`` in one call: CSR
    rows, infinite sides as ±inf (``kHighsInf`` is inf). ``rows``: only these rows; ``obj``/``ub``: replacements;
    ``integer=False``: the LP relaxation; ``minimize``: for a zero-objective feasibility model."""
    A = model.A if rows is None else model.A[rows]
    lo = model.row_lo if rows is None else model.row_lo[rows]
    hi = model.row_hi if rows is None else model.row_hi[rows]
    f64 = np.float64
    h.passModel(model.n_vars, A.shape[0], int(A.nnz), int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize if minimize else highspy.ObjSense.kMaximize),
                float(model.offset) if obj is None else 0.0,  # a replaced objective has no offset
                (model.obj if obj is None else obj).astype(f64), model.lb.astype(f64), (model.ub if ub is None else ub).astype(f64),
                lo.astype(f64), hi.astype(f64), A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data.astype(f64),
                (model.integer if integer else np.zeros(model.n_vars)).astype(np.int32))


def _feasible(model, x: np.ndarray, tol: float = 1e-7) -> bool:
    """``x`` satisfies the bounds, rows and integrality of ``model`` within ``tol`` (tighter than the 1e-6 HiGHS checks a
    start with: HiGHS then takes it as it is, with no completion MIP of its own)."""
    x = np.asarray(x, float)
    if len(x) != model.n_vars or np.any(x < model.lb - tol) or np.any(x > model.ub + tol):
        return False
    k = np.asarray(model.integer, bool)
    if np.any(np.abs(x[k] - np.round(x[k])) > tol):
        return False
    act = model.A @ x
    return bool(np.all(act >= model.row_lo - tol) and np.all(act <= model.row_hi + tol))


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
