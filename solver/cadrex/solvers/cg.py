"""National scale: price-and-branch over the pair set, with a bound valid for the full model.

1. The pool: every eligible pair minus moves into posts of forced stayers (H2 + H3 fix those at 0). 2. Column and
   row generation on the LP relaxation: the first master holds every stay option, the best pairs of each cadre and
   of each post and a status-quo repair; each round prices every pool pair with the row duals (cached sparse blocks
   plus :func:`core_dot`), adds the best pairs with positive reduced cost and the lazy rows (H4, max_same_specialty)
   the LP solution violates. With duals y the Lagrangian bound ``z_LP(R) + Σ_{j∉R} max(0, rc_j)`` is valid for the
   full model. 3. An LP dive gives a first plan; the reduced-cost closure for a target (that plan, or that plan plus
   the allowed gap) and one MIP over it give the certificate. ``best_bound`` is floored (the objective is integral).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from cadrex.model import (
    Model,
    Pairs,
    all_pairs,
    assemble,
    build_rows,
    core_dot,
    pair_columns,
    pair_objective,
    summarize,
)
from cadrex.rules.context import Context
from cadrex.rules.scores import short_list, top_candidates
from cadrex.solvers.base import BackendResult
from cadrex.solvers.highs import new_highs, pass_model
from cadrex.solvers.highs import solve_model as solve_mip

log = logging.getLogger(__name__)

#: cost of the phase-I artificial columns of the master LP
BIG_M = 1e6


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _top_per_group(group: np.ndarray, value: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``value`` within each ``group``."""
    order = np.lexsort((-value, group))
    g = group[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    rank = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    return order[rank < k]


def _top_k(group: np.ndarray, value: np.ndarray, k: int, mask: np.ndarray, chunk: int = 2_000_000) -> np.ndarray:
    """Indices ``i`` with ``mask[i]`` of the ``k`` largest ``value`` per ``group``, in bounded memory: the top k of
    each chunk first (a group's top k overall is among the union of those), then the top k of that union."""
    parts = []
    for s in range(0, len(group), chunk):
        idx = s + np.flatnonzero(mask[s:s + chunk])
        parts.append(idx[_top_per_group(group[idx], value[idx], k)])
    cand = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return cand[_top_per_group(group[cand], value[cand], k)]


def _pinned(ctx: Context, pairs: Pairs) -> np.ndarray:
    """Per pair: is it the pair of an H7 require pin?"""
    if not ctx.pin_require.any():
        return np.zeros(len(pairs), bool)
    pk = ctx.pin_c[ctx.pin_require].astype(np.int64) * ctx.n_post + ctx.pin_p[ctx.pin_require]
    return np.isin(pairs.c.astype(np.int64) * ctx.n_post + pairs.p, pk)


def _drop_dead(ctx: Context, pairs: Pairs) -> np.ndarray:
    """The pairs minus moves into posts held by a *forced stayer*: a holder whose only allowed option is its stay.
    H2 (exactly one post) fixes that stay at 1 and H3 then fixes every other pair into the post at 0, in every
    feasible plan, so leaving them out changes neither the optimum nor the bound. Repeated to a fixed point (a holder
    whose moves all went into such posts is forced in turn). Require pins are kept, so that an impossible pin is
    still reported by H7 and the diagnosis. Measured: a third of all pairs at 2,000 in play. Returns the mask of
    pairs kept."""
    keep = np.ones(len(pairs), bool)
    pin = _pinned(ctx, pairs)
    holder = np.zeros(ctx.n_cad, bool)
    holder[ctx.I[ctx.c_post[ctx.I] >= 0]] = True
    stay_ok = np.zeros(ctx.n_cad, bool)
    stay_ok[pairs.c[pairs.stay & pairs.ok]] = True
    dead_post = np.zeros(ctx.n_post, bool)
    while True:
        nopt = np.bincount(pairs.c[keep & pairs.ok], minlength=ctx.n_cad)
        forced = holder & stay_ok & (nopt == 1)
        newly = np.zeros(ctx.n_post, bool)
        newly[ctx.c_post[np.flatnonzero(forced)]] = True
        if not (newly & ~dead_post).any():
            break
        dead_post |= newly
        keep &= ~(dead_post[pairs.p] & ~pairs.stay) | pin
    log.info("forced stays (H2 + H3): %d posts closed, %d of %d pairs dropped", int(dead_post.sum()), int((~keep).sum()), len(pairs))
    return keep


def _up32(a: np.ndarray) -> np.ndarray:
    """``a`` in float32, each value rounded up (never below ``a``): a closure over these keeps every pair it must."""
    r = a.astype(np.float32)
    low = r < a
    r[low] = np.nextafter(r[low], np.float32(np.inf))
    return r


@dataclass
class LPOutcome:
    """The LP phase of column generation. ``bound`` (inf when no round finished) is the lowest Lagrangian bound
    over the rounds and ``rc`` the reduced costs *of that same round* (float32, rounded up), so that the closure
    ``rc > −(B − T)`` is valid; ``z`` is the last restricted LP value; ``converged``: no pair with a positive
    reduced cost and no violated lazy row in the last round; ``artificial``: the phase-I columns' total there."""

    z: float = -np.inf
    bound: float = np.inf
    rc: np.ndarray | None = None
    bound_round: int = 0
    converged: bool = False
    priced_out: bool = False
    artificial: float = 0.0


class ColumnGeneration:
    """State of a price-and-branch solve of one context."""

    def __init__(self, ctx: Context, k_init: int = 20, add_per_cadre: int = 10, chunk: int = 1_000_000,
                 cache_nnz: int = 120_000_000):
        t0 = time.perf_counter()
        self.ctx = ctx
        every = all_pairs(ctx)
        self.n_eligible = len(every)  # every stay option and eligible move, before forced stays close posts
        kept = _drop_dead(ctx, every)
        self.pairs = every if kept.all() else every.take(np.flatnonzero(kept))
        # the 以岗选人 short list is taken over every eligible pair, the dropped ones included (one definition for
        # every method): chunk by chunk, the top k of each chunk, then the top k of their union
        short: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

        def shortlist_part(sub: Pairs, sc: np.ndarray) -> None:
            t = top_candidates(ctx, sub.c, sub.p, sc, sub.ok)
            short.append((sub.c[t], sub.p[t], sc[t]))

        gone = np.flatnonzero(~kept)
        for s in range(0, len(gone), chunk):
            sub = every.take(gone[s:s + chunk])
            shortlist_part(sub, pair_objective(ctx, sub)[1])
        del every, kept, gone
        n = len(self.pairs)
        # objective coefficients in chunks (the unweighted terms are not kept); integers, exact in float32
        self.obj = np.empty(n, np.float32)
        self.score = np.empty(n, np.int32)
        for s in range(0, n, chunk):
            sl = slice(s, s + chunk)
            sub = self.pairs.take(np.arange(s, min(n, s + chunk)))
            _, sc, ob = pair_objective(ctx, sub)
            self.obj[sl], self.score[sl] = ob, sc
            shortlist_part(sub, sc)
        self.short_list: dict[str, list[str]] = {}
        if short:
            sc_, sp_, ss_ = (np.concatenate(a) for a in zip(*short, strict=True))
            self.short_list = short_list(ctx, sc_, sp_, top_candidates(ctx, sc_, sp_, ss_, np.ones(len(sc_), bool)))
        self.blocked = np.flatnonzero(~self.pairs.ok)
        self.rows = build_rows(ctx, summarize(ctx, self.pairs))
        self.chunk, self.add_per_cadre = chunk, add_per_cadre
        # the columns of every pair but their H2, H3 and flow entries (core_dot computes those from cadre and post),
        # kept as CSR row blocks (pair × row) when they fit: pricing is then one Aᵀy per block plus a few gathers
        self.AT: list[sp.csr_matrix] | None = None
        if n * 3 <= cache_nnz:
            self.AT = []
            for s in range(0, n, chunk):
                idx = np.arange(s, min(n, s + chunk))
                r, c, v = pair_columns(ctx, self.rows, self.pairs.take(idx), core=False)
                self.AT.append(sp.csr_matrix((v.astype(np.float32), (c.astype(np.int32), r.astype(np.int32))),
                                             shape=(len(idx), self.rows.n)))
        # rows that enter the LP only when violated: H4 kinship and max_same_specialty (most are never binding)
        self.lazy = np.zeros(self.rows.n, bool)
        for rid in (self.rows.spec_rowid, self.rows.kin_rowid):
            if rid is not None:
                self.lazy[rid] = True
        self.row_lo, self.row_hi = np.asarray(self.rows.lo, float), np.asarray(self.rows.hi, float)
        ok = self.pairs.ok
        keep = np.zeros(n, bool)
        keep[self.pairs.stay] = True  # every stay option, blocked ones too (the diagnosis relies on them)
        keep[_top_k(self.pairs.c, self.obj, k_init, ok)] = True
        keep[_top_k(self.pairs.p, self.obj, k_init, ok)] = True
        # a status-quo repair: the best pairs between cadres who must move and the posts open if everyone else stays
        # (vacant, or held by one who must move), so that the first master has a plan and phase I is short
        must = np.zeros(ctx.n_cad, bool)
        must[ctx.I[ctx.c_must[ctx.I]]] = True
        openp = np.zeros(ctx.n_post, bool)
        openp[ctx.J[(ctx.p_holder[ctx.J] < 0) | must[np.maximum(ctx.p_holder[ctx.J], 0)] & (ctx.p_holder[ctx.J] >= 0)]] = True
        rep = np.flatnonzero(ok & must[self.pairs.c] & openp[self.pairs.p])
        keep[rep[_top_per_group(self.pairs.c[rep], self.obj[rep], k_init)]] = True
        keep[rep[_top_per_group(self.pairs.p[rep], self.obj[rep], k_init)]] = True
        keep |= _pinned(ctx, self.pairs)  # H7 require pins
        self.in_R = keep
        self.timings = {"setup": time.perf_counter() - t0}
        self.rounds: list[dict] = []
        # dual simplex, PAMI (parallel) variant: 15-25 % faster than serial dual at 2000 in play and deterministic in
        # repeated runs; primal simplex was 10x slower on re-solves
        self.resolve_strategy = 2
        log.info("column generation: %d eligible pairs, %d in the first master (%.2fs, peak %.0f MB)", n, int(keep.sum()),
                 self.timings["setup"], peak_mb())

    def model(self, idx: np.ndarray | None = None) -> Model:
        idx = np.flatnonzero(self.in_R) if idx is None else idx
        sub = self.pairs.take(idx)
        terms, score, obj = pair_objective(self.ctx, sub)
        return assemble(self.ctx, self.rows, sub, terms, score, obj, pair_index=idx)

    def price(self, y: np.ndarray, objective: bool = True) -> tuple[np.ndarray, float]:
        """Reduced costs of all pairs (c − Aᵀy) and Σ over pairs outside the master of max(0, rc); with
        ``objective=False`` the costs are 0 (phase I: −Aᵀy)."""
        n = len(self.pairs)
        rc = np.empty(n)
        extra = 0.0
        for k, s in enumerate(range(0, n, self.chunk)):
            sl = slice(s, min(n, s + self.chunk))
            if self.AT is not None:
                rest = self.AT[k] @ y
            else:
                r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(np.arange(sl.start, sl.stop)), core=False)
                rest = np.bincount(c, weights=v * y[r], minlength=sl.stop - sl.start)
            rc[sl] = (self.obj[sl] if objective else 0.0) - rest - core_dot(self.ctx, self.rows, self.pairs.c[sl], self.pairs.p[sl], y)
            extra += float(np.maximum(0.0, np.where(self.in_R[sl], 0.0, rc[sl])).sum())
        rc[self.blocked] = -np.inf  # fixed at 0 (stay options, always in the master)
        return rc, extra

    def solve_lp(self, deadline: float, stop_gap: float = 0.0, max_rounds: int | None = None) -> LPOutcome:
        """Column and row generation on the LP relaxation.

        Stops at convergence, at the deadline, after ``max_rounds`` rounds, or once the bound is within ``stop_gap``
        (relative) of the restricted LP value: a caller content with a gap does not need the last, slowest rounds.
        The bound returned is the lowest round's Lagrangian bound *with that round's own reduced costs*: the closure
        argument of :func:`solve_scaled` holds only for a bound and reduced costs of the same duals.

        Lazy rows (H4 kinship, max_same_specialty) start outside the LP and enter when the LP solution violates them.
        Leaving rows out relaxes the LP, and their duals are then 0, so every round's Lagrangian bound stays valid."""
        m = self.model()
        self.n0, self.n_aux = m.n_pairs, m.n_vars - m.n_pairs
        active = np.flatnonzero(~self.lazy)
        self.lp_row = np.full(self.rows.n, -1, np.int64)  # full row -> LP row
        self.lp_row[active] = np.arange(len(active))
        self.active = list(active)
        self.h = h = new_highs()
        # shortfall and flow auxiliaries get no upper bound unless H6 caps it: their natural bounds never bind at an
        # optimum, but an auxiliary sitting at one leaves its row's dual free up to the big M, and pricing chases that
        ub = m.ub.copy()
        soft = np.ones(m.n_vars, bool)
        soft[: m.n_pairs] = False
        soft[[v for v, *_ in m.h6_caps]] = False
        ub[soft] = np.inf
        pass_model(h, m, rows=active, ub=ub, integer=False)
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)  # serial dual from scratch (PAMI was slower there, at 5000 in play)
        # Phase I in one: big-M artificial columns on every finite row side keep the master feasible while the
        # duals price in the pairs that are needed; artificials still positive at convergence mean no LP solution.
        # (Lazy rows never need one: x = 0 satisfies H4, and max_same_specialty has its shortfall variable.)
        lo_rows = np.flatnonzero(np.isfinite(m.row_lo[active]))
        hi_rows = np.flatnonzero(np.isfinite(m.row_hi[active]))
        arows = np.concatenate([lo_rows, hi_rows]).astype(np.int32)
        avals = np.concatenate([np.ones(len(lo_rows)), -np.ones(len(hi_rows))])
        na = len(arows)
        self.art_first = m.n_vars
        h.addCols(na, np.full(na, -BIG_M), np.zeros(na), np.full(na, np.inf), na, np.arange(na, dtype=np.int32), arows, avals)
        self.n_art = na
        self.cols = np.flatnonzero(self.in_R)  # master pairs in LP order (see _lp_col_of_master)
        out = LPOutcome()
        z = -np.inf
        while True:
            # HiGHS measures time_limit against the run time accumulated by this instance over every run
            h.setOptionValue("time_limit", h.getRunTime() + max(1.0, deadline - time.perf_counter()))
            t0 = time.perf_counter()
            if self.rounds:  # re-solves after adding columns or rows: the parallel dual (PAMI)
                h.setOptionValue("parallel", "on")
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
            self.x_lp[self.cols] = xv[self._lp_col_of_master()]
            art = xv[self.art_first:self.art_first + self.n_art]
            self.artificial = float(art.sum())
            rc, extra = self.price(y)
            bound = z + extra
            if np.isfinite(bound) and bound < out.bound:  # this round's bound, with this round's reduced costs
                out.bound, out.rc, out.bound_round = bound, _up32(rc), len(self.rounds) + 1
            positive = (rc > 1e-6) & ~self.in_R
            n_pos = int(np.count_nonzero(positive))
            new_rows = self._violated_lazy_rows()
            out.z, out.priced_out, out.artificial = z, not n_pos, self.artificial
            out.converged = out.priced_out and not len(new_rows)
            self.rounds.append({"lp": z, "bound": bound, "added": n_pos, "rows_added": len(new_rows),
                                "secs": time.perf_counter() - t0})
            log.info("CG round %d: LP %.2f, bound %.2f, %d pairs with rc > 0, %d lazy rows violated (LP %.1fs, total %.1fs, "
                     "peak %.0f MB)", len(self.rounds), z, bound, n_pos, len(new_rows), t_lp, time.perf_counter() - t0, peak_mb())
            close = stop_gap > 0 and out.bound - z <= stop_gap * max(1.0, abs(z))
            cut = max_rounds is not None and len(self.rounds) >= max_rounds
            if out.converged or time.perf_counter() > deadline or close or cut:
                if self.artificial > 1e-6 and out.priced_out:
                    log.info("master LP needs artificial columns at convergence: the LP relaxation is infeasible")
                break
            if len(new_rows):
                self._add_rows(h, new_rows)
            if n_pos:
                add = _top_k(self.pairs.c, rc, self.add_per_cadre, positive)
                self._add_cols(h, add)
                self.cols = np.concatenate([self.cols, add])
        self.lp_value = z
        return out

    def _lp_col_of_master(self) -> np.ndarray:
        """LP column index of each master pair, in ``self.cols`` order: the first master's pairs, then (after its
        auxiliaries and the artificials) the pairs added since."""
        k = np.arange(len(self.cols))
        return np.where(k < self.n0, k, k + self.n_aux + self.n_art)

    def _violated_lazy_rows(self) -> np.ndarray:
        """Lazy rows not in the LP whose pair activity under the LP solution exceeds their upper side."""
        nz = np.flatnonzero(self.x_lp > 1e-9)
        r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(nz))
        act = np.bincount(r, weights=v * self.x_lp[nz][c], minlength=self.rows.n)
        return np.flatnonzero(self.lazy & (self.lp_row < 0) & (act > self.row_hi + 1e-6))

    def _add_rows(self, h, new: np.ndarray) -> None:
        r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(self.cols))
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
        h.addRows(len(new), self.row_lo[new], self.row_hi[new], int(M.nnz), M.indptr[:-1].astype(np.int32), M.indices.astype(np.int32), M.data)
        self.lp_row[new] = np.arange(len(self.active), len(self.active) + len(new))
        self.active += list(new)

    def confirm_infeasible(self, deadline: float) -> bool | None:
        """Phase I on the master LP: real columns cost 0, artificials −1, pairs priced in with zero cost. True when
        the LP relaxation of the whole pool is infeasible (a Farkas certificate: the phase-I optimum is below 0 and
        no pair has a positive reduced cost), False when it is feasible (the big-M run was inconclusive: the
        objective outweighed BIG_M), None at the deadline. Lazy rows stay out: infeasible without them is
        infeasible with them."""
        h = self.h
        n = h.getNumCol()
        cost = np.zeros(n)
        cost[self.art_first:self.art_first + self.n_art] = -1.0
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        while time.perf_counter() < deadline:
            h.setOptionValue("time_limit", h.getRunTime() + max(1.0, deadline - time.perf_counter()))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            if h.getInfo().objective_function_value > -1e-6:
                return False
            y = np.zeros(self.rows.n)
            y[self.active] = np.asarray(h.getSolution().row_dual)
            rc, _ = self.price(y, objective=False)
            positive = (rc > 1e-9) & ~self.in_R
            if not positive.any():
                log.info("phase I: the LP relaxation is infeasible (Farkas certificate over %d pairs)", len(self.pairs))
                return True
            add = _top_k(self.pairs.c, rc, self.add_per_cadre, positive)
            self._add_cols(h, add, cost=np.zeros(len(add)))
            self.cols = np.concatenate([self.cols, add])
        return None

    def _add_cols(self, h, add: np.ndarray, cost: np.ndarray | None = None) -> None:
        sub = self.pairs.take(add)
        r, c, v = pair_columns(self.ctx, self.rows, sub)
        lr = self.lp_row[r]
        k = lr >= 0
        M = sp.csc_matrix((v[k], (lr[k], c[k])), shape=(len(self.active), len(add)))
        M.sum_duplicates()
        h.addCols(len(add), self.obj[add] if cost is None else cost, np.zeros(len(add)), np.ones(len(add)), int(M.nnz), M.indptr[:-1].astype(np.int32),
                  M.indices.astype(np.int32), M.data)
        self.in_R[add] = True


