"""National scale: price-and-branch over the pair set, with a bound valid for the full model.

1. Restricted master: every stay option, the best pairs of each cadre and of each post by objective coefficient,
   pinned pairs. 2. Column generation: solve the LP relaxation (HiGHS simplex, warm-started), price every eligible
   pair with the row duals in numpy chunks (``pair_columns`` builds the columns, the same code as the full model),
   add the best pairs with positive reduced cost, repeat. With duals y, the Lagrangian bound
   ``z_LP(R) + Σ_{j∉R} max(0, rc_j)`` is valid for the full model's LP relaxation and hence for the MIP; at
   convergence it equals the full LP optimum. 3. The MIP over the final pair set (HiGHS), then pairs whose reduced
   cost is within the gap are added and the MIP is solved again. ``best_bound`` is the best Lagrangian bound, floored.
"""

from __future__ import annotations

import logging
import time

import highspy
import numpy as np
import scipy.sparse as sp

from cadrex.backends.base import BackendResult
from cadrex.backends.highs import new_highs
from cadrex.backends.highs import solve_model as solve_mip
from cadrex.rules.context import Context
from cadrex.rules.model import Model, Pairs, all_pairs, assemble, build_rows, pair_columns, pair_objective, summarize

log = logging.getLogger(__name__)


