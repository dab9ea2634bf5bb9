"""One model description shared by every backend: variables, integer objective and constraint rows in CSR.

Variables ``0 .. n_pairs-1`` are the binary pair choices x[c,p] (stays included); the rest are non-negative
auxiliaries (structure shortfalls, province flow imbalance) that are integral at every optimum.

The rows do not depend on which pairs are present: :func:`build_rows` makes a :class:`RowIndex` for the whole case
(from a cheap summary of every eligible pair) and :func:`pair_columns` gives the column of any batch of pairs
against it. The full model and the restricted masters of column generation (``cadrex.solvers.cg``) share that code.
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
from cadrex.rules.scores import fill_value, pair_terms, short_list, top_candidates, weighted

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
    rows: RowIndex | None = None

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

    def short_list(self, k: int = 3) -> dict[str, list[str]]:
        """Post id -> top ``k`` eligible cadres by weighted pair score, ties by cadre id (以岗选人, seed 003), over
        this model's pairs; for a full model (every eligible pair) that is the short list of SPEC §7. Column
        generation computes the same list over its whole pair set (:func:`cadrex.rules.scores.top_candidates`)."""
        idx = top_candidates(self.ctx, self.pair_c, self.pair_p, self.pair_score, self.ub[: self.n_pairs] > 0, k)
        return short_list(self.ctx, self.pair_c, self.pair_p, idx)


# ------------------------------------------------------------------------------------------------ pairs
#: what fixes a stay option at 0, by code (0: nothing); see :func:`cadrex.rules.eligibility.stay_block`
BLOCK_RULES = np.array(["", "none", "H1", "H4", "E8"], dtype=object)


@dataclass
class Pairs:
    """A set of (cadre, post) pairs: int32 cadre and post, a stay flag and an int8 block code (10 bytes a pair, so
    that the tens of millions of eligible pairs of a national case fit in memory)."""

    c: np.ndarray
    p: np.ndarray
    stay: np.ndarray
    code: np.ndarray

    def __len__(self) -> int:
        return len(self.c)

    @property
    def block(self) -> np.ndarray:
        """Per pair: '' or the rule that fixes it at 0 (object array; use :attr:`ok` on large sets)."""
        return BLOCK_RULES[self.code]

    @property
    def ok(self) -> np.ndarray:
        """Per pair: may it be chosen (not a blocked stay option)?"""
        return self.code == 0

    def take(self, idx: np.ndarray) -> Pairs:
        return Pairs(self.c[idx], self.p[idx], self.stay[idx], self.code[idx])


def all_pairs(ctx: Context) -> Pairs:
    """Every stay option (blocked ones included, see :func:`stay_block`) and every eligible move, sorted by cadre
    then post. The moves come sorted; each stay is inserted at its place (no sort of tens of millions of pairs)."""
    block = stay_block(ctx)
    has_post = block != "none"
    sc = ctx.I[has_post].astype(np.int32)
    sp_ = ctx.c_post[sc].astype(np.int32)
    mc, mp = eligible_moves(ctx)
    lo_ = np.searchsorted(mc, sc, "left")
    hi_ = np.searchsorted(mc, sc, "right")
    # a loop per cadre, not per pair: a vectorized search would need an int64 key for every pair (400 MB at 10,000)
    pos = np.array([a + int(np.searchsorted(mp[a:b], q)) for a, b, q in zip(lo_, hi_, sp_, strict=True)], np.int64)
    c = np.insert(mc, pos, sc)
    p = np.insert(mp, pos, sp_)
    at = pos + np.arange(len(pos))  # where the inserted stays end up
    stay = np.zeros(len(c), bool)
    stay[at] = True
    blk = np.zeros(len(c), np.int8)
    for code, rule in enumerate(BLOCK_RULES):
        blk[at[block[has_post] == rule]] = code
    return Pairs(c, p, stay, blk)


def pair_objective(ctx: Context, pairs: Pairs) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Unweighted terms, weighted pair score, and the objective coefficient (score + fill − move cost)."""
    pol, w = ctx.policy, ctx.policy["weights"]
    terms = pair_terms(ctx, pairs.c, pairs.p)
    score = weighted(ctx, terms)
    fill = int(w["fill"]) * fill_value(ctx, pairs.p)
    holder_move = (~pairs.stay) & (ctx.c_post[pairs.c] >= 0) & ~ctx.c_must[pairs.c]
    move = int(w["move"]) * int(pol["move_cost"]) * holder_move
    return terms, score, (score + fill - move).astype(np.float64)


