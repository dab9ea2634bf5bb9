"""The dive of column generation: a first plan from the master LP's solution (:func:`dive`), to be certified by
the closure of :func:`cadrex.solvers.cg.driver.solve_scaled`. The pairs the LP sets to 1 are fixed and the small MIP
over the rest is solved (:func:`cadrex.solvers.cg.fixing.solve_fixed`); first over the pairs near the LP optimum
only, then, if that MIP has no plan or the driver asks for it, over every master pair."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from cadrex.model import Model
from cadrex.solvers.base import BackendResult
from cadrex.solvers.cg.bound import closable_from
from cadrex.solvers.cg.fixing import solve_fixed
from cadrex.solvers.cg.pool import SMALL_POOL
from cadrex.solvers.highs import solve_model as solve_mip
from cadrex.solvers.highs.translate import STOPPED_AT_NODES, STOPPED_AT_PLAN, STOPPED_NEAR

log = logging.getLogger(__name__)

#: the dive first leaves out the pairs the last LP sets to 0 at a reduced cost below -DIVE_RC (objective units): a
#: MIP near the LP optimum, where HiGHS finds a plan long before its sub-MIPs do over every pair (5,000 in play,
#: base: 2.4-14 s instead of 31 s; benchmarks/README.md, session 13). Its plan may be a few units worse
DIVE_RC = 5.0

#: when the near plan is not certified by the LP bound alone, the dive over every pair runs too (from scratch: a
#: start within the dive's gap would end it at once) if the near plan's closure is at most DIVE_AGAIN times the
#: closure cap: a plan a few units better shrinks the closure severalfold (strict family, 2,000 in play: 320k pairs
#: for the near plan, 86k for the full dive's, 27 units better; base: 43k and 8k). Past that the bound stays the
#: LP's whatever the plan (vacancies 781k, tight 1.3M pairs: as large after the full dive), and the dive is skipped
DIVE_AGAIN = 2

#: an LP phase stopped by its gap rule resumes after the dive when the plan's closure is over SHRINK_CLOSURE pairs
#: (and within the cap), on pools of at most SHRINK_POOL pairs: there the master LP and the pricing cache stay open
#: through the dive (at 5,000 in play they would add ~300 MB to the dive's peak; the plans there were certified by
#: the LP bound alone). Measured at 2,000 in play: benchmarks/README.md, session 16. 0 since the resumed rounds end
#: with the age rows' cuts (cuts.py), which certify most plans without the closure MIP (session 28)
SHRINK_CLOSURE = 0
SHRINK_POOL = SMALL_POOL  # the pools where the first master is small too (pool.py)

#: the dive stops within this share of the allowed gap (measured: see benchmarks/README.md, issue 17)
DIVE_GAP_SHARE = 0.25

#: HiGHS's presolve for the dive: the initial sweep only (5,000 in play, base: its probing took 13 s of a 55 s dive
#: over the reduced MIP; 17 s in all with the sweep, the same plan. benchmarks/README.md, session 11). A cut pool of
#: 1,000 (HiGHS's default 10,000): the dive wants a plan, and HiGHS found it sooner with fewer root cuts kept. Measured
#: on the near dives' MIPs written out at 5,000 in play (seed 1): base 13.3 -> 7.7 s, vacancies 36.5 -> 24.8 s,
#: preferences 8.1 -> 7.7 s, big_provinces 6.9 -> 7.6 s; at 2,000 (seed 2) tight 40.5 -> 38.0 s with a better plan
#: (266,010 for 265,984), vacancies 3.8 -> 4.3 s, preferences 2.5 -> 1.6 s (benchmarks/README.md, session 26)
#: The node cap (:data:`DIVE_NODES`) is passed beside these: work, not time, ends a long dive, so that its plan and
#: the path after it are the same on a loaded machine (session 31; the time cap is left as a guard of the time limit)
DIVE_OPTIONS = {"presolve_mode": 1, "mip_pool_soft_limit": 1000}

#: the dive MIPs' node cap. At 2,000 and 5,000 in play every family's near dive ends at its root except `tight`:
#: 193 nodes at 2,000 (s2, its goal reached), 282 at 5,000 (s2: its plan 664,399 found at node 282 after 121 s; on a
#: loaded machine its 100 s time cap stopped it first with 664,093 and the master MIP ran to the time limit)
DIVE_NODES = 500
#: the near dive's share of the dives' time cap (half before the node cap: 138 s at 5,000, tight s2, 121 s needed)
NEAR_SHARE = 0.75


#: whether the dives stop at their first plan the bound certifies (``certify_at``). Off: on the default path it never
#: fired at 2,000 in play and at 5,000 it gave worse plans in the same time (must_move s1 774,147 -> 773,757, strict
#: s1 769,202 -> 768,882, within the 0.1 % goal; session 30). It pays with the age cuts at 5,000 (tight s2: near dive
#: 117 s -> 32 s), which are not on by default there (docs/guide.md)
STOP_AT_CERTIFIED = False


def hopeless_below(rc: np.ndarray, in_R: np.ndarray, B: float, gap: float, cap: int) -> tuple | None:
    """:func:`dive`'s ``hopeless`` for the bound ``B`` and its reduced costs ``rc`` (None with no gap goal: a proof
    wants the best plan the dive can give). The driver passes none when the LP rounds resume after the dive (an LP
    phase cut by the time limit): B then drops, and a plan hopeless under the old B may be closable. It does pass one
    when the rounds resume only to shrink a closure within the cap (the driver's ``keep_open``, the age cuts): the
    stop was measured there (session 27, `tight` at 2,000: 52 -> 27 s), and the first phase's cuts have lowered B
    already; a plan stopped there is judged again by the closure after the resumed rounds."""
    if gap <= 0:
        return None
    return (B, closable_from(rc, in_R, B, gap, DIVE_AGAIN * cap), closable_from(rc, in_R, B, gap, cap))


def dive_done(r: BackendResult) -> bool:
    """The dive's MIP reached its own goal (its gap, a plan near its bound (``hopeless``), a plan the model's bound
    certifies (``certify_at``)) or its node cap (:data:`DIVE_NODES`), not its time cap."""
    return r.status == "optimal" or r.message in (STOPPED_NEAR, STOPPED_AT_PLAN, STOPPED_AT_NODES)


def dive(cg, m: Model, seed: int, time_cap: float, gap: float = 0.0,
         near: bool = True, hopeless: tuple[float, float, float] | None = None,
         certify_at: float = np.inf) -> tuple[BackendResult | None, bool]:
    """A first plan: fix the pairs the LP relaxation sets to 1 and solve the small MIP over the rest, to within
    ``DIVE_GAP_SHARE`` of the allowed ``gap`` (a plan, not a proof: the closure certifies it). ``cg``: the
    :class:`~cadrex.solvers.cg.driver.ColumnGeneration` after its LP phase; ``m``: its master. ``near``: first over
    the pairs near the LP optimum only (:data:`DIVE_RC`, :data:`NEAR_SHARE` of ``time_cap`` at most), over all of
    them if that MIP has no plan; not when the last LP solution still needs artificial columns (its reduced costs then
    carry the big-M duals). Each MIP stops at :data:`DIVE_NODES` nodes at most; ``time_cap`` guards the time limit.
    ``hopeless``: ``(B, near_below, all_below)``, the model's bound and, for the MIP near the LP and the one over every
    pair, the restricted bound below which even that MIP's best plan leaves a closure over the cap (twice the cap near
    the LP) and is not certified by ``B`` alone (:func:`hopeless_below`): there the MIP stops once its plan is within
    ``DIVE_GAP_SHARE`` of the distance from its bound to ``B`` (:data:`cadrex.solvers.highs.translate.STOPPED_NEAR`).
    ``certify_at``: the plan value the model's bound certifies at the gap goal
    (:func:`~cadrex.solvers.cg.bound.certified_from`): with :data:`STOP_AT_CERTIFIED` on, a MIP stops at its first plan
    worth that much (tight, 5,000 in play, age cuts on: the near dive ran to its 117 s cap
    for 664,517 where 664,156 was certified already).
    Returns the plan (None: no plan) and whether it came from the MIP near the LP."""
    if cg.x_lp is None:
        return None, False
    one = cg.x_lp[m.pair_index] > 1 - 1e-6
    bad = cg.rows_off_in_lp_solution()
    if len(bad) and m.A.shape[0] == cg.rows.n:
        # an LP phase cut short may end with an LP solution that still leans on artificial columns, or before the
        # lazy rows it violates were solved with: the pairs on those rows stay free, or fixing them makes the dive
        # infeasible (tight family, 5,000 in play: no plan at all in 600 s)
        on_bad = np.unique(m.A[bad].indices)
        one[on_bad[on_bad < m.n_pairs]] = False
        log.info("LP dive: %d rows off in the LP solution (artificial or lazy): their pairs are not fixed", len(bad))
    m = cg.cut_model(m)  # the age cuts as rows (cuts.py): the MIPs' bounds then read like the cut LP's
    end = time.perf_counter() + time_cap
    def stop(i: int) -> dict:  # the near MIP's stop (1) or the stop of the MIP over every pair (2)
        return {"stop_near": (hopeless[0], DIVE_GAP_SHARE, hopeless[i])} if hopeless else {}
    kw = {"seed": seed, "gap": DIVE_GAP_SHARE * gap, "options": DIVE_OPTIONS | {"mip_max_nodes": DIVE_NODES},
          "quiet": True,  # it logs its own lines
          "stop_plan": certify_at if STOP_AT_CERTIFIED and np.isfinite(certify_at) else None}
    if near and cg.rc_master is not None and cg.artificial <= 1e-6:
        # first over the pairs near the LP optimum: those the last LP uses or prices above -DIVE_RC. HiGHS found a
        # plan there in a fraction of the time its sub-MIPs took over every pair (benchmarks/README.md, session 13)
        far = (cg.master_rc(m.pair_index) < -DIVE_RC) & (cg.x_lp[m.pair_index] < 1e-9) & (m.lb[: m.n_pairs] == 0)
        ub = m.ub.copy()
        ub[: m.n_pairs][far] = 0.0
        r, sub = solve_fixed(dataclasses.replace(m, ub=ub), one, solve_mip, time_limit=NEAR_SHARE * time_cap, **kw,
                             **stop(1))
        log.info("LP dive near the LP (%d far pairs left out): %d of %d master pairs fixed at 1, %d left in its MIP "
                 "-> %s %s (%s, %s)", int(far.sum()), int(one.sum()), m.n_pairs, sub.n_pairs, r.status, r.objective,
                 r.message, ", ".join(r.log))
        if r.x is not None:
            return r, True
    # if fixing every one is infeasible (the LP's fractional rest cannot be completed), once more with only the stays
    # at 1 fixed: the status quo of most of the case, the moves left to the MIP
    for fix in (one, one & m.pair_stay):
        # the MIP without the columns the fixings set to 0 (HiGHS's presolve took seconds on them)
        r, sub = solve_fixed(m, fix, solve_mip, time_limit=max(1.0, end - time.perf_counter()), **kw, **stop(2))
        log.info("LP dive: %d of %d master pairs fixed at 1, %d left in its MIP -> %s %s (%s, %s)", int(fix.sum()),
                 m.n_pairs, sub.n_pairs, r.status, r.objective, r.message, ", ".join(r.log))
        if r.x is not None or r.status != "infeasible" or not np.any(one & ~m.pair_stay) or time.perf_counter() > end:
            break
    return (r if r.x is not None else None), False
