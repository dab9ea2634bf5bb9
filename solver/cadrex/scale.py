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
from cadrex.rules.model import (
    Model,
    all_pairs,
    assemble,
    build_rows,
    pair_columns,
    pair_objective,
    summarize,
)

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

    def __init__(self, ctx: Context, k_init: int = 20, add_per_cadre: int = 10, chunk: int = 1_000_000,
                 cache_nnz: int = 120_000_000):
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
        # the columns of every pair, kept as one CSC matrix when it fits (pricing is then one product Aᵀy)
        self.AT = None
        if n * 8 <= cache_nnz:
            parts = []
            for s in range(0, n, chunk):
                idx = np.arange(s, min(n, s + chunk))
                r, c, v = pair_columns(ctx, self.rows, self.pairs.take(idx))
                parts.append(sp.csr_matrix((v.astype(np.float32), (c, r)), shape=(len(idx), self.rows.n)))
            self.AT = sp.vstack(parts, format="csr")
        # rows that enter the LP only when violated: H4 kinship and max_same_specialty (most are never binding)
        self.lazy = np.zeros(self.rows.n, bool)
        for rid in (self.rows.spec_rowid, self.rows.kin_rowid):
            if rid is not None:
                self.lazy[rid] = True
        self.row_lo, self.row_hi = np.asarray(self.rows.lo, float), np.asarray(self.rows.hi, float)
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
        self.big_m = 1e6
        self.lp_options: dict = {}
        self.resolve_strategy = 1  # dual simplex (primal was 10x slower on re-solves, measured at 2000 in play)
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
        if self.AT is not None:
            rc = self.obj - self.AT @ y
        else:
            rc = np.empty(n)
            for s in range(0, n, self.chunk):
                idx = np.arange(s, min(n, s + self.chunk))
                r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(idx))
                rc[idx] = self.obj[idx] - np.bincount(c, weights=v * y[r], minlength=len(idx))
        rc[self.pairs.block != ""] = -np.inf  # fixed at 0
        extra = float(np.maximum(0.0, rc[~self.in_R]).sum())
        return rc, extra

    def solve_lp(self, deadline: float) -> tuple[float, float, np.ndarray]:
        """Column and row generation on the LP relaxation; returns (restricted LP value, best valid bound, last rc).

        Lazy rows (H4 kinship, max_same_specialty) start outside the LP and enter when the LP solution violates them.
        Leaving rows out relaxes the LP, and their duals are then 0, so every round's Lagrangian bound stays valid."""
        m = self.model()
        self.n0, self.n_aux = m.n_pairs, m.n_vars - m.n_pairs
        active = np.flatnonzero(~self.lazy)
        self.lp_row = np.full(self.rows.n, -1, np.int64)  # full row -> LP row
        self.lp_row[active] = np.arange(len(active))
        self.active = list(active)
        h = new_highs()
        A = m.A[active].tocsc()
        inf = highspy.kHighsInf
        lo = np.where(np.isinf(m.row_lo[active]), -inf, m.row_lo[active])
        hi = np.where(np.isinf(m.row_hi[active]), inf, m.row_hi[active])
        h.passModel(m.n_vars, len(active), int(A.nnz), int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMaximize), 0.0,
                    m.obj, m.lb, m.ub, lo, hi, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data, np.zeros(m.n_vars, np.int32))
        h.setOptionValue("solver", "simplex")
        for k, v in self.lp_options.items():
            h.setOptionValue(k, v)
        # Phase I in one: big-M artificial columns on every finite row side keep the master feasible while the
        # duals price in the pairs that are needed; artificials still positive at convergence mean no LP solution.
        # (Lazy rows never need one: x = 0 satisfies H4, and max_same_specialty has its shortfall variable.)
        big = self.big_m
        lo_rows = np.flatnonzero(np.isfinite(lo))
        hi_rows = np.flatnonzero(np.isfinite(hi))
        arows = np.concatenate([lo_rows, hi_rows]).astype(np.int32)
        avals = np.concatenate([np.ones(len(lo_rows)), -np.ones(len(hi_rows))])
        na = len(arows)
        self.art_first = m.n_vars
        h.addCols(na, np.full(na, -big), np.zeros(na), np.full(na, inf), na, np.arange(na, dtype=np.int32), arows, avals)
        self.n_art = na
        self.cols = list(np.flatnonzero(self.in_R))  # LP column k <-> pair cols[k] for k < n0 in the master
        best_bound = np.inf
        rc = np.zeros(len(self.pairs))
        z = -np.inf
        while True:
            # HiGHS measures time_limit against the run time accumulated by this instance over every run
            h.setOptionValue("time_limit", h.getRunTime() + max(1.0, deadline - time.perf_counter()))
            t0 = time.perf_counter()
            if self.rounds:  # after adding columns the basis stays primal feasible
                h.setOptionValue("simplex_strategy", self.resolve_strategy)
            h.run()
            t_lp = time.perf_counter() - t0
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                log.warning("master LP: %s", h.modelStatusToString(h.getModelStatus()))
                break
            z = h.getInfo().objective_function_value
            sol = h.getSolution()
            y = np.zeros(self.rows.n)
            y[self.active] = np.asarray(sol.row_dual)
            # LP columns: the first master's pairs, its auxiliaries, the artificials, then pairs added since
            xv = np.asarray(sol.col_value)
            self.x_lp = np.zeros(len(self.pairs))
            self.x_lp[self.cols[: self.n0]] = xv[: self.n0]
            if len(self.cols) > self.n0:
                self.x_lp[self.cols[self.n0:]] = xv[m.n_vars + self.n_art:]
            art = xv[self.art_first:self.art_first + self.n_art]
            self.artificial = float(art.sum())
            rc, extra = self.price(y)
            bound = z + extra
            best_bound = min(best_bound, bound)
            add = np.flatnonzero((rc > 1e-6) & ~self.in_R)
            new_rows = self._violated_lazy_rows()
            self.rounds.append({"lp": z, "bound": bound, "added": len(add), "rows_added": len(new_rows),
                                "secs": time.perf_counter() - t0})
            log.info("CG round %d: LP %.2f, bound %.2f, %d pairs with rc > 0, %d lazy rows violated (LP %.1fs, total %.1fs)",
                     len(self.rounds), z, bound, len(add), len(new_rows), t_lp, time.perf_counter() - t0)
            if (not len(add) and not len(new_rows)) or time.perf_counter() > deadline:
                if self.artificial > 1e-6 and not len(add):
                    log.info("master LP needs artificial columns at convergence: the LP relaxation is infeasible")
                break
            if len(new_rows):
                self._add_rows(h, new_rows)
            if len(add):
                add = add[_top_per_group(self.pairs.c[add], rc[add], self.add_per_cadre)]
                self._add_cols(h, add)
                self.cols += list(add)
        self.lp_value = z
        return z, best_bound, rc

    def _lp_col_of_master(self) -> np.ndarray:
        """LP column index of each master pair, in ``self.cols`` order."""
        k = np.arange(len(self.cols))
        return np.where(k < self.n0, k, k - self.n0 + self.n0 + self.n_aux + self.n_art)

    def _violated_lazy_rows(self) -> np.ndarray:
        """Lazy rows not in the LP whose pair activity under the LP solution exceeds their upper side."""
        nz = np.flatnonzero(self.x_lp > 1e-9)
        r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(nz))
        act = np.bincount(r, weights=v * self.x_lp[nz][c], minlength=self.rows.n)
        return np.flatnonzero(self.lazy & (self.lp_row < 0) & (act > self.row_hi + 1e-6))

    def _add_rows(self, h, new: np.ndarray) -> None:
        cols = np.asarray(self.cols)
        r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(cols))
        pos = np.full(self.rows.n, -1, np.int64)
        pos[new] = np.arange(len(new))
        keep = pos[r] >= 0
        R, C, V = [pos[r[keep]]], [self._lp_col_of_master()[c[keep]]], [v[keep]]
        for ar, aa, av in zip(self.rows.aux_r, self.rows.aux_a, self.rows.aux_v, strict=True):
            k = pos[ar] >= 0
            R.append(pos[ar[k]])
            C.append(self.n0 + aa[k])
            V.append(av[k])
        M = sp.csr_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(C))), shape=(len(new), h.getNumCol()))
        M.sum_duplicates()
        inf = highspy.kHighsInf
        lo = np.where(np.isinf(self.row_lo[new]), -inf, self.row_lo[new])
        hi = np.where(np.isinf(self.row_hi[new]), inf, self.row_hi[new])
        h.addRows(len(new), lo, hi, int(M.nnz), M.indptr[:-1].astype(np.int32), M.indices.astype(np.int32), M.data)
        self.lp_row[new] = np.arange(len(self.active), len(self.active) + len(new))
        self.active += list(new)

    def _add_cols(self, h, add: np.ndarray) -> None:
        sub = self.pairs.take(add)
        r, c, v = pair_columns(self.ctx, self.rows, sub)
        lr = self.lp_row[r]
        k = lr >= 0
        M = sp.csc_matrix((v[k], (lr[k], c[k])), shape=(len(self.active), len(add)))
        M.sum_duplicates()
        h.addCols(len(add), self.obj[add], np.zeros(len(add)), np.ones(len(add)), int(M.nnz), M.indptr[:-1].astype(np.int32),
                  M.indices.astype(np.int32), M.data)
        self.in_R[add] = True