# ------------------------------------------------------------------------------------------------ rows
@dataclass
class Summary:
    """What the rows need to know of the full pair set: (team, specialty) combos, kin rows."""

    spec_keys: np.ndarray
    kin_rows: list[tuple[int, int, int]]  # (cadre a, cadre b, team)


def summarize(ctx: Context, pairs: Pairs) -> Summary:
    NS = max(1, len(ctx.spec_ids))
    T = ctx.n_team
    pt = ctx.p_team[pairs.p]
    cs = ctx.c_spec[pairs.c]
    keys = np.unique(pt[cs >= 0].astype(np.int64) * NS + cs[cs >= 0])
    kin: list[tuple[int, int, int]] = []
    rel = ctx.c_inplay[ctx.rel_a] & ctx.c_inplay[ctx.rel_b] & (ctx.rel_a < ctx.rel_b)
    if rel.any():
        kin_c = np.unique(np.concatenate([ctx.rel_a[rel], ctx.rel_b[rel]]))
        sel = np.isin(pairs.c, kin_c)
        ct = np.unique(pairs.c[sel].astype(np.int64) * T + pt[sel])
        def teams_of(c: int) -> np.ndarray:  # ct is sorted: cadre c's teams are one contiguous run
            return ct[np.searchsorted(ct, c * T):np.searchsorted(ct, (c + 1) * T)] % T

        for a, b in zip(ctx.rel_a[rel], ctx.rel_b[rel], strict=True):  # one step per relation (H4), not per pair
            kin += [(int(a), int(b), int(t)) for t in np.intersect1d(teams_of(int(a)), teams_of(int(b)))]
    return Summary(keys, kin)


@dataclass
class RowIndex:
    """All rows and auxiliary variables of a case, independent of which pairs are present."""

    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    rule: list[str] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    ent: list[tuple] = field(default_factory=list)
    aux_obj: list[float] = field(default_factory=list)
    aux_ub: list[float] = field(default_factory=list)
    aux_label: list[str] = field(default_factory=list)
    aux_r: list[np.ndarray] = field(default_factory=list)  # aux entries: row, aux index (0-based), value
    aux_a: list[np.ndarray] = field(default_factory=list)
    aux_v: list[np.ndarray] = field(default_factory=list)
    h6_caps: list[tuple[int, int, str, float, float]] = field(default_factory=list)  # aux index based
    # maps used by pair_columns
    h2_row: np.ndarray | None = None  # per cadre (global), -1
    h3_row: np.ndarray | None = None  # per post (global), -1
    kin_key: np.ndarray | None = None  # cadre*T+team, sorted, with kin_rowid
    kin_rowid: np.ndarray | None = None
    h5_row: np.ndarray | None = None  # per post, -1
    count_rows: dict = field(default_factory=dict)  # rule -> per team row (-1)
    young_age: np.ndarray | None = None
    spec_keys: np.ndarray | None = None
    spec_rowid: np.ndarray | None = None
    req_keys: np.ndarray | None = None
    req_rowid: np.ndarray | None = None
    age_row: np.ndarray | None = None
    age_k: np.ndarray | None = None
    flow_row: np.ndarray | None = None  # per province

    @property
    def n(self) -> int:
        return len(self.lo)

    def add(self, k: int, lo, hi, rule: str, labels: list[str], ents: list[tuple] | None = None) -> np.ndarray:
        base = self.n
        self.lo.extend(np.broadcast_to(np.asarray(lo, float), (k,)).tolist())
        self.hi.extend(np.broadcast_to(np.asarray(hi, float), (k,)).tolist())
        self.rule.extend([rule] * k)
        self.label.extend(labels)
        self.ent.extend(ents if ents is not None else [((), (), ())] * k)
        return np.arange(base, base + k)

    def aux(self, k: int, obj, ub, labels: list[str], rows: np.ndarray, vals) -> np.ndarray:
        """``k`` auxiliaries, auxiliary i entering row ``rows[i]`` with ``vals[i]``."""
        base = len(self.aux_obj)
        ids = np.arange(base, base + k)
        self.aux_obj.extend(np.broadcast_to(np.asarray(obj, float), (k,)).tolist())
        self.aux_ub.extend(np.asarray(ub, float).tolist())
        self.aux_label.extend(labels)
        self.aux_r.append(np.asarray(rows, np.int64))
        self.aux_a.append(ids)
        self.aux_v.append(np.broadcast_to(np.asarray(vals, float), (k,)).copy())
        return ids

    def aux_entries(self, ids: np.ndarray, rows: np.ndarray, vals) -> None:
        self.aux_r.append(np.asarray(rows, np.int64))
        self.aux_a.append(np.asarray(ids, np.int64))
        self.aux_v.append(np.broadcast_to(np.asarray(vals, float), (len(ids),)).copy())


