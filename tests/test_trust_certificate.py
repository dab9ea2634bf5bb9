"""Trust: "optimal" and ``best_bound`` are always true. Column generation cut short at every round (round limit and
an LP that stops at its time limit) never gives a bound below the optimum nor calls a non-optimal plan optimal; a
round's bound travels with its own reduced costs; a bound below the plan or a plan the verifier rejects is reported,
never hidden; one short list (以岗选人) for every method; CP-SAT's worker count does not depend on the machine."""

from __future__ import annotations

import functools

import highspy
import numpy as np
import pytest

import cadrex
import cadrex.solvers.cg
from cadrex.jobs.generate import generate_case
from cadrex.rules import Context

CASES = [(150, 5), (120, 11)]


@functools.cache
def _case_and_optimum(n: int, seed: int, root: str):
    generate_case(f"{root}/g{n}_{seed}", n, seed)
    case = cadrex.load_case(f"{root}/g{n}_{seed}")
    full = cadrex.solve(case, method="full", time_limit=120)
    assert full.status == "optimal"
    return case, full


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cert"))


def _check(res, opt: int) -> None:
    assert res.status in ("optimal", "feasible")
    assert res.objective <= opt
    assert res.best_bound is None or res.best_bound >= opt, (res.best_bound, opt)
    if res.status == "optimal":
        assert res.objective == opt and res.best_bound == opt
    if res.best_bound is None:
        assert res.status == "feasible" and res.gap is None
    assert res.summary["violations"] == []


@pytest.mark.parametrize("n,seed", CASES)
def test_cg_round_limit_at_every_round_keeps_bound_valid(root, monkeypatch, n, seed):
    case, full = _case_and_optimum(n, seed, root)
    rounds = cadrex.solve(case, method="cg", gap=0, time_limit=120).summary["column_generation"]["lp_rounds"]
    orig = cadrex.solvers.cg.solve_scaled
    for k in range(1, rounds + 1):
        monkeypatch.setattr(cadrex.solvers.cg, "solve_scaled", functools.partial(orig, max_rounds=k))
        for gap in (0.0, 0.01):
            _check(cadrex.solve(case, method="cg", time_limit=120, gap=gap), full.objective)


class _LPCut:
    """new_highs() whose LP status reads 'time limit reached' from its ``k``-th run on (the master LP cut short)."""

    def __init__(self, k: int, nan_duals: bool = False):
        self.k, self.nan_duals = k, nan_duals

    def __call__(self):
        from cadrex.solvers.highs import silence_stdout

        k, nan_duals = self.k, self.nan_duals

        class Cut(highspy.Highs):
            runs = 0

            def run(self):
                Cut.runs += 1
                return super().run()

            def getModelStatus(self):
                if Cut.runs >= k:
                    return highspy.HighsModelStatus.kTimeLimit
                return super().getModelStatus()

            def getSolution(self):
                sol = super().getSolution()
                if nan_duals and Cut.runs >= k:  # a cut solve without usable duals
                    sol.row_dual = [float("nan")] * len(sol.row_dual)
                return sol

        with silence_stdout():
            h = Cut()
        h.setOptionValue("output_flag", False)
        return h


@pytest.mark.parametrize("n,seed", CASES)
def test_cg_lp_time_limit_at_every_round_keeps_bound_valid(root, monkeypatch, n, seed):
    """A solve cut by the time limit is priced as a last, partial round (its duals' bound is valid, checked against
    the full model's optimum). Without finite duals, round 1 cut: no bound at all (was: an infinite bound and a crash
    in math.floor, the plan lost)."""
    case, full = _case_and_optimum(n, seed, root)
    rounds = cadrex.solve(case, method="cg", gap=0, time_limit=120).summary["column_generation"]["lp_rounds"]
    for k in range(1, rounds + 1):
        for nan_duals in (False, True):
            monkeypatch.setattr(cadrex.solvers.cg, "new_highs", _LPCut(k, nan_duals))
            res = cadrex.solve(case, method="cg", gap=0, time_limit=120)
            _check(res, full.objective)
            cg = res.summary["column_generation"]
            assert cg["lp_rounds"] == k - nan_duals and cg["lp_partial_rounds"] >= (not nan_duals)
            if k == 1 and nan_duals:
                assert res.best_bound is None and res.status == "feasible"
                assert cg["lagrangian_bound"] is None


