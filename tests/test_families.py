"""Case families (issue 17): every family of ``cadrex generate --family`` gives a valid case with the shape it
promises (checked on the written files), the same case for the same seed, and a plan that the independent verifier
accepts, solved by full model and by column generation alike."""

from __future__ import annotations

import filecmp

import pandas as pd
import pytest

import cadrex
from cadrex.analysis.verify import evaluate
from cadrex.cli import main
from cadrex.jobs.families import BIG, FAMILIES
from cadrex.rules import Context


def _gen(tmp_path, family: str, n: int = 120, seed: int = 3):
    out = tmp_path / f"{family}-{n}-{seed}"
    assert main(["generate", "--cadres", str(n), "--seed", str(seed), "--family", family, str(out)]) == 0
    return out


def _shares(case_dir):
    ctx = Context(cadrex.load_case(case_dir))
    return ctx, (ctx.p_holder[ctx.J] < 0).mean(), ctx.c_must[ctx.I].mean()


@pytest.fixture(scope="module")
def base_shares(tmp_path_factory):
    return _shares(_gen(tmp_path_factory.mktemp("base"), "base"))


def test_vacancies_and_must_move_families_have_their_shares(tmp_path, base_shares):
    _, vac0, must0 = base_shares
    _, vac, _ = _shares(_gen(tmp_path, "vacancies"))
    assert vac0 < 0.15 and 0.25 <= vac <= 0.35
    _, _, must = _shares(_gen(tmp_path, "must_move"))
    assert must >= must0 + 0.05 and 0.2 <= must <= 0.32


def test_big_provinces_preferences_strict_tight(tmp_path):
    d = _gen(tmp_path, "big_provinces")
    teams = pd.read_csv(d / "teams.csv", dtype=str)
    assert set(teams["province_id"]) <= set(BIG) and len(set(teams["province_id"])) >= len(BIG) - 2
    d = _gen(tmp_path, "preferences")
    case = cadrex.load_case(d)
    ctx = Context(case)
    assert len(case.preferences) >= 4 * (len(ctx.I) + len(ctx.J)) and len(case.scores) >= 2.5 * len(ctx.I)
    d = _gen(tmp_path, "strict")
    case = cadrex.load_case(d)
    spec = case.posts["specialty"] != ""
    assert case.policy["strict_education"] and case.posts.loc[spec, "specialty_strict"].mean() >= 0.5
    d = _gen(tmp_path, "tight")
    case = cadrex.load_case(d)
    assert len(case.structures["city_gov"]["hard"]) == 4 and case.structures["city_party"]["min_female"] == 2


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_case_and_a_verified_plan(tmp_path, family):
    a, b = _gen(tmp_path / "a", family, 60, 5), _gen(tmp_path / "b", family, 60, 5)
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert not mismatch and not errors
    case = cadrex.load_case(a)
    full = cadrex.solve(case, method="full", time_limit=60)
    assert full.status == "optimal", full.diagnosis
    assert not evaluate(case, full.placements, full.summary["policy"]).violations
    cg = cadrex.solve(case, method="cg", gap=0, time_limit=60)
    assert cg.objective == full.objective


@pytest.mark.parametrize("family,seed", [("base", 2), ("strict", 2)])
def test_closure_fixing_keeps_the_optimum(tmp_path, family, seed):
    """The closure MIP holds only the pairs with rc > -(B - T) (master pairs included): with a proof asked for
    (T = the first plan), the plan must still be the full model's optimum, and the fixing must have run."""
    case = cadrex.load_case(_gen(tmp_path, family, 150, seed))
    full = cadrex.solve(case, method="full", time_limit=120)
    cg = cadrex.solve(case, method="cg", gap=0, time_limit=120)
    info = cg.summary["column_generation"]
    assert info.get("closure_fixed", 0) > 0 and info["closed"], info
    assert cg.status == full.status == "optimal" and cg.objective == full.objective