def build_rows(ctx: Context, summ: Summary) -> RowIndex:
    """Every row of SPEC §5–§6 for the case: H1–H6, structure penalties, flow balance."""
    pol, w = ctx.policy, ctx.policy["weights"]
    I, J, T = ctx.I, ctx.J, ctx.n_team
    cad, posts, tid = ctx.cad_ids, ctx.post_ids, ctx.team_ids
    ri = RowIndex()
    # H2 one post per cadre (holders exactly one; must-move non-holders exactly one: H1)
    holder = ctx.c_post[I] >= 0
    lo = np.where(holder | ctx.c_must[I], 1.0, 0.0)
    r = ri.add(len(I), lo, 1.0, "H2", [f"H2 {cad[c]} gets {'exactly' if x else 'at most'} one post" for c, x in zip(I, lo, strict=True)],
               [((int(c),), (), ()) for c in I])
    for k in np.flatnonzero(ctx.c_must[I] & ~holder):  # holders: H1 is the stay option fixed at 0
        ri.rule[r[k]] = "H1"
        ri.label[r[k]] = f"H1 {cad[I[k]]} must move"
    ri.h2_row = np.full(ctx.n_cad, -1, np.int64)
    ri.h2_row[I] = r
    # H3 one cadre per post (exactly one if must_fill)
    r = ri.add(len(J), np.where(ctx.p_must[J], 1.0, 0.0), 1.0, "H3",
               [f"H3 {posts[p]} {'must be filled' if ctx.p_must[p] else 'at most one holder'}" for p in J],
               [((), (int(p),), (int(ctx.p_team[p]),)) for p in J])
    ri.h3_row = np.full(ctx.n_post, -1, np.int64)
    ri.h3_row[J] = r
    # H4 kinship among cadres in play: per related pair and team, at most one of them in the team
    if summ.kin_rows:
        r = ri.add(len(summ.kin_rows), -np.inf, 1.0, "H4",
                   [f"H4 {cad[a]} and {cad[b]} (relatives) not both in team {tid[t]}" for a, b, t in summ.kin_rows],
                   [((a, b), (), (t,)) for a, b, t in summ.kin_rows])
        keys = np.array([k for a, b, t in summ.kin_rows for k in (a * T + t, b * T + t)], np.int64)
        rid = np.repeat(r, 2)
        o = np.argsort(keys, kind="stable")
        ri.kin_key, ri.kin_rowid = keys[o], rid[o]
    # H5 party-government heads: per locality at most one head post changes holder
    ri.h5_row = np.full(ctx.n_post, -1, np.int64)
    head_p = J[ctx.p_head[J] & (ctx.t_locality[ctx.p_team[J]] != "")]
    loc_of = ctx.t_locality[ctx.p_team[head_p]]
    for loc in sorted(set(loc_of)):
        hp = head_p[loc_of == loc]
        if len(hp) < 2:
            continue
        held = hp[ctx.p_holder[hp] >= 0]
        (r,) = ri.add(1, -np.inf, 1.0 - len(held), "H5", [f"H5 locality {loc}: at most one of {', '.join(posts[hp])} changes holder"],
                      [(tuple(int(ctx.p_holder[p]) for p in held), tuple(int(p) for p in hp), tuple(sorted({int(t) for t in ctx.p_team[hp]})))])
        ri.h5_row[hp] = r
    _structure_rows(ctx, ri, summ)
    # flow balance per province: arrivals − departures − f⁺ + f⁻ = 0
    fw = int(w["flow"]) * int(pol["flow_penalty"])
    ri.flow_row = np.full(len(ctx.prov_ids), -1, np.int64)
    if fw:
        Q = len(ctx.prov_ids)
        r = ri.add(Q, 0.0, 0.0, "flow", [f"flow balance {q}" for q in ctx.prov_ids])
        ri.flow_row[:] = r
        ri.aux(Q, -fw, np.full(Q, len(I)), [f"flow+ {q}" for q in ctx.prov_ids], r, -1.0)
        ri.aux(Q, -fw, np.full(Q, len(I)), [f"flow- {q}" for q in ctx.prov_ids], r, 1.0)
    return ri