@pytest.mark.parametrize("n,seed", CASES)
def test_cg_bound_and_reduced_costs_of_one_round(root, n, seed):
    """The closure argument holds for the optimal plan with the (B, rc) pair that the LP phase returns, whichever
    round it stops at (B and rc come from the same duals): each of its pairs has rc ≥ z* − B."""
    case, full = _case_and_optimum(n, seed, root)
    ctx = Context(case)
    want = {(a, b) for a, b in zip(full.assignments["cadre_id"], full.assignments["to_post"], strict=True) if b}
    for k in range(1, 6):
        cg = cadrex.solvers.cg.ColumnGeneration(ctx)
        lp = cg.solve_lp(1e18, max_rounds=k)
        assert lp.bound == min(r["bound"] for r in cg.rounds)
        assert len(lp.rc) == len(cg.pairs)
        chosen = np.array([(ctx.cad_ids[c], ctx.post_ids[p]) in want for c, p in zip(cg.pairs.c, cg.pairs.p, strict=True)])
        assert chosen.sum() == len(want)  # the optimal plan lies in the pool
        # the closure keeps every pair above −(B − T): with T just below the optimum, every pair of the optimal plan
        worst = float(lp.rc[chosen].min())
        assert worst >= full.objective - lp.bound - 1e-3, (k, full.objective, lp.bound, worst)
        if lp.converged:
            break


@pytest.mark.parametrize("n,seed", [(150, 5), (120, 11), (250, 9)])
def test_short_list_is_the_same_for_full_and_cg(root, n, seed):
    """posts.csv candidates: one definition, over every eligible pair before any is dropped for speed."""
    if (n, seed) == (250, 9):
        generate_case(f"{root}/s{n}", n, seed)
        case = cadrex.load_case(f"{root}/s{n}")
        full = cadrex.solve(case, method="full", time_limit=120)
    else:
        case, full = _case_and_optimum(n, seed, root)
    cg = cadrex.solve(case, method="cg", gap=0, time_limit=120)
    assert full.posts["candidates"].tolist() == cg.posts["candidates"].tolist()
    assert (full.posts["candidates"] != "").any()


def test_plan_rejected_by_the_verifier_is_not_called_optimal(tiny_path, inject_violation):
    res = cadrex.solve(cadrex.load_case(tiny_path), time_limit=30)
    assert res.status == "rejected"
    assert res.summary["status"] == "rejected" and res.summary["violations"]


def test_bound_below_the_plan_is_reported_not_hidden(tiny_path, monkeypatch):
    import cadrex.jobs.solve as api
    from cadrex.solvers.base import BackendResult

    real = api.get_backend

    def low(name):
        fn = real(name)

        def solve_fn(model, **kw):
            r = fn(model, **kw)
            return BackendResult("optimal", r.x, r.objective, r.objective - 50, r.runtime)

        return solve_fn

    monkeypatch.setattr(api, "get_backend", low)
    res = cadrex.solve(cadrex.load_case(tiny_path), time_limit=30)
    assert res.best_bound is None and res.status == "feasible"
    assert any("bound" in w for w in res.summary["warnings"])


def test_cpsat_workers_do_not_depend_on_the_machine(tiny_path, monkeypatch):
    """Same seed ⇒ same CSVs on any machine (SPEC §8): CP-SAT's default worker count is fixed."""
    import os

    from ortools.sat.python import cp_model

    seen = []
    real = cp_model.CpSolver.solve

    def spy(self, m, *a, **kw):
        seen.append(self.parameters.num_workers)
        return real(self, m, *a, **kw)

    monkeypatch.setattr(cp_model.CpSolver, "solve", spy)
    case = cadrex.load_case(tiny_path)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    a = cadrex.solve(case, backend="cpsat", time_limit=30, seed=3)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    b = cadrex.solve(case, backend="cpsat", time_limit=30, seed=3)
    assert seen == [1, 1]
    assert a.assignments.equals(b.assignments) and a.posts.equals(b.posts)


def test_input_sha256_covers_a_policy_file_given_to_solve(tiny_path, tmp_path):
    """The audit record identifies the inputs: a policy file passed to cadrex.solve (not to load_case) counts."""
    case = cadrex.load_case(tiny_path)
    pol = tmp_path / "p.toml"
    pol.write_text("move_cost = 3\n", encoding="utf-8")
    a = cadrex.solve(case, policy=str(pol), time_limit=30).summary["input_sha256"]
    pol.write_text("move_cost = 4\n", encoding="utf-8")
    b = cadrex.solve(case, policy=str(pol), time_limit=30).summary["input_sha256"]
    assert a != b != case.input_sha256