def test_dive_frees_the_pairs_of_lazy_rows_its_lp_violates(tmp_path, monkeypatch):
    """An LP phase cut short can end before the lazy rows its solution violates entered the LP: the dive then leaves
    the pairs on those rows free (fixing them made it infeasible on the tight family at 5,000 in play). Its plan is
    the best with fewer pairs fixed, so at least as good as the plan with all of the LP's ones fixed. (With the first
    master of 20 pairs per cadre and post this case was chosen with: with 10, fixing all of them is infeasible here
    and the dive's retry fixes the stays only, a MIP this comparison does not cover.)"""
    import numpy as np

    from cadrex.solvers.cg import pool
    from cadrex.solvers.cg.dive import dive
    from cadrex.solvers.cg.driver import ColumnGeneration

    monkeypatch.setattr(pool, "K_INIT_SMALL", 20)

    case = cadrex.load_case(_gen(tmp_path, "tight", 200, 1))
    cg = ColumnGeneration(Context(case))
    cg.solve_lp(1e18, max_rounds=1)
    assert len(cg._violated_lazy_rows())
    m = cg.model()
    freed, _ = dive(cg, m, 0, 60, near=False)
    cg.rows_off_in_lp_solution = lambda: np.zeros(0, np.int64)  # as before: every pair at 1 in the LP fixed
    fixed, _ = dive(cg, m, 0, 60, near=False)
    assert freed is not None and freed.status == "optimal"
    assert fixed is None or freed.objective >= fixed.objective


def test_dive_retries_with_only_the_stays_fixed(tmp_path, monkeypatch):
    """When fixing every pair the LP sets to 1 is infeasible, the dive tries once more with only the stays fixed
    (the moves left to the MIP) before the solve falls back to the master MIP without fixings."""
    import numpy as np

    from cadrex.solvers.base import BackendResult
    from cadrex.solvers.cg import dive, driver

    case = cadrex.load_case(_gen(tmp_path, "base", 150, 2))
    cg = driver.ColumnGeneration(Context(case))
    cg.solve_lp(1e18)
    m = cg.model()
    real, fixed = dive.solve_mip, []

    def first_infeasible(model, **kw):
        fixed.append(model.lift(model.lb)[: m.n_pairs] > 0.5)  # the dive's MIP: without the pairs fixings rule out
        if len(fixed) == 1:
            return BackendResult("infeasible", None, None, None, 0.0)
        return real(model, **kw)

    monkeypatch.setattr(dive, "solve_mip", first_infeasible)
    r, near = dive.dive(cg, m, 0, 60, near=False)
    assert len(fixed) == 2 and r is not None and r.status == "optimal"
    moves = fixed[0] & ~m.pair_stay
    assert moves.any() and not (fixed[1] & ~m.pair_stay).any()
    assert np.array_equal(fixed[1], fixed[0] & m.pair_stay)


def test_dive_near_the_lp_leaves_out_far_pairs_and_gives_a_plan_of_the_master(tmp_path, monkeypatch):
    """The dive first solves its MIP without the pairs the LP sets to 0 at a reduced cost below -DIVE_RC: a smaller
    MIP than the dive over every master pair, whose plan satisfies the master and uses none of the far pairs."""
    import numpy as np

    from cadrex.solvers.cg import dive, driver

    cg = driver.ColumnGeneration(Context(cadrex.load_case(_gen(tmp_path, "vacancies", 250, 4))))
    cg.solve_lp(1e18)
    m = cg.model()
    real, sizes = dive.solve_mip, []

    def record(model, **kw):
        sizes.append(int(np.count_nonzero(model.ub > 0)))
        return real(model, **kw)

    monkeypatch.setattr(dive, "solve_mip", record)
    r, near = dive.dive(cg, m, 0, 60)
    full, near_full = dive.dive(cg, m, 0, 60, near=False)
    assert near and not near_full and r is not None and full is not None
    assert len(sizes) == 2 and sizes[0] < sizes[1]
    far = (cg.master_rc(m.pair_index) < -dive.DIVE_RC) & (cg.x_lp[m.pair_index] < 1e-9)
    assert far.any() and not np.any(r.x[: m.n_pairs][far] > 0.5)
    x = np.round(r.x)
    assert np.all(x >= m.lb - 1e-9) and np.all(x <= m.ub + 1e-9)
    act = m.A @ r.x
    assert np.all(act >= m.row_lo - 1e-6) and np.all(act <= m.row_hi + 1e-6)
    assert m.objective_of(r.x) == pytest.approx(r.objective)


