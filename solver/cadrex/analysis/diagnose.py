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
message then does not say that dropping one of them makes a plan possible.

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
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadrex.model import BLOCK_RULES, Model, Pairs, RowIndex, assemble, pair_columns
from cadrex.rules.context import Context
from cadrex.rules.eligibility import E_RULES, rule_masks, stay_block

log = logging.getLogger(__name__)

#: seconds the diagnosis gets at least, even when the solve used the whole time limit
DIAG_FLOOR = 2.0
#: instances named in a conflict's message; the rest are counted
MESSAGE_ITEMS = 10
#: the rule a conflict is headed by: the first of these in it (pins first: what the user asked for cannot be met)
HEAD_ORDER = ("H7", "E8", "H5", "H6", "H3", "H4", "H1")

TIMED_OUT = ("a step timed out", "某步超时")
DEADLINE = ("the time limit was reached before the search finished", "搜索未完成即达到时间上限")
NO_TIME = ("no time was left for the search", "没有剩余时间进行搜索")
#: model non-zeros HiGHS loads and starts on per second (measured: 12.8M non-zeros at 2,000 in play took ~2 s to
#: load and ~2 s more before a time limit could stop the first LP): below that budget a search is not started
NNZ_PER_SECOND = 4e6
UNCONFIRMED = ("dropping one of them was not shown to make a plan possible for the whole case",
               "未能证明去掉其中一条即可形成方案")


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
        elif rule in ("H4", "H5", "H6"):
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