def _dive(cg: ColumnGeneration, m: Model, seed: int, time_cap: float) -> np.ndarray | None:
    """A first plan: fix the pairs the LP relaxation sets to 1 and solve the small MIP over the rest."""
    x_lp = getattr(cg, "x_lp", None)
    if x_lp is None:
        return None
    v = x_lp[m.pair_index]
    one = v > 1 - 1e-6
    lb, ub = m.lb.copy(), m.ub.copy()
    try:
        m.lb[: m.n_pairs][one] = 1.0
        r = solve_mip(m, time_limit=time_cap, seed=seed)
    finally:
        m.lb, m.ub = lb, ub
    log.info("LP dive: %d of %d master pairs fixed at 1 -> %s %s", int(one.sum()), m.n_pairs, r.status, r.objective)
    return r.x


def solve_scaled(ctx: Context, time_limit: float, seed: int = 0, progress=None, closure_cap: int = 300_000,
                 gap: float = 0.0) -> tuple[BackendResult, Model, dict]:
    """Price-and-branch solve; returns the backend result over the final restricted model, that model, and info.

    Proof of optimality: with row duals y and reduced costs rc, every feasible plan x has
    c·x ≤ B + Σ_{rc_j<0} rc_j·x_j, where B is the Lagrangian bound. So a plan better than an incumbent z₁ uses only
    pairs with rc ≥ −(B − z₁). Once the master holds all of those (the closure), the global optimum is at most
    max(z₁, bound of the MIP over the master), and a closed master solved to optimality is globally optimal."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    cg = ColumnGeneration(ctx)
    z_lp, bound, rc = cg.solve_lp(t0 + 0.5 * time_limit)
    m = cg.model()
    info: dict = {"pairs_total": len(cg.pairs), "lp_value": z_lp, "lagrangian_bound": bound}
    if m.infeasible:
        return BackendResult("infeasible", None, None, None, time.perf_counter() - t0), m, info
    if getattr(cg, "artificial", 0.0) > 1e-6 and not (rc[~cg.in_R] > 1e-6).any():
        return BackendResult("infeasible", None, None, None, time.perf_counter() - t0, message="LP relaxation infeasible"), m, info
    hint = _dive(cg, m, seed, max(1.0, 0.25 * (deadline - time.perf_counter())))
    r = solve_mip(m, time_limit=max(1.0, deadline - time.perf_counter()), seed=seed, progress=progress, hint=hint, gap=gap)
    if r.x is None:
        return BackendResult("no_solution" if r.status != "infeasible" else "restricted_infeasible", None, None,
                             bound if np.isfinite(bound) else None, time.perf_counter() - t0), m, info
    z1 = r.objective
    more = np.flatnonzero(~cg.in_R & (rc >= -(bound - z1) - 1e-6)) if np.isfinite(bound) else np.zeros(0, int)
    closed = np.isfinite(bound) and len(more) <= closure_cap
    good_enough = gap > 0 and (bound - z1) / max(1.0, abs(z1)) <= gap
    if closed and len(more) and not good_enough:
        x_old = np.zeros(len(cg.pairs))
        x_old[m.pair_index] = r.x[: m.n_pairs]
        cg.in_R[more] = True
        m2 = cg.model()
        hint = np.concatenate([x_old[m2.pair_index], r.x[m.n_pairs:]])
        r2 = solve_mip(m2, time_limit=max(1.0, deadline - time.perf_counter()), seed=seed, hint=hint, progress=progress, gap=gap)
        if r2.x is not None and r2.objective >= z1:
            r, m = r2, m2
        elif r2.bound is not None:
            r = BackendResult(r.status, r.x, r.objective, r2.bound, r.runtime, r.message)
            m = cg.model(m.pair_index)
    valid = bound
    if closed and r.bound is not None and not (good_enough and len(more)):
        valid = min(valid, max(z1, r.bound))
    valid = max(valid, r.objective)
    status = "optimal" if valid - r.objective < 1 - 1e-6 else "feasible"
    info |= {"lp_rounds": len(cg.rounds), "pairs_master": int(cg.in_R.sum()), "closure_pairs": int(len(more)),
             "closed": bool(closed), "cg_rounds": cg.rounds, "timings": cg.timings | {"total": time.perf_counter() - t0}}
    m.candidate_pool = (cg.pairs.c, cg.pairs.p, cg.score, cg.pairs.block == "")
    return BackendResult(status, r.x, r.objective, valid, time.perf_counter() - t0, message=r.message), m, info
