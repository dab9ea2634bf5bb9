"""Structure rows (SPEC §3) per team: the count rules, max_same_specialty, required_specialties and max_avg_age
as shortfall rows with penalized auxiliaries, and H6 (a structure rule a model lists as ``hard`` may not get worse
than today) as caps on those auxiliaries or as extra rows."""

from __future__ import annotations

import numpy as np

from cadrex.io.tomlfiles import COUNT_RULES
from cadrex.model.columns import count_attr
from cadrex.model.rows import RowIndex, Summary
from cadrex.rules.context import Context


def structure_rows(ctx: Context, ri: RowIndex, summ: Summary) -> None:
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
        a_f = count_attr(ctx, ri.young_age, name, fixed_c, fixed_t)
        a_b = count_attr(ctx, ri.young_age, name, before_c, before_t)
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