def test_dive_falls_back_to_every_pair_when_the_mip_near_the_lp_has_no_plan(tmp_path, monkeypatch):
    """A near MIP with no plan: the dive over every master pair, with the same pairs (the LP's ones) fixed at 1."""
    import numpy as np

    from cadrex.solvers.base import BackendResult
    from cadrex.solvers.cg import dive, driver

    cg = driver.ColumnGeneration(Context(cadrex.load_case(_gen(tmp_path, "base", 150, 2))))
    cg.solve_lp(1e18)
    m = cg.model()
    real, calls, fixed = dive.solve_mip, [], []

    def near_infeasible(model, **kw):
        calls.append(int(np.count_nonzero(model.ub > 0)))
        fixed.append(model.lift(model.lb)[: m.n_pairs] > 0.5)
        return BackendResult("infeasible", None, None, None, 0.0) if len(calls) == 1 else real(model, **kw)

    monkeypatch.setattr(dive, "solve_mip", near_infeasible)
    r, near = dive.dive(cg, m, 0, 60)
    assert len(calls) == 2 and calls[0] < calls[1] and not near and r is not None and r.status == "optimal"
    assert (fixed[0] & ~m.pair_stay).any() and np.array_equal(fixed[0], fixed[1])  # moves fixed too, not stays only


