"""Diagnosis on a *scope* of cadres and posts (see the package docstring): the seed rows (bounds alone, the
column generation's LP), the relaxation D built from eligibility and the restrictions R that confirm minimality."""

from __future__ import annotations

import logging
import time

import numpy as np

from cadrex.analysis.diagnose.checker import _Checker, _mask, instances
from cadrex.analysis.diagnose.search import DEADLINE, TIMED_OUT, UNCONFIRMED, _search
from cadrex.analysis.diagnose.text import _describe, _more, _ordered
from cadrex.i18n import Msg
from cadrex.model import BLOCK_RULES, Model, Pairs, RowIndex, assemble, pair_columns
from cadrex.rules.context import Context
from cadrex.rules.eligibility import rule_masks, stay_block

log = logging.getLogger("cadrex.analysis.diagnose")

#: why a scope search may have missed conflicts: relaxing those it found was not shown to leave a plan possible
SCOPE = Msg("diag.scope")


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
    nz = x.support(1e-9)  # cadrex.solvers.cg.rounds.PoolValues
    r, c, v = pair_columns(cg.ctx, ri, cg.pairs.take(nz))
    act = np.bincount(r, weights=v * x[nz][c], minlength=ri.n)
    rule = np.asarray(ri.rule, dtype=object)
    plain = np.isin(rule, ["H1", "H2", "H3", "H4", "H5"])
    lo, hi = np.asarray(ri.lo, float), np.asarray(ri.hi, float)
    return np.flatnonzero(plain & ((act < lo - 1e-6) | (act > hi + 1e-6)))


def _diagnose_scope(ctx: Context, ri: RowIndex, pool: Pairs, bigger, scope: _Scope, deadline: float,
                    max_conflicts: int) -> tuple[list[dict], Msg | None]:
    """Conflicts in the relaxation D of ``scope``, minimality confirmed on restrictions: the pairs of ``pool`` (pairs
    of the full model, with every row of ``ri`` complete for them) that are stays, require pins or touch the scope,
    then ``bigger()`` (a larger such model). Each conflict carries ``more_conflicts_possible``: false only when the
    search ran out of conflicts in D and a restriction with every instance they name relaxed (all others enforced)
    was proven feasible (then no conflict lies outside them)."""
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

    def confirm(S: list[int]) -> Msg | None:
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

    def rest_feasible(found: list[int]) -> Msg | None:
        """Is the full model feasible with every instance of ``found`` relaxed, all others enforced? Shown on a
        restriction (feasible ⇒ the full model feasible): None, else why not."""
        for level in (0, 1):
            if time.perf_counter() >= deadline:
                return DEADLINE
            chk_r, at = restriction(level)
            if any(inst[k].key not in at for k in found):
                continue
            enforced = np.ones(len(chk_r.inst), bool)
            enforced[[at[inst[k].key] for k in found]] = False
            if chk_r.infeasible(enforced, deadline) is False:
                return None
        return SCOPE if time.perf_counter() < deadline else DEADLINE

    found, stopped = _search(chk, deadline, max_conflicts, known_infeasible=False, confirm=confirm)
    out = _ordered([_describe(ctx, [inst[k] for k in S], why) for S, why in found])
    more = stopped if stopped or not found else rest_feasible([k for S, _ in found for k in S])
    return _more(out, more), stopped