def _deletion_filter(chk: _Checker, S: list[int], deadline: float) -> tuple[list[int], tuple[str, str] | None]:
    """Shrink the infeasible set ``S`` (instance numbers) while it stays infeasible: chunks, halved down to single
    instances. An instance leaves only when the set without it is *proven* infeasible. Returns the set and None
    when every single drop was answered (proven feasible on ``chk``'s model), else why not."""
    n = len(chk.inst)
    cap = max(1.0, (deadline - time.perf_counter()) / 4)
    chunk = max(1, len(S) // 2)
    unknown = False
    while True:
        i = 0
        while i < len(S):
            if time.perf_counter() >= deadline:
                return S, DEADLINE
            T = S[:i] + S[i + chunk:]
            r = chk.infeasible(_mask(n, T), deadline, cap)
            if r is True:
                S = T
            else:
                unknown |= r is None and chunk == 1  # a chunk's unknown is retried instance by instance
                i += chunk
        if chunk == 1:
            return S, TIMED_OUT if unknown else None
        chunk = max(1, chunk // 2)


def _search(chk: _Checker, deadline: float, max_conflicts: int, known_infeasible: bool, confirm
            ) -> tuple[list[tuple[list[int], tuple[str, str] | None]], tuple[str, str] | None]:
    """Disjoint conflicts among ``chk``'s instances: [(instance numbers, why not minimal or None)], and why the
    search stopped early (None when it ran out of conflicts or reached ``max_conflicts``)."""
    n = len(chk.inst)
    alive = np.ones(n, bool)
    found: list[tuple[list[int], tuple[str, str] | None]] = []
    first = True
    while alive.any() and len(found) < max_conflicts:
        if time.perf_counter() >= deadline:
            return found, DEADLINE
        if not (first and known_infeasible):  # is what is left still infeasible?
            r = chk.infeasible(alive, deadline)
            if r is None:
                return found, TIMED_OUT
            if r is False:
                break
        S = list(np.flatnonzero(alive))
        sup = chk.ray(alive, deadline)
        if sup is not None:
            start = chk.named(sup, alive)
            if start.any() and start.sum() < len(S) and chk.infeasible(start, deadline) is True:
                S = list(np.flatnonzero(start))
        first = False
        log.info("diagnosis: conflict search from %d of %d instances", len(S), n)
        whole = len(S) == int(alive.sum())
        S, why = _deletion_filter(chk, S, deadline)
        if why == DEADLINE and whole and len(S) == int(alive.sum()):
            return found, DEADLINE  # nothing narrowed down: "everything that is left" is no diagnosis
        if why is None:
            why = confirm(S)
        found.append((S, why))
        alive[S] = False
    return found, None


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
        return [_trivial(ctx, model, rule, label) for rule, label in model.infeasible]
    deadline = _deadline(deadline)
    t0 = time.perf_counter()
    seeds = _propagation_rows(model)
    stopped: tuple[str, str] | None = None
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
    return _ordered([_describe(ctx, [inst[k] for k in S], why) for S, why in found])


def _ordered(conflicts: list[dict]) -> list[dict]:
    """Smallest conflicts first, then by the posts and cadres they name (the same order on every path)."""
    return sorted(conflicts, key=lambda d: (len(d["rules"]), d["posts"], d["cadres"], d["rules"]))


def conflict_found(diagnosis: list[dict]) -> bool:
    """Does ``diagnosis`` name a proven conflict (not only "no conflict isolated")?"""
    return any(d.get("rules") for d in diagnosis)


def _block_codes(block: np.ndarray) -> np.ndarray:
    code = np.zeros(len(block), np.int8)
    for k, rule in enumerate(BLOCK_RULES):
        if rule:
            code[block == rule] = k
    return code


def _propagation_rows(model: Model, chunk: int = 1_000_000) -> np.ndarray:
    """Rows that the column bounds alone break — the least activity above the upper side or the most below the lower
    side (require pins at 1, blocked stays at 0): HiGHS's cheap bound test, one round, as seeds for a scope. In
    row blocks of about ``chunk`` non-zeros (bounded memory on a large model)."""
    A = model.A
    ub = np.where(np.isfinite(model.ub), model.ub, 1e30)
    amin, amax = np.zeros(A.shape[0]), np.zeros(A.shape[0])
    r0 = 0
    while r0 < A.shape[0]:
        r1 = max(r0 + 1, int(np.searchsorted(A.indptr, A.indptr[r0] + chunk, "right")) - 1)
        r1 = min(r1, A.shape[0])
        s, e = A.indptr[r0], A.indptr[r1]
        val, col = A.data[s:e], A.indices[s:e]
        rows = np.repeat(np.arange(r1 - r0), np.diff(A.indptr[r0:r1 + 1]))
        neg = val < 0
        amin[r0:r1] = np.bincount(rows, np.where(neg, ub[col], model.lb[col]) * val, r1 - r0)
        amax[r0:r1] = np.bincount(rows, np.where(neg, model.lb[col], ub[col]) * val, r1 - r0)
        r0 = r1
    return np.flatnonzero((amin > model.row_hi + 1e-9) | (amax < model.row_lo - 1e-9))


class _Scope:
    """Cadres C and posts P (with T, the teams all of whose posts in play are in P) of the relaxation D."""

    def __init__(self, ctx: Context, ri: RowIndex):
        self.ctx, self.ri = ctx, ri
        self.C: set[int] = set()
        self.P: set[int] = set()
        self.T: set[int] = set()
        J = ctx.J
        order = np.argsort(ctx.p_team[J], kind="stable")
        tj = ctx.p_team[J][order]
        cut = np.flatnonzero(np.diff(tj)) + 1
        self.team_posts = {int(g[0]): J[order][s:e] for g, s, e in
                           zip(np.split(tj, cut), np.r_[0, cut], np.r_[cut, len(tj)], strict=True) if len(g)}

    def add_row(self, r: int) -> None:
        rule = self.ri.rule[r]
        cads, posts, teams = self.ri.ent[r]
        if rule in ("H2", "H1", "H4"):
            self.C.update(int(c) for c in cads)
        elif rule in ("H3", "H5"):
            self.P.update(int(p) for p in posts)
        elif rule in ("structure", "H6") and teams:
            t = int(teams[0])
            self.T.add(t)
            self.P.update(int(p) for p in self.team_posts.get(t, ()))

    def covered(self) -> np.ndarray:
        """Per row: are all of its pairs in the full model pairs of C or P?"""
        ri = self.ri
        out = np.zeros(ri.n, bool)
        C, P = self.C, self.P
        T = {t for t in self.T if set(int(p) for p in self.team_posts.get(t, ())) <= P}
        for r, (rule, (cads, posts, teams)) in enumerate(zip(ri.rule, ri.ent, strict=True)):
            if rule in ("H2", "H1"):
                out[r] = cads[0] in C
            elif rule == "H3":
                out[r] = posts[0] in P
            elif rule == "H4":
                out[r] = all(c in C or teams[0] in T for c in cads)
            elif rule == "H5":
                out[r] = all(p in P for p in posts)
            elif rule in ("structure", "H6"):
                out[r] = bool(teams) and teams[0] in T
        return out


def _eligible_pairs(ctx: Context, C: set[int], P: set[int], cells: int = 4_000_000) -> Pairs:
    """Every pair of the full model (eligible moves and stay options, blocked ones too) whose cadre is in ``C`` or
    whose post is in ``P``: from the eligibility rules, not from the column-generation pool (which leaves out moves
    into posts of forced stayers)."""
    Cs = np.array(sorted(C), np.int32)
    Ps = np.array(sorted(P), np.int32)
    keys = [np.zeros(0, np.int64)]

    def moves(ci: np.ndarray, pj: np.ndarray) -> np.ndarray:
        ok = ctx.c_post[ci][:, None] != pj[None, :]
        for v in rule_masks(ctx, ci, pj).values():
            ok &= v
        r, k = np.nonzero(ok)
        return ci[r].astype(np.int64) * ctx.n_post + pj[k]

    if len(Cs) and len(ctx.J):
        bs = max(1, cells // len(ctx.J))
        keys += [moves(Cs[s:s + bs], ctx.J) for s in range(0, len(Cs), bs)]
    if len(Ps) and len(ctx.I):
        bs = max(1, cells // len(Ps))
        keys += [moves(ctx.I[s:s + bs], Ps) for s in range(0, len(ctx.I), bs)]
    mk = np.unique(np.concatenate(keys))
    block = stay_block(ctx)
    has = block != "none"
    sc = ctx.I[has]
    sp_ = ctx.c_post[sc]
    sel = np.isin(sc, Cs) | np.isin(sp_, Ps)
    code_of = {r: i for i, r in enumerate(BLOCK_RULES)}
    sk = sc[sel].astype(np.int64) * ctx.n_post + sp_[sel]
    scode = np.array([code_of[b] for b in block[has][sel]], np.int8)
    key = np.concatenate([mk, sk])
    stay = np.r_[np.zeros(len(mk), bool), np.ones(len(sk), bool)]
    code = np.r_[np.zeros(len(mk), np.int8), scode]
    o = np.argsort(key, kind="stable")
    return Pairs((key[o] // ctx.n_post).astype(np.int32), (key[o] % ctx.n_post).astype(np.int32), stay[o], code[o])


def _model_of(ctx: Context, ri: RowIndex, pairs: Pairs) -> Model:
    """The model over ``pairs`` (objective zero: only feasibility is asked) against the full row index."""
    z = np.zeros(len(pairs))
    return assemble(ctx, ri, pairs, {}, z, z)


def _violated_rows(cg) -> np.ndarray:
    """Rows without auxiliaries (H1–H5) that the column generation's last LP solution violates: the rows that needed
    its phase-I artificials."""
    x = getattr(cg, "x_lp", None)
    if x is None or len(x) != len(cg.pairs):
        return np.zeros(0, np.int64)
    ri = cg.rows
    nz = np.flatnonzero(x > 1e-9)
    r, c, v = pair_columns(cg.ctx, ri, cg.pairs.take(nz))
    act = np.bincount(r, weights=v * x[nz][c], minlength=ri.n)
    rule = np.asarray(ri.rule, dtype=object)
    plain = np.isin(rule, ["H1", "H2", "H3", "H4", "H5"])
    lo, hi = np.asarray(ri.lo, float), np.asarray(ri.hi, float)
    return np.flatnonzero(plain & ((act < lo - 1e-6) | (act > hi + 1e-6)))


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
        return [_trivial(ctx, model, rule, label) for rule, label in trivial]
    if cg is None:
        return [_unproven(None)]
    ri = cg.rows
    scope = _Scope(ctx, ri)
    seeds = [model.row_label.index(label.replace(" — no eligible option", "")) for _, label in model.infeasible]
    seeds += list(_violated_rows(cg)) + list(_propagation_rows(model))
    stopped: tuple[str, str] | None = None

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


def _diagnose_scope(ctx: Context, ri: RowIndex, pool: Pairs, bigger, scope: _Scope, deadline: float,
                    max_conflicts: int) -> tuple[list[dict], tuple[str, str] | None]:
    """Conflicts in the relaxation D of ``scope``, minimality confirmed on restrictions: the pairs of ``pool`` (pairs
    of the full model, with every row of ``ri`` complete for them) that are stays, require pins or touch the scope,
    then ``bigger()`` (a larger such model)."""
    D = _model_of(ctx, ri, _eligible_pairs(ctx, scope.C, scope.P))
    K = scope.covered()
    inst = instances(D, rows=K)
    log.info("diagnosis: relaxation of %d pairs, %d covered rows, %d instances", D.n_pairs, int(K.sum()), len(inst))
    chk = _Checker(D, inst, rows=K)
    restr: list[tuple[_Checker, dict]] = []

    def restriction(level: int) -> tuple[_Checker, dict]:
        while len(restr) <= level:
            if len(restr) == 0:
                keep = pool.stay | np.isin(pool.c, list(scope.C)) | np.isin(pool.p, list(scope.P))
                pk = ctx.pin_c[ctx.pin_require].astype(np.int64) * ctx.n_post + ctx.pin_p[ctx.pin_require]
                keep |= np.isin(pool.c.astype(np.int64) * ctx.n_post + pool.p, pk)
                R = _model_of(ctx, ri, pool.take(np.flatnonzero(keep)))
            else:
                R = bigger()
            r_inst = instances(R)
            restr.append((_Checker(R, r_inst), {i.key: k for k, i in enumerate(r_inst)}))
        return restr[level]

    def confirm(S: list[int]) -> tuple[str, str] | None:
        """Is each single drop of S feasible for the full model? Checked on restrictions (feasible ⇒ the full model
        feasible), first the small one, then the bigger one for the drops still open."""
        todo = list(range(len(S)))
        for level in (0, 1):
            if time.perf_counter() >= deadline:
                break
            chk_r, at = restriction(level)
            if any(inst[k].key not in at for k in S):
                continue
            todo = [d for d in todo if chk_r.infeasible(
                _mask(len(chk_r.inst), [at[inst[k].key] for j, k in enumerate(S) if j != d]), deadline) is not False]
            if not todo:
                return None
        return UNCONFIRMED if time.perf_counter() < deadline else TIMED_OUT

    found, stopped = _search(chk, deadline, max_conflicts, known_infeasible=False, confirm=confirm)
    return _ordered([_describe(ctx, [inst[k] for k in S], why) for S, why in found]), stopped


def _generic() -> dict:
    return {"rule": "", "rules": [], "cadres": [], "posts": [], "teams": [], "irreducible": False, "minimal": False,
            "reason": "no rule instance explains it / 无法归结到具体规则实例",
            "message": "The rules together admit no plan, and no single group of hard-rule instances explains it "
                       "(the conflict lies in the eligibility rules E1–E10 or the one-post-per-cadre rule H2).",
            "message_zh": "现有规则下不存在可行方案, 冲突源于资格条件 (E1–E10) 或一人一岗 (H2)。"}


def _unproven(why: tuple[str, str] | None) -> dict:
    en, zh = why or ("no certificate named the rules involved", "未找到指明相关规则的证书")
    return {"rule": "", "rules": [], "cadres": [], "posts": [], "teams": [], "irreducible": False, "minimal": False,
            "reason": f"{en} / {zh}",
            "message": f"No conflict among the hard rules (H1–H7, E8) was isolated ({en}). Run again with a longer "
                       "--time-limit to get one.",
            "message_zh": f"未能找出硬性规则 (H1–H7、E8) 之间的冲突（{zh}）。请加大 --time-limit 后重新运行。"}


def exclusions(ctx: Context, c: int, posts: np.ndarray) -> list[list[str]]:
    """For cadre ``c`` and each post: every E rule that excludes the move (empty = eligible)."""
    if len(posts) == 0:
        return []
    m = rule_masks(ctx, np.array([c], np.int32), posts.astype(np.int32))
    own = ctx.c_post[c]
    out = []
    for j, p in enumerate(posts):
        r = [k for k, v in m.items() if not v[0, j]]
        if p == own:
            r = ["own post"]
        out.append(r)
    return out


def _excl_text(ctx: Context, c: int, limit: int = 6) -> tuple[str, str]:
    J = ctx.J
    ex = exclusions(ctx, c, J)
    items = [(ctx.post_ids[p], r) for p, r in zip(J, ex, strict=True) if r and r != ["own post"]]
    en = ", ".join(f"{p} ({', '.join(f'{k} {E_RULES[k]}' for k in r)})" for p, r in items[:limit])
    zh = "、".join(f"{p}（{'、'.join(r)}）" for p, r in items[:limit])
    more = len(items) - limit
    if more > 0:
        en += f" … and {more} more"
        zh += f" 等{len(items)}个"
    return en, zh


def _who(ctx: Context, c: int) -> str:
    return f"{ctx.case.cadres.at[ctx.cad_ids[c], 'name']} ({ctx.cad_ids[c]})"


def _why_must(ctx: Context, c: int) -> tuple[str, str]:
    k = ctx.c_kind[c]
    if k in ("mandatory", "avoidance", "disciplinary"):
        return f"exchange kind {k}", f"交流类型为{k}"
    return (f"{ctx.c_years_prov[c]:g} years in {ctx.prov_ids[ctx.c_prov[c]]}",
            f"在{ctx.prov_ids[ctx.c_prov[c]]}任职{ctx.c_years_prov[c]:g}年")


def _trivial(ctx: Context, model: Model, rule: str, label: str) -> dict:
    """A conflict of one instance found while building (an empty row or an ineligible require pin)."""
    d = {"rule": rule, "rules": [rule], "cadres": [], "posts": [], "teams": [], "irreducible": True, "minimal": True,
         "reason": ""}
    if rule == "H7":
        c, p = next((c, p) for j, c, p in model.h7_pins if j < 0 and f"{ctx.cad_ids[c]} -> {ctx.post_ids[p]}" in label)
        ex = exclusions(ctx, c, np.array([p]))[0]
        why = ", ".join(f"{k} {E_RULES[k]}" for k in ex) or ("cadre not in play" if not ctx.c_inplay[c] else
                                                               "post not in play (held by a fixed cadre)")
        d |= {"cadres": [ctx.cad_ids[c]], "posts": [ctx.post_ids[p]], "teams": [ctx.team_ids[ctx.p_team[p]]],
              "message": f"H7: {_who(ctx, c)} is pinned to {ctx.post_ids[p]}, but that pair is excluded: {why}.",
              "message_zh": f"H7: {_who(ctx, c)} 被指定到 {ctx.post_ids[p]}, 但该配对不符合条件: {why}。"}
        return d
    r = model.row_label.index(label.replace(" — no eligible option", ""))
    cads, posts, teams = model.row_ent[r]
    if rule == "H3":
        p = posts[0]
        I = ctx.I
        m = rule_masks(ctx, I, np.array([p], np.int32))
        items = [(ctx.cad_ids[c], [k for k, v in m.items() if not v[i, 0]]) for i, c in enumerate(I)]
        items = [x for x in items if x[1]][:6]
        en = ", ".join(f"{c} ({', '.join(r_)})" for c, r_ in items)
        d |= {"posts": [ctx.post_ids[p]], "teams": [ctx.team_ids[ctx.p_team[p]]],
              "message": f"H3: post {ctx.post_ids[p]} must be filled but no cadre in play is eligible: {en}.",
              "message_zh": f"H3: 职位 {ctx.post_ids[p]} 必须配备, 但没有符合条件的交流人选: {en}。"}
        return d
    c = cads[0]
    en, zh = _excl_text(ctx, c)
    w_en, w_zh = _why_must(ctx, c)
    d |= {"cadres": [ctx.cad_ids[c]],
          "message": f"H1: {_who(ctx, c)} must move ({w_en}) but every post in play is excluded: {en}.",
          "message_zh": f"H1: {_who(ctx, c)} 必须交流（{w_zh}）, 但所有在列职位均不符合条件: {zh}。"}
    return d


def _describe(ctx: Context, iis: list[Instance], why: tuple[str, str] | None) -> dict:
    """A conflict in words: the rule it is headed by, its instances (the first :data:`MESSAGE_ITEMS` in full, the
    rest counted), and whether it is minimal (then dropping any one of them makes a plan possible) or why not."""
    rank = {r: k for k, r in enumerate(HEAD_ORDER)}
    iis = sorted(iis, key=lambda i: (rank.get(i.rule, len(rank)), i.key))
    cads = sorted({ctx.cad_ids[c] for i in iis for c in i.cadres})
    posts = sorted({ctx.post_ids[p] for i in iis for p in i.posts})
    teams = sorted({ctx.team_ids[t] for i in iis for t in i.teams})
    rules = [i.rule for i in iis]
    main = rules[0] if rules else ""
    parts = [_phrase(ctx, i) for i in iis[:MESSAGE_ITEMS]]
    en = "; ".join(e for e, _ in parts)
    zh = "；".join(z for _, z in parts)
    if len(iis) > MESSAGE_ITEMS:
        en += f"; … and {len(iis) - MESSAGE_ITEMS} more"
        zh += f"；…等{len(iis)}项"
    minimal = why is None
    one = len(iis) == 1
    head_en = "This rule instance cannot hold: " if one else f"These {len(iis)} rule instances cannot all hold: "
    head_zh = "以下规则无法满足：" if one else f"以下{len(iis)}条规则无法同时满足："
    if minimal:
        tail_en = " Dropping it makes a plan possible." if one else " Dropping any one of them makes a plan possible."
        tail_zh = "去掉该条即可形成方案。" if one else "去掉其中任意一条即可形成方案。"
    else:
        tail_en = f" Not shown to be minimal ({why[0]}): some of them may not be needed."
        tail_zh = f"未证明为最小冲突（{why[1]}），其中部分规则可能并非必要。"
    return {"rule": main, "rules": rules, "cadres": cads, "posts": posts, "teams": teams, "irreducible": minimal,
            "minimal": minimal, "reason": "" if minimal else f"{why[0]} / {why[1]}",
            "message": head_en + en + "." + tail_en, "message_zh": head_zh + zh + "。" + tail_zh}


def _phrase(ctx: Context, i: Instance) -> tuple[str, str]:
    """One instance in words (English, Chinese)."""
    if i.rule == "H1" and i.kind == "col-ub":
        c = i.cadres[0]
        w_en, w_zh = _why_must(ctx, c)
        ex_en, ex_zh = _excl_text(ctx, c, limit=4)
        return (f"H1: {_who(ctx, c)} must leave {ctx.post_ids[i.posts[0]]} ({w_en}); excluded elsewhere: {ex_en}",
                f"H1: {_who(ctx, c)} 必须离开 {ctx.post_ids[i.posts[0]]}（{w_zh}）")
    if i.rule == "H1":
        c = i.cadres[0]
        w_en, w_zh = _why_must(ctx, c)
        ex_en, ex_zh = _excl_text(ctx, c, limit=4)
        return (f"H1: {_who(ctx, c)} must get a post ({w_en}); excluded: {ex_en}",
                f"H1: {_who(ctx, c)} 必须交流到某一职位（{w_zh}）")
    if i.rule == "H3" and i.kind == "row-hi":
        p = i.posts[0]
        held = f" (held by {_who(ctx, int(ctx.p_holder[p]))})" if ctx.p_holder[p] >= 0 else " (vacant)"
        held_zh = f"（现任 {_who(ctx, int(ctx.p_holder[p]))}）" if ctx.p_holder[p] >= 0 else "（空缺）"
        return (f"H3: post {ctx.post_ids[p]}{held} may have at most one holder",
                f"H3: 职位 {ctx.post_ids[p]}{held_zh}至多一人任职")
    if i.rule == "H3":
        return f"H3: post {ctx.post_ids[i.posts[0]]} must be filled", f"H3: 职位 {ctx.post_ids[i.posts[0]]} 必须配备"
    if i.rule == "H4" and i.kind == "col-ub":
        return (f"H4: {_who(ctx, i.cadres[0])} may not stay beside a fixed relative in {ctx.team_ids[i.teams[0]]}",
                f"H4: {_who(ctx, i.cadres[0])} 与亲属同在 {ctx.team_ids[i.teams[0]]}, 不得留任")
    if i.rule == "H4":
        a, b = i.cadres
        return (f"H4: relatives {_who(ctx, a)} and {_who(ctx, b)} may not both join {ctx.team_ids[i.teams[0]]}",
                f"H4: 亲属 {_who(ctx, a)} 与 {_who(ctx, b)} 不得同在 {ctx.team_ids[i.teams[0]]}")
    if i.rule == "H5":
        ps = ", ".join(ctx.post_ids[p] for p in i.posts)
        return (f"H5: in locality {ctx.t_locality[i.teams[0]]} at most one of the heads' posts {ps} may change holder",
                f"H5: {ctx.t_locality[i.teams[0]]} 党政正职 {ps} 不得同时易人")
    if i.rule == "H6":
        what = i.label.replace("H6 ", "").replace(f"{ctx.team_ids[i.teams[0]]} ", "")
        return (f"H6: team {ctx.team_ids[i.teams[0]]} may not get worse on hard structure rule {what}",
                f"H6: 班子 {ctx.team_ids[i.teams[0]]} 的硬性结构要求（{what}）不得变差")
    if i.rule == "H7":
        return (f"H7: {_who(ctx, i.cadres[0])} is pinned to {ctx.post_ids[i.posts[0]]}",
                f"H7: {_who(ctx, i.cadres[0])} 被指定到 {ctx.post_ids[i.posts[0]]}")
    if i.rule == "E8":
        return (f"E8: {_who(ctx, i.cadres[0])} is pinned away from its own post {ctx.post_ids[i.posts[0]]}",
                f"E8: {_who(ctx, i.cadres[0])} 被禁止留任 {ctx.post_ids[i.posts[0]]}")
    return f"{i.rule}: {i.label}", f"{i.rule}: {i.label}"
