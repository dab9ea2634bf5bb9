"""The age rows' cuts of column generation (solvers/cg/cuts.py): valid for every plan, and what they do to the LP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

import cadrex
from cadrex.jobs.generate import generate_case
from cadrex.rules.context import Context
from cadrex.solvers.cg.cuts import kappa


@pytest.mark.parametrize("seed", range(40))
def test_age_cut_holds_for_every_0_1_point_of_its_row(seed):
    """The MIR inequality with a set S complemented (the stays, or any other), Σ_{j∉S} κ(a_j)x_j − Σ_{j∈S} κ(−a_j)x_j − e ≤ (δ−r₀)⌊β/δ⌋ −
    Σ_S κ(−a_j), holds at every binary x with e = max(0, Σ a_j x_j − b) (the least excess the row allows), for random
    rows and every δ with r₀ > 0."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    a = rng.integers(-15, 12, n)
    stay = rng.random(n) < 0.4  # S
    b = int(rng.integers(-10, 10))
    beta = b - a[stay].sum()
    for d in range(2, 21):
        r0 = beta % d
        if r0 == 0:
            continue
        coef = np.where(stay, -kappa(-a, d, r0), kappa(a, d, r0))
        rhs = (d - r0) * (beta // d) - kappa(-a[stay], d, r0).sum()
        for bits in itertools.product((0, 1), repeat=n):
            x = np.array(bits)
            e = max(0, int(a @ x) - b)
            assert coef @ x - e <= rhs, (d, a, stay, b, x)


def _gen(tmp_path, family, n, seed):
    d = str(tmp_path / f"{family}-{n}-{seed}")
    generate_case(d, n, seed, family=family)
    return d


def _lp(m) -> float:
    """The LP relaxation's value of a model (maximized)."""
    from scipy.optimize import linprog

    hi, lo = np.isfinite(m.row_hi), np.isfinite(m.row_lo)
    r = linprog(-m.obj, A_ub=sp.vstack([m.A[hi], -m.A[lo]]), b_ub=np.concatenate([m.row_hi[hi], -m.row_lo[lo]]),
                bounds=np.column_stack([m.lb, m.ub]), method="highs")
    assert r.status == 0
    return float(-r.fun + m.offset)


def test_age_cuts_lower_the_lp_bound_and_keep_it_above_the_optimum(tmp_path):
    """With the cuts, column generation converges to a bound no higher than without them and never below the optimum
    of the full model (HiGHS on every eligible pair); on at least one of these cases strictly lower."""
    from cadrex.solvers.cg.driver import ColumnGeneration
    from cadrex.solvers.highs import solve_model

    lower = []
    for family, seed in (("vacancies", 2), ("base", 1)):
        case = cadrex.load_case(_gen(tmp_path, family, 300, seed))
        ctx = Context(case)
        plain = ColumnGeneration(ctx).solve_lp(1e18)
        cg = ColumnGeneration(ctx)
        cut = cg.solve_lp(1e18, cuts=True)
        opt = cadrex.solve(case, time_limit=120, method="full", backend="highs")
        assert opt.status == "optimal"
        assert opt.objective - 1e-6 <= cut.bound <= plain.bound + 1e-6, (family, seed)
        lower.append((family, len(cg.cut_team), plain.bound - cut.bound))
        # the master with the cuts as rows (the dive's MIPs): the same optimum, a lower or equal LP value
        m = cg.model()
        mc = cg.cut_model(m)
        assert mc.A.shape == (m.A.shape[0] + len(cg.cut_team), m.A.shape[1])
        a, b = solve_model(m, time_limit=60), solve_model(mc, time_limit=60)
        assert a.status == b.status == "optimal" and a.objective == pytest.approx(b.objective, abs=1e-6)
        assert _lp(mc) <= _lp(m) + 1e-6
    assert any(n > 0 and d > 1e-6 for _, n, d in lower), lower


def test_h6_age_cuts_keep_the_bound_valid_when_max_avg_age_is_hard(tmp_path, monkeypatch):
    """H6: with max_avg_age in every structure model's hard list (the excess capped at today's), the cuts, up to ten
    rounds, still leave the bound at or above the full model's optimum; on at least one of these cases they cut."""
    from cadrex.solvers.cg import cuts
    from cadrex.solvers.cg.driver import ColumnGeneration

    monkeypatch.setattr(cuts, "CUT_ROUNDS", 10)
    cut_any = []
    for family, seed, dk in (("vacancies", 1, 0), ("tight", 2, -2)):
        case = cadrex.load_case(_gen(tmp_path, family, 150, seed))
        for s in case.structures.values():
            if "max_avg_age" in s:
                s["hard"] = [*s.get("hard", []), "max_avg_age"]
                s["max_avg_age"] += dk
        cg = ColumnGeneration(Context(case))
        out = cg.solve_lp(1e18, cuts=True)
        opt = cadrex.solve(case, time_limit=120, method="full", backend="highs")
        assert opt.status == "optimal" and out.converged
        assert out.bound >= opt.objective - 1e-6, (family, seed, dk)
        cut_any.append(len(cg.cut_team))
    assert any(cut_any), cut_any


def test_every_stored_cut_holds_at_its_rows_worst_0_1_point(tmp_path, monkeypatch):
    """Each cut column generation adds, read back as pricing and the dives read it (``cut_entries`` over every pool
    pair of its team, the master LP's right-hand side), against its team's age row alone: the most the cut's left
    side can reach at a binary x with e ≥ max(0, Σ a_j x_j − b), an exact MIP (scipy's milp, not cadrex's model),
    is at most its right-hand side. Cuts of both complemented sets (the stays; the LP's pairs above 1/2) are met."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from cadrex.solvers.cg import cuts
    from cadrex.solvers.cg.driver import ColumnGeneration

    monkeypatch.setattr(cuts, "CUT_ROUNDS", 6)
    kinds = set()
    for family, seed in (("tight", 2), ("vacancies", 1)):
        ctx = Context(cadrex.load_case(_gen(tmp_path, family, 200, seed)))
        cg = ColumnGeneration(ctx)
        cg.solve_lp(1e18, cuts=True)
        ri, N = cg.rows, len(cg.pairs)
        team = ctx.p_team[cg.pairs.p]
        for k in range(len(cg.cut_team)):
            t = int(cg.cut_team[k])
            idx = np.flatnonzero(team == t)
            kk, pos, v = cg.cut_entries(idx)
            coef = np.zeros(len(idx))
            coef[pos[kk == k]] = v[kk == k]
            a = ctx.c_age[cg.pairs.c[idx]].astype(float) - ri.age_k[t]
            b = float(ri.hi[ri.age_row[t]])
            # max coef·x − e  s.t.  a·x − e ≤ b, x ∈ {0,1}, e ≥ 0
            n = len(idx)
            r = milp(-np.concatenate([coef, [-1.0]]), integrality=np.concatenate([np.ones(n), [0]]),
                     bounds=Bounds(np.zeros(n + 1), np.concatenate([np.ones(n), [np.inf]])),
                     constraints=LinearConstraint(np.concatenate([a, [-1.0]])[None, :], -np.inf, b))
            assert r.status == 0
            assert -r.fun <= cg.row_hi[ri.n + k] + 1e-6, (family, seed, k, -r.fun, cg.row_hi[ri.n + k])
            comp = cg.cut_comp[(cg.cut_comp >= k * N) & (cg.cut_comp < (k + 1) * N)] % N
            kinds.add("stays" if np.array_equal(comp, np.intersect1d(idx, np.flatnonzero(cg.pairs.stay))) else "lp")
    assert kinds == {"stays", "lp"}, kinds


def test_cuts_start_within_cut_from_times_the_gap_rule_before_it_is_met(tmp_path):
    """The first LP phase's cuts (``solve_lp(stop_gap=g, cuts=True)``, as the driver runs it with g a quarter of the
    gap goal) are separated at exact rounds only, each within ``CUT_FROM × g`` of the round's LP value (the lowest
    plain bound so far, as the gap rule reads it), the first one at the first such round (these cases' rounds there
    need no artificial columns); at least one cut round comes before the gap rule itself holds (the rounds it saves)."""
    from cadrex.solvers.cg import cuts
    from cadrex.solvers.cg.driver import ColumnGeneration
    from cadrex.solvers.cg.rounds import gap_reached

    g, early = 0.0005 / 4, []
    for family, seed in (("vacancies", 3), ("base", 4), ("tight", 5)):
        cg = ColumnGeneration(Context(cadrex.load_case(_gen(tmp_path, family, 300, seed))))
        at, sep = [], cg.separate_cuts
        def spy(cg=cg, at=at, sep=sep):
            at.append(len(cg.rounds))
            return sep()
        cg.separate_cuts = spy
        cg.solve_lp(1e18, stop_gap=g, cuts=True)
        plain = np.minimum.accumulate([r.plain for r in cg.rounds])
        near = [not r.partial and gap_reached(p, r.lp, cuts.CUT_FROM * g) for r, p in zip(cg.rounds, plain, strict=True)]
        assert at and all(near[k - 1] for k in at), (family, at, near)
        assert at[0] == 1 + near.index(True), (family, at, near)
        early += [not gap_reached(plain[k - 1], cg.rounds[k - 1].lp, g) for k in at]
    assert any(early), early