def test_master_rc_maps_pool_pairs_to_the_last_exact_lp_reduced_costs():
    """``master_rc``: the reduced cost of each pool pair in the master at the last exact LP, whatever the order of
    ``cols``; 0 for pairs added since (after that LP) or outside the master, and for a master with no LP yet."""
    import numpy as np

    from cadrex.solvers.cg.driver import ColumnGeneration

    class Fake:
        cols = np.array([7, 2, 9, 4, 11])  # LP order; 4 and 11 added after the last exact round
        rc_master = np.array([-1.5, 0.0, -7.0])

    got = ColumnGeneration.master_rc(Fake(), np.array([2, 4, 7, 9, 11, 5]))
    assert got.tolist() == [0.0, 0.0, -1.5, -7.0, 0.0, 0.0]
    Fake.rc_master = np.zeros(0)
    assert ColumnGeneration.master_rc(Fake(), np.array([2, 7])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("again", [10**9, -1])
def test_the_full_dive_runs_after_the_near_one_only_when_its_closure_is_small_enough(tmp_path, monkeypatch, again):
    """A near plan not certified by the LP bound alone is followed by the dive over every pair when its closure has
    at most DIVE_AGAIN times the cap of pairs (never with a negative DIVE_AGAIN)."""
    from cadrex.solvers.cg import driver

    ctx = Context(cadrex.load_case(_gen(tmp_path, "tight", 200, 1)))
    real_dive, calls = driver.dive, []

    def record(*a, **kw):
        r, near = real_dive(*a, **kw)
        calls.append((kw.get("near", True), near, r.objective if r is not None else None))
        return r, near

    monkeypatch.setattr(driver, "dive", record)
    monkeypatch.setattr(driver, "DIVE_AGAIN", again)
    _, _, info = driver.solve_scaled(ctx, 60, gap=0.0)
    assert calls[0][:2] == (True, True) and info["lagrangian_bound"] > calls[0][2] + 1  # not certified by the bound
    assert [c[:2] for c in calls] == ([(True, True), (False, False)] if again > 0 else [(True, True)])
    full_better = again > 0 and calls[1][2] > calls[0][2]  # the full dive's plan is kept only when it is better
    assert info["first_plan"] == ("dive over every master pair" if full_better else "dive near the LP")


def test_highs_accepts_every_dive_option():
    """Each of the dive's HiGHS options is one this HiGHS knows (a renamed one would only log a warning)."""
    import highspy

    from cadrex.solvers.cg.dive import DIVE_OPTIONS

    h = highspy.Highs()
    assert DIVE_OPTIONS and all(h.setOptionValue(k, v) == highspy.HighsStatus.kOk for k, v in DIVE_OPTIONS.items())


@pytest.mark.parametrize(("family", "seed"), [("tight", 1), ("vacancies", 2)])
def test_dive_mip_without_the_columns_its_fixings_rule_out_has_the_same_optimum(tmp_path, family, seed):
    """The dive's MIP leaves out every column that shares a packing row (H2, H3, H4) with a pair fixed at 1: its optimum
    is that of the master with those fixings as lower bounds, and its plan, lifted back, satisfies that master."""
    import dataclasses

    import numpy as np

    from cadrex.solvers.cg.dive import DIVE_OPTIONS
    from cadrex.solvers.cg.driver import ColumnGeneration
    from cadrex.solvers.cg.fixing import fix_out
    from cadrex.solvers.highs import solve_model

    cg = ColumnGeneration(Context(cadrex.load_case(_gen(tmp_path, family, 200, seed))))
    cg.solve_lp(1e18)
    m = cg.model()
    fix = cg.x_lp[m.pair_index] > 1 - 1e-6
    lb = m.lb.copy()
    lb[: m.n_pairs][fix] = 1.0
    full = solve_model(dataclasses.replace(m, lb=lb), time_limit=60)
    sub = fix_out(m, fix)
    small = solve_model(sub, time_limit=60, options=DIVE_OPTIONS)  # as the dive solves it
    assert full.status == small.status == "optimal" and 0 < sub.n_pairs < m.n_pairs and sub.n_rows < m.n_rows
    assert small.objective == full.objective
    x = sub.lift(small.x)
    act = m.A @ x
    assert np.all(x >= lb - 1e-9) and np.all(x <= m.ub + 1e-9)
    assert np.all(act >= m.row_lo - 1e-6) and np.all(act <= m.row_hi + 1e-6)
    assert m.objective_of(x) == pytest.approx(small.objective, abs=1e-6)
    # two pairs fixed into one post break H3: the reduced MIP keeps that row and is infeasible, as the master is
    p = m.pair_p[~m.pair_stay]
    both = np.flatnonzero(~m.pair_stay)[np.flatnonzero(p == np.bincount(p).argmax())[:2]]
    two = np.zeros(m.n_pairs, bool)
    two[both] = True
    clash = fix_out(m, two)
    lb2 = m.lb.copy()
    lb2[: m.n_pairs][two] = 1.0
    assert solve_model(dataclasses.replace(m, lb=lb2), time_limit=60).status == "infeasible"
    assert clash.conflict >= 0 and solve_model(clash, time_limit=60).status == "infeasible"


def _dive_mip(tmp_path, family: str = "vacancies", n: int = 300, seed: int = 1):
    """A generated case (300-cadre `vacancies` unless told) after its LP phase: the LP outcome, the master and a solve
    of its dive MIP (the pairs the LP sets to 1 fixed) taking extra keywords of :func:`cadrex.solvers.highs.solve_model`
    (``options`` replaces DIVE_OPTIONS)."""
    from cadrex.solvers.cg.dive import DIVE_OPTIONS
    from cadrex.solvers.cg.driver import ColumnGeneration
    from cadrex.solvers.cg.fixing import solve_fixed
    from cadrex.solvers.highs import solve_model

    cg = ColumnGeneration(Context(cadrex.load_case(_gen(tmp_path, family, n, seed))))
    lp = cg.solve_lp(1e18)
    m = cg.model()
    fix = cg.x_lp[m.pair_index] > 1 - 1e-6
    return lp, m, lambda **kw: solve_fixed(m, fix, solve_model, time_limit=60, seed=0, **({"options": DIVE_OPTIONS} | kw))[0]


def test_dive_mip_stops_near_the_outer_bound_only_below_its_threshold(tmp_path):
    """``stop_near``: a restricted MIP whose bound is at most ``below`` stops at a plan within ``share`` of the distance
    from its bound to the outer bound (message STOPPED_NEAR, which :func:`dive_done` takes as the dive's goal
    reached); with ``below`` under every bound it runs as without."""
    import numpy as np

    from cadrex.solvers.cg.dive import dive_done
    from cadrex.solvers.highs.translate import STOPPED_NEAR

    lp, m, dive_mip = _dive_mip(tmp_path)

    def run(stop_near):
        return dive_mip(stop_near=stop_near)

    plain = run(None)
    assert plain.status == "optimal" and dive_done(plain)
    off = run((lp.bound, 1.0, -np.inf))  # no bound is below -inf: as without
    assert (off.status, off.objective, off.message) == (plain.status, plain.objective, plain.message)
    under = run((plain.objective - 1.0, 1.0, np.inf))  # an outer bound below every bound of the MIP: never near
    assert (under.status, under.objective, under.message) == (plain.status, plain.objective, plain.message)
    outer = lp.bound + 1e6  # any plan is near so distant a bound: the first one stops the MIP
    near = run((outer, 1.0, np.inf))
    assert near.message == STOPPED_NEAR and near.status == "feasible" and dive_done(near)
    assert near.objective < plain.objective and near.bound - near.objective <= outer - near.bound
    act = m.A @ near.x  # the plan stopped near is a plan of the master
    assert np.all(act >= m.row_lo - 1e-6) and np.all(act <= m.row_hi + 1e-6)
    assert m.objective_of(near.x) == pytest.approx(near.objective, abs=1e-6)


def test_dive_mip_stops_at_its_first_plan_the_outer_bound_certifies(tmp_path):
    """``stop_plan`` (the dive's ``certify_at``): the MIP stops at its first plan worth at least that much (message
    STOPPED_AT_PLAN, which :func:`dive_done` takes as the dive's goal reached); a value no plan reaches changes
    nothing."""
    import numpy as np

    from cadrex.solvers.cg.dive import dive_done
    from cadrex.solvers.highs.translate import STOPPED_AT_PLAN

    _, m, dive_mip = _dive_mip(tmp_path)

    def run(stop_plan):
        return dive_mip(stop_plan=stop_plan)

    plain = run(None)
    assert plain.status == "optimal" and dive_done(plain)
    never = run(plain.objective + 1.0)  # above the MIP's optimum: as without
    assert (never.status, never.objective, never.message) == (plain.status, plain.objective, plain.message)
    low = plain.objective - 0.02 * abs(plain.objective)  # any plan of this MIP is worth that much: the first stops it
    first = run(low)
    assert first.message == STOPPED_AT_PLAN and first.status == "feasible" and dive_done(first)
    assert low <= first.objective < plain.objective
    act = m.A @ first.x  # the plan it stopped at is a plan of the master
    assert np.all(act >= m.row_lo - 1e-6) and np.all(act <= m.row_hi + 1e-6)
    assert m.objective_of(first.x) == pytest.approx(first.objective, abs=1e-6)


def test_dive_mip_stops_at_its_node_cap_with_the_same_plan_on_every_run(tmp_path):
    """The dive's node cap (``mip_max_nodes``, :data:`DIVE_NODES`): a MIP that needs a search (400-cadre `tight`, 100
    nodes to its optimum) stops at the cap with a plan of the master (message STOPPED_AT_NODES, which :func:`dive_done`
    takes as the dive's budget spent), and two runs give the same plan: work, not the clock, ended it."""
    import numpy as np

    from cadrex.solvers.cg.dive import DIVE_OPTIONS, dive_done
    from cadrex.solvers.highs.translate import STOPPED_AT_NODES

    _, m, dive_mip = _dive_mip(tmp_path, "tight", 400, 3)
    runs = [dive_mip(options=DIVE_OPTIONS | {"mip_max_nodes": 1}) for _ in range(2)]
    for r in runs:
        assert r.status == "feasible" and r.message == STOPPED_AT_NODES and dive_done(r)
        assert r.bound is not None and r.bound - r.objective >= 1  # not proved optimal: the cap ended it
        act = m.A @ r.x
        assert np.all(act >= m.row_lo - 1e-6) and np.all(act <= m.row_hi + 1e-6)
        assert m.objective_of(np.round(r.x)) == pytest.approx(r.objective, abs=1e-6)
    assert runs[0].objective == runs[1].objective and np.array_equal(runs[0].x, runs[1].x)


def test_dives_stopped_at_a_certified_plan_give_a_verified_plan_within_the_goal(tmp_path, monkeypatch):
    """With STOP_AT_CERTIFIED on, a dive stopped at its first certified plan ends the solve with that plan: verified
    by the independent verifier, its bound at least the full model's optimum and within the gap goal of the plan."""
    from cadrex.solvers.cg import dive as dive_mod
    from cadrex.solvers.cg import driver
    from cadrex.solvers.highs.translate import STOPPED_AT_PLAN

    monkeypatch.setattr(dive_mod, "STOP_AT_CERTIFIED", True)
    real_dive, messages = driver.dive, []

    def record(*a, **kw):
        r, near = real_dive(*a, **kw)
        messages.append(r.message if r is not None else None)
        return r, near

    monkeypatch.setattr(driver, "dive", record)
    case = cadrex.load_case(_gen(tmp_path, "vacancies", 300, 1))
    gap = 0.005
    res = cadrex.solve(case, method="cg", gap=gap, time_limit=60)
    assert STOPPED_AT_PLAN in messages  # the stop fired
    ev = evaluate(case, res.placements, res.summary["policy"])
    assert not ev.violations and ev.objective == res.objective
    full = cadrex.solve(case, method="full", time_limit=60)
    assert full.status == "optimal" and res.objective <= full.objective <= res.best_bound
    assert res.best_bound - res.objective <= gap * abs(res.objective) + 1


def test_certified_from_is_the_lowest_plan_a_bound_certifies():
    """:func:`certified_from`: the plan value it gives is certified by B at the gap (its closure target reaches B),
    the one below is not; no gap goal or no bound certifies nothing below B."""
    import numpy as np

    from cadrex.solvers.cg.bound import certified_from, closure_target

    rng = np.random.default_rng(3)
    for B in np.concatenate([rng.integers(-10**6, 10**6, 300), [0, 1, -1, 266_164, 664_820]]).astype(float):
        for gap in (0.0005, 0.001, 0.01, 0.2):
            z = certified_from(B, gap)
            assert z == int(z) and closure_target(z, gap) >= B > closure_target(z - 1, gap), (B, gap, z)
    assert certified_from(100.0, 0.0) == np.inf and certified_from(np.inf, 0.001) == np.inf


def test_closable_from_is_where_a_plans_closure_fits_the_cap():
    """:func:`closable_from`: plans a little above it leave at most k pairs in their closure (the driver's rule: rc
    above -(B - target)), plans a little below it more; it is never above the plans the bound certifies alone."""
    import numpy as np

    from cadrex.solvers.cg.bound import closable_from, closure_target

    rng = np.random.default_rng(5)
    rc = (-rng.exponential(400.0, 50_000)).astype(np.float32)
    in_R = rng.random(50_000) < 0.2
    B, gap = 300_000.0, 0.0005
    for k in (10, 1000, 20_000):
        z = closable_from(rc, in_R, B, gap, k)
        size = [int(np.count_nonzero(~in_R & (rc > -(B - closure_target(v, gap))))) for v in (z + 2, z - 2)]
        assert size[0] <= k < size[1]
    assert closable_from(rc, in_R, B, gap, int((~in_R).sum())) == -np.inf
    # an LP stopped before convergence leaves pairs priced positive: a plan B certifies alone needs no closure
    # a negative target (a model with a negative offset): a target is z + gap·|z|, so z = target / (1 - gap)
    for k in (10, 1000):
        z = closable_from(rc, in_R, -B, gap, k)
        size = [int(np.count_nonzero(~in_R & (rc > -(-B - closure_target(v, gap))))) for v in (z + 2, z - 2)]
        assert z < 0 and size[0] <= k < size[1]
    up = rc.copy()
    up[~in_R] += 1000.0
    z = closable_from(up, in_R, B, gap, 10)
    assert z == pytest.approx(B / (1 + gap)) and closure_target(np.ceil(z) + 1, gap) >= B