def _structure_rows(ctx: Context, ri: RowIndex, summ: Summary) -> None:
    """Structure shortfalls (SPEC §3) per team; H6 caps those in a model's ``hard`` list."""
    pol, w = ctx.policy, ctx.policy["weights"]
    spen = int(w["structure"]) * int(pol["structure_penalty"])
    apen = int(w["structure"]) * int(pol["age_penalty_per_year"])
    T, NS, tid = ctx.n_team, max(1, len(ctx.spec_ids)), ctx.team_ids
    hp = np.flatnonzero(ctx.p_holder >= 0)
    before_c, before_t = ctx.p_holder[hp], ctx.p_team[hp]
    fp = np.flatnonzero(ctx.p_fixed)
    fixed_c, fixed_t = ctx.p_holder[fp], ctx.p_team[fp]
    models = [ctx.case.structures[m] for m in ctx.t_model]
    hard = [set(m.get("hard", [])) for m in models]
    nP = np.bincount(ctx.p_team[ctx.J], minlength=T)  # posts in play per team: bounds members that can change
    ri.young_age = np.array([m.get("young_age", 45) for m in models], dtype=np.int64)

    def rule_k(name: str) -> np.ndarray:
        return np.array([m.get(name, -1) for m in models], dtype=np.int64)

    for name in COUNT_RULES:
        k = rule_k(name)
        if name == "min_minority":
            k = np.where(ctx.t_ethnic, k, -1)
        a_f = count_attr(ctx, ri, name, fixed_c, fixed_t)
        a_b = count_attr(ctx, ri, name, before_c, before_t)
        F = np.bincount(fixed_t, weights=a_f, minlength=T)
        B = np.bincount(before_t, weights=a_b, minlength=T)
        need = k - F
        teams = np.flatnonzero((k > 0) & (need > 0))
        rows = np.full(T, -1, np.int64)
        ri.count_rows[name] = rows
        if not len(teams):
            continue
        is_hard = np.array([name in hard[t] for t in teams])
        r = ri.add(len(teams), need[teams].astype(float), np.inf, "structure", [f"{name} {tid[t]} (k={k[t]})" for t in teams],
                   [((), (), (int(t),)) for t in teams])
        rows[teams] = r
        s0 = np.maximum(0, k - B)[teams]
        ub = np.where(is_hard, np.minimum(need[teams], s0), need[teams]).astype(float)
        ids = ri.aux(len(teams), -spen, ub, [f"{name} shortfall {tid[t]}" for t in teams], r, 1.0)
        ri.h6_caps += [(int(v), int(t), name, float(u), float(need[t])) for v, t, u, h in zip(ids, teams, ub, is_hard, strict=True) if h]
    # max_same_specialty: one row per (team, specialty) that any eligible pair or fixed member has
    k = rule_k("max_same_specialty")
    fs = ctx.c_spec[fixed_c]
    fkey = fixed_t[fs >= 0].astype(np.int64) * NS + fs[fs >= 0]
    keys = np.unique(np.concatenate([summ.spec_keys, fkey]))
    keys = keys[k[keys // NS] >= 0]
    if len(keys):
        kt = keys // NS
        fsorted = np.sort(fkey)
        F = np.searchsorted(fsorted, keys, "right") - np.searchsorted(fsorted, keys, "left")
        r = ri.add(len(keys), -np.inf, (k[kt] - F).astype(float), "structure",
                   [f"max_same_specialty {tid[t]} {ctx.spec_ids[s]}" for t, s in zip(kt, keys % NS, strict=True)],
                   [((), (), (int(t),)) for t in kt])
        ri.spec_keys, ri.spec_rowid = keys, r
        ub = np.maximum(0, F + nP[kt] - k[kt]).astype(float)
        ev = ri.aux(len(keys), -spen, ub, [f"same_specialty {tid[t]} {ctx.spec_ids[s]}" for t, s in zip(kt, keys % NS, strict=True)], r, -1.0)
        ht = np.array(sorted({int(t) for t in kt if "max_same_specialty" in hard[t]}), dtype=np.int64)
        if len(ht):
            bs = ctx.c_spec[before_c]
            bkey = before_t[bs >= 0].astype(np.int64) * NS + bs[bs >= 0]
            bu, bc = np.unique(bkey, return_counts=True)
            s0 = np.bincount(bu // NS, weights=np.maximum(0, bc - k[bu // NS]), minlength=T)
            rh = ri.add(len(ht), -np.inf, s0[ht].astype(float), "H6",
                        [f"H6 max_same_specialty {tid[t]} not worse than today ({int(s0[t])})" for t in ht], [((), (), (int(t),)) for t in ht])
            sel = np.flatnonzero(np.isin(kt, ht))
            ri.aux_entries(ev[sel], rh[np.searchsorted(ht, kt[sel])], 1.0)
    # required_specialties: one shortfall unit per required specialty no member has
    rq = [(t, ctx.six[s]) for t, m in enumerate(models) for s in m.get("required_specialties", [])]
    if rq:
        rkey = np.unique(np.array([t * NS + s for t, s in rq], np.int64))
        fk = fixed_t.astype(np.int64) * NS + ctx.c_spec[fixed_c]
        rkey = rkey[~np.isin(rkey, fk)]
        if len(rkey):
            rt = rkey // NS
            r = ri.add(len(rkey), 1.0, np.inf, "structure", [f"required_specialty {tid[t]} {ctx.spec_ids[s]}" for t, s in zip(rt, rkey % NS, strict=True)],
                       [((), (), (int(t),)) for t in rt])
            ri.req_keys, ri.req_rowid = rkey, r
            uv = ri.aux(len(rkey), -spen, np.ones(len(rkey)), [f"required {tid[t]} {ctx.spec_ids[s]}" for t, s in zip(rt, rkey % NS, strict=True)], r, 1.0)
            ht = np.array(sorted({int(t) for t in rt if "required_specialties" in hard[t]}), dtype=np.int64)
            if len(ht):
                bk = set((before_t.astype(np.int64) * NS + ctx.c_spec[before_c]).tolist())
                s0 = np.array([sum(1 for s in models[t]["required_specialties"] if t * NS + ctx.six[s] not in bk) for t in ht], float)
                rh = ri.add(len(ht), -np.inf, s0, "H6", [f"H6 required_specialties {tid[t]} not worse than today ({int(v)})" for t, v in zip(ht, s0, strict=True)],
                            [((), (), (int(t),)) for t in ht])
                sel = np.flatnonzero(np.isin(rt, ht))
                ri.aux_entries(uv[sel], rh[np.searchsorted(ht, rt[sel])], 1.0)
    # max_avg_age: excess person-years = max(0, Σ age − k·members)
    k = rule_k("max_avg_age")
    ri.age_k = k
    ri.age_row = np.full(T, -1, np.int64)
    teams = np.flatnonzero(k >= 0)
    if len(teams):
        fx = np.bincount(fixed_t, weights=ctx.c_age[fixed_c] - k[fixed_t], minlength=T)
        bx = np.bincount(before_t, weights=ctx.c_age[before_c] - k[before_t], minlength=T)
        r = ri.add(len(teams), -np.inf, -fx[teams], "structure", [f"max_avg_age {tid[t]} (k={k[t]})" for t in teams],
                   [((), (), (int(t),)) for t in teams])
        ri.age_row[teams] = r
        amax = int(ctx.c_age[ctx.I].max()) if len(ctx.I) else 0
        nat = np.maximum(0, fx[teams]) + nP[teams] * np.maximum(0, amax - k[teams])
        is_hard = np.array(["max_avg_age" in hard[t] for t in teams])
        ub = np.where(is_hard, np.minimum(nat, np.maximum(0, bx[teams])), nat)
        ev = ri.aux(len(teams), -apen, ub, [f"age_excess {tid[t]}" for t in teams], r, -1.0)
        ri.h6_caps += [(int(v), int(t), "max_avg_age", float(u), float(n)) for v, t, u, n, h in zip(ev, teams, ub, nat, is_hard, strict=True) if h]


def count_attr(ctx: Context, ri: RowIndex, name: str, c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Does cadre ``c`` count for rule ``name`` in team ``t``?"""
    if name == "min_female":
        return ctx.c_female[c]
    if name == "min_young":
        return ctx.c_age[c] <= ri.young_age[t]
    if name == "min_non_cpc":
        return ctx.c_noncpc[c]
    if name == "min_minority":
        return ctx.c_minority[c]
    return ctx.c_grassroots[c]


def _lookup_rows(keys_sorted: np.ndarray | None, rowid: np.ndarray | None, q: np.ndarray) -> np.ndarray:
    if keys_sorted is None or not len(keys_sorted):
        return np.full(len(q), -1, np.int64)
    pos = np.clip(np.searchsorted(keys_sorted, q), 0, len(keys_sorted) - 1)
    return np.where(keys_sorted[pos] == q, rowid[pos], -1)


def pair_columns(ctx: Context, ri: RowIndex, pairs: Pairs, core: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO entries (row, pair index, value) of the pairs' columns against the row index. With ``core=False`` the
    H2, H3 and flow entries are left out: :func:`core_dot` gives their product with a dual vector from the pairs'
    cadre and post alone (the column-generation pricing cache stores only the rest)."""
    n = len(pairs)
    j = np.arange(n, dtype=np.int64)
    c, p = pairs.c, pairs.p
    t = ctx.p_team[p]
    NS, T = max(1, len(ctx.spec_ids)), ctx.n_team
    R, C, V = ([ri.h2_row[c], ri.h3_row[p]], [j, j], [np.ones(n), np.ones(n)]) if core else ([], [], [])

    def put(rows: np.ndarray, vals) -> None:
        ok = rows >= 0
        R.append(rows[ok])
        C.append(j[ok])
        V.append(np.broadcast_to(np.asarray(vals, float), (n,))[ok] if np.ndim(vals) else np.full(int(ok.sum()), float(vals)))

    if ri.kin_key is not None:  # a cadre may have several relatives: one entry per matching row
        q = c.astype(np.int64) * T + t
        lo_, hi_ = np.searchsorted(ri.kin_key, q, "left"), np.searchsorted(ri.kin_key, q, "right")
        cnt = hi_ - lo_
        has = np.flatnonzero(cnt)
        k = np.repeat(has, cnt[has])
        first = np.repeat(lo_[has] - np.r_[0, np.cumsum(cnt[has])[:-1]], cnt[has])
        R.append(ri.kin_rowid[first + np.arange(len(k))])
        C.append(k)
        V.append(np.ones(len(k)))
    h5 = ri.h5_row[p]
    vacant = ctx.p_holder[p] < 0
    put(np.where(vacant, h5, -1), 1.0)
    put(np.where(~vacant & pairs.stay, h5, -1), -1.0)
    for name, rows in ri.count_rows.items():
        put(np.where(count_attr(ctx, ri, name, c, t), rows[t], -1), 1.0)
    cs = ctx.c_spec[c]
    key = t.astype(np.int64) * NS + np.maximum(cs, 0)
    put(np.where(cs >= 0, _lookup_rows(ri.spec_keys, ri.spec_rowid, key), -1), 1.0)
    put(np.where(cs >= 0, _lookup_rows(ri.req_keys, ri.req_rowid, key), -1), 1.0)
    if ri.age_row is not None:
        put(ri.age_row[t], (ctx.c_age[c] - ri.age_k[t]).astype(float))
    if core:
        cp, pp = ctx.c_prov[c], ctx.p_prov[p]
        mv = cp != pp
        put(np.where(mv, ri.flow_row[pp], -1), 1.0)
        put(np.where(mv, ri.flow_row[cp], -1), -1.0)
    return np.concatenate(R), np.concatenate(C), np.concatenate(V)


def core_dot(ctx: Context, ri: RowIndex, c: np.ndarray, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per pair (c, p): the product of its H2, H3 and flow entries (see :func:`pair_columns`) with the duals ``y``."""
    ye = np.append(y, 0.0)  # row -1 (no row) reads the appended 0
    out = ye[ri.h2_row[c]] + ye[ri.h3_row[p]]
    cp, pp = ctx.c_prov[c], ctx.p_prov[p]
    fl = ye[ri.flow_row[pp]] - ye[ri.flow_row[cp]]
    return out + np.where(cp != pp, fl, 0.0)


def assemble(ctx: Context, ri: RowIndex, pairs: Pairs, terms: dict, score: np.ndarray, obj: np.ndarray) -> Model:
    """The model over ``pairs`` (plus every auxiliary) against the row index."""
    n = len(pairs)
    r, cidx, v = pair_columns(ctx, ri, pairs)
    na = len(ri.aux_obj)
    if ri.aux_r:
        r = np.concatenate([r] + ri.aux_r)
        cidx = np.concatenate([cidx] + [n + a for a in ri.aux_a])
        v = np.concatenate([v] + ri.aux_v)
    nv = n + na
    A = sp.csr_matrix((v, (r, cidx)), shape=(ri.n, nv))
    A.sum_duplicates()
    lb = np.zeros(nv)
    ub = np.concatenate([pairs.ok.astype(float), np.asarray(ri.aux_ub, float)])
    row_lo, row_hi = np.asarray(ri.lo, float), np.asarray(ri.hi, float)
    infeasible: list[tuple[str, str]] = []
    # H7 require pins: fix the pair to 1, or the case is infeasible
    pk = pairs.c.astype(np.int64) * ctx.n_post + pairs.p
    order = np.argsort(pk, kind="stable")
    h7: list[tuple[int, int, int]] = []
    for i in np.flatnonzero(ctx.pin_require):
        c, p = int(ctx.pin_c[i]), int(ctx.pin_p[i])
        pos = np.searchsorted(pk, c * ctx.n_post + p, sorter=order)
        hit = int(order[pos]) if pos < n and pk[order[pos]] == c * ctx.n_post + p else -1
        h7.append((hit, c, p))
        if hit >= 0:
            lb[hit] = 1.0
        else:
            why = "is not in play" if not ctx.c_inplay[c] else (
                "post is not in play (held by a fixed cadre)" if not ctx.p_inplay[p] else "pair is not eligible")
            infeasible.append(("H7", f"H7 require pin {ctx.cad_ids[c]} -> {ctx.post_ids[p]}: {why}"))
    nnz_row = np.diff(A.indptr)
    for k in np.flatnonzero((nnz_row == 0) & ((row_lo > 0) | (row_hi < 0))):
        infeasible.append((ri.rule[k], ri.label[k] + " — no eligible option"))
    caps = [(n + v_, t, name, cap, nat) for v_, t, name, cap, nat in ri.h6_caps]
    return Model(ctx=ctx, pair_c=pairs.c, pair_p=pairs.p, pair_stay=pairs.stay, terms=terms, pair_score=score,
                 obj=np.concatenate([obj, np.asarray(ri.aux_obj, float)]), lb=lb, ub=ub,
                 integer=np.concatenate([np.ones(n, np.uint8), np.zeros(na, np.uint8)]), A=A, row_lo=row_lo, row_hi=row_hi,
                 row_rule=np.asarray(ri.rule, dtype=object), row_label=ri.label, aux_label=ri.aux_label, infeasible=infeasible,
                 pair_block=pairs.block, h6_caps=caps, h7_pins=h7, row_ent=ri.ent, rows=ri)


def build_model(ctx: Context) -> Model:
    """The full model of SPEC §5–§6: every eligible pair a variable."""
    t0 = time.perf_counter()
    pairs = all_pairs(ctx)
    t1 = time.perf_counter()
    terms, score, obj = pair_objective(ctx, pairs)
    t2 = time.perf_counter()
    ri = build_rows(ctx, summarize(ctx, pairs))
    m = assemble(ctx, ri, pairs, terms, score, obj)
    t3 = time.perf_counter()
    m.timings = {"pairs": t1 - t0, "scores": t2 - t1, "rows": t3 - t2}
    log.info("model: %d pairs, %d vars, %d rows, %d nnz (pairs %.2fs, scores %.2fs, rows %.2fs)", len(pairs), m.n_vars,
             m.n_rows, m.A.nnz, t1 - t0, t2 - t1, t3 - t2)
    return m
