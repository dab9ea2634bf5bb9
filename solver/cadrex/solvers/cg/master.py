"""The master LP of column generation (HiGHS): opened over the first master's pairs with its active rows and
big-M artificial columns (phase I in one), grown by pair columns and violated lazy rows, its LP solution mapped back
to the pool, and the zero-cost phase I (:meth:`MasterLP.confirm_infeasible`) that proves an infeasible relaxation.

:class:`MasterLP` is the master half of :class:`~cadrex.solvers.cg.driver.ColumnGeneration`; it uses the pool state
set there: ``ctx``, ``rows``, ``pairs``, ``obj``, ``in_R``, ``lazy``, ``row_lo``/``row_hi``, ``add_per_cadre``,
``add_per_post``, ``resolve_strategy``, ``extensions`` and ``price``."""

from __future__ import annotations

import logging
import time

import highspy
import numpy as np
import scipy.sparse as sp

from cadrex.model import Model, assemble, pair_columns, pair_objective
from cadrex.solvers.cg import pricing
from cadrex.solvers.cg.pool import SMALL_POOL
from cadrex.solvers.cg.pricing import _top_k
from cadrex.solvers.cg.rounds import PoolValues
from cadrex.solvers.highs import pass_model

log = logging.getLogger(__name__)

#: cost of the phase-I artificial columns of the master LP
BIG_M = 1e6
#: HiGHS's default simplex iteration limit (no cap)
NO_CAP = 2**31 - 1
#: before an exact re-solve, the master pairs at 0 whose reduced cost in the last exact LP solution (one without
#: artificials) is in its lowest PARK_SHARE are fixed at 0 ("parked") until pricing finds them positive again: a
#: smaller LP to iterate over, the same optimum (:meth:`MasterLP.park`). Measured on `tight` at 5,000 in play
#: (`cadrex solve CASE --gap 0.001`, one run each): rounds 8-9 36.5 + 27.9 s -> 24.8 + 21.3 s, the solve 213 -> 172 s,
#: parking about half (rc < -20); about a quarter (rc < -40): no gain; three quarters (rc < -8): a round more
PARK_SHARE = 0.5
#: parking only on pools of more than PARK_ABOVE pairs (above about 2,000 in play, pool.SMALL_POOL): on the seven
#: families at 2,000 it saved little (re-solves of 1-5 s) and its other duals left two closures over the cap
#: (`big_provinces` 0.050 -> 0.076 %, `vacancies` 0.067 -> 0.074 %); at 5,000 the median went 86.4 -> 69.5 s, the
#: worst (`tight`) 210.5 -> 165.2 s (benchmarks/README.md, session 18)
PARK_ABOVE = SMALL_POOL

#: solve the master LP (first solve and re-solves) with the parallel dual (PAMI); off where processes already share
#: the cores (the workers of a robustness run, :func:`serial_resolves`)
PARALLEL_RESOLVES = True


def serial_resolves(serial: bool = True) -> bool:
    """Use the serial dual (``serial``) or the parallel one for every master LP re-solve of this process, and one
    thread or :data:`~cadrex.solvers.cg.pricing.THREADS` for its pricing (serial in the workers of a parallel run);
    returns the previous setting (True: it was serial)."""
    global PARALLEL_RESOLVES
    before = not PARALLEL_RESOLVES
    PARALLEL_RESOLVES = not serial
    pricing.THREADS = 1 if serial else 2
    return before


def _new_highs():
    """``cadrex.solvers.cg.new_highs()``, looked up there at each call (tests replace it there)."""
    from cadrex.solvers import cg

    return cg.new_highs()