def _dive(cg: ColumnGeneration, m: Model, seed: int, time_cap: float) -> BackendResult | None:
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
    return r if r.x is not None else None


def _target(z1: float, gap: float) -> float:
    """The value a plan must beat for the gap to be missed: z1 itself, or z1 plus the allowed gap (integers)."""
    return z1 + np.floor(gap * max(1.0, abs(z1)) + 1e-9) if gap > 0 else z1


def solve_scaled(ctx: Context, time_limit: float, seed: int = 0, progress=None, closure_cap: int = 300_000,
                 gap: float = 0.0, max_rounds: int | None = None) -> tuple[BackendResult, Model, dict]:
    """Price-and-branch solve; returns the backend result over the final restricted model, that model, and info.

    Certificate: with the row duals y of one LP round, its reduced costs rc and its Lagrangian bound B, every
    feasible plan x has c·x ≤ B + Σ_{rc_j<0} rc_j·x_j. So a plan worth more than a target T uses only pairs with
    rc > −(B − T). With the master holding all of those (the closure), the global optimum is at most
    max(T, bound of the MIP over the master). B and rc always come from the same round (:class:`LPOutcome`). T is
    the first plan's value z₁ for a proof of optimality, or z₁ plus the allowed gap, which needs far fewer pairs.
    If B ≤ T already, the first plan is certified without another MIP. When no LP round finished there is no bound
    at all: the result is ``feasible`` with bound None, never ``optimal``. ``max_rounds`` caps the LP rounds."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    cg = ColumnGeneration(ctx)
    lp = cg.solve_lp(t0 + 0.5 * time_limit, stop_gap=gap / 4, max_rounds=max_rounds)
    cg.AT = None  # the pricing cache is not needed any more: free it before the MIPs
    m = cg.model()
    has_bound = bool(np.isfinite(lp.bound))
    info: dict = {"pairs_total": cg.n_eligible, "pairs_priced": len(cg.pairs),
                  "lp_value": float(lp.z) if np.isfinite(lp.z) else None,
                  "lagrangian_bound": float(lp.bound) if has_bound else None, "bound_round": lp.bound_round,
                  "lp_converged": lp.converged, "short_list": cg.short_list}

    def finish(status: str, r: BackendResult | None = None, valid: float | None = None, message: str = ""):
        if status in ("infeasible", "restricted_infeasible"):
            info["cg"] = cg  # the diagnosis works on the pool and rows, not on a full rebuild
        if valid is not None and not np.isfinite(valid):
            valid = None  # no bound, never an infinite one
        if r is not None and r.x is not None and valid is not None and r.objective > valid + 1e-6:
            log.error("bound %s is below the plan's objective %s: the bound is not reported", valid, r.objective)
            info["bound_inconsistent"] = True
            valid = None
        if status == "optimal" and valid is None:
            status = "feasible"
        info.update({"lp_rounds": len(cg.rounds), "pairs_master": int(cg.in_R.sum()), "cg_rounds": cg.rounds,
                     "timings": cg.timings | {"total": time.perf_counter() - t0}})
        log.info("price-and-branch: %s, objective %s, bound %s (%.1fs, peak %.0f MB)", status, r.objective if r else None,
                 valid, time.perf_counter() - t0, peak_mb())
        return BackendResult(status, r.x if r else None, r.objective if r else None, valid, time.perf_counter() - t0,
                             message=message or (r.message if r else "")), m, info

    if m.infeasible:
        return finish("infeasible")
    if lp.priced_out and lp.artificial > 1e-6:  # artificials left at convergence: infeasible, or BIG_M too small
        proof = cg.confirm_infeasible(deadline)
        if proof:
            return finish("infeasible", message="LP relaxation infeasible (phase I)")
        log.info("phase I %s: no infeasibility proof from column generation",
                 "found the LP feasible" if proof is False else "stopped at the deadline")
        return finish("restricted_infeasible", message="big-M master inconclusive")
    B = float(np.floor(lp.bound + 1e-6)) if has_bound else np.inf  # the objective is integral
    r = _dive(cg, m, seed, max(1.0, 0.25 * (deadline - time.perf_counter())))
    if r is None:  # no plan from the dive: the MIP over the master
        r = solve_mip(m, time_limit=max(1.0, 0.5 * (deadline - time.perf_counter())), seed=seed, progress=progress, gap=gap)
        if r.x is None:
            return finish("no_solution" if r.status != "infeasible" else "restricted_infeasible", None, B)
    z1 = r.objective
    T = _target(z1, gap)
    if B <= T:  # certified already
        info |= {"closure_pairs": 0, "closed": True}
        return finish("optimal" if B - z1 < 1 - 1e-6 else "feasible", r, B)
    # the closure: pairs that could still beat T under the bound's own reduced costs (none without a bound)
    more = np.flatnonzero(~cg.in_R & (lp.rc > -(B - T) - 1e-6)) if has_bound else np.zeros(0, np.int64)
    closed = has_bound and len(more) <= closure_cap
    log.info("closure for target %.0f (first plan %.0f, bound %s): %d pairs%s", T, z1, B if has_bound else "none", len(more),
             "" if closed else (f" > cap {closure_cap}: the bound stays the Lagrangian one" if has_bound else
                                ": no LP round finished, so no bound"))
    x_old = np.zeros(len(cg.pairs), np.float32)
    x_old[m.pair_index] = r.x[: m.n_pairs]
    if closed:
        cg.in_R[more] = True
    m2 = cg.model()
    hint = np.concatenate([x_old[m2.pair_index], r.x[m.n_pairs:]])
    r2 = solve_mip(m2, time_limit=max(1.0, deadline - time.perf_counter()), seed=seed, hint=hint, progress=progress, gap=gap,
                   stop_bound=T if closed and gap > 0 else None,
                   # measured at 2000 in play: HiGHS presolve spends 20 s probing the closure for no gain; the root
                   # LP and its cuts are what the certificate needs (an unclosed master keeps presolve: it searches)
                   options={"presolve": "off"} if closed else None)
    m = m2
    best = r2 if r2.x is not None and r2.objective >= z1 else BackendResult(r2.status, hint, z1, r2.bound, r2.runtime, r2.message)
    valid = B
    if closed and r2.bound is not None and np.isfinite(r2.bound):
        valid = min(valid, max(T, float(np.floor(r2.bound + 1e-6))))
    info |= {"closure_pairs": int(len(more)), "closed": bool(closed)}
    return finish("optimal" if valid - best.objective < 1 - 1e-6 else "feasible", best, valid)