def test_cg_never_calls_a_feasible_case_infeasible_when_costs_outweigh_big_m(tiny_path):
    """A move cost above the phase-I big M made artificial columns cheaper than any plan: column generation said
    'infeasible' for a feasible case. Phase I with zero costs now decides, and the full optimum is found."""
    case = cadrex.load_case(tiny_path)
    big = {"move_cost": 100_000, "weights": {"move": 1_000}}  # 1e8 a move: the largest the policy allows
    full = cadrex.solve(case, policy=big, method="full", time_limit=60)
    cg = cadrex.solve(case, policy=big, method="cg", gap=0, time_limit=60)
    assert full.status == "optimal"
    assert cg.status == "optimal" and cg.objective == full.objective


def test_model_and_verifier_disagreeing_is_an_internal_error_with_both_numbers(tiny_path, monkeypatch):
    """At a proven optimum the model's objective and the independent verifier's must agree; if they do not, the plan
    is not reported (status rejected, never written) and the error gives both numbers."""
    import cadrex.jobs.solve as api

    real = api.evaluate

    def off_by_seven(case, plan, pol):
        ev = real(case, plan, pol)
        ev.objective += 7
        return ev

    monkeypatch.setattr(api, "evaluate", off_by_seven)
    res = cadrex.solve(cadrex.load_case(tiny_path), time_limit=30)
    assert res.status == "rejected"
    (msg,) = [v for v in res.summary["violations"] if v.startswith("objective:")]
    assert str(res.objective) in msg and str(res.objective - 7) in msg


@pytest.mark.parametrize("n,seed", CASES)
def test_lagrangian_of_any_duals_is_a_valid_bound(root, n, seed):
    """The bound of the smoothed duals (Wentges) comes from ``ColumnGeneration.lagrangian``: it is the round's bound
    at a master's own duals, never above the plain bound z + Σ max(0, rc) that relaxes every row, and for any other
    duals (mixtures of rounds', scaled, perturbed, zero) it stays ≥ the optimum and the closure inequality
    c·x ≤ L + Σ δ·x holds for the optimal plan with its closure costs δ ≤ 0 (H2 or H3 kept in the subproblem)."""
    case, full = _case_and_optimum(n, seed, root)
    ctx = Context(case)
    want = {(a, b) for a, b in zip(full.assignments["cadre_id"], full.assignments["to_post"], strict=True) if b}
    cg = cadrex.solvers.cg.ColumnGeneration(ctx)
    cg.smoothing = 0.0
    cg.solve_lp(1e18, max_rounds=4)
    chosen = np.array([(ctx.cad_ids[c], ctx.post_ids[p]) in want for c, p in zip(cg.pairs.c, cg.pairs.p, strict=True)])
    lower = 0
    for r in cg.rounds:
        lag = cg.lagrangian(r.duals)
        assert lag.bound == pytest.approx(r.bound, rel=1e-9, abs=1e-4)
        assert lag.bound <= lag.plain + 1e-6
        # the master's LP value is a lower bound on the relaxation (a partial round's value is not the master's)
        assert r.partial or r.lp <= lag.bound + 1e-4
        lower += lag.bound < lag.plain - 1.0
    assert lower  # keeping a one-post side is what makes the early rounds' bounds useful
    rng = np.random.default_rng(seed)
    ys = [r.duals for r in cg.rounds]
    tries = [0.5 * ys[0] + 0.5 * ys[-1], 0.3 * ys[-1], ys[-1] + rng.normal(0, 5, len(ys[-1])), np.zeros_like(ys[0]),
             ys[-1] + rng.normal(0, 50, len(ys[-1]))]
    for y in tries:
        lag = cg.lagrangian(y)
        assert lag.bound >= full.objective - 1e-6 and lag.plain >= lag.bound - 1e-6
        assert np.all(cg.delta(lag) <= 1e-9)
        assert full.objective <= lag.bound + float(cg.delta(lag)[chosen].sum()) + 1e-3
        assert full.objective <= lag.plain + float(np.minimum(lag.rc[chosen], 0.0).sum()) + 1e-3


def test_lagrangian_counts_require_pins_at_their_lower_bound(tiny_path):
    """A require-pinned pair has lower bound 1: its negative reduced cost is part of the bound (the tiny case pins
    C000005 to P000029), so the bound of a master's own duals is its LP bound here too."""
    cg = cadrex.solvers.cg.ColumnGeneration(Context(cadrex.load_case(tiny_path)))
    cg.smoothing = 0.0
    cg.solve_lp(1e18, max_rounds=3)
    assert len(cg.pinned) == 1
    for r in cg.rounds:
        lag = cg.lagrangian(r.duals)
        assert lag.bound == pytest.approx(r.bound, rel=1e-9, abs=1e-4)
