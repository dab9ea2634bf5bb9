"""One model description shared by every backend: variables, integer objective and constraint rows in CSR.

Variables ``0 .. n_pairs-1`` are the binary pair choices x[c,p] (stays included); the rest are non-negative
auxiliaries (structure shortfalls, province flow imbalance) that are integral at every optimum.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cadrex.io.tomlfiles import COUNT_RULES
from cadrex.rules.context import Context
from cadrex.rules.eligibility import eligible_moves, stay_block
from cadrex.rules.scores import fill_value, pair_terms, weighted

log = logging.getLogger(__name__)


@dataclass
class Model:
    """Maximize ``obj @ x + offset`` s.t. ``row_lo <= A x <= row_hi``, ``lb <= x <= ub``, x[:n_pairs] binary."""

    ctx: Context
    pair_c: np.ndarray
    pair_p: np.ndarray
    pair_stay: np.ndarray
    terms: dict[str, np.ndarray]
    pair_score: np.ndarray
    obj: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_rule: np.ndarray
    row_label: list[str]
    aux_label: list[str]
    offset: float = 0.0
    infeasible: list[tuple[str, str]] = field(default_factory=list)
    #: per pair: '' or the rule that fixes this stay option at 0 (H1 must move, H4 fixed relative, E8 pin)
    pair_block: np.ndarray | None = None
    #: H6 caps on count-rule shortfall variables: (var, team index, rule name, capped ub, natural ub)
    h6_caps: list[tuple[int, int, str, float, float]] = field(default_factory=list)
    #: H7 require pins: (pair index or -1, cadre index, post index)
    h7_pins: list[tuple[int, int, int]] = field(default_factory=list)
    #: per row: ids it concerns (cadres, posts, teams) for messages
    row_ent: list[tuple] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_c)

    @property
    def n_vars(self) -> int:
        return len(self.obj)

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    def objective_of(self, x: np.ndarray) -> float:
        return float(self.obj @ x + self.offset)

    def stats(self) -> dict:
        return {"pairs": self.n_pairs, "vars": self.n_vars, "rows": self.n_rows, "nnz": int(self.A.nnz)}


class _Rows:
    """Collects constraint rows as COO triplets, then one CSR matrix."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.rule: list[str] = []
        self.label: list[str] = []
        self.ent: list[tuple] = []

    @property
    def n(self) -> int:
        return len(self.lo)

    def add_block(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo, hi, rule: str, labels: list[str],
                  ents: list[tuple] | None = None) -> None:
        """Add ``len(labels)`` rows; ``rows`` are 0-based within the block; ``ents`` = (cadres, posts, teams) per row."""
        self.ent.extend(ents if ents is not None else [((), (), ())] * len(labels))
        base = self.n
        self.r.append(np.asarray(rows, np.int64) + base)
        self.c.append(np.asarray(cols, np.int64))
        self.v.append(np.asarray(vals, np.float64))
        k = len(labels)
        self.lo.extend(np.broadcast_to(np.asarray(lo, float), (k,)).tolist())
        self.hi.extend(np.broadcast_to(np.asarray(hi, float), (k,)).tolist())
        self.rule.extend([rule] * k)
        self.label.extend(labels)

    def csr(self, n_cols: int) -> sp.csr_matrix:
        if not self.r:
            return sp.csr_matrix((0, n_cols))
        r, c, v = np.concatenate(self.r), np.concatenate(self.c), np.concatenate(self.v)
        return sp.csr_matrix((v, (r, c)), shape=(self.n, n_cols))


