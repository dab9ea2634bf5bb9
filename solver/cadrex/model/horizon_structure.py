"""Structure rows of the joint multi-year model (SPEC §3, §12): per round, every team's shortfalls after the round
(penalized auxiliaries over the positions after round t) and H6 against the start of the round — today's members
in round 1 (a constant), the positions after round t − 1 of those still in the case later (an auxiliary bounded by
max(0, ·) of them, with one binary: :func:`_maxpos_ub`). Vectorized: entries are looked up by team or by
(team, specialty) key, never a loop over teams or variables."""

from __future__ import annotations

import numpy as np

from cadrex.io.tomlfiles import COUNT_RULES
from cadrex.model.columns import count_attr
from cadrex.rules.context import Context


def _maxpos_ub(R, labels: list[str], unit: np.ndarray, cols: np.ndarray, vals: np.ndarray, const: np.ndarray,
               big: np.ndarray) -> np.ndarray:
    """Per unit u an auxiliary f_u ≤ max(0, const_u + Σ vals·x[cols] over the entries with unit u), exactly (one
    binary b_u each): f_u ≤ const_u + Σ … + big_u·(1 − b_u) and f_u ≤ big_u·b_u."""
    K = len(labels)
    f = R.aux(K, 0.0, big, labels)
    b = R.aux(K, 0.0, 1.0, [s + " (binary)" for s in labels], integer=True)
    r1 = R.add(K, -np.inf, const + big, "H6", labels)
    ok = unit >= 0
    R.put(r1[unit[ok]], cols[ok], -vals[ok])
    R.put(r1, f, 1.0)
    R.put(r1, b, big)
    r2 = R.add(K, -np.inf, 0.0, "H6", labels)
    R.put(r2, f, 1.0)
    R.put(r2, b, -big)
    return f


