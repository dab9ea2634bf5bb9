"""The joint model of a multi-year plan (SPEC §12): Y rounds in one MIP, built from the same parts as the one-round
model (:func:`~cadrex.model.pairs.all_pairs` and :func:`~cadrex.model.pairs.pair_objective` per round).

Round t's pairs come from case_t⁰, the case as it would be had nobody moved before round t (``next_round`` with
empty plans): that is exactly the state of every cadre who has not moved yet, so each round's eligibility (E1–E10,
with the clocks, grades, ages and retirements of year t) and pair terms are those of the one-round model. A pair
variable of round r is either a *stay* (the cadre is still in its own post after round r) or a *move* (it takes
post q in round r). A cadre changes post at most once over the horizon: after a move its ``years_in_post`` restarts,
so E5 (任满一届) keeps it in place for ``min_years_in_post`` years — exact whenever ``min_years_in_post`` ≥ Y (the
default 3 with Y ≤ 3; :attr:`HorizonModel.exact` says so). Its position after round t is then

    hold_t = its stay variable of round t, or one of its move variables of rounds ≤ t (while it is in the case),

and every rule of round t is a row over hold_t: H2 (one position), H3 (one holder), H4 (relatives per team), H6
and the structure terms (members after round t against members at the start of round t — the positions after round
t − 1, less the retired; "not worse than today" bounds a shortfall by max(0, ·) of that start, one binary each),
plus rows over round t's moves alone: H5 (a head post changes holder: someone arrives or its holder leaves),
flow and H8. A moved cadre's later rounds add to its move variable's objective what its stay would score in those
rounds (fit, preferences, assessment, hardship with its new years, its post's fill), if it is in play there
(``movable``); a mover who is not in play is a fixed member there.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cadrex.i18n import Msg
from cadrex.model.core import Model
from cadrex.model.horizon_structure import structure_rows
from cadrex.model.pairs import all_pairs, pair_objective
from cadrex.rules.context import Context
from cadrex.rules.scores import fill_value

log = logging.getLogger(__name__)


@dataclass
class HorizonModel:
    """The joint model (``model``: maximize Σ_t objective of round t) and, per pair variable, its round (1-based),
    cadre (index in round 1's case), post and stay flag. ``exact``: the one-move-per-cadre reading is implied by
    E5 and H1 (else the model is a restriction and its bound is not valid for the horizon)."""

    model: Model
    ctxs: list[Context]
    v_round: np.ndarray
    v_cadre: np.ndarray
    v_post: np.ndarray
    v_stay: np.ndarray
    exact: bool
    timings: dict = field(default_factory=dict)

    def positions(self, x: np.ndarray, t: int) -> dict[str, str | None]:
        """Cadre id -> post id (None: unassigned) after round ``t`` for the cadres in play in some round ≤ t."""
        ctx1 = self.ctxs[0]
        on = np.round(x[: len(self.v_round)]).astype(bool) & self.hold_mask(t)
        out: dict[str, str | None] = {}
        here = self.present(t)
        for s in range(1, t + 1):
            for g in self._global(s, self.ctxs[s - 1].I):
                if here[g]:
                    out.setdefault(str(ctx1.cad_ids[g]), None)
        for g, p in zip(self.v_cadre[on], self.v_post[on], strict=True):
            out[str(ctx1.cad_ids[g])] = str(ctx1.post_ids[p])
        return out

    def present(self, t: int) -> np.ndarray:
        """Per cadre of round 1: still in the case in round ``t`` (not retired)."""
        pres = np.zeros(self.ctxs[0].n_cad, bool)
        pres[self._global(t, np.arange(self.ctxs[t - 1].n_cad))] = True
        return pres

    def hold_mask(self, t: int) -> np.ndarray:
        """Variables that give a position after round ``t``: its stays, and moves of rounds ≤ t of cadres present."""
        pres = self.present(t)[self.v_cadre]
        return pres & np.where(self.v_stay, self.v_round == t, self.v_round <= t)

    def _global(self, t: int, local: np.ndarray) -> np.ndarray:
        return self.ctxs[0].case.cadres.index.get_indexer(self.ctxs[t - 1].cad_ids[local])


class _Rows:
    """Rows and auxiliaries, collected as COO entries."""

    def __init__(self, n_pairs: int):
        self.n_pairs = n_pairs
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.rule: list[str] = []
        self.label: list[str] = []
        self.R: list[np.ndarray] = []
        self.C: list[np.ndarray] = []
        self.V: list[np.ndarray] = []
        self.aux_obj: list[float] = []
        self.aux_ub: list[float] = []
        self.aux_int: list[int] = []
        self.aux_label: list[str] = []
        self.vars: tuple = ()  # (round, cadre, post, stay) of the pair variables

    def add(self, k: int, lo, hi, rule: str, labels: list[str]) -> np.ndarray:
        base = len(self.lo)
        self.lo += np.broadcast_to(np.asarray(lo, float), (k,)).tolist()
        self.hi += np.broadcast_to(np.asarray(hi, float), (k,)).tolist()
        self.rule += [rule] * k
        self.label += labels
        return np.arange(base, base + k)

    def put(self, rows, cols, vals) -> None:
        rows = np.asarray(rows, np.int64)
        self.R.append(rows)
        self.C.append(np.asarray(cols, np.int64))
        self.V.append(np.broadcast_to(np.asarray(vals, float), rows.shape).copy())

    def aux(self, k: int, obj, ub, labels: list[str], integer: bool = False) -> np.ndarray:
        base = self.n_pairs + len(self.aux_obj)
        self.aux_obj += np.broadcast_to(np.asarray(obj, float), (k,)).tolist()
        self.aux_ub += np.broadcast_to(np.asarray(ub, float), (k,)).tolist()
        self.aux_int += [int(integer)] * k
        self.aux_label += labels
        return np.arange(base, base + k)


def build_horizon(ctxs: list[Context]) -> HorizonModel:
    """The joint model over the rounds' unmoved contexts ``ctxs`` (round 1 first; see the module docstring)."""
    t0 = time.perf_counter()
    Y = len(ctxs)
    ctx1, pol, w = ctxs[0], ctxs[0].policy, ctxs[0].policy["weights"]
    cad_index = ctx1.case.cadres.index
    vr, vc, vp, vs, vok, vobj, vmov, vhy, vterms = [], [], [], [], [], [], [], [], []
    for t, ctx in enumerate(ctxs, 1):
        pairs = all_pairs(ctx)
        terms, _, obj = pair_objective(ctx, pairs)
        n = len(pairs)
        vr.append(np.full(n, t, np.int32))
        vc.append(cad_index.get_indexer(ctx.cad_ids[pairs.c]).astype(np.int64))
        vp.append(pairs.p.astype(np.int64))
        vs.append(pairs.stay)
        vok.append(pairs.ok)
        vobj.append(obj)
        vmov.append(ctx.c_movable[pairs.c] & ~ctx.c_withdrawn[pairs.c])
        vhy.append(ctx.c_hardship_years[pairs.c])
        vterms.append(terms)
    v_round, v_cad, v_post, v_stay = (np.concatenate(a) for a in (vr, vc, vp, vs))
    ok, obj, mov, hy = np.concatenate(vok), np.concatenate(vobj).astype(float), np.concatenate(vmov), np.concatenate(vhy)
    terms = {k: np.concatenate([d[k] for d in vterms]) for k in vterms[0]}
    n = len(v_round)
    present = np.zeros((Y + 2, ctx1.n_cad), bool)
    for t, ctx in enumerate(ctxs, 1):
        present[t, cad_index.get_indexer(ctx.cad_ids)] = True
    last = np.where(present[1:Y + 1].any(0), Y - np.argmax(present[Y:0:-1], axis=0), 0)
    # a mover who would be due to move again (H1) or to leave its post (E5) inside the horizon: one move only
    exact = int(pol["min_years_in_post"]) >= Y and int(pol["mandatory_rotation_years"]) >= Y
    # held rounds: what a mover's stay scores in each later round it is present and in play
    team = ctx1.p_team
    h = ctx1.t_hard[team[v_post]].astype(np.int64)
    base_held = (int(w["fit"]) * terms["fit"] + int(w["preference"]) * terms["pref"] + int(w["assess"]) * terms["assess"]
                 + int(w["fill"]) * fill_value(ctx1, v_post))
    move = ~v_stay
    for t in range(2, Y + 1):
        on = move & (v_round < t) & mov & (last[v_cad] >= t)
        served = hy + (t - v_round) >= float(pol["hardship_served_years"])
        obj += np.where(on, base_held - int(w["hardship"]) * 10 * h * served, 0)
    R = _Rows(n)
    R.vars = (v_round, v_cad, v_post, v_stay)
    ub = ok.astype(float)
    for t in range(1, Y + 1):
        _round_rows(R, ctxs, t, v_round, v_cad, v_post, v_stay, present)
    # H7 require pins, round 1 only (pins do not carry on, SPEC §12)
    lb = np.zeros(n)
    infeasible: list[tuple[str, str]] = []
    r1 = np.flatnonzero(v_round == 1)
    key1 = v_cad[r1] * ctx1.n_post + v_post[r1]
    for i in np.flatnonzero(ctx1.pin_require):
        c, p = int(ctx1.pin_c[i]), int(ctx1.pin_p[i])
        hit = r1[key1 == c * ctx1.n_post + p]
        if len(hit) and ok[hit[0]]:
            lb[hit[0]] = 1.0
        else:
            infeasible.append(("H7", f"H7 require pin {ctx1.cad_ids[c]} -> {ctx1.post_ids[p]}: not eligible in round 1"))
    na = len(R.aux_obj)
    A = sp.csr_matrix((np.concatenate(R.V) if R.V else np.zeros(0), (np.concatenate(R.R) if R.R else np.zeros(0, np.int64),
                      np.concatenate(R.C) if R.C else np.zeros(0, np.int64))), shape=(len(R.lo), n + na))
    A.sum_duplicates()
    row_lo, row_hi = np.asarray(R.lo), np.asarray(R.hi)
    nnz = np.diff(A.indptr)
    for k in np.flatnonzero((nnz == 0) & ((row_lo > 0) | (row_hi < 0))):
        infeasible.append((R.rule[k], R.label[k] + " — no eligible option"))
    model = Model(ctx=ctx1, pair_c=v_cad, pair_p=v_post, pair_stay=v_stay, terms=terms, pair_score=np.zeros(n),
                  obj=np.concatenate([obj, R.aux_obj]), lb=np.concatenate([lb, np.zeros(na)]),
                  ub=np.concatenate([ub, R.aux_ub]), integer=np.concatenate([np.ones(n, np.uint8), np.asarray(R.aux_int, np.uint8)]),
                  A=A, row_lo=row_lo, row_hi=row_hi, row_rule=np.asarray(R.rule, dtype=object), row_label=R.label,
                  aux_label=R.aux_label, infeasible=infeasible)
    dt = time.perf_counter() - t0
    log.info("horizon model: %d rounds, %d pairs, %d vars, %d rows, %d nnz (%.2fs)", Y, n, model.n_vars, model.n_rows, A.nnz, dt)
    return HorizonModel(model, ctxs, v_round, v_cad, v_post, v_stay, exact, {"build": dt})


def _round_rows(R: _Rows, ctxs: list[Context], t: int, v_round, v_cad, v_post, v_stay, present) -> None:
    """Every row of round ``t`` (1-based) over the positions after round t (see the module docstring)."""
    ctx = ctxs[t - 1]
    ctx1, pol, w = ctxs[0], ctx.policy, ctx.policy["weights"]
    tag = f"[year {t} / 第{t}年]"
    gix = ctx1.case.cadres.index.get_indexer(ctx.cad_ids)  # local -> round-1 index
    loc = np.full(ctx1.n_cad, -1, np.int64)
    loc[gix] = np.arange(ctx.n_cad)
    pres = present[t][v_cad]
    hold = np.flatnonzero(pres & np.where(v_stay, v_round == t, v_round <= t))
    now = np.flatnonzero((v_round == t) & ~v_stay)  # round t's moves
    hc, hp = loc[v_cad[hold]], v_post[hold]
    cad, posts, tid = ctx.cad_ids, ctx.post_ids, ctx.team_ids
    # H2 one position per cadre in play (holders exactly one; H1 non-holders exactly one)
    I = ctx.I
    lo = np.where((ctx.c_post[I] >= 0) | ctx.c_must[I], 1.0, 0.0)
    r = R.add(len(I), lo, 1.0, "H2", [f"H2 {cad[c]} gets one post {tag}" for c in I])
    rmap = np.full(ctx.n_cad, -1, np.int64)
    rmap[I] = r
    k = rmap[hc] >= 0
    R.put(rmap[hc][k], hold[k], 1.0)
    for j in np.flatnonzero(ctx.c_must[I] & (ctx.c_post[I] < 0)):
        R.rule[r[j]], R.label[r[j]] = "H1", f"H1 {cad[I[j]]} must move {tag}"
    # H3 one holder per post in play
    J = ctx.J
    r = R.add(len(J), np.where(ctx.p_must[J], 1.0, 0.0), 1.0, "H3", [f"H3 {posts[p]} {tag}" for p in J])
    pmap = np.full(ctx.n_post, -1, np.int64)
    pmap[J] = r
    k = pmap[hp] >= 0
    R.put(pmap[hp][k], hold[k], 1.0)
    # H4 relatives in play: per team, at most one of them (a loop per relation, over each cadre's own variables)
    rel = ctx.c_inplay[ctx.rel_a] & ctx.c_inplay[ctx.rel_b] & (ctx.rel_a < ctx.rel_b)
    if rel.any():
        order = np.argsort(hc, kind="stable")
        hs = hc[order]

        def own(c: int) -> np.ndarray:
            return hold[order[np.searchsorted(hs, c, "left"):np.searchsorted(hs, c, "right")]]

        for a, b in zip(ctx.rel_a[rel], ctx.rel_b[rel], strict=True):
            ja, jb = own(int(a)), own(int(b))
            ta, tb = ctx.p_team[v_post[ja]], ctx.p_team[v_post[jb]]
            both = np.intersect1d(ta, tb)
            if not len(both):
                continue
            rows = R.add(len(both), -np.inf, 1.0, "H4", [f"H4 {cad[a]} and {cad[b]} (relatives) not both in team {tid[x]} {tag}" for x in both])
            for j, tt in ((ja, ta), (jb, tb)):
                m = np.isin(tt, both)
                R.put(rows[np.searchsorted(both, tt[m])], j[m], 1.0)
    # H5 per locality: at most one head post changes holder (someone arrives, or its holder leaves, in round t)
    head = J[ctx.p_head[J] & (ctx.t_locality[ctx.p_team[J]] != "")]
    lk = ctx.t_locality[ctx.p_team[head]]
    locs, inv, cnt = np.unique(lk, return_inverse=True, return_counts=True)
    keep = cnt[inv] >= 2
    head, inv = head[keep], inv[keep]
    nc, npost = loc[v_cad[now]], v_post[now]
    if len(head):
        used = np.unique(inv)
        caps = R.add(len(used), -np.inf, 1.0, "H5", [f"H5 locality {locs[x]}: at most one head post changes holder {tag}" for x in used])
        chg = R.aux(len(head), 0.0, 1.0, [f"H5 change {posts[p]} {tag}" for p in head])
        R.put(caps[np.searchsorted(used, inv)], chg, 1.0)
        rin = R.add(len(head), -np.inf, 0.0, "H5", [f"H5 {posts[p]} gets a new holder {tag}" for p in head])
        R.put(rin, chg, -1.0)
        hmap = np.full(ctx.n_post, -1, np.int64)
        hmap[head] = np.arange(len(head))
        m = hmap[npost] >= 0
        R.put(rin[hmap[npost[m]]], now[m], 1.0)
        hd = ctx.p_holder[head]
        out = np.flatnonzero((hd >= 0) & ctx.c_inplay[np.maximum(hd, 0)])
        if len(out):
            rout = R.add(len(out), -np.inf, 0.0, "H5", [f"H5 holder of {posts[head[i]]} leaves {tag}" for i in out])
            R.put(rout, chg[out], -1.0)
            cmap = np.full(ctx.n_cad, -1, np.int64)
            cmap[hd[out]] = np.arange(len(out))
            m = cmap[nc] >= 0
            R.put(rout[cmap[nc[m]]], now[m], 1.0)
    structure_rows(R, ctxs, t, hold, hc, hp, present, loc, tag)
    # flow per province: arrivals − departures − f⁺ + f⁻ = 0
    fw = int(w["flow"]) * int(pol["flow_penalty"])
    cpv, ppv = ctx.c_prov[nc], ctx.p_prov[npost]
    mv = cpv != ppv
    Q = len(ctx.prov_ids)
    if fw:
        r = R.add(Q, 0.0, 0.0, "flow", [f"flow balance {q} {tag}" for q in ctx.prov_ids])
        R.put(r[ppv[mv]], now[mv], 1.0)
        R.put(r[cpv[mv]], now[mv], -1.0)
        fp = R.aux(Q, -fw, len(ctx.I), [f"flow+ {q} {tag}" for q in ctx.prov_ids])
        fm = R.aux(Q, -fw, len(ctx.I), [f"flow- {q} {tag}" for q in ctx.prov_ids])
        R.put(r, fp, -1.0)
        R.put(r, fm, 1.0)
    # H8 round size
    km, kd = int(pol.get("max_moves", 0)), int(pol.get("max_departures_per_province", 0))
    if km > 0:
        (r,) = R.add(1, -np.inf, float(km), "H8", [Msg("diag.h8_moves_year", k=km, t=t)])
        R.put(np.full(len(now), r), now, 1.0)
    if kd > 0:
        r = R.add(Q, -np.inf, float(kd), "H8", [Msg("diag.h8_departures_year", k=kd, prov=q, t=t)
                                                for q in ctx.prov_ids])
        R.put(r[cpv[mv]], now[mv], 1.0)


__all__ = ["HorizonModel", "build_horizon"]
