"""The pair pool of column generation: every eligible pair minus the moves that forced stays close (H2 + H3,
:func:`_drop_dead`), their objective coefficients (with any extension's terms), the 以岗选人 short list over every
eligible pair, and the pairs of the first master."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from cadrex.model import Pairs, all_pairs, pair_objective
from cadrex.rules.context import Context
from cadrex.rules.scores import short_list, top_candidates
from cadrex.solvers.cg.pricing import _top_k, _top_per_group, map_chunks

log = logging.getLogger(__name__)


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


@dataclass
class Pool:
    """The pool: its pairs, their objective coefficients (float32: integers, exact) and weighted scores (int32),
    how many pairs were eligible before forced stays closed posts, and the short list over all of those."""

    pairs: Pairs
    obj: np.ndarray
    score: np.ndarray
    n_eligible: int
    short_list: dict[str, list[str]]


def build_pool(ctx: Context, chunk: int, extensions: tuple = ()) -> Pool:
    """The pool of ``ctx``, objective coefficients computed ``chunk`` pairs at a time (the unweighted terms are not
    kept)."""
    every = all_pairs(ctx)
    n_eligible = len(every)  # every stay option and eligible move, before forced stays close posts
    kept = _drop_dead(ctx, every)
    pairs = every if kept.all() else every.take(np.flatnonzero(kept))
    # the 以岗选人 short list is taken over every eligible pair, the dropped ones included (one definition for
    # every method): chunk by chunk, the top k of each chunk, then the top k of their union
    def shortlist_part(sub: Pairs, sc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = top_candidates(ctx, sub.c, sub.p, sc, sub.ok)
        return sub.c[t], sub.p[t], sc[t]

    gone = np.flatnonzero(~kept)

    def gone_part(sl: slice):
        sub = every.take(gone[sl])
        return shortlist_part(sub, pair_objective(ctx, sub)[1])
    short = map_chunks(gone_part, len(gone), chunk)  # in chunk order, on both cores
    every = kept = gone = None  # free them before the objective of the pool
    n = len(pairs)
    obj = np.empty(n, np.float32)
    score = np.empty(n, np.int32)

    def part(sl: slice):
        sub = pairs.take(np.arange(sl.start, sl.stop))
        _, sc, ob = pair_objective(ctx, sub, extensions)
        obj[sl], score[sl] = ob, sc
        return shortlist_part(sub, sc)
    short += map_chunks(part, n, chunk)
    out: dict[str, list[str]] = {}
    if short:
        sc_, sp_, ss_ = (np.concatenate(a) for a in zip(*short, strict=True))
        out = short_list(ctx, sc_, sp_, top_candidates(ctx, sc_, sp_, ss_, np.ones(len(sc_), bool)))
    return Pool(pairs, obj, score, n_eligible, out)


#: best pairs per cadre and per post in a warm-started first master (a re-plan: the baseline's pairs are in it).
#: Measured on a 2,000-in-play re-plan with 5 declines (smoothing 0.5): LP phase 17.9 s with 20, 6.1 s with 5,
#: 4.8 s with 2, 5.3 s with 1 — the rest of the baseline needs few other pairs, and a small master re-solves fast.
WARM_K_INIT = 2


#: best pairs per cadre and per post in the first master: K_INIT_SMALL on pools of at most SMALL_POOL pairs (about
#: 2,000 in play), K_INIT above. Measured (session 16, `cadrex solve CASE --gap g` on the seven families, 20 -> 10): at
#: 2,000 in play `must_move` 20.2 -> 9.6 s, `vacancies` 18.6 -> 9.6, `strict` 20.8 -> 14.3, `tight` 19.2 -> 17.8,
#: `base` 16.6 -> 16.0, `preferences` 10.5 -> 9.7, `big_provinces` 15.2 -> 15.4 (a smaller master: a faster first
#: LP and near dive); at 5,000 the median fell but `tight` went from 201.5 to 265.7 s (its dive MIP 115 s): 20 there
K_INIT, K_INIT_SMALL, SMALL_POOL = 20, 10, 3_000_000


#: the status-quo repair also takes a matching of must-move cadres into open posts (round-1 artificial units at
#: 10,000 in play, vacancies: 94 -> 4; benchmarks/README.md, sessions 22-23)
MATCH_REPAIR = True


def _matching(c: np.ndarray, p: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices of the pairs of a matching of cadres ``c`` to posts ``p`` that covers as many cadres as any matching
    does, of the largest total ``value`` among those when one covers every cadre (else of most cadres only)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

    if not len(c):
        return np.zeros(0, np.int64)
    uc, ci = np.unique(c, return_inverse=True)
    up, pi = np.unique(p, return_inverse=True)
    w = (float(value.max()) + 1.0 - value).astype(float)  # positive: explicit entries are edges
    g = sp.csr_matrix((w, (ci, pi)), shape=(len(uc), len(up)))
    try:
        rows, cols = min_weight_full_bipartite_matching(g) if len(uc) <= len(up) else (None, None)
    except ValueError:  # no matching covers every cadre: one of most cadres
        rows = None
    if rows is None:
        m = maximum_bipartite_matching(g.astype(bool).tocsr(), perm_type="column")
        rows = np.flatnonzero(m >= 0)
        cols = m[rows]
    key = ci.astype(np.int64) * len(up) + pi
    want = np.asarray(rows, np.int64) * len(up) + np.asarray(cols, np.int64)
    return np.flatnonzero(np.isin(key, want))


def first_master(ctx: Context, pairs: Pairs, obj: np.ndarray, k_init: int | None = None, extensions: tuple = ()) -> np.ndarray:
    """Mask of the pairs of the first master: every stay option (blocked ones too: the diagnosis relies on them),
    the ``k_init`` best pairs of each cadre and of each post (None: :data:`K_INIT` or, on a small pool,
    :data:`K_INIT_SMALL`), a status-quo repair, the H7 require pins and the pairs each extension asks for (a
    re-plan's baseline pairs: its warm start; the best pairs per cadre and post are then only :data:`WARM_K_INIT`)."""
    if k_init is None:
        k_init = K_INIT_SMALL if len(pairs) <= SMALL_POOL else K_INIT
    ok = pairs.ok
    warm = [w for w in (ext.master_pairs(ctx, pairs) for ext in extensions) if w is not None]
    if warm:
        k_init = min(k_init, WARM_K_INIT)
    keep = np.zeros(len(pairs), bool)
    keep[pairs.stay] = True
    keep[_top_k(pairs.c, obj, k_init, ok)] = True
    keep[_top_k(pairs.p, obj, k_init, ok)] = True
    # a status-quo repair: the best pairs between cadres who must move and the posts open if everyone else stays
    # (vacant, or held by one who must move), so that the first master has a plan and phase I is short
    must = np.zeros(ctx.n_cad, bool)
    must[ctx.I[ctx.c_must[ctx.I]]] = True
    openp = np.zeros(ctx.n_post, bool)
    openp[ctx.J[(ctx.p_holder[ctx.J] < 0) | must[np.maximum(ctx.p_holder[ctx.J], 0)] & (ctx.p_holder[ctx.J] >= 0)]] = True
    rep = np.flatnonzero(ok & must[pairs.c] & openp[pairs.p])
    keep[rep[_top_per_group(pairs.c[rep], obj[rep], k_init)]] = True
    keep[rep[_top_per_group(pairs.p[rep], obj[rep], k_init)]] = True
    if MATCH_REPAIR:
        keep[rep[_matching(pairs.c[rep], pairs.p[rep], obj[rep])]] = True
    keep |= _pinned(ctx, pairs)  # H7 require pins
    for want in warm:
        keep |= want & ok
    return keep