class MasterLP:
    """The HiGHS master LP over the pairs in ``self.cols`` (LP order, see :meth:`_lp_col_of_master`)."""

    def open_master(self, m: Model) -> None:
        """Load the first master ``m`` (every row but the lazy ones) and its artificial columns into a new HiGHS."""
        self.n0, self.n_aux = m.n_pairs, m.n_vars - m.n_pairs
        active = np.flatnonzero(~self.lazy)
        self.lp_row = np.full(self.rows.n, -1, np.int64)  # full row -> LP row
        self.lp_row[active] = np.arange(len(active))
        self.active = list(active)
        self.h = h = _new_highs()
        # shortfall and flow auxiliaries get no upper bound unless H6 caps it: their natural bounds never bind at an
        # optimum, but an auxiliary sitting at one leaves its row's dual free up to the big M, and pricing chases that
        ub = m.ub.copy()
        soft = np.ones(m.n_vars, bool)
        soft[: m.n_pairs] = False
        soft[[v for v, *_ in m.h6_caps]] = False
        soft[[m.n_pairs + a for a in self.rows.aux_bounded]] = False  # an extension's bound is a constraint
        ub[soft] = np.inf
        pass_model(h, m, rows=active, ub=ub, integer=False)
        h.setOptionValue("solver", "simplex")
        # serial dual; the driver switches to the parallel dual (PAMI) unless processes share the cores: measured in
        # session 9, PAMI solved the first master 25-30 % faster (base, tight, vacancies at 2,000; tight at 5,000:
        # 36.7 s instead of 46.9 s, the same 60,268 iterations), where an earlier measurement had it slower
        h.setOptionValue("simplex_strategy", 1)
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
        self.art_lp_row = arows  # LP row of each artificial column
        self.art_value: np.ndarray | None = None  # the artificial columns' values in the last LP solution
        self.aux_lp: np.ndarray | None = None  # the auxiliaries' values in it (see _keep_solution)
        self.cols = np.flatnonzero(self.in_R)  # master pairs in LP order (see _lp_col_of_master)
        self.parked = np.zeros(0, bool)  # per master pair (``self.cols`` order, grown on demand): fixed at 0 (park)
        self._unpark_next = np.zeros(0, np.int64)  # parked pairs to free at the next _grow (unpark)

    def model(self, idx: np.ndarray | None = None) -> Model:
        """The model over the pool pairs ``idx`` (None: the master's), with every row."""
        idx = np.flatnonzero(self.in_R) if idx is None else idx
        sub = self.pairs.take(idx)
        terms, score, obj = pair_objective(self.ctx, sub, self.extensions)
        return assemble(self.ctx, self.rows, sub, terms, score, obj, pair_index=idx)

    def master_rc(self, idx: np.ndarray) -> np.ndarray:
        """The last exact LP's reduced costs of the pool pairs ``idx`` (0 for pairs added since)."""
        k = len(self.rc_master)
        if k == 0:
            return np.zeros(len(idx))
        order = np.argsort(self.cols[:k], kind="stable")
        pos = np.minimum(np.searchsorted(self.cols[:k], idx, sorter=order), k - 1)
        return np.where(self.cols[:k][order[pos]] == idx, self.rc_master[order[pos]], 0.0)

    def run_master(self, end: float, iteration_cap: int | None = None) -> str:
        """One solve of the master LP, until ``end`` (wall clock): "optimal"; "partial" when stopped after
        ``iteration_cap`` simplex iterations (the dual simplex's duals of that moment: any duals give a valid
        Lagrangian bound, and pricing with them is sound, but its primal solution is not the LP's); else HiGHS's
        status text. The parallel dual (PAMI) unless :func:`serial_resolves`."""
        h, parallel = self.h, PARALLEL_RESOLVES
        # HiGHS measures time_limit against the run time accumulated by this instance over every run
        h.setOptionValue("time_limit", h.getRunTime() + max(1.0, end - time.perf_counter()))
        if parallel:
            h.setOptionValue("parallel", "on")
            h.setOptionValue("simplex_strategy", self.resolve_strategy)
        h.setOptionValue("simplex_iteration_limit", int(iteration_cap) if iteration_cap else NO_CAP)
        try:
            h.run()
        finally:
            h.setOptionValue("simplex_iteration_limit", NO_CAP)  # later runs (phase I) are not capped
        status = h.getModelStatus()
        self.iterations = int(h.getInfo().simplex_iteration_count)  # this run's
        if status == highspy.HighsModelStatus.kOptimal:
            return "optimal"
        if status == highspy.HighsModelStatus.kIterationLimit and iteration_cap:
            return "partial"
        return h.modelStatusToString(status)

    def _park_mask(self) -> np.ndarray:
        if len(self.parked) < len(self.cols):
            self.parked = np.concatenate([self.parked, np.zeros(len(self.cols) - len(self.parked), bool)])
        return self.parked

    def _set_ub(self, k: np.ndarray, ub: float) -> None:
        """Upper bound ``ub`` on the master pairs ``k`` (positions in ``self.cols``) in the LP."""
        lp = self._lp_col_of_master()[k].astype(np.int32)
        self.h.changeColsBounds(len(lp), lp, np.zeros(len(lp)), np.full(len(lp), ub))

    def park(self) -> None:
        """Fix at 0 the master pairs that are 0 in the last exact LP solution and whose reduced cost there is in
        its lowest :data:`PARK_SHARE` (below 0), unless H7 pins them; nothing while that solution needs artificials
        (its duals then price feasibility, not value). Sound for any choice: :meth:`unpark` frees a parked pair
        whenever a round's duals give it a positive reduced cost, so the LP has converged only when no parked
        pair could improve it; parked pairs stay in the master (``in_R``: the dive, the closure)."""
        if self.rc_master is None or self.artificial > 1e-6 or not len(self.rc_master) or len(self.pairs) <= PARK_ABOVE:
            return
        parked, rc = self._park_mask(), self.rc_master
        k = len(rc)
        floor = min(0.0, float(np.quantile(rc, PARK_SHARE)))
        cand = np.flatnonzero((rc < floor) & ~parked[:k])
        pool = self.cols[cand]  # not a blocked pair (its bound is 0 already: freeing it would unblock it), nor a pin
        cand = cand[(self.x_lp[pool] <= 1e-9) & self.pairs.ok[pool] & ~np.isin(pool, self.pinned)]
        if len(cand):
            self._set_ub(cand, 0.0)
            parked[cand] = True
            log.debug("parked %d master pairs (reduced cost below %.1f), %d in all", len(cand), floor, int(parked.sum()))

    def unpark(self, rc: np.ndarray) -> int:
        """The parked master pairs whose reduced cost ``rc`` (over the pool) is positive: freed by the next
        :meth:`_grow`, with the pairs the round priced (the LP as solved stays as it was until then); how many."""
        parked = self._park_mask()
        back = np.flatnonzero(parked)
        self._unpark_next = back = back[rc[self.cols[back]] > 1e-6]
        return len(back)

    def _free(self, k: np.ndarray) -> None:
        if len(k):
            self._set_ub(k, 1.0)
            self.parked[k] = False
        self._unpark_next = np.zeros(0, np.int64)

    def _grow(self, pending: tuple) -> None:
        """Add a round's violated lazy rows and its best positive pairs (per cadre, and per post if asked) to the LP."""
        new_rows, pick = pending
        if len(new_rows):
            self._add_rows(self.h, new_rows)
        self._free(self._unpark_next)  # the parked pairs the round priced positive
        if pick is not None:
            cand = (pick > 1e-6) & ~self.in_R
            add = _top_k(self.pairs.c, pick, self.add_per_cadre, cand)
            if self.add_per_post:  # and the best per post
                add = np.union1d(add, _top_k(self.pairs.p, pick, self.add_per_post, cand))
            if len(add):
                self._add_cols(self.h, add)
                self.cols = np.concatenate([self.cols, add])

    def _keep_solution(self, sol) -> None:
        """Keep an exact LP solution: its pair values over the pool (``x_lp``), auxiliaries (``aux_lp``) and
        artificials, and the master pairs' reduced costs (``rc_master``, in ``self.cols`` order). LP columns: the
        first master's pairs, its auxiliaries, the artificials, then the pairs added since."""
        xv = np.asarray(sol.col_value)
        cols = self._lp_col_of_master()
        self.x_lp = PoolValues(len(self.pairs), self.cols, xv[cols])
        self.aux_lp = xv[self.n0:self.n0 + self.n_aux]
        art = xv[self.art_first:self.art_first + self.n_art]
        self.artificial, self.art_value = float(art.sum()), art
        self.rc_master = np.asarray(sol.col_dual)[cols]
        self.rows_at_solution = len(self.active)  # LP rows 0..this-1 were in it

    def _lp_col_of_master(self) -> np.ndarray:
        """LP column index of each master pair, in ``self.cols`` order: the first master's pairs, then (after its
        auxiliaries and the artificials) the pairs added since."""
        k = np.arange(len(self.cols))
        return np.where(k < self.n0, k, k + self.n_aux + self.n_art)

    def _violated_lazy_rows(self, in_lp: bool = False) -> np.ndarray:
        """Lazy rows not in the LP (``in_lp``: or in it) whose activity under the LP solution exceeds their upper
        side: the pairs', and on rows the LP held when it found the solution, the auxiliaries' (a max_same_specialty
        row met through its shortfall is not violated). A row outside the LP gets no auxiliary part: its shortfall
        answers no row there (and is 0 at an LP optimum, its cost a penalty), so row generation is unchanged."""
        nz = self.x_lp.support(1e-9)
        r, c, v = pair_columns(self.ctx, self.rows, self.pairs.take(nz))
        act = np.bincount(r, weights=v * self.x_lp[nz][c], minlength=self.rows.n)
        ar, aa, av = self.aux_coo
        if self.aux_lp is not None and len(ar):  # and the auxiliaries' part (a max_same_specialty row's shortfall),
            # on the rows the LP held when it found this solution (elsewhere an auxiliary's value answers no row)
            ar = ar.astype(np.int64)
            held = (self.lp_row[ar] >= 0) & (self.lp_row[ar] < self.rows_at_solution)
            act += np.bincount(ar[held], weights=(av * self.aux_lp[aa.astype(np.int64)])[held], minlength=self.rows.n)
        return np.flatnonzero(self.lazy & ((self.lp_row < 0) | in_lp) & (act > self.row_hi[: self.rows.n] + 1e-6))

    def rows_off_in_lp_solution(self) -> np.ndarray:
        """Rows the last LP solution does not satisfy by its pairs and auxiliaries alone: those with a positive
        artificial column, and lazy rows it violates (added to the LP after it, when the LP phase was cut)."""
        art = np.asarray(self.active)[self.art_lp_row[self.art_value > 1e-6]] if self.art_value is not None else []
        return np.union1d(np.asarray(art, np.int64), self._violated_lazy_rows(in_lp=True))

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
        self._free(np.flatnonzero(self._park_mask()))  # every parked pair free: parking is for speed, not feasibility
        n = h.getNumCol()
        cost = np.zeros(n)
        cost[self.art_first:self.art_first + self.n_art] = -1.0
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        h.changeObjectiveOffset(0.0)  # an extension's constant (SPEC §10) is no part of phase I
        while time.perf_counter() < deadline:
            h.setOptionValue("time_limit", h.getRunTime() + max(1.0, deadline - time.perf_counter()))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            if h.getInfo().objective_function_value > -1e-6:
                return False
            y = np.zeros(len(self.row_lo))  # every row and cut
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
        ck, cpos, cv = self.cut_entries(add)  # and the cuts' (cuts.py)
        M = sp.csc_matrix((np.concatenate([v[k], cv]), (np.concatenate([lr[k], self.cut_lp_row[ck]]), np.concatenate([c[k], cpos]))),
                          shape=(len(self.active), len(add)))
        M.sum_duplicates()
        h.addCols(len(add), self.obj[add] if cost is None else cost, np.zeros(len(add)), np.ones(len(add)), int(M.nnz), M.indptr[:-1].astype(np.int32),
                  M.indices.astype(np.int32), M.data)
        self.in_R[add] = True

