"""Structure rows of the joint multi-year model (SPEC §3, §12): per round, every team's shortfalls after the round
(penalized auxiliaries over the positions after round t) and H6 against the start of the round — today's members
in round 1 (a constant), the positions after round t − 1 of those still in the case later (an auxiliary bounded by
max(0, ·) of them, with one binary: :func:`_maxpos_ub`)."""

from __future__ import annotations

import numpy as np

from cadrex.io.tomlfiles import COUNT_RULES
from cadrex.rules.context import Context


def _count_attr(ctx: Context, name: str, c: np.ndarray, young_age: np.ndarray, t: np.ndarray) -> np.ndarray:
    if name == "min_female":
        return ctx.c_female[c]
    if name == "min_young":
        return ctx.c_age[c] <= young_age[t]
    if name == "min_non_cpc":
        return ctx.c_noncpc[c]
    if name == "min_minority":
        return ctx.c_minority[c]
    return ctx.c_grassroots[c]


def _maxpos_ub(R, cols: np.ndarray, vals: np.ndarray, const: float, big: float, label: str) -> int:
    """An auxiliary f with f ≤ max(0, const + Σ vals·x[cols]) (one binary): the exact "today" of H6 in a later round."""
    f, b = R.aux(1, 0.0, big, [label]), R.aux(1, 0.0, 1.0, [label + " (binary)"], integer=True)
    (r1,) = R.add(1, -np.inf, const + big, "H6", [label])
    R.put(np.full(len(cols) + 2, r1), np.concatenate([cols, f, b]), np.concatenate([-vals, [1.0, big]]))
    (r2,) = R.add(1, -np.inf, 0.0, "H6", [label])
    R.put([r2, r2], [f[0], b[0]], [1.0, -big])
    return int(f[0])