def _key_pos(keys: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Index of each ``q`` in the sorted ``keys``, −1 where absent."""
    if not len(keys):
        return np.full(len(q), -1, np.int64)
    pos = np.clip(np.searchsorted(keys, q), 0, len(keys) - 1)
    return np.where(keys[pos] == q, pos, -1)


def structure_rows(R, ctxs: list[Context], t: int, hold, hc, hp, present, loc, tag: str) -> None:
    """Structure shortfalls of every team after round ``t``, penalized; H6 against the start of round ``t``."""
    ctx, pol, w = ctxs[t - 1], ctxs[t - 1].policy, ctxs[t - 1].policy["weights"]
    spen, apen = int(w["structure"]) * int(pol["structure_penalty"]), int(w["structure"]) * int(pol["age_penalty_per_year"])
    T, tid, NS = ctx.n_team, ctx.team_ids, max(1, len(ctx.spec_ids))
    models = [ctx.case.structures[m] for m in ctx.t_model]
    young = np.array([m.get("young_age", 45) for m in models], np.int64)
    fp = np.flatnonzero(ctx.p_fixed)
    fc, ft = ctx.p_holder[fp], ctx.p_team[fp]
    ht = ctx.p_team[hp]
    nP = (np.bincount(ctx.p_team[ctx.J], minlength=T) + 1).astype(float)
    if t > 1:  # the start of round t: positions after round t − 1 of those still here
        vr, vc, vp, vs = R.vars
        sel = np.flatnonzero(present[t][vc] & np.where(vs, vr == t - 1, vr <= t - 1))
        sc, st = loc[vc[sel]], ctx.p_team[vp[sel]]
    else:  # round 1: today's holders (fixed ones included), constants
        hb = np.flatnonzero(ctx.p_holder >= 0)
        sel, sc, st = None, ctx.p_holder[hb], ctx.p_team[hb]

    def rule_k(name: str) -> np.ndarray:
        return np.array([m.get(name, -1) for m in models], np.int64)

    def hard_of(name: str, teams: np.ndarray) -> np.ndarray:
        return np.array([name in models[x].get("hard", []) for x in teams], bool)

    def h6(name: str, teams: np.ndarray, after: np.ndarray, today) -> None:
        """Per team: Σ its after-auxiliaries (``after`` aux ids, by ``teams``) ≤ today (constant per team or aux)."""
        hts = np.unique(teams)
        rh = R.add(len(hts), -np.inf, today if np.ndim(today) else 0.0, "H6",
                   [f"H6 {name} {tid[x]} not worse than the start of the year {tag}" for x in hts])
        R.put(rh[np.searchsorted(hts, teams)], after, 1.0)
        return rh, hts

    # count rules: shortfall = max(0, k − #members with the attribute)
    for name in COUNT_RULES:
        k = rule_k(name)
        if name == "min_minority":
            k = np.where(ctx.t_ethnic, k, -1)
        need = k - np.bincount(ft, weights=count_attr(ctx, young, name, fc, ft), minlength=T)
        teams = np.flatnonzero((k > 0) & (need > 0))
        if not len(teams):
            continue
        rows = R.add(len(teams), need[teams].astype(float), np.inf, "structure", [f"{name} {tid[x]} (k={k[x]}) {tag}" for x in teams])
        rmap = np.full(T, -1, np.int64)
        rmap[teams] = rows
        m = count_attr(ctx, young, name, hc, ht) & (rmap[ht] >= 0)
        R.put(rmap[ht[m]], hold[m], 1.0)
        s = R.aux(len(teams), -spen, need[teams].astype(float), [f"{name} shortfall {tid[x]} {tag}" for x in teams])
        R.put(rows, s, 1.0)
        hard = hard_of(name, teams)
        if not hard.any():
            continue
        hts, sh = teams[hard], s[hard]
        a_s = count_attr(ctx, young, name, sc, st)
        if sel is None:
            today = np.maximum(0, k - np.bincount(st, weights=a_s, minlength=T))[hts].astype(float)
            h6(name, hts, sh, today)
            continue
        umap = np.full(T, -1, np.int64)
        umap[hts] = np.arange(len(hts))
        unit = np.where(a_s, umap[st], -1)
        f = _maxpos_ub(R, [f"H6 {name} {tid[x]} today {tag}" for x in hts], unit, sel, np.full(len(sel), -1.0),
                       need[hts].astype(float), need[hts] + nP[hts])
        rh, _ = h6(name, hts, sh, 0.0)
        R.put(rh, f, -1.0)
    # max_same_specialty: Σ_s max(0, count_s − k), one row per (team, specialty) any member may have
    k = rule_k("max_same_specialty")
    cs_h, cs_f = ctx.c_spec[hc], ctx.c_spec[fc]
    okh, okf = (cs_h >= 0) & (k[ht] >= 0), (cs_f >= 0) & (k[ft] >= 0)
    hk = ht.astype(np.int64) * NS + np.maximum(cs_h, 0)
    fk = np.sort(ft[okf].astype(np.int64) * NS + cs_f[okf])
    keys = np.unique(np.concatenate([hk[okh], fk]))
    if len(keys):
        kt = keys // NS
        Fs = (np.searchsorted(fk, keys, "right") - np.searchsorted(fk, keys, "left")).astype(float)
        rows = R.add(len(keys), -np.inf, k[kt] - Fs, "structure",
                     [f"max_same_specialty {tid[a]} {ctx.spec_ids[b]} {tag}" for a, b in zip(kt, keys % NS, strict=True)])
        pos = np.where(okh, _key_pos(keys, hk), -1)
        R.put(rows[pos[pos >= 0]], hold[pos >= 0], 1.0)
        e = R.aux(len(keys), -spen, nP[kt] + Fs, [f"same_specialty {tid[a]} {ctx.spec_ids[b]} {tag}" for a, b in zip(kt, keys % NS, strict=True)])
        R.put(rows, e, -1.0)
        hard = hard_of("max_same_specialty", kt)
        if hard.any():
            cs_s = ctx.c_spec[sc]
            if sel is None:
                ok = cs_s >= 0
                bu, bc = np.unique(st[ok].astype(np.int64) * NS + cs_s[ok], return_counts=True)
                s0 = np.bincount(bu // NS, weights=np.maximum(0, bc - k[bu // NS]), minlength=T)
                h6("max_same_specialty", kt[hard], e[hard], s0[np.unique(kt[hard])])
            else:
                hkeys = keys[hard]
                unit = np.where(cs_s >= 0, _key_pos(hkeys, st.astype(np.int64) * NS + np.maximum(cs_s, 0)), -1)
                ht_ = hkeys // NS
                f = _maxpos_ub(R, [f"H6 max_same_specialty {tid[a]} {ctx.spec_ids[b]} today {tag}" for a, b in zip(ht_, hkeys % NS, strict=True)],
                               unit, sel, np.ones(len(sel)), Fs[hard] - k[ht_], nP[ht_] + Fs[hard] + np.abs(k[ht_]))
                rh, hts = h6("max_same_specialty", ht_, e[hard], 0.0)
                R.put(rh[np.searchsorted(hts, ht_)], f, -1.0)
    # required_specialties: one unit per required specialty no member has
    rq = [x * NS + ctx.six[s] for x, m in enumerate(models) for s in m.get("required_specialties", [])]
    rkey = np.unique(np.array(rq, np.int64))
    rkey = rkey[~np.isin(rkey, ft.astype(np.int64) * NS + cs_f)]
    if len(rkey):
        rt = rkey // NS
        rows = R.add(len(rkey), 1.0, np.inf, "structure", [f"required_specialty {tid[a]} {ctx.spec_ids[b]} {tag}" for a, b in zip(rt, rkey % NS, strict=True)])
        pos = np.where(cs_h >= 0, _key_pos(rkey, hk), -1)
        R.put(rows[pos[pos >= 0]], hold[pos >= 0], 1.0)
        u = R.aux(len(rkey), -spen, 1.0, [f"required {tid[a]} {ctx.spec_ids[b]} {tag}" for a, b in zip(rt, rkey % NS, strict=True)])
        R.put(rows, u, 1.0)
        hard = hard_of("required_specialties", rt)
        if hard.any():
            sk = st.astype(np.int64) * NS + np.maximum(ctx.c_spec[sc], 0)
            if sel is None:
                uncovered = ~np.isin(rkey, sk[ctx.c_spec[sc] >= 0])
                s0 = np.bincount(rt[uncovered], minlength=T).astype(float)
                h6("required_specialties", rt[hard], u[hard], s0[np.unique(rt[hard])])
            else:
                hkeys = rkey[hard]
                unit = np.where(ctx.c_spec[sc] >= 0, _key_pos(hkeys, sk), -1)
                ht_ = hkeys // NS
                f = _maxpos_ub(R, [f"H6 required {tid[a]} {ctx.spec_ids[b]} today {tag}" for a, b in zip(ht_, hkeys % NS, strict=True)],
                               unit, sel, np.full(len(sel), -1.0), np.ones(len(hkeys)), nP[ht_] + 1)
                rh, hts = h6("required_specialties", ht_, u[hard], 0.0)
                R.put(rh[np.searchsorted(hts, ht_)], f, -1.0)
    # max_avg_age: excess person-years max(0, Σ age − k·members)
    k = rule_k("max_avg_age")
    teams = np.flatnonzero(k >= 0)
    if len(teams):
        fx = np.bincount(ft, weights=(ctx.c_age[fc] - k[ft]).astype(float), minlength=T)
        rows = R.add(len(teams), -np.inf, -fx[teams], "structure", [f"max_avg_age {tid[x]} (k={k[x]}) {tag}" for x in teams])
        rmap = np.full(T, -1, np.int64)
        rmap[teams] = rows
        m = rmap[ht] >= 0
        R.put(rmap[ht[m]], hold[m], (ctx.c_age[hc[m]] - k[ht[m]]).astype(float))
        amax = float(ctx.c_age.max()) if ctx.n_cad else 0.0
        big = np.abs(fx[teams]) + nP[teams] * (amax + np.abs(k[teams]))
        e = R.aux(len(teams), -apen, big, [f"age_excess {tid[x]} {tag}" for x in teams])
        R.put(rows, e, -1.0)
        hard = hard_of("max_avg_age", teams)
        if hard.any():
            hts = teams[hard]
            vals = (ctx.c_age[sc] - k[st]).astype(float)
            if sel is None:
                h6("max_avg_age", hts, e[hard], np.maximum(0, np.bincount(st, weights=vals, minlength=T))[hts])
            else:
                umap = np.full(T, -1, np.int64)
                umap[hts] = np.arange(len(hts))
                f = _maxpos_ub(R, [f"H6 max_avg_age {tid[x]} today {tag}" for x in hts], umap[st], sel, vals, fx[hts], big[hard])
                rh, _ = h6("max_avg_age", hts, e[hard], 0.0)
                R.put(rh, f, -1.0)


__all__ = ["structure_rows"]
