"""The driver of column generation (national scale): price-and-branch over the pair set with a bound valid for the
full model — the LP loop of rounds, the dive and the closure MIP of :func:`solve_scaled`.

1. The pool: every eligible pair minus moves into posts of forced stayers (H2 + H3 fix those at 0). 2. Column and
   row generation on the LP relaxation: the first master holds every stay option, the best pairs of each cadre and
   of each post and a status-quo repair; each round prices every pool pair with the row duals (cached sparse blocks
   plus :func:`core_dot`), adds the best pairs with positive reduced cost and the lazy rows (H4, max_same_specialty)
   the LP solution violates. With any duals y, the Lagrangian bound that keeps each cadre's (or each post's) one-post
   row in the subproblem is valid for the full model (:meth:`ColumnGeneration.lagrangian`). 3. An LP dive gives a
   first plan; the closure for a target (that plan, or it plus the allowed gap) and one MIP over it certify it.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from cadrex.model import Model, build_rows, summarize
from cadrex.rules.context import Context
from cadrex.solvers.base import BackendResult, give_back_memory, report
from cadrex.solvers.cg import cuts, pricing
from cadrex.solvers.cg.bound import LagrangianBound, certified_from, closure_target, down32
from cadrex.solvers.cg.dive import DIVE_AGAIN, SHRINK_CLOSURE, SHRINK_POOL, dive, dive_done, hopeless_below
from cadrex.solvers.cg.master import MasterLP
from cadrex.solvers.cg.pool import _pinned, build_pool, first_master, peak_mb
from cadrex.solvers.cg.pricing import pricing_cache, reduced_costs
from cadrex.solvers.cg.rounds import KEPT_STOP_ABOVE, LPOutcome, LPRound, PoolValues, gap_reached
from cadrex.solvers.highs import solve_model as solve_mip

log = logging.getLogger(__name__)

#: a round's master LP stops after PARTIAL_ITERATIONS dual simplex iterations (a partial round) while the round before it
#: priced more than PARTIAL_PER_CADRE positive pairs per cadre in play, at most PARTIAL_MAX times: such masters lack most
#: of the pairs the optimum needs. Measured (base, LP phase alone, 5,000 in play): 106 s exact, 82.5 s with rounds 2-4
#: partial, 74.5 s with 2-6, 61.9 s with this rule (rounds 2-7); benchmarks/README.md, session 12
PARTIAL_PER_CADRE = 10
PARTIAL_ITERATIONS = 3000
PARTIAL_MAX = 8
EXACT_AFTER_ARTIFICIALS = 30_000_000  # pools above: exact after an LP on artificials (docs/guide.md, partial rounds)
#: Wentges smoothing weight (see :meth:`ColumnGeneration.solve_lp`)
SMOOTHING = 0.5
#: pairs the passes over the pool hold at once, over all threads (their chunks are this divided by the threads)
PAIRS_IN_FLIGHT = 1_000_000
#: pairs added per post each round in a warm-started column generation (see ``ColumnGeneration.__init__``)
WARM_ADD_PER_POST = 5


class ColumnGeneration(MasterLP, LagrangianBound, cuts.AgeCuts):
    """State of a price-and-branch solve of one context: the pool, the row index, the pricing cache, the master LP
    (:class:`~cadrex.solvers.cg.master.MasterLP`) and the rounds. ``extensions``: see :mod:`cadrex.model.core`."""

    def __init__(self, ctx: Context, k_init: int | None = None, add_per_cadre: int = 10, chunk: int | None = None,
                 cache_nnz: int = 120_000_000, extensions: tuple = (), add_per_post: int | None = None):
        t0 = time.perf_counter()
        self.ctx, self.extensions = ctx, tuple(extensions)
        # as many pairs in flight as one thread had with 1M-pair chunks (2,000 in play: the pool's objective took
        # 83 MB more on two threads with 1M pairs each, 29 MB with half that; the same seconds at 5,000)
        chunk = chunk or PAIRS_IN_FLIGHT // max(1, pricing.THREADS)
        pool = build_pool(ctx, chunk, self.extensions)
        self.pairs, self.obj, self.score, self.n_eligible, self.short_list = pool.pairs, pool.obj, pool.score, pool.n_eligible, pool.short_list
        n = len(self.pairs)
        self.blocked = np.flatnonzero(~self.pairs.ok)
        self.rows = build_rows(ctx, summarize(ctx, self.pairs), self.extensions)
        # each round adds the best positive pairs of each cadre and, when warm-started (a re-plan), of each post
        # (2,000-in-play re-plans, 5 declines: 48 rounds and 12.4 s of LP per cadre only, 6 and 2.8 s with 5 per post;
        # on a fresh solve it stopped the LP earlier at a weaker bound: a closure of 282k pairs instead of 7.7k)
        warm = any(e.master_pairs(ctx, self.pairs.take(np.zeros(0, np.int64))) is not None for e in self.extensions)
        add_per_post = (WARM_ADD_PER_POST if warm else 0) if add_per_post is None else add_per_post
        self.chunk, self.add_per_cadre, self.add_per_post = chunk, add_per_cadre, add_per_post
        self.AT = pricing_cache(ctx, self.rows, self.pairs, chunk, cache_nnz)
        # rows that enter the LP only when violated: H4 kinship and max_same_specialty (most are never binding)
        self.lazy = np.zeros(self.rows.n, bool)
        for rid in (r for r in (self.rows.spec_rowid, self.rows.kin_rowid) if r is not None):
            self.lazy[rid] = True
        self.row_lo, self.row_hi = np.asarray(self.rows.lo, float), np.asarray(self.rows.hi, float)
        self.in_R = keep = first_master(ctx, self.pairs, self.obj, k_init, self.extensions)
        self.timings = {"setup": time.perf_counter() - t0}
        self.rounds: list[LPRound] = []
        self.x_lp: PoolValues | None = None  # the last LP solution over the pool (None before the first round)
        self.rc_master: np.ndarray | None = None  # its reduced costs of the pairs self.cols[:len(rc_master)]
        self.artificial = 0.0  # the phase-I artificial columns' total in the last LP solution
        # dual simplex, PAMI (parallel) variant: 15-25 % faster than serial dual at 2000 in play and deterministic in
        # repeated runs; primal simplex was 10x slower on re-solves
        self.resolve_strategy = 2
        # auxiliaries' columns and true bounds, for the Lagrangian bound of any duals (:meth:`lagrangian`)
        ri = self.rows
        self.aux_obj, self.aux_ub = np.asarray(ri.aux_obj, float), np.asarray(ri.aux_ub, float)
        self.aux_coo = tuple(np.concatenate(a) if a else np.zeros(0) for a in (ri.aux_r, ri.aux_a, ri.aux_v))
        self.init_cuts()
        self.pinned = np.flatnonzero(_pinned(ctx, self.pairs))  # H7 require pins: lower bound 1
        #: Wentges smoothing weight of the best duals so far (0: price with the LP duals only)
        self.smoothing = SMOOTHING
        log.info("column generation: %d eligible pairs, %d in the first master (%.2fs, peak %.0f MB)", n, int(keep.sum()),
                 self.timings["setup"], peak_mb())

    def price(self, y: np.ndarray, objective: bool = True) -> tuple[np.ndarray, float]:
        """Reduced costs of all pairs (c − Aᵀy) and Σ over pairs outside the master of max(0, rc); with
        ``objective=False`` the costs are 0 (phase I: −Aᵀy)."""
        return self.with_cuts(reduced_costs(self.ctx, self.rows, self.pairs, self.obj if objective else None, self.AT,
                                            self.in_R, self.blocked, self.chunk, y[: self.rows.n]), y)

    def solve_lp(self, deadline: float, stop_gap: float = 0.0, max_rounds: int | None = None, progress=None,
                 until: float | None = None, resume: LPOutcome | None = None, stop_bound: float = -np.inf,
                 cuts: bool = False) -> LPOutcome:
        """Column and row generation on the LP relaxation, one :class:`LPRound` per round in ``self.rounds``.

        Stops at convergence, at the deadline (or at ``until`` if later while the LP solution needs artificials: no
        plan can come from the master yet), after ``max_rounds`` rounds, or once the bound is within ``stop_gap``
        (relative) of the restricted LP value: a caller content with a gap does not need the last, slowest rounds.
        The bound returned is the lowest round's Lagrangian bound *with that round's own reduced costs*: the closure
        argument of :func:`solve_scaled` holds only for a bound and reduced costs of the same duals.

        Lazy rows (H4 kinship, max_same_specialty) start outside the LP and enter when the LP solution violates them.
        Leaving rows out relaxes the LP, and their duals are then 0, so every round's Lagrangian bound stays valid.
        ``resume``: the outcome of an earlier call whose master LP is still open, continued (its pairs added first);
        ``stop_bound``: stop once the bound is at most this (a plan's target: the certificate needs no more);
        ``cuts``: an LP solution that priced out or met the gap rule gets the age rows' cuts first (cuts.py)."""
        if resume is None:
            self.open_master(self.model())
            self._pending = None
        h = self.h
        out = resume or LPOutcome()
        z = out.z
        center = out.duals  # the duals of the best bound so far: the stability center
        plain = out.plain_low  # the lowest plain bound (every row relaxed) so far: when to stop
        if resume is not None and self._pending is not None:  # what the last round priced, not yet in the LP
            self._grow(self._pending)
            self._pending = None
        close = cut = False

        def lp_end() -> float:  # the deadline, or `until` while the last exact LP solution (or the lack of one) needs
            # artificials or the last round was partial (its LP solution is an older round's: the dive starts there)
            ok = self.rounds and self.artificial <= 1e-6 and not self.rounds[-1].partial
            return deadline if until is None or ok else max(deadline, until)
        while True:
            t0 = time.perf_counter()
            # partial while the last round priced many pairs, unless max_rounds makes this the last or the deadline
            # passed (end on an exact LP), or on a large pool the last exact LP needed artificials (big-M duals)
            last = max_rounds is not None and len(self.rounds) + 1 >= max_rounds or t0 > deadline
            many = self.rounds and self.rounds[-1].added > PARTIAL_PER_CADRE * len(self.ctx.I)
            few_so_far = sum(r.partial for r in self.rounds) < PARTIAL_MAX
            big_m = self.artificial > 1e-6 and self.n_eligible > EXACT_AFTER_ARTIFICIALS  # big-M duals, large pool
            cap = PARTIAL_ITERATIONS if many and few_so_far and not last and not big_m else None
            if cap is None:
                self.park()  # a smaller LP for an exact re-solve (the pairs unparked when priced positive)
            status = self.run_master(lp_end(), cap)
            t_lp = time.perf_counter() - t0
            sol = h.getSolution()
            # cut by the time limit: any finite duals give a valid bound, so it is the last, partial round (10,000 in
            # play lost an exact round's progress so: the bound stayed the partial rounds', 7.6 % above the plan)
            at_limit, duals = "time limit" in str(status).lower(), np.asarray(sol.row_dual)
            timed_out = at_limit and len(duals) == len(self.active) and bool(np.isfinite(duals).all())
            if not (status in ("optimal", "partial") and sol.dual_valid or timed_out):
                (log.info if at_limit else log.warning)("master LP: %s", status)  # a limit: expected
                break
            partial = status != "optimal"
            z = h.getInfo().objective_function_value
            y = np.zeros(len(self.row_lo))  # every row and cut
            y[self.active] = duals
            if not partial:  # a partial solve's primal solution is not the LP's: the last LP solution is kept
                self._keep_solution(sol)
            rc, _ = self.price(y)
            lag = self.lagrangian(y, rc)
            rc, bound = lag.rc, lag.bound
            positive = (rc > 1e-6) & ~self.in_R
            n_pos = int(np.count_nonzero(positive)) + self.unpark(rc)  # parked pairs priced positive count too
            new_rows = self._violated_lazy_rows() if not partial else np.zeros(0, np.int64)
            rec = LPRound(len(self.rounds) + 1, z, bound, y, n_pos, len(new_rows), time.perf_counter() - t0,
                          self.closure_costs(lag), partial, self.iterations, lag.plain)
            plain = out.plain_low = min(plain, lag.plain)
            if np.isfinite(bound) and bound < out.bound:  # this round's bound, with this round's closure costs
                out.bound, out.rc, out.bound_round, out.duals, out.plain = bound, rec.rc, rec.index, y, lag.plain
                center = y
            pick = rc
            if n_pos and center is not None and center is not y and self.smoothing > 0:
                # Wentges smoothing, when the LP's duals did not improve the bound: price at a point between the
                # best duals so far and the LP's (the duals of a degenerate master jump around; the best ones move
                # slowly). Its bound is valid like any other (:meth:`lagrangian`); its positive pairs are the ones
                # added, unless it prices out (then the LP's)
                ys = self.smoothing * self.pad(center) + (1.0 - self.smoothing) * y
                sm = self.lagrangian(ys)
                if np.isfinite(sm.bound) and sm.bound < out.bound:
                    out.bound, out.rc, out.bound_round, out.duals, out.plain = sm.bound, self.closure_costs(sm), rec.index, ys, sm.plain
                    center = ys
                    rec.bound = min(rec.bound, sm.bound)
                plain = out.plain_low = min(plain, sm.plain)
                rec.plain = min(rec.plain, sm.plain)
                if np.any((sm.rc > 1e-6) & ~self.in_R):
                    pick = sm.rc
            if self.rounds and self.rounds[-1].index != out.bound_round:
                self.rounds[-1].rc = None  # reduced costs kept for the best round and the latest only
            self.rounds.append(rec)
            if not partial:  # a partial solve's value is not the LP value: neither it nor its pricing ends the LP
                out.z, out.priced_out, out.artificial = z, not n_pos, self.artificial
                out.converged = out.priced_out and not len(new_rows)
            log.info("CG round %d%s: LP %.2f, bound %.2f, %d pairs could raise it (reduced cost > 0), %d kinship or specialty "
                     "rows it breaks (LP %.1fs, %d iterations, total %.1fs, peak %.0f MB)", len(self.rounds), " (partial)" if partial else "",
                     z, bound, n_pos, len(new_rows), t_lp, self.iterations, time.perf_counter() - t0, peak_mb())
            # the phase, and the best bound so far (valid for the full model)
            report(progress, 0.0, None, float(out.bound) if np.isfinite(out.bound) else None, f"LP {len(self.rounds)}")
            # the gap rule (plain bound on small pools, B on large ones: KEPT_STOP_ABOVE); cuts within cut_from × it
            reading, exact = plain if len(self.pairs) <= KEPT_STOP_ABOVE else out.bound, not partial and stop_gap > 0
            close, near = (exact and gap_reached(reading, z, f * stop_gap) for f in (1, self.cut_from))
            cut = max_rounds is not None and len(self.rounds) >= max_rounds
            self._pending = (new_rows, pick if n_pos else None)  # this round's additions: now, or when resumed
            certified = np.floor(out.bound + 1e-6) <= stop_bound  # the objective is integral
            if cuts and not (timed_out or cut or certified) and self.cut_now(out, near, partial, lp_end()):
                out.converged = close = False  # the age rows' cuts are in the LP (cuts.py): another round
            elif out.converged or timed_out or time.perf_counter() > lp_end() or close or cut or certified:
                if self.artificial > 1e-6 and out.priced_out:
                    log.info("master LP needs artificial columns at convergence: the LP relaxation is infeasible")
                break
            self._grow(self._pending)
            self._pending = None  # added: a resumed call must not add it again
        self.lp_value = out.z  # the last exact round's (a partial round's value is not the master's LP value)
        out.stopped_early = not out.converged and not close and not cut and np.floor(out.bound + 1e-6) > stop_bound
        return out


LP_UNTIL = 0.75  # the share of the time limit the LP may take while its solution needs artificials (solve_scaled)
DIVE_SHARE = 0.6  # the share of the time left after the LP that the dives (near, then over every pair) may take


def solve_scaled(ctx: Context, time_limit: float, seed: int = 0, progress=None, closure_cap: int = 300_000,
                 gap: float = 0.0, max_rounds: int | None = None, extensions: tuple = ()) -> tuple[BackendResult, Model, dict]:
    """Price-and-branch solve; returns the backend result over the final restricted model, that model, and info.

    Certificate: with the row duals y of one LP round, its reduced costs rc and its Lagrangian bound B, every
    feasible plan x has c·x ≤ B + Σ_{rc_j<0} rc_j·x_j. So a plan worth more than a target T uses only pairs with
    rc > −(B − T). With the master holding all of those (the closure), the global optimum is at most
    max(T, bound of the MIP over the master). B and rc always come from the same round (:class:`LPOutcome`). T is
    the first plan's value z₁ for a proof of optimality, or z₁ plus the allowed gap, which needs far fewer pairs.
    If B ≤ T already, the first plan is certified without another MIP. When no LP round gave duals there is no bound
    at all: the result is ``feasible`` with bound None, never ``optimal``. ``max_rounds`` caps the LP rounds;
    ``extensions`` add terms and rows (:mod:`cadrex.model.core`), priced like the rest."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    cg = ColumnGeneration(ctx, extensions=extensions)
    # half the time for the LP, or up to LP_UNTIL of it while its solution still needs artificial columns (a master
    # without a plan in it gives no plan at all: measured on the tight family at 2,000 in play and the default 60 s)
    lp = cg.solve_lp(t0 + 0.5 * time_limit, stop_gap=gap / 4, max_rounds=max_rounds, progress=progress,
                     until=t0 + LP_UNTIL * time_limit, cuts=cg.first_phase_cuts())
    cg.timings["lp"] = time.perf_counter() - t0 - cg.timings["setup"]
    m, has_bound = cg.model(), bool(np.isfinite(lp.bound))
    info: dict = {"pairs_total": cg.n_eligible, "pairs_priced": len(cg.pairs), "short_list": cg.short_list}
    def describe_lp() -> None:  # the LP phase's keys of the summary (again after resumed rounds)
        info.update({"lp_value": float(lp.z) if np.isfinite(lp.z) else None, "bound_round": lp.bound_round,
                     "lagrangian_bound": float(lp.bound) if has_bound else None, "lp_converged": lp.converged,
                     "age_cuts": len(cg.cut_team)})
        if has_bound and lp.duals is not None and (d := cg.duals_by_label(lp.duals, lp.plain)) is not None:
            info["duals"] = d
    describe_lp()
    def finish(status: str, r: BackendResult | None = None, valid: float | None = None, message: str = ""):
        cg.h, cg._pending, cg.AT = None, None, None  # a master kept open is freed on every path (its memory)
        if status in ("infeasible", "restricted_infeasible"):
            info["cg"] = cg  # the diagnosis works on the pool and rows, not on a full rebuild
        valid = None if valid is not None and not np.isfinite(valid) else valid  # no bound, never an infinite one
        if r is not None and r.x is not None and valid is not None and r.objective > valid + 1e-6:
            log.error("bound %s is below the plan's objective %s: the bound is not reported", valid, r.objective)
            info["bound_inconsistent"] = True
            valid = None
        if status == "optimal" and valid is None:
            status = "feasible"
        info.update({"lp_rounds": len(cg.rounds), "lp_partial_rounds": sum(r.partial for r in cg.rounds),
                     "lp_iterations": sum(r.iterations for r in cg.rounds),
                     "pairs_master": int(cg.in_R.sum()), "cg_rounds": [r.summary() for r in cg.rounds],
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
    # LP rounds may resume after the dive: when cut by time (resumable), or to shrink a large closure (keep_open)
    resumable = has_bound and lp.stopped_early and gap > 0
    capped = max_rounds is not None and len(cg.rounds) >= max_rounds
    keep_open = has_bound and gap > 0 and not (lp.converged or capped or extensions) and len(cg.pairs) <= SHRINK_POOL
    def free_master() -> None:  # no LP round follows: free the master LP, the pricing cache and what glibc kept
        cg.h, cg._pending, cg.AT = None, None, None
        if cg.rounds and cg.rounds[-1].index != lp.bound_round:
            cg.rounds[-1].rc = None  # the closure needs the best round's reduced costs only
        give_back_memory()
    if not (resumable or keep_open):
        free_master()
    B = float(np.floor(lp.bound + 1e-6)) if has_bound else np.inf  # the objective is integral
    report(progress, 0.0, None, B if has_bound else None, "dive")

    def certified(b: float) -> float:  # the bound valid for the model, given a closed closure MIP's own bound b
        return min(B, max(T, float(np.floor(b + 1e-6))))
    def valid_progress(phase: str, closed: bool = False):  # a MIP's progress with the bound valid for the model:
        # over a closed closure ``certified``; otherwise B (the MIP's own bound holds for the master only)
        def shown(elapsed, obj, bound):
            ok = closed and bound is not None and np.isfinite(bound)
            report(progress, elapsed, obj, certified(bound) if ok else (B if has_bound else None), phase)
        return shown if progress is not None else None
    # the dives may take most of what is left, the likeliest source of a plan (tight at 2,000: the master MIP found
    # none in 16 s, the dive one in 21 s); they stop within a share of the gap goal, long before their cap if easy
    t1 = time.perf_counter()
    dive_end = t1 + DIVE_SHARE * (deadline - t1)  # one cap for the dive near the LP and the dive over every pair
    hopeless = hopeless_below(lp.rc, cg.in_R, B, gap, closure_cap) if has_bound and not resumable else None
    r, near = dive(cg, m, seed, max(1.0, dive_end - t1), gap, hopeless=hopeless, certify_at=certified_from(B, gap))

    def closure_of(z: float) -> tuple[float, np.ndarray]:  # the closure's threshold (float32, rc's rounding) and pairs
        above = down32(-(B - closure_target(z, gap)) - 1e-6)
        return above, (np.flatnonzero(~cg.in_R & (lp.rc > above)) if has_bound else np.zeros(0, np.int64))
    def rounds_fit() -> bool:  # 2 rounds like the last exact one, a fifth kept (40 s, 3,000 in play: 1 was not enough)
        return 0.8 * (deadline - time.perf_counter()) > 2 * next((d.secs for d in reversed(cg.rounds) if not d.partial), 0)
    if r is not None and near and has_bound and B > closure_target(r.objective, gap):
        n_more = len(closure_of(r.objective)[1])
        # a better plan may bring the closure within the cap: dive over all (not if the age cuts resume first, below)
        if n_more <= DIVE_AGAIN * closure_cap and not (keep_open and not resumable and n_more <= closure_cap and rounds_fit()):
            log.info("the near dive's plan leaves %d pairs in its closure (at most %d × the cap of %d): the dive over "
                     "every master pair too", n_more, DIVE_AGAIN, closure_cap)
            r2, _ = dive(cg, m, seed, max(1.0, dive_end - time.perf_counter()), gap, near=False, hopeless=hopeless,
                         certify_at=certified_from(B, gap))
            r, near = (r2, False) if r2 is not None and r2.objective > r.objective else (r, near)
    info["first_plan"] = "dive near the LP" if near else "dive over every master pair" if r is not None else "master MIP"
    if r is None:  # no plan from the dive: the MIP over the master
        # all the time left: without a plan there is nothing to certify (tight family, 5,000 in play: with half of
        # it the solve ended at 461 s of 600 with no plan)
        r = solve_mip(m, time_limit=max(1.0, deadline - time.perf_counter()), seed=seed, gap=gap,
                      progress=valid_progress("master MIP"))
        if r.x is None:
            return finish("no_solution" if r.status != "infeasible" else "restricted_infeasible", None, B)
    cg.timings["first_plan"] = time.perf_counter() - t1  # the dive (and the master MIP if the dive gave no plan)
    z1 = r.objective
    T = closure_target(z1, gap)
    # or a closure within the cap, which the resumed rounds' lower bound and age cuts shrink or make needless, in as
    # many rounds again as the LP phase took at most (only where keep_open kept the master: small pool, no extension)
    shrink = keep_open and not resumable and B > T and SHRINK_CLOSURE < len(closure_of(z1)[1]) <= closure_cap
    x_before, z_before = cg.x_lp, lp.z  # the LP solution the dive started from, and its value
    if (resumable or shrink) and B > T and rounds_fit():
        # the bound does not certify the plan: more LP rounds until it does or the LP converges, a fifth of the time
        # kept for the closure MIP (10,000 in play: the bound 0.9 % above a plan 0.03 % below the restricted LP)
        t2, n_before = time.perf_counter(), len(cg.rounds)
        log.info("the bound %.0f does not certify the plan %.0f at the gap goal (target %.0f): more LP rounds", B, z1, T)
        more = max_rounds if resumable else min(max_rounds or np.inf, 2 * n_before)  # a count, not a clock reading
        lp = cg.solve_lp(t2 + 0.8 * (deadline - t2), max_rounds=more,
                         stop_gap=gap / 4 if resumable else 0.0, progress=progress, resume=lp, stop_bound=T,
                         cuts=shrink or cg.first_phase_cuts())  # measured there only (docs/guide.md)
        B = min(B, float(np.floor(lp.bound + 1e-6)))
        cg.timings["lp"] += time.perf_counter() - t2
        t1 += time.perf_counter() - t2  # the closure MIP's time counts from here
        describe_lp()
        info["lp_rounds_after_dive"] = len(cg.rounds) - n_before
    if resumable or keep_open:
        free_master()
    moved = np.isfinite(lp.z) and lp.z > T and not lp.z - z_before <= gap * abs(lp.z)
    if (resumable or shrink) and B > T and cg.x_lp is not x_before and moved:
        # a newer LP solution, worth more than the plan's target and more than the gap goal above the one the dive
        # came from: the dive again, near it (10,000 in play, vacancies: the first dive came from round 2's LP, 2.2 %
        # below the LP after the resumed rounds; strict at 2,000, where the LP moved 0.0002 %, it cost 2-4 s for no plan)
        t3, m3 = time.perf_counter(), cg.model()
        r3, near3 = dive(cg, m3, seed, max(1.0, DIVE_SHARE * (deadline - t3)), gap, certify_at=certified_from(B, gap))
        if r3 is not None and r3.objective > z1:
            r, m, z1, T = r3, m3, r3.objective, closure_target(r3.objective, gap)
            info["first_plan"] = "dive near the LP, again" if near3 else "dive over every master pair, again"
        cg.timings["first_plan"] += time.perf_counter() - t3
    if B <= T:  # certified already
        info |= {"closure_pairs": 0, "closed": True}
        return finish("optimal" if B - z1 < 1 - 1e-6 else "feasible", r, B)
    # the closure: pairs that could still beat T under the bound's own reduced costs (none without a bound)
    above, more = closure_of(z1)
    closed = has_bound and len(more) <= closure_cap
    log.info("closure for target %.0f (first plan %.0f, bound %s): %d pairs%s", T, z1, B if has_bound else "none", len(more),
             "" if closed else (f" > cap {closure_cap}: the bound stays the Lagrangian one" if has_bound else
                                ": no LP round gave duals, so no bound"))
    settled = lp.converged or gap_reached(lp.plain if len(cg.pairs) <= KEPT_STOP_ABOVE else lp.bound, lp.z, gap / 4)
    if has_bound and not closed and gap > 0 and settled and dive_done(r):
        # a MIP over an unclosed master cannot lower B, only polish the plan, which after a settled LP and a dive that
        # reached its own gap it did not do (tight, vacancies, preferences at 2,000 in play: the same plan, after
        # 20-33 s each); with --gap 0, an LP cut short by the time limit or a dive stopped by its time cap, it runs.
        # A plan of the dive near the LP stands here too, a few units below the full dive's (preferences at 2,000:
        # 306,884 for 306,909), within the gap shown: the price of skipping both (docs/guide.md)
        info |= {"closure_pairs": int(len(more)), "closed": False, "master_mip": "skipped"}
        return finish("optimal" if B - z1 < 1 - 1e-6 else "feasible", r, B)
    phase = "closure MIP" if closed else "master MIP"
    report(progress, 0.0, z1, B if has_bound else None, phase)
    x_old = np.zeros(len(cg.pairs), np.float32)
    x_old[m.pair_index] = r.x[: m.n_pairs]
    if closed:
        cg.in_R[more] = True
        # reduced-cost fixing, the same argument inside the master: a plan worth more than T uses no pair with
        # rc <= -(B - T), so the MIP needs only the others (and the first plan's pairs, to keep its hint; pinned pairs)
        keep = cg.in_R & ((lp.rc > above) | (x_old > 0.5))
        keep[cg.pinned] = cg.in_R[cg.pinned]
        info["closure_fixed"] = int(cg.in_R.sum() - keep.sum())
        m2 = cg.model(np.flatnonzero(keep))
    else:
        m2 = cg.model()
    hint = np.concatenate([x_old[m2.pair_index], r.x[m.n_pairs:]])
    r2 = solve_mip(m2, time_limit=max(1.0, deadline - time.perf_counter()), seed=seed, hint=hint, gap=gap,
                   progress=valid_progress(phase, closed),
                   # closed: stop once the target is certified; unclosed, the bound stays B, so once the master's
                   # own bound shows no plan in it reaches B / (1 + gap), the gap goal is out of this master's reach
                   stop_bound=(T if closed else float(np.floor(B / (1.0 + gap)))) if gap > 0 and has_bound else None,
                   # presolve off, closed or not (measured at 2,000 in play: HiGHS spent 20 s probing a closure and
                   # 58 s an unclosed master, for no gain; the root LP and its cuts are what the certificate needs)
                   options={"presolve": "off"})
    cg.timings["closure_mip"] = time.perf_counter() - t1 - cg.timings["first_plan"]
    m = m2
    best = r2 if r2.x is not None and r2.objective >= z1 else BackendResult(r2.status, hint, z1, r2.bound, r2.runtime, r2.message)
    valid = B
    if closed and r2.status == "infeasible":  # no plan avoids the fixed pairs: none is worth more than T
        valid = min(valid, T)
    elif closed and r2.bound is not None and np.isfinite(r2.bound):
        valid = certified(r2.bound)
    info |= {"closure_pairs": int(len(more)), "closed": bool(closed)}
    return finish("optimal" if valid - best.objective < 1 - 1e-6 else "feasible", best, valid)

