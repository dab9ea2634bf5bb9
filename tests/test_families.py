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


def test_dive_frees_the_pairs_of_lazy_rows_its_lp_violates(tmp_path):
    """An LP phase cut short can end before the lazy rows its solution violates entered the LP: the dive then leaves
    the pairs on those rows free (fixing them made it infeasible on the tight family at 5,000 in play). Its plan is
    the best with fewer pairs fixed, so at least as good as the plan with all of the LP's ones fixed."""
    import numpy as np

    from cadrex.solvers.cg.driver import ColumnGeneration, _dive

    case = cadrex.load_case(_gen(tmp_path, "tight", 200, 1))
    cg = ColumnGeneration(Context(case))
    cg.solve_lp(1e18, max_rounds=1)
    assert len(cg._violated_lazy_rows())
    m = cg.model()
    freed = _dive(cg, m, 0, 60)
    cg.rows_off_in_lp_solution = lambda: np.zeros(0, np.int64)  # as before: every pair at 1 in the LP fixed
    fixed = _dive(cg, m, 0, 60)
    assert freed is not None and freed.status == "optimal"
    assert fixed is None or freed.objective >= fixed.objective


def test_dive_retries_with_only_the_stays_fixed(tmp_path, monkeypatch):
    """When fixing every pair the LP sets to 1 is infeasible, the dive tries once more with only the stays fixed
    (the moves left to the MIP) before the solve falls back to the master MIP without fixings."""
    import numpy as np

    from cadrex.solvers.base import BackendResult
    from cadrex.solvers.cg import driver

    case = cadrex.load_case(_gen(tmp_path, "base", 150, 2))
    cg = driver.ColumnGeneration(Context(case))
    cg.solve_lp(1e18)
    m = cg.model()
    real, fixed = driver.solve_mip, []

    def first_infeasible(model, **kw):
        fixed.append(model.lift(model.lb)[: m.n_pairs] > 0.5)  # the dive's MIP: without the pairs fixings rule out
        if len(fixed) == 1:
            return BackendResult("infeasible", None, None, None, 0.0)
        return real(model, **kw)

    monkeypatch.setattr(driver, "solve_mip", first_infeasible)
    r = driver._dive(cg, m, 0, 60)
    assert len(fixed) == 2 and r is not None and r.status == "optimal"
    moves = fixed[0] & ~m.pair_stay
    assert moves.any() and not (fixed[1] & ~m.pair_stay).any()
    assert np.array_equal(fixed[1], fixed[0] & m.pair_stay)


@pytest.mark.parametrize(("family", "seed"), [("tight", 1), ("vacancies", 2)])
def test_dive_mip_without_the_columns_its_fixings_rule_out_has_the_same_optimum(tmp_path, family, seed):
    """The dive's MIP leaves out every column that shares a packing row (H2, H3, H4) with a pair fixed at 1: its optimum
    is that of the master with those fixings as lower bounds, and its plan, lifted back, satisfies that master."""
    import dataclasses

    import numpy as np

    from cadrex.solvers.cg.driver import DIVE_OPTIONS, ColumnGeneration
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