def _top_per_group(group: np.ndarray, value: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``value`` within each ``group``."""
    order = np.lexsort((-value, group))
    g = group[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    rank = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    return order[rank < k]


class ColumnGeneration:
    """State of a price-and-branch solve of one context."""

    def __init__(self, ctx: Context, k_init: int = 12, add_per_cadre: int = 6, chunk: int = 1_000_000):
        t0 = time.perf_counter()
        self.ctx = ctx
        self.pairs = all_pairs(ctx)
        n = len(self.pairs)
        self.obj = np.empty(n)
        self.score = np.empty(n, np.int64)
        for s in range(0, n, chunk):  # objective coefficients in chunks (the unweighted terms are not kept)
            sl = slice(s, s + chunk)
            _, sc, ob = pair_objective(ctx, self.pairs.take(np.arange(s, min(n, s + chunk))))
            self.obj[sl], self.score[sl] = ob, sc
        self.rows = build_rows(ctx, summarize(ctx, self.pairs))
        self.chunk, self.add_per_cadre = chunk, add_per_cadre
        ok = self.pairs.block == ""
        keep = np.zeros(n, bool)
        keep[self.pairs.stay] = True  # every stay option, blocked ones too (the diagnosis relies on them)
        cand = np.flatnonzero(ok)
        keep[cand[_top_per_group(self.pairs.c[cand], self.obj[cand], k_init)]] = True
        keep[cand[_top_per_group(self.pairs.p[cand], self.obj[cand], k_init)]] = True
        pk = self.pairs.c.astype(np.int64) * ctx.n_post + self.pairs.p
        keep[np.isin(pk, ctx.pin_c[ctx.pin_require].astype(np.int64) * ctx.n_post + ctx.pin_p[ctx.pin_require])] = True
        self.in_R = keep
        self.timings = {"setup": time.perf_counter() - t0}
        self.rounds: list[dict] = []
        log.info("column generation: %d eligible pairs, %d in the first master (%.2fs)", n, int(keep.sum()), self.timings["setup"])

    def model(self, idx: np.ndarray | None = None) -> Model:
        idx = np.flatnonzero(self.in_R) if idx is None else idx
        sub = self.pairs.take(idx)
        terms, score, obj = pair_objective(self.ctx, sub)
        m = assemble(self.ctx, self.rows, sub, terms, score, obj)
        m.pair_index = idx
        return m

    def price(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        """Reduced costs of all pairs (c − Aᵀy) and Σ over pairs outside the master of max(0, rc)."""
        n = len(self.pairs)
        rc = np.empty(n)
        for s in range(0, n, self.chunk):
            idx = np.arange(s, min(n, s + self.chunk))
            r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(idx))
            aty = np.bincount(c, weights=v * y[r], minlength=len(idx))
            rc[idx] = self.obj[idx] - aty
        rc[self.pairs.block != ""] = -np.inf  # fixed at 0
        extra = float(np.maximum(0.0, rc[~self.in_R]).sum())
        return rc, extra

    def solve_lp(self, deadline: float) -> tuple[float, float, np.ndarray]:
        """Column generation on the LP relaxation; returns (restricted LP value, best valid bound, last rc)."""
        m = self.model()
        h = new_highs()
        A = m.A.tocsc()
        inf = highspy.kHighsInf
        lo = np.where(np.isinf(m.row_lo), -inf, m.row_lo)
        hi = np.where(np.isinf(m.row_hi), inf, m.row_hi)
        h.passModel(m.n_vars, m.n_rows, int(A.nnz), int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMaximize), 0.0,
                    m.obj, m.lb, m.ub, lo, hi, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data, np.zeros(m.n_vars, np.int32))
        h.setOptionValue("solver", "simplex")
        cols = list(np.flatnonzero(self.in_R))  # LP column k <-> pair cols[k] for k < n_pairs in the master
        best_bound = np.inf
        rc = np.zeros(len(self.pairs))
        z = -np.inf
        while True:
            h.setOptionValue("time_limit", max(1.0, deadline - time.perf_counter()))
            t0 = time.perf_counter()
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                log.warning("master LP: %s", h.modelStatusToString(h.getModelStatus()))
                break
            z = h.getInfo().objective_function_value
            y = np.array(h.getSolution().row_dual)
            rc, extra = self.price(y)
            bound = z + extra
            best_bound = min(best_bound, bound)
            add = np.flatnonzero((rc > 1e-6) & ~self.in_R)
            self.rounds.append({"lp": z, "bound": bound, "added": len(add), "secs": time.perf_counter() - t0})
            log.info("CG round %d: LP %.2f, bound %.2f, %d pairs priced in (%.1fs)", len(self.rounds), z, bound, len(add),
                     time.perf_counter() - t0)
            if not len(add) or time.perf_counter() > deadline:
                break
            add = add[_top_per_group(self.pairs.c[add], rc[add], self.add_per_cadre)]
            self._add_cols(h, add)
            cols += list(add)
        self.lp_value = z
        return z, best_bound, rc

    def _add_cols(self, h, add: np.ndarray) -> None:
        sub = self.pairs.take(add)
        r, c, v = pair_columns(self.ctx, self.rows, sub)
        M = sp.csc_matrix((v, (r, c)), shape=(self.rows.n, len(add)))
        M.sum_duplicates()
        h.addCols(len(add), self.obj[add], np.zeros(len(add)), np.ones(len(add)), int(M.nnz), M.indptr[:-1].astype(np.int32),
                  M.indices.astype(np.int32), M.data)
        self.in_R[add] = True


def solve_scaled(ctx: Context, time_limit: float, seed: int = 0, progress=None) -> tuple[BackendResult, Model, dict]:
    """Price-and-branch solve; returns the backend result over the final restricted model, that model, and info."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    cg = ColumnGeneration(ctx)
    lp_deadline = t0 + 0.6 * time_limit
    z_lp, bound, rc = cg.solve_lp(lp_deadline)
    m = cg.model()
    if m.infeasible:
        return BackendResult("infeasible", None, None, None, time.perf_counter() - t0), m, {}
    r = solve_mip(m, time_limit=max(1.0, deadline - time.perf_counter()), seed=seed, progress=progress)
    info = {"lp_rounds": len(cg.rounds), "lp_value": z_lp, "lagrangian_bound": bound, "pairs_total": len(cg.pairs),
            "pairs_master": int(cg.in_R.sum())}
    if r.x is not None and np.isfinite(bound) and time.perf_counter() < deadline - 1:
        gap_abs = bound - r.objective
        if gap_abs >= 1:  # pairs that could still be in a better plan: reduced cost within the gap
            more = np.flatnonzero(~cg.in_R & (rc > -gap_abs))
            if 0 < len(more) <= 200_000:
                x_old = np.zeros(len(cg.pairs))
                x_old[m.pair_index] = r.x[: m.n_pairs]
                cg.in_R[more] = True
                m2 = cg.model()
                hint = np.concatenate([x_old[m2.pair_index], np.zeros(m2.n_vars - m2.n_pairs)])
                hint[m2.n_pairs:] = r.x[m.n_pairs:]
                r2 = solve_mip(m2, time_limit=max(1.0, deadline - time.perf_counter()), seed=seed, hint=hint, progress=progress)
                info["closure_pairs"] = int(len(more))
                if r2.x is not None and r2.objective >= r.objective:
                    r, m = r2, m2
    valid = bound if np.isfinite(bound) else None
    if r.bound is not None and valid is not None:
        # the MIP's own bound is for the restricted model only; the valid one is the Lagrangian bound
        valid = max(valid, r.objective if r.objective is not None else -np.inf)
    status = r.status
    if status == "optimal" and valid is not None and r.objective is not None and valid - r.objective >= 1:
        status = "feasible"  # optimal for the restricted pair set only
    info["cg_rounds"] = cg.rounds
    info["timings"] = cg.timings | {"total": time.perf_counter() - t0}
    return BackendResult(status, r.x, r.objective, valid, time.perf_counter() - t0, message=r.message), m, info