def _group_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique keys and, per element, its row index among them."""
    uniq, inv = np.unique(keys, return_inverse=True)
    return uniq, inv


def build_model(ctx: Context) -> Model:
    """Build the full model of SPEC §5–§6 for the case and policy of ``ctx``."""
    t0 = time.perf_counter()
    pol, w = ctx.policy, ctx.policy["weights"]
    I = ctx.I
    # ---- pairs: stays first (one per cadre that may stay), then moves
    block = stay_block(ctx)
    has_post = block != "none"
    sc = I[has_post]
    mc, mp = eligible_moves(ctx)
    pair_c = np.concatenate([sc, mc]).astype(np.int32)
    pair_p = np.concatenate([ctx.c_post[sc], mp]).astype(np.int32)
    pair_stay = np.concatenate([np.ones(len(sc), bool), np.zeros(len(mc), bool)])
    pair_block = np.concatenate([block[has_post], np.full(len(mc), "", dtype=object)])
    order = np.lexsort((pair_p, pair_c))
    pair_c, pair_p, pair_stay, pair_block = pair_c[order], pair_p[order], pair_stay[order], pair_block[order]
    t1 = time.perf_counter()
    terms = pair_terms(ctx, pair_c, pair_p)
    score = weighted(ctx, terms)
    fill = int(w["fill"]) * fill_value(ctx, pair_p)
    holder_move = (~pair_stay) & (ctx.c_post[pair_c] >= 0) & ~ctx.c_must[pair_c]
    move = int(w["move"]) * int(pol["move_cost"]) * holder_move
    pair_obj = (score + fill - move).astype(np.float64)
    t2 = time.perf_counter()
    n = len(pair_c)
    rows = _Rows()
    aux_obj: list[float] = []
    aux_ub: list[float] = []
    aux_label: list[str] = []
    infeasible: list[tuple[str, str]] = []

    def new_aux(k: int, obj: float | np.ndarray, ub: np.ndarray, labels: list[str]) -> np.ndarray:
        start = n + len(aux_obj)
        aux_obj.extend(np.broadcast_to(np.asarray(obj, float), (k,)).tolist())
        aux_ub.extend(np.asarray(ub, float).tolist())
        aux_label.extend(labels)
        return np.arange(start, start + k)

    cad = ctx.cad_ids
    posts = ctx.post_ids
    cols = np.arange(n)
    # ---- H2 one post per cadre (holders exactly one; must-move non-holders exactly one — H1)
    cpos = np.searchsorted(I, pair_c)
    holder = ctx.c_post[I] >= 0
    lo = np.where(holder | ctx.c_must[I], 1.0, 0.0)
    rows.add_block(cpos, cols, np.ones(n), lo, 1.0, "H2",
                   [f"H2 {cad[c]} gets {'exactly' if low else 'at most'} one post" for c, low in zip(I, lo, strict=True)],
                   [((c,), (), ()) for c in I])
    # rows for cadres with must-move: mark H1 so a diagnosis can say why
    h1 = np.flatnonzero(ctx.c_must[I] & (ctx.c_post[I] < 0))  # holders: H1 is the stay option fixed at 0
    for k in h1:  # the H2 block starts at row 0
        rows.rule[k] = "H1"
        rows.label[k] = f"H1 {cad[I[k]]} must move"
    # ---- H3 one cadre per post (exactly one if must_fill)
    J = ctx.J
    ppos = np.searchsorted(J, pair_p)
    rows.add_block(ppos, cols, np.ones(n), np.where(ctx.p_must[J], 1.0, 0.0), 1.0, "H3",
                   [f"H3 {posts[p]} {'must be filled' if ctx.p_must[p] else 'at most one holder'}" for p in J],
                   [((), (p,), (ctx.p_team[p],)) for p in J])
    # ---- H4 kinship among cadres in play: per related pair and team, at most one of them in the team
    pair_team = ctx.p_team[pair_p]
    inplay_rel = ctx.c_inplay[ctx.rel_a] & ctx.c_inplay[ctx.rel_b] & (ctx.rel_a < ctx.rel_b)
    if inplay_rel.any():
        ra, rb = ctx.rel_a[inplay_rel].astype(np.int64), ctx.rel_b[inplay_rel].astype(np.int64)
        ct_key = pair_c.astype(np.int64) * ctx.n_team + pair_team
        uniq_ct = np.unique(ct_key)
        # candidate (relation, team) rows: teams where both have a pair
        rr, tt = [], []
        for i, (a, b) in enumerate(zip(ra, rb, strict=True)):
            ta = uniq_ct[(uniq_ct // ctx.n_team) == a] % ctx.n_team
            tb = uniq_ct[(uniq_ct // ctx.n_team) == b] % ctx.n_team
            both = np.intersect1d(ta, tb)
            rr.extend([i] * len(both))
            tt.extend(both.tolist())
        if rr:
            rr, tt = np.array(rr), np.array(tt)
            rc, rcol = [], []
            for k, (i, t) in enumerate(zip(rr, tt, strict=True)):
                sel = np.flatnonzero(((pair_c == ra[i]) | (pair_c == rb[i])) & (pair_team == t))
                rc.append(np.full(len(sel), k))
                rcol.append(sel)
            rows.add_block(np.concatenate(rc), np.concatenate(rcol), np.ones(sum(len(s) for s in rcol)), -np.inf, 1.0,
                           "H4", [f"H4 {cad[ra[i]]} and {cad[rb[i]]} (relatives) not both in team {ctx.team_ids[t]}"
                                  for i, t in zip(rr, tt, strict=True)],
                           [((ra[i], rb[i]), (), (t,)) for i, t in zip(rr, tt, strict=True)])
    # ---- H5 party-government heads: per locality at most one head post changes holder
    head_p = J[ctx.p_head[J] & (ctx.t_locality[ctx.p_team[J]] != "")]
    if len(head_p):
        loc_of = ctx.t_locality[ctx.p_team[head_p]]
        for loc in sorted(set(loc_of)):
            hp = head_p[loc_of == loc]
            if len(hp) < 2:
                continue
            held = hp[ctx.p_holder[hp] >= 0]
            vac = hp[ctx.p_holder[hp] < 0]
            sel_v = np.flatnonzero(np.isin(pair_p, vac))
            sel_s = np.flatnonzero(np.isin(pair_p, held) & pair_stay)
            rows.add_block(np.zeros(len(sel_v) + len(sel_s)), np.concatenate([sel_v, sel_s]),
                           np.concatenate([np.ones(len(sel_v)), -np.ones(len(sel_s))]), -np.inf, 1.0 - len(held),
                           "H5", [f"H5 locality {loc}: at most one of {', '.join(posts[hp])} changes holder"],
                           [(tuple(int(ctx.p_holder[p]) for p in held), tuple(hp), tuple(sorted(set(ctx.p_team[hp]))))])
    # ---- structure rules (objective penalties over all teams; H6 for the model's hard list)
    h6_caps = _structure(ctx, rows, new_aux, pair_c, pair_team, n)
    # ---- flow balance per province
    fw = int(w["flow"]) * int(pol["flow_penalty"])
    if fw:
        cp, pp = ctx.c_prov[pair_c], ctx.p_prov[pair_p]
        mv = np.flatnonzero(cp != pp)
        if len(mv):
            provs = np.unique(np.concatenate([cp[mv], pp[mv]]))
            rp = np.searchsorted(provs, pp[mv])
            rd = np.searchsorted(provs, cp[mv])
            k = len(provs)
            fpv = new_aux(k, -fw, np.full(k, len(I)), [f"flow+ {ctx.prov_ids[q]}" for q in provs])
            fnv = new_aux(k, -fw, np.full(k, len(I)), [f"flow- {ctx.prov_ids[q]}" for q in provs])
            r = np.concatenate([rp, rd, np.arange(k), np.arange(k)])
            c = np.concatenate([mv, mv, fpv, fnv])
            v = np.concatenate([np.ones(len(mv)), -np.ones(len(mv)), -np.ones(k), np.ones(k)])
            rows.add_block(r, c, v, 0.0, 0.0, "flow", [f"flow balance {ctx.prov_ids[q]}" for q in provs])
    nv = n + len(aux_obj)
    A = rows.csr(nv)
    obj = np.concatenate([pair_obj, np.asarray(aux_obj, float)])
    lb = np.zeros(nv)
    ub = np.concatenate([(pair_block == "").astype(float), np.asarray(aux_ub, float)])
    integer = np.concatenate([np.ones(n, np.uint8), np.zeros(nv - n, np.uint8)])
    row_lo, row_hi = np.asarray(rows.lo), np.asarray(rows.hi)
    # ---- H7 require pins: fix the pair to 1, or the case is infeasible
    req = np.flatnonzero(ctx.pin_require)
    pk = pair_c.astype(np.int64) * ctx.n_post + pair_p
    h7_pins: list[tuple[int, int, int]] = []
    for i in req:
        c, p = int(ctx.pin_c[i]), int(ctx.pin_p[i])
        hit = np.flatnonzero(pk == c * ctx.n_post + p)
        h7_pins.append((int(hit[0]) if len(hit) else -1, c, p))
        if len(hit):
            lb[hit] = 1.0
        else:
            why = "is not in play" if not ctx.c_inplay[c] else (
                "post is not in play (held by a fixed cadre)" if not ctx.p_inplay[p] else "pair is not eligible")
            infeasible.append(("H7", f"H7 require pin {cad[c]} -> {posts[p]}: {why}"))
    # rows without entries that cannot hold
    nnz_row = np.diff(A.indptr)
    for r in np.flatnonzero((nnz_row == 0) & ((row_lo > 0) | (row_hi < 0))):
        infeasible.append((rows.rule[r], rows.label[r] + " — no eligible option"))
    t3 = time.perf_counter()
    m = Model(ctx=ctx, pair_c=pair_c, pair_p=pair_p, pair_stay=pair_stay, terms=terms, pair_score=score, obj=obj, lb=lb,
              ub=ub, integer=integer, A=A, row_lo=row_lo, row_hi=row_hi, row_rule=np.asarray(rows.rule, dtype=object),
              row_label=rows.label, aux_label=aux_label, offset=0.0, infeasible=infeasible, pair_block=pair_block,
              h6_caps=h6_caps, h7_pins=h7_pins, row_ent=rows.ent,
              timings={"pairs": t1 - t0, "scores": t2 - t1, "rows": t3 - t2})
    log.info("model: %d pairs, %d vars, %d rows, %d nnz (pairs %.2fs, scores %.2fs, rows %.2fs)", n, nv, A.shape[0],
             A.nnz, t1 - t0, t2 - t1, t3 - t2)
    return m


def _structure(ctx: Context, rows: _Rows, new_aux, pair_c: np.ndarray, pair_team: np.ndarray, n: int) -> list:
    """Structure shortfalls (SPEC §3) per team as auxiliaries; H6 caps those in a model's ``hard`` list."""
    pol, w = ctx.policy, ctx.policy["weights"]
    spen = int(w["structure"]) * int(pol["structure_penalty"])
    apen = int(w["structure"]) * int(pol["age_penalty_per_year"])
    T = ctx.n_team
    # members before (all holders) and fixed members (holders not in play)
    hp = np.flatnonzero(ctx.p_holder >= 0)
    before_c, before_t = ctx.p_holder[hp], ctx.p_team[hp]
    fp = np.flatnonzero(ctx.p_fixed)
    fixed_c, fixed_t = ctx.p_holder[fp], ctx.p_team[fp]
    models = [ctx.case.structures[m] for m in ctx.t_model]
    tid = ctx.team_ids
    cols = np.arange(n)

    def rule_k(name: str) -> np.ndarray:
        return np.array([m.get(name, -1) for m in models], dtype=np.int64)

    hard = [set(m.get("hard", [])) for m in models]
    young_age = np.array([m.get("young_age", 45) for m in models], dtype=np.int64)
    caps: list[tuple[int, int, str, float, float]] = []
    for name in COUNT_RULES:
        k = rule_k(name)
        if name == "min_minority":
            k = np.where(ctx.t_ethnic, k, -1)

        def attr(c: np.ndarray, t: np.ndarray, name=name) -> np.ndarray:
            return {"min_female": ctx.c_female[c], "min_young": ctx.c_age[c] <= young_age[t],
                    "min_non_cpc": ctx.c_noncpc[c], "min_minority": ctx.c_minority[c],
                    "min_grassroots": ctx.c_grassroots[c]}[name]

        F = np.bincount(fixed_t, weights=attr(fixed_c, fixed_t), minlength=T)
        B = np.bincount(before_t, weights=attr(before_c, before_t), minlength=T)
        need = k - F
        teams = np.flatnonzero((k > 0) & (need > 0))
        if not len(teams):
            continue
        s0 = np.maximum(0, k - B)
        ub = np.array([min(need[t], s0[t]) if name in hard[t] else need[t] for t in teams], float)
        sv = new_aux(len(teams), -spen, ub, [f"{name} shortfall {tid[t]}" for t in teams])
        rowof = np.full(T, -1)
        rowof[teams] = np.arange(len(teams))
        a = attr(pair_c, pair_team) & (rowof[pair_team] >= 0)
        sel = np.flatnonzero(a)
        r = np.concatenate([rowof[pair_team[sel]], np.arange(len(teams))])
        c = np.concatenate([cols[sel], sv])
        rows.add_block(r, c, np.ones(len(r)), need[teams].astype(float), np.inf,
                       "structure", [f"{name} {tid[t]} (k={k[t]})" for t in teams], [((), (), (t,)) for t in teams])
        caps += [(int(v), int(t), name, float(u), float(need[t])) for v, t, u in zip(sv, teams, ub, strict=True)
                 if name in hard[t]]
    # max_same_specialty: per (team, specialty)
    k = rule_k("max_same_specialty")
    NS = max(1, len(ctx.spec_ids))
    has = k >= 0
    if has.any():
        pc = ctx.c_spec[pair_c]
        psel = np.flatnonzero(has[pair_team] & (pc >= 0))
        pkey = pair_team[psel].astype(np.int64) * NS + pc[psel]
        fs = ctx.c_spec[fixed_c]
        fsel = (fs >= 0) & has[fixed_t]
        fkey = fixed_t[fsel].astype(np.int64) * NS + fs[fsel]
        bs = ctx.c_spec[before_c]
        bsel = (bs >= 0) & has[before_t]
        bkey = before_t[bsel].astype(np.int64) * NS + bs[bsel]
        keys = np.unique(np.concatenate([pkey, fkey]))
        if len(keys):
            kt = keys // NS
            F = np.searchsorted(np.sort(fkey), keys, "right") - np.searchsorted(np.sort(fkey), keys, "left")
            npair = np.searchsorted(np.sort(pkey), keys, "right") - np.searchsorted(np.sort(pkey), keys, "left")
            ub = np.maximum(0, F + npair - k[kt])
            ev = new_aux(len(keys), -spen, ub, [f"same_specialty {tid[t]} {ctx.spec_ids[s]}" for t, s in zip(kt, keys % NS, strict=True)])
            rk = np.searchsorted(keys, pkey)
            rows.add_block(np.concatenate([rk, np.arange(len(keys))]), np.concatenate([psel, ev]),
                           np.concatenate([np.ones(len(psel)), -np.ones(len(keys))]), -np.inf, (k[kt] - F).astype(float),
                           "structure", [f"max_same_specialty {tid[t]} {ctx.spec_ids[s]}" for t, s in zip(kt, keys % NS, strict=True)])
            # H6: Σ_s excess ≤ excess today
            ht = np.array([t for t in np.unique(kt) if "max_same_specialty" in hard[t]], dtype=np.int64)
            if len(ht):
                bu, bc = np.unique(bkey, return_counts=True)
                s0 = np.bincount(bu // NS, weights=np.maximum(0, bc - k[bu // NS]), minlength=T)
                sel = np.flatnonzero(np.isin(kt, ht))
                rows.add_block(np.searchsorted(ht, kt[sel]), ev[sel], np.ones(len(sel)), -np.inf, s0[ht].astype(float),
                               "H6", [f"H6 max_same_specialty {tid[t]} not worse than today ({int(s0[t])})" for t in ht],
                               [((), (), (t,)) for t in ht])
    # required_specialties: one shortfall unit per required specialty no member has
    rq_t, rq_s = [], []
    for t, m in enumerate(models):
        for s in m.get("required_specialties", []):
            rq_t.append(t)
            rq_s.append(ctx.six[s])
    if rq_t:
        rq_t, rq_s = np.array(rq_t, np.int64), np.array(rq_s, np.int64)
        rkey = rq_t * NS + rq_s
        fk = fixed_t.astype(np.int64) * NS + ctx.c_spec[fixed_c]
        bk = before_t.astype(np.int64) * NS + ctx.c_spec[before_c]
        open_ = ~np.isin(rkey, fk)
        rkey, rq_t = rkey[open_], rq_t[open_]
        if len(rkey):
            order = np.argsort(rkey)
            rkey, rq_t = rkey[order], rq_t[order]
            uv = new_aux(len(rkey), -spen, np.ones(len(rkey)), [f"required {tid[k_ // NS]} {ctx.spec_ids[k_ % NS]}" for k_ in rkey])
            pk = pair_team.astype(np.int64) * NS + ctx.c_spec[pair_c]
            psel = np.flatnonzero(np.isin(pk, rkey) & (ctx.c_spec[pair_c] >= 0))
            rows.add_block(np.concatenate([np.searchsorted(rkey, pk[psel]), np.arange(len(rkey))]),
                           np.concatenate([psel, uv]), np.ones(len(psel) + len(rkey)), 1.0, np.inf, "structure",
                           [f"required_specialty {tid[k_ // NS]} {ctx.spec_ids[k_ % NS]}" for k_ in rkey])
            ht = np.array(sorted({t for t in rq_t if "required_specialties" in hard[t]}), dtype=np.int64)
            if len(ht):
                s0 = np.array([sum(1 for s in models[t]["required_specialties"] if t * NS + ctx.six[s] not in set(bk.tolist()))
                               for t in ht], float)
                sel = np.flatnonzero(np.isin(rq_t, ht))
                rows.add_block(np.searchsorted(ht, rq_t[sel]), uv[sel], np.ones(len(sel)), -np.inf, s0, "H6",
                               [f"H6 required_specialties {tid[t]} not worse than today ({int(v)})" for t, v in zip(ht, s0, strict=True)],
                               [((), (), (t,)) for t in ht])
    # max_avg_age: excess person-years = max(0, Σ age − k·members)
    k = rule_k("max_avg_age")
    teams = np.flatnonzero(k >= 0)
    if len(teams):
        fx = np.bincount(fixed_t, weights=ctx.c_age[fixed_c] - k[fixed_t], minlength=T)
        bx = np.bincount(before_t, weights=ctx.c_age[before_c] - k[before_t], minlength=T)
        rowof = np.full(T, -1)
        rowof[teams] = np.arange(len(teams))
        psel = np.flatnonzero(rowof[pair_team] >= 0)
        coef = (ctx.c_age[pair_c[psel]] - k[pair_team[psel]]).astype(float)
        pos = np.bincount(rowof[pair_team[psel]], weights=np.maximum(coef, 0), minlength=len(teams))
        ub = np.maximum(0, fx[teams]) + pos
        nat = ub.copy()
        ub = np.array([min(u, max(0, bx[t])) if "max_avg_age" in hard[t] else u for u, t in zip(ub, teams, strict=True)])
        ev = new_aux(len(teams), -apen, ub, [f"age_excess {tid[t]}" for t in teams])
        caps += [(int(v), int(t), "max_avg_age", float(u), float(nu)) for v, t, u, nu in zip(ev, teams, ub, nat, strict=True)
                 if "max_avg_age" in hard[t]]
        rows.add_block(np.concatenate([rowof[pair_team[psel]], np.arange(len(teams))]), np.concatenate([psel, ev]),
                       np.concatenate([coef, -np.ones(len(teams))]), -np.inf, -fx[teams], "structure",
                       [f"max_avg_age {tid[t]} (k={k[t]})" for t in teams], [((), (), (t,)) for t in teams])
    return caps

