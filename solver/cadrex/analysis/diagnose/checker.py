"""Diagnosis, the feasibility oracle: the relaxable rule instances of a model (:func:`instances`) and
:class:`_Checker`, which answers "is the model infeasible with only these instances enforced?" (a HiGHS MIP with
objective zero) and finds the rows and columns of a Farkas ray of the LP relaxation."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadrex.model import Model

log = logging.getLogger("cadrex.analysis.diagnose")


@dataclass(frozen=True)
class Instance:
    """One relaxable rule instance: ``kind`` row-lo / row-hi / col-ub / col-lb on index ``idx`` of its model;
    ``key`` identifies it across models built on the same :class:`RowIndex` (row number, cadre and post of a pair,
    or auxiliary number)."""

    rule: str
    kind: str
    idx: int
    relaxed: float
    cadres: tuple = ()
    posts: tuple = ()
    teams: tuple = ()
    label: str = ""
    key: tuple = ()


def instances(model: Model, rows: np.ndarray | None = None) -> list[Instance]:
    """Every relaxable rule instance of ``model`` (only on ``rows``, a boolean mask, when given)."""
    ctx = model.ctx
    out: list[Instance] = []
    for r, (rule, ent) in enumerate(zip(model.row_rule, model.row_ent, strict=True)):
        if rows is not None and not rows[r]:
            continue
        if rule == "H1" or (rule == "H3" and model.row_lo[r] > 0):
            out.append(Instance(rule, "row-lo", r, -np.inf, *ent, label=model.row_label[r], key=("row-lo", r)))
        if rule == "H3":
            out.append(Instance(rule, "row-hi", r, np.inf, *ent, label=f"H3 {ctx.post_ids[ent[1][0]]} at most one holder",
                                key=("row-hi", r)))
        elif rule in ("H4", "H5", "H6", "H8", "max_changes"):  # max_changes: a re-plan's --max-changes row (SPEC §10)
            out.append(Instance(rule, "row-hi", r, np.inf, *ent, label=model.row_label[r], key=("row-hi", r)))
    n = model.n_pairs
    for j in np.flatnonzero(model.pair_block != ""):
        c, p = int(model.pair_c[j]), int(model.pair_p[j])
        out.append(Instance(str(model.pair_block[j]), "col-ub", int(j), 1.0, (c,), (p,), (int(ctx.p_team[p]),),
                            key=("col-ub", c, p)))
    for v, t, name, cap, nat in model.h6_caps:
        if rows is not None and not rows[model.A[:, v].nonzero()[0]].any():
            continue  # its rows are not in the model: the cap binds nothing
        out.append(Instance("H6", "col-ub", v, nat, (), (), (t,), label=f"{name} shortfall at most {cap:g} (today)",
                            key=("aux", v - n)))
    for j, c, p in model.h7_pins:
        if j >= 0:
            out.append(Instance("H7", "col-lb", j, 0.0, (c,), (p,), (int(ctx.p_team[p]),), key=("col-lb", c, p)))
    return out


class _Checker:
    """One model (objective zero) whose instance bounds are switched between enforced and relaxed; ``rows``: only
    these rows are passed (the others are dropped, a relaxation). Answers are True (infeasible, proven), False
    (feasible, proven) or None (not known: the step hit its time cap or the deadline)."""

    def __init__(self, model: Model, inst: list[Instance], rows: np.ndarray | None = None):
        self.model, self.inst = model, inst
        self.rows = np.arange(model.n_rows) if rows is None else np.flatnonzero(rows)
        pos = np.full(model.n_rows, -1, np.int64)
        pos[self.rows] = np.arange(len(self.rows))
        self.lo, self.hi = model.row_lo[self.rows].copy(), model.row_hi[self.rows].copy()
        self.lb, self.ub = model.lb.copy(), model.ub.copy()
        kind = np.array([i.kind for i in inst], dtype=object)
        idx = np.array([i.idx for i in inst], np.int64)
        self.k_lo, self.k_hi = np.flatnonzero(kind == "row-lo"), np.flatnonzero(kind == "row-hi")
        self.k_ub, self.k_lb = np.flatnonzero(kind == "col-ub"), np.flatnonzero(kind == "col-lb")
        self.r_lo, self.r_hi = pos[idx[self.k_lo]], pos[idx[self.k_hi]]
        self.c_ub, self.c_lb = idx[self.k_ub], idx[self.k_lb]
        self.ub_relaxed = np.array([inst[k].relaxed for k in self.k_ub], float)
        self.touched_rows = np.unique(np.concatenate([self.r_lo, self.r_hi])).astype(np.int32)
        self.touched_cols = np.unique(np.concatenate([self.c_ub, self.c_lb])).astype(np.int32)
        self.solves, self.unknown = 0, 0
        self._mip: Any = None
        self._pure: tuple | None = None
        self._lp: Any = None
        self._stop = 0.0

    def _highs(self, integer: bool):
        import highspy

        from cadrex.solvers.highs import new_highs, pass_model

        h = new_highs()
        pass_model(h, self.model, rows=self.rows, obj=np.zeros(self.model.n_vars), minimize=True, integer=integer)
        if integer:
            h.setOptionValue("mip_rel_gap", 1.0)
        else:  # a dual ray needs the dual simplex on the model as given
            h.setOptionValue("presolve", "off")
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("simplex_strategy", 1)

        def stop(e):
            if time.perf_counter() > self._stop:
                e.interrupt()

        for cb in ("cbMipInterrupt", "cbSimplexInterrupt", "cbIpmInterrupt"):
            getattr(h, cb).subscribe(stop)
        return h, highspy

    def _bounds(self, enforced: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        lo, hi, lb, ub = self.lo.copy(), self.hi.copy(), self.lb.copy(), self.ub.copy()
        lo[self.r_lo[~enforced[self.k_lo]]] = -np.inf  # relaxing only loosens, so two instances on one row or
        hi[self.r_hi[~enforced[self.k_hi]]] = np.inf  # column (an H7 pin on a stay that H4 blocks) combine
        rel = ~enforced[self.k_ub]
        ub[self.c_ub[rel]] = np.maximum(ub[self.c_ub[rel]], self.ub_relaxed[rel])
        lb[self.c_lb[~enforced[self.k_lb]]] = 0.0
        return lo, hi, lb, ub

    def _run(self, h, bounds: tuple, stop: float, hint: np.ndarray | None = None) -> None:
        lo, hi, lb, ub = bounds
        R, C = self.touched_rows, self.touched_cols
        if len(R):
            h.changeRowsBounds(len(R), R, lo[R], hi[R])
        if len(C):
            h.changeColsBounds(len(C), C, lb[C], ub[C])
        self._stop = stop
        # HiGHS measures an LP's time limit against the run time this instance accumulated over all its runs; the
        # interrupt callbacks stop every phase at the wall-clock ``stop`` in any case
        h.setOptionValue("time_limit", float(h.getRunTime() + max(0.01, stop - time.perf_counter())))
        h.clearSolver()
        if hint is not None:
            n = self.model.n_pairs
            h.setSolution(n, np.arange(n, dtype=np.int32), hint)
        h.run()
        self.solves += 1

    def _hint(self, bounds: tuple) -> np.ndarray | None:
        """The status quo with the enforced pins applied (pair values), when it meets every row without auxiliaries:
        HiGHS then only completes the auxiliaries, without presolve (measured: 0.2 s instead of 2 s at 300 in play,
        where presolve took most of the time)."""
        m = self.model
        lo, hi, lb, ub = bounds
        n = m.n_pairs
        x = (m.pair_stay & (ub[:n] >= 1)).astype(float)
        pinned = lb[:n] >= 1
        x[np.isin(m.pair_c, m.pair_c[pinned])] = 0.0
        x[pinned] = 1.0
        if self._pure is None:
            A = m.A[self.rows]
            self._pure = (np.diff(A[:, n:].tocsr().indptr) == 0, A[:, :n].tocsr())
        pure, Ap = self._pure
        act = Ap @ x
        ok = pure & ((act < lo - 1e-9) | (act > hi + 1e-9))
        return None if ok.any() else x

    def infeasible(self, enforced: np.ndarray, deadline: float, cap: float = np.inf) -> bool | None:
        """Is the model infeasible with only the ``enforced`` instances (boolean mask) enforced?"""
        now = time.perf_counter()
        stop = min(deadline, now + cap)
        if stop - now < 0.05:
            self.unknown += 1
            return None
        if self._mip is None:
            self._mip = self._highs(integer=True)
        h, hs = self._mip
        bounds = self._bounds(enforced)
        hint = self._hint(bounds)
        h.setOptionValue("presolve", "off" if hint is not None else "choose")
        self._run(h, bounds, stop, hint)
        st = h.getModelStatus()
        log.debug("diagnosis check: %d of %d enforced, hint %s -> %s in %.2fs", int(enforced.sum()), len(enforced),
                  hint is not None, h.modelStatusToString(st), time.perf_counter() - now)
        if st in (hs.HighsModelStatus.kInfeasible, hs.HighsModelStatus.kUnboundedOrInfeasible):
            return True
        if st == hs.HighsModelStatus.kOptimal or h.getInfo().primal_solution_status == 2:
            return False
        self.unknown += 1
        return None

    def ray(self, enforced: np.ndarray, deadline: float) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows and columns a Farkas ray of the LP relaxation uses (model indices), or None (LP feasible, no
        ray, or out of time)."""
        if deadline - time.perf_counter() < 0.05:
            return None
        if self._lp is None:
            self._lp = self._highs(integer=False)
            if deadline - time.perf_counter() < 0.05:
                return None
        h, hs = self._lp
        t0 = time.perf_counter()
        self._run(h, self._bounds(enforced), deadline)
        log.debug("diagnosis ray: %d of %d enforced -> %s in %.2fs", int(enforced.sum()), len(enforced),
                  h.modelStatusToString(h.getModelStatus()), time.perf_counter() - t0)
        if h.getModelStatus() != hs.HighsModelStatus.kInfeasible:
            return None
        st, has, y = h.getDualRay()
        if not has:
            return None
        y = np.asarray(y, float)
        tol = 1e-9 * max(1.0, float(np.abs(y).max(initial=0.0)))
        rows = np.flatnonzero(np.abs(y) > tol)
        g = self.model.A[self.rows[rows]].T @ y[rows]
        cols = np.flatnonzero(np.abs(g) > tol)
        return self.rows[rows], cols

    def named(self, support: tuple[np.ndarray, np.ndarray], among: np.ndarray) -> np.ndarray:
        """The instances (of ``among``) on the rows and columns of a ray's support, as a mask."""
        rows, cols = support
        on_row = np.zeros(self.model.n_rows, bool)
        on_row[rows] = True
        on_col = np.zeros(self.model.n_vars, bool)
        on_col[cols] = True
        m = np.zeros(len(self.inst), bool)
        for k, i in enumerate(self.inst):
            m[k] = on_row[i.idx] if i.kind.startswith("row") else on_col[i.idx]
        return m & among


def _mask(n: int, ks) -> np.ndarray:
    m = np.zeros(n, bool)
    m[list(ks)] = True
    return m