def structure_rows(R, ctxs: list[Context], t: int, hold, hc, hp, present, loc, tag: str) -> None:
    """Structure shortfalls of every team after round ``t``, penalized; H6 against the start of round ``t``."""
    ctx, pol, w = ctxs[t - 1], ctxs[t - 1].policy, ctxs[t - 1].policy["weights"]
    spen, apen = int(w["structure"]) * int(pol["structure_penalty"]), int(w["structure"]) * int(pol["age_penalty_per_year"])
    T, tid = ctx.n_team, ctx.team_ids
    models = [ctx.case.structures[m] for m in ctx.t_model]
    hard = [set(m.get("hard", [])) for m in models]
    young = np.array([m.get("young_age", 45) for m in models], np.int64)
    fp = np.flatnonzero(ctx.p_fixed)
    fc, ft = ctx.p_holder[fp], ctx.p_team[fp]
    ht = ctx.p_team[hp]
    nP = np.bincount(ctx.p_team[ctx.J], minlength=T) + 1
    # the start of round t: positions after round t − 1 of those still here (round 1: today's holders, constant)
    if t > 1:
        vr, vc, vp, vs = R.vars
        sel = np.flatnonzero(present[t][vc] & np.where(vs, vr == t - 1, vr <= t - 1))
        sc, st = loc[vc[sel]], ctx.p_team[vp[sel]]
    else:
        hb = np.flatnonzero(ctx.p_holder >= 0)
        sel, sc, st = None, ctx.p_holder[hb], ctx.p_team[hb]

    def rule_k(name: str) -> np.ndarray:
        return np.array([m.get(name, -1) for m in models], np.int64)

    def today(name: str, team: int, coef_s: np.ndarray, const: float, big: float, label: str):
        """H6 "today" of rule ``name`` in ``team``: a constant (round 1) or an auxiliary bounded by it."""
        if sel is None:
            return max(0.0, const + float(coef_s[st == team].sum()))
        m = st == team
        return _maxpos_ub(R, sel[m], coef_s[m].astype(float), const, big, f"H6 {name} {tid[team]} today {tag}")

    for name in COUNT_RULES:
        k = rule_k(name)
        if name == "min_minority":
            k = np.where(ctx.t_ethnic, k, -1)
        F = np.bincount(ft, weights=_count_attr(ctx, name, fc, young, ft), minlength=T)
        need = k - F
        for tm in np.flatnonzero((k > 0) & (need > 0)):
            (r,) = R.add(1, float(need[tm]), np.inf, "structure", [f"{name} {tid[tm]} (k={k[tm]}) {tag}"])
            m = ht == tm
            R.put(np.full(int(m.sum()), r), hold[m], _count_attr(ctx, name, hc[m], young, ht[m]).astype(float))
            s = R.aux(1, -spen, float(need[tm]), [f"{name} shortfall {tid[tm]} {tag}"])
            R.put([r], s, 1.0)
            if name in hard[tm]:
                # round 1: today's members are every holder (fixed ones included); later: the in-play positions
                td = today(name, tm, -_count_attr(ctx, name, sc, young, st).astype(float),
                           float(need[tm] if sel is not None else k[tm]), float(need[tm] + nP[tm]), name)
                (rh,) = R.add(1, -np.inf, td if isinstance(td, float) else 0.0, "H6", [f"H6 {name} {tid[tm]} not worse than the start of the year {tag}"])
                R.put([rh], s, 1.0)
                if not isinstance(td, float):
                    R.put([rh], [td], -1.0)
    # max_same_specialty: Σ_s max(0, count_s − k)
    k = rule_k("max_same_specialty")
    cs_h, cs_f = ctx.c_spec[hc], ctx.c_spec[fc]
    for tm in np.flatnonzero(k >= 0):
        specs = np.unique(np.concatenate([cs_h[(ht == tm) & (cs_h >= 0)], cs_f[(ft == tm) & (cs_f >= 0)]]))
        es, todays = [], []
        for s_ in specs:
            Fs = int(((ft == tm) & (cs_f == s_)).sum())
            (r,) = R.add(1, -np.inf, float(k[tm] - Fs), "structure", [f"max_same_specialty {tid[tm]} {ctx.spec_ids[s_]} {tag}"])
            m = (ht == tm) & (cs_h == s_)
            R.put(np.full(int(m.sum()), r), hold[m], 1.0)
            e = R.aux(1, -spen, float(nP[tm] + Fs), [f"same_specialty {tid[tm]} {ctx.spec_ids[s_]} {tag}"])
            R.put([r], e, -1.0)
            es.append(int(e[0]))
            if "max_same_specialty" in hard[tm]:
                todays.append(today("max_same_specialty", tm, (ctx.c_spec[sc] == s_).astype(float), float(Fs - k[tm]),
                                    float(nP[tm] + Fs + k[tm]), f"max_same_specialty {ctx.spec_ids[s_]}"))
        if "max_same_specialty" in hard[tm] and es:
            const = sum(v for v in todays if isinstance(v, float))
            aux = [v for v in todays if not isinstance(v, float)]
            if sel is None:  # round 1: today's shortfall over every specialty of today's members
                bs = ctx.c_spec[sc[(st == tm) & (ctx.c_spec[sc] >= 0)]]
                u, cnt = np.unique(bs, return_counts=True)
                const = float(np.maximum(0, cnt - k[tm]).sum())
            (rh,) = R.add(1, -np.inf, const, "H6", [f"H6 max_same_specialty {tid[tm]} not worse than the start of the year {tag}"])
            R.put(np.full(len(es) + len(aux), rh), es + aux, [1.0] * len(es) + [-1.0] * len(aux))
    # required_specialties: one unit per required specialty no member has
    for tm, m_ in enumerate(models):
        req = [ctx.six[s] for s in m_.get("required_specialties", [])]
        us, todays = [], []
        for s_ in req:
            if ((ft == tm) & (cs_f == s_)).any():
                continue
            (r,) = R.add(1, 1.0, np.inf, "structure", [f"required_specialty {tid[tm]} {ctx.spec_ids[s_]} {tag}"])
            m = (ht == tm) & (cs_h == s_)
            R.put(np.full(int(m.sum()), r), hold[m], 1.0)
            u = R.aux(1, -spen, 1.0, [f"required {tid[tm]} {ctx.spec_ids[s_]} {tag}"])
            R.put([r], u, 1.0)
            us.append(int(u[0]))
            if "required_specialties" in hard[tm]:
                todays.append(today("required_specialties", tm, -(ctx.c_spec[sc] == s_).astype(float), 1.0, float(nP[tm] + 1),
                                    f"required {ctx.spec_ids[s_]}"))
        if "required_specialties" in hard[tm] and us:
            const = sum(v for v in todays if isinstance(v, float))
            aux = [v for v in todays if not isinstance(v, float)]
            (rh,) = R.add(1, -np.inf, const, "H6", [f"H6 required_specialties {tid[tm]} not worse than the start of the year {tag}"])
            R.put(np.full(len(us) + len(aux), rh), us + aux, [1.0] * len(us) + [-1.0] * len(aux))
    # max_avg_age: excess person-years max(0, Σ age − k·members)
    k = rule_k("max_avg_age")
    amax = float(ctx.c_age.max()) if ctx.n_cad else 0.0
    for tm in np.flatnonzero(k >= 0):
        fx = float((ctx.c_age[fc[ft == tm]] - k[tm]).sum())
        (r,) = R.add(1, -np.inf, -fx, "structure", [f"max_avg_age {tid[tm]} (k={k[tm]}) {tag}"])
        m = ht == tm
        R.put(np.full(int(m.sum()), r), hold[m], (ctx.c_age[hc[m]] - k[tm]).astype(float))
        big = abs(fx) + float(nP[tm]) * (amax + abs(float(k[tm])))
        e = R.aux(1, -apen, big, [f"age_excess {tid[tm]} {tag}"])
        R.put([r], e, -1.0)
        if "max_avg_age" in hard[tm]:
            td = today("max_avg_age", tm, (ctx.c_age[sc] - k[tm]).astype(float), fx if sel is not None else 0.0, big, "max_avg_age")
            (rh,) = R.add(1, -np.inf, td if isinstance(td, float) else 0.0, "H6", [f"H6 max_avg_age {tid[tm]} not worse than the start of the year {tag}"])
            R.put([rh], e, 1.0)
            if not isinstance(td, float):
                R.put([rh], [td], -1.0)


__all__ = ["structure_rows"]
