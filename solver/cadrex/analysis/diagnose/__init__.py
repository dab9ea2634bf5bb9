"""Infeasibility diagnosis (SPEC §7 ``diagnosis.json``): small sets of rule instances that cannot all hold, in words.

**Instances.** The rule instances that can be relaxed: H1 (a must-move holder's stay option, or a non-holder's "gets a
post"), H3 (a must-fill post's lower side *and* every post's "at most one holder" upper side), H4 (kin rows, and a
stay beside a fixed relative), H5 (one row per locality), H6 (hard structure rows and caps), H7 (require pins), E8 (a
forbid pin on one's own post). Everything else is the *core*, always enforced: H2 (one post per cadre), eligibility
E1–E10 (pairs that do not exist), the soft structure and flow rows (they have shortfall variables). The core alone
is always feasible: every holder keeps its post.

**Search.** Certificate first, then a deletion filter over only what it names. Certificates: (a) the rows that the
column bounds alone break (require pins at 1, blocked stays at 0: two pins on one post break its H3 row) and, with
column generation, the rows its LP solution violates: these start a *scope* search (below); (b) the Farkas (dual)
ray of the LP relaxation, solved by the dual simplex without presolve: the instances on the rows and bounds it uses
are infeasible on their own (the ray stays a certificate when rows and bounds it does not use are relaxed). Without a
ray (the LP is feasible and only the integers conflict) the start set is every instance. The deletion filter drops
chunks, halved down to single instances, each step a HiGHS feasibility solve with every other instance relaxed; then
the same on what is left, for up to ``max_conflicts`` disjoint conflicts.

**What is claimed.** Every conflict reported is *proven* infeasible: an instance leaves the set only when a solve
proved the set without it infeasible. A conflict is ``minimal`` (and ``irreducible``, the older key, equal to it)
only when dropping each one of its instances was proven feasible *for the full model*. A step that hit its time cap
or the deadline proves nothing: the instance stays and the conflict gets ``minimal: false`` with a ``reason``; its
message then does not say that dropping one of them resolves the conflict. A minimal conflict never claims that a
plan exists without it. ``more_conflicts_possible`` (on every entry) is false only when relaxing every instance of
the conflicts found was proven feasible (no conflict lies outside them); else the last message says more may exist.

**Time.** Solve and diagnosis share ``--time-limit``: the diagnosis runs until the solve's own deadline, and gets at
least :data:`DIAG_FLOOR` seconds when the solve used everything (enough for the certificate of a small conflict).

**Scope search** — how column generation (:func:`diagnose_cg`, national scale: the full model does not fit in
memory) is diagnosed, and a large full model first: sets of cadres C and posts P, from the rows of (a) or, failing
that, from the Farkas ray of the restricted master. Two models are built against the full row index:

- the *relaxation* D: every eligible pair of the full model with its cadre in C or its post in P (computed from the
  eligibility rules, so pairs the column-generation pool left out are there too), and only the rows *covered* by
  them: a row whose every pair of the full model is in D (an H2 row of a cadre in C, an H3 row of a post in P, the
  rows of a team all of whose posts in play are in P, an H5 row whose head posts are in P, a kin row whose cadres are
  in C). Dropping rows relaxes; and since a covered row has all its columns, leaving out the other columns (which
  then touch no kept row) loses nothing. So D infeasible ⇒ the full model infeasible, for the same enforced set: the
  deletion filter's "infeasible" answers, which alone shrink a conflict, are sound. Dropping *columns* only would be
  a restriction (an infeasible restricted master proves nothing), which is why D is built from eligibility and not
  from the master.
- the *restriction* R: a subset of the full model's pairs (every stay option, every require-pin pair, the pool pairs
  of C and P; then the restricted master too) with *all* rows. R feasible ⇒ the full model feasible, for the same
  enforced set: the pairs left out are set to 0 (the pool's row index lacks only kin and specialty rows that no pool
  pair enters, and a plan of R meets those with nothing in them). Minimality (each single drop feasible) is confirmed on R; when R cannot confirm a drop the conflict
  is reported with ``minimal: false``.

**Layout.** This module: the entry points (:func:`diagnose_full`, :func:`diagnose_cg`, :func:`conflict_found`) and
the time budget; ``checker`` the instances and the feasibility oracle; ``search`` the deletion filter and the
conflict loop; ``scope`` the relaxation D and restrictions R; ``text`` the conflicts in words.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from cadrex.analysis.diagnose.checker import Instance, _Checker, _mask, instances
from cadrex.analysis.diagnose.scope import (
    _block_codes,
    _diagnose_scope,
    _eligible_pairs,
    _model_of,
    _propagation_rows,
    _Scope,
    _violated_rows,
)
from cadrex.analysis.diagnose.search import (
    DEADLINE,
    NO_TIME,
    TIMED_OUT,
    UNCONFIRMED,
    _deletion_filter,
    _search,
)
from cadrex.analysis.diagnose.text import (
    HEAD_ORDER,
    MESSAGE_ITEMS,
    _describe,
    _generic,
    _more,
    _ordered,
    _phrase,
    _trivial,
    _unproven,
    exclusions,
)
from cadrex.i18n import Msg
from cadrex.model import Model, Pairs
from cadrex.rules.context import Context

log = logging.getLogger(__name__)

#: seconds the diagnosis gets at least, even when the solve used the whole time limit
DIAG_FLOOR = 2.0
#: model non-zeros HiGHS loads and starts on per second (measured: 12.8M non-zeros at 2,000 in play took ~2 s to
#: load and ~2 s more before a time limit could stop the first LP): below that budget a search is not started
NNZ_PER_SECOND = 4e6
#: why conflicts found while building the model may not be all: the search was not run
BUILT = Msg("diag.built")


def _deadline(deadline: float) -> float:
    return max(deadline, time.perf_counter() + DIAG_FLOOR)


def diagnose(model: Model, max_conflicts: int = 5, time_limit: float = 60.0) -> list[dict]:
    """Conflicts of an infeasible full model, searched for ``time_limit`` seconds (see :func:`diagnose_full`)."""
    return diagnose_full(model, time.perf_counter() + time_limit, max_conflicts)


def diagnose_full(model: Model, deadline: float, max_conflicts: int = 5) -> list[dict]:
    """Diagnosis of an infeasible full model until the solve's own ``deadline`` (``time.perf_counter()`` clock; at
    least :data:`DIAG_FLOOR` s). Trivial conflicts found while building come first and alone. Then the scope search
    (as for column generation) from the rows the column bounds alone break (e.g. two pins on one post), which finds
    small conflicts fast on any size; failing that, the search over every instance of the full model, where every
    answer is on the full model itself."""
    ctx = model.ctx
    if model.infeasible:
        return _more([_trivial(ctx, model, rule, label) for rule, label in model.infeasible], BUILT)
    deadline = _deadline(deadline)
    t0 = time.perf_counter()
    seeds = _propagation_rows(model)
    stopped: Msg | None = None
    if len(seeds) and model.rows is not None:
        pool = Pairs(model.pair_c, model.pair_p, model.pair_stay, _block_codes(model.pair_block))
        scope = _Scope(ctx, model.rows)
        for r in seeds:
            scope.add_row(int(r))
        out, stopped = _diagnose_scope(ctx, model.rows, pool, lambda: model, scope, deadline, max_conflicts)
        log.info("diagnosis (bound propagation): scope %d cadres, %d posts -> %d conflict(s), %.1fs", len(scope.C),
                 len(scope.P), len(out), time.perf_counter() - t0)
        if out:
            return out
    if deadline - time.perf_counter() < model.A.nnz / NNZ_PER_SECOND:
        log.warning("diagnosis: %.1fs left, too little for a model of %d non-zeros", deadline - t0, model.A.nnz)
        return [_unproven(stopped or NO_TIME)]
    inst = instances(model)
    chk = _Checker(model, inst)
    found, stopped = _search(chk, deadline, max_conflicts, known_infeasible=True, confirm=lambda S: None)
    log.info("diagnosis: %d conflict(s) from %d instances in %d feasibility solves (%d unanswered), %.1fs",
             len(found), len(inst), chk.solves, chk.unknown, time.perf_counter() - t0)
    if not found:
        return [_unproven(stopped) if stopped else _generic()]
    return _more(_ordered([_describe(ctx, [inst[k] for k in S], why) for S, why in found]), stopped)


def conflict_found(diagnosis: list[dict]) -> bool:
    """Does ``diagnosis`` name a proven conflict (not only "no conflict isolated")?"""
    return any(d.get("rules") for d in diagnosis)


def diagnose_cg(ctx: Context, model: Model, info: dict, deadline: float, max_conflicts: int = 5) -> list[dict]:
    """Diagnosis of a case that column generation found infeasible, without the full model. ``model`` is the
    restricted master, ``info["cg"]`` the :class:`cadrex.solvers.cg.ColumnGeneration` state (pool, rows, last LP
    solution). Searches the relaxation D of a scope started from the rows the LP violates and those the bounds
    alone break (then from the master's Farkas ray), confirms minimality on the restriction R (see the module
    docstring). Sound even when the column generation did not converge (``restricted_infeasible``): a conflict is
    reported only when D proves it, else one entry without rules (:func:`conflict_found` is then False)."""
    deadline = _deadline(deadline)
    t0 = time.perf_counter()
    cg = info.get("cg")
    trivial = [(rule, label) for rule, label in model.infeasible if rule in ("H3", "H7")]
    if trivial:  # an ineligible pin, or a post no cadre is eligible for (the pool has every such pair)
        return _more([_trivial(ctx, model, rule, label) for rule, label in trivial], BUILT)
    if cg is None:
        return [_unproven(None)]
    ri = cg.rows
    scope = _Scope(ctx, ri)
    seeds = [model.row_label.index(label.replace(" — no eligible option", "")) for _, label in model.infeasible]
    seeds += list(_violated_rows(cg)) + list(_propagation_rows(model))
    stopped: Msg | None = None

    def everything() -> Model:
        keep = cg.pairs.stay | cg.in_R | np.isin(cg.pairs.c, list(scope.C)) | np.isin(cg.pairs.p, list(scope.P))
        return _model_of(ctx, ri, cg.pairs.take(np.flatnonzero(keep)))

    for attempt in ("LP solution and bounds", "master ray"):
        if attempt == "master ray":
            m_inst = instances(model)
            sup = _Checker(model, m_inst).ray(np.ones(len(m_inst), bool), deadline)
            seeds = list(sup[0]) if sup is not None else []
        if not seeds:
            continue
        for r in seeds:
            scope.add_row(int(r))
        out, stopped = _diagnose_scope(ctx, ri, cg.pairs, everything, scope, deadline, max_conflicts)
        log.info("diagnosis (column generation, %s): scope %d cadres, %d posts -> %d conflict(s), %.1fs", attempt,
                 len(scope.C), len(scope.P), len(out), time.perf_counter() - t0)
        if out:
            return out
        if time.perf_counter() >= deadline:
            break
    return [_unproven(stopped)]


__all__ = ["BUILT", "DEADLINE", "DIAG_FLOOR", "HEAD_ORDER", "MESSAGE_ITEMS", "NNZ_PER_SECOND", "NO_TIME", "TIMED_OUT",
           "UNCONFIRMED", "Instance", "_Checker", "_Scope", "_block_codes", "_deletion_filter", "_describe",
           "_diagnose_scope", "_eligible_pairs", "_generic", "_mask", "_more", "_model_of", "_ordered", "_phrase",
           "_propagation_rows", "_search", "_trivial", "_unproven", "_violated_rows", "conflict_found", "diagnose",
           "diagnose_cg", "diagnose_full", "exclusions", "instances"]
