"""The first master of column generation: the matching that repairs the status quo for cadres who must move, and
the rounds that follow a master which still needed artificial columns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cadrex
from cadrex.jobs.generate import generate_case
from cadrex.rules import Context
from cadrex.solvers.cg import ColumnGeneration
from cadrex.solvers.cg.pool import _matching


def _brute(edges: dict[tuple[int, int], float], cadres: list[int]) -> tuple[int, float]:
    """Most cadres any matching covers, and the best total value among matchings covering them all (-inf if none):
    by trying every assignment of each cadre to one of its posts or to none."""
    best_n, best_full = 0, -np.inf
    options = [[None] + [p for (c2, p) in edges if c2 == c] for c in cadres]
    for pick in itertools.product(*options):
        used = [p for p in pick if p is not None]
        if len(used) != len(set(used)):
            continue
        best_n = max(best_n, len(used))
        if len(used) == len(cadres):
            best_full = max(best_full, sum(edges[(c, p)] for c, p in zip(cadres, pick, strict=True)))
    return best_n, best_full


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(1, 6), st.data())
def test_matching_covers_most_cadres_and_is_best_when_it_covers_all(n_c, n_p, data):
    grid = [(c, p) for c in range(n_c) for p in range(n_p)]
    chosen = data.draw(st.lists(st.sampled_from(grid), min_size=1, max_size=len(grid), unique=True))
    values = data.draw(st.lists(st.integers(-50, 200), min_size=len(chosen), max_size=len(chosen)))
    c = np.array([e[0] for e in chosen]) * 7 + 3  # ids need not be 0..n-1
    p = np.array([e[1] for e in chosen]) * 5 + 1
    v = np.array(values, np.float32)
    k = _matching(c, p, v)
    assert len(set(c[k])) == len(k) == len(set(p[k]))  # a matching
    edges = {(int(a), int(b)): float(x) for a, b, x in zip(c, p, v, strict=True)}
    most, best_full = _brute(edges, sorted(set(c.tolist())))
    assert len(k) == most
    if len(k) == len(set(c.tolist())):  # every cadre covered: of the largest value
        assert float(v[k].sum()) == best_full


def _must_open(ctx, pairs):
    """Pairs between cadres who must move and posts open if everyone else stays (the status-quo repair's)."""
    must = np.zeros(ctx.n_cad, bool)
    must[ctx.I[ctx.c_must[ctx.I]]] = True
    holder = ctx.p_holder
    openp = (holder < 0) | must[np.maximum(holder, 0)] & (holder >= 0)
    return pairs.ok & must[pairs.c] & openp[pairs.p]


def _most_matched(ctx, pairs, mask) -> int:
    """Cadres of the largest matching over the pairs ``mask`` (scipy's Hopcroft–Karp)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import maximum_bipartite_matching

    g = sp.csr_matrix((np.ones(int(mask.sum())), (pairs.c[mask], pairs.p[mask])), shape=(ctx.n_cad, ctx.n_post))
    return int((maximum_bipartite_matching(g, perm_type="column") >= 0).sum())


@pytest.mark.parametrize("family,seed", [("must_move", 1), ("tight", 3), ("vacancies", 4)])
def test_first_master_moves_every_must_move_cadre_the_pool_can_and_needs_fewer_artificials(tmp_path, monkeypatch, family, seed):
    """The status-quo repair's matching: the first master (here with 1 best pair per cadre and post) holds as large
    a matching of must-move cadres into open posts as the whole pool; round 1's master then needs fewer artificial
    columns than without it."""
    from cadrex.solvers.cg import pool

    generate_case(str(tmp_path / "g"), 200, seed, family=family)
    ctx = Context(cadrex.load_case(tmp_path / "g"))
    art = {}
    for repair in (False, True):
        monkeypatch.setattr(pool, "MATCH_REPAIR", repair)
        cg = ColumnGeneration(ctx, k_init=1)
        rep = _must_open(ctx, cg.pairs)
        if repair:
            assert _most_matched(ctx, cg.pairs, rep & cg.in_R) == _most_matched(ctx, cg.pairs, rep) > 0
        cg.solve_lp(1e18, max_rounds=1)
        art[repair] = cg.artificial
    assert art[True] < art[False]


def test_rounds_after_an_lp_on_artificials_are_partial_on_small_pools_and_the_lp_ends_exact(tmp_path, monkeypatch):
    """A round after an exact LP that still needs artificial columns may be partial: its duals carry the big M, so its
    bound is weak but valid, and the pairs it prices are the ones that remove the artificials. Keeping such rounds
    exact cost 50 s of 363 at 5,000 in play (`tight`, benchmarks/README.md, session 24). On pools of more than
    EXACT_AFTER_ARTIFICIALS pairs (10,000 in play) that round stays exact. The LP phase ends on an exact round, at the
    LP optimum of a run with exact rounds only."""
    from cadrex.solvers.cg import driver, master, pool

    monkeypatch.setattr(pool, "MATCH_REPAIR", False)  # round 1 then needs artificials on this case
    generate_case(str(tmp_path / "g"), 200, 1, family="must_move")
    ctx = Context(cadrex.load_case(tmp_path / "g"))
    exact = ColumnGeneration(ctx, k_init=1).solve_lp(1e18)  # every round exact (none priced many pairs)
    monkeypatch.setattr(driver, "PARTIAL_PER_CADRE", 0)
    monkeypatch.setattr(driver, "PARTIAL_ITERATIONS", 20)
    seen = []  # per exact solve: its artificials' total
    keep = master.MasterLP._keep_solution

    def recorded(self, sol):
        keep(self, sol)
        seen.append(self.artificial)
    monkeypatch.setattr(master.MasterLP, "_keep_solution", recorded)
    cg = ColumnGeneration(ctx, k_init=1)
    lp = cg.solve_lp(1e18)
    assert seen[0] > 0 and lp.converged and seen[-1] == 0 and not cg.rounds[-1].partial
    assert not cg.rounds[0].partial and cg.rounds[1].partial  # right after the LP on artificials
    assert lp.z == pytest.approx(exact.z, abs=1e-4) and lp.bound == pytest.approx(exact.z, abs=1e-4)
    assert all(r.bound >= exact.z - 1e-6 for r in cg.rounds)
    monkeypatch.setattr(driver, "EXACT_AFTER_ARTIFICIALS", 0)  # a large pool: exact right after an LP on artificials
    big = ColumnGeneration(ctx, k_init=1)
    assert big.solve_lp(1e18).z == pytest.approx(exact.z, abs=1e-4)
    assert not big.rounds[1].partial and any(r.partial for r in big.rounds)


def test_a_master_lp_cut_by_the_time_limit_still_gives_its_bound_as_a_last_partial_round(tmp_path, monkeypatch):
    """At the LP phase's time limit HiGHS stops the master mid-solve and flags its duals invalid; any finite duals
    give a valid Lagrangian bound, so that solve is priced as a last, partial round (10,000 in play kept the partial
    rounds' bound, 7.6 % above the plan, when the exact round after them was cut). The cut is simulated: the third
    solve stops after 20 dual simplex iterations and reports HiGHS's time-limit status."""
    from cadrex.solvers.cg import master

    generate_case(str(tmp_path / "g"), 200, 2, family="tight")
    ctx = Context(cadrex.load_case(tmp_path / "g"))
    exact = ColumnGeneration(ctx, k_init=1).solve_lp(1e18)
    run = master.MasterLP.run_master
    calls = []

    def cut_third(self, end, iteration_cap=None):
        calls.append(1)
        if len(calls) < 3:
            return run(self, end, iteration_cap)
        run(self, end, 20)
        return "Time limit reached"
    monkeypatch.setattr(master.MasterLP, "run_master", cut_third)
    cg = ColumnGeneration(ctx, k_init=1)
    lp = cg.solve_lp(1e18)
    assert len(cg.rounds) == 3 and cg.rounds[2].partial and not cg.rounds[1].partial
    assert lp.stopped_early and not lp.converged
    assert lp.z == cg.rounds[1].lp  # the value and solution stay the last exact round's
    assert lp.bound == min(r.bound for r in cg.rounds) >= exact.z - 1e-6
    assert cg.rounds[2].bound >= exact.z - 1e-6  # the cut round's own bound is valid


@pytest.mark.parametrize("n,seed,family", [(250, 9, "base"), (300, 2, "vacancies"), (300, 4, "tight")])
def test_lp_gap_rule_reads_the_kept_side_bound_on_large_pools_and_the_plain_bound_on_small_ones(
        tmp_path, monkeypatch, n, seed, family):
    """The LP phase stops at the first exact round whose bound is within ``stop_gap`` of its LP value: the
    kept-side bound B on pools above KEPT_STOP_ABOVE, the plain bound (every row relaxed, never below B) on smaller
    ones. A gap between the two rules' readings at some round makes them stop at different rounds; the bound
    returned is valid either way."""
    from cadrex.solvers.cg import driver
    from cadrex.solvers.cg.pool import SMALL_POOL

    assert driver.KEPT_STOP_ABOVE == SMALL_POOL  # the documented default: 2,000 in play keep the plain rule
    generate_case(str(tmp_path / "g"), n, seed, family=family)
    ctx = Context(cadrex.load_case(tmp_path / "g"))
    whole = ColumnGeneration(ctx)
    full = whole.solve_lp(1e18)
    rel = lambda b, z: (b - z) / max(1.0, abs(z))  # noqa: E731
    best = np.minimum.accumulate([r.bound for r in whole.rounds])  # B after each round
    low = np.minimum.accumulate([r.plain for r in whole.rounds])  # the lowest plain bound after each round
    assert np.all(low >= best - 1e-6)  # the plain bound relaxes more: never below B
    # a round where B is within some gap and the plain bound not: the two rules part there
    k = next(i for i, r in enumerate(whole.rounds) if not r.partial and rel(low[i], r.lp) > 2 * max(rel(best[i], r.lp), 1e-9))
    stop = 1.5 * max(rel(best[k], whole.rounds[k].lp), 1e-9)
    first = lambda ref: next(i for i, r in enumerate(whole.rounds) if not r.partial and rel(ref[i], r.lp) <= stop)  # noqa: E731
    for above, expect in ((0, first(best)), (10**12, first(low))):
        monkeypatch.setattr(driver, "KEPT_STOP_ABOVE", above)
        cg = ColumnGeneration(ctx)
        lp = cg.solve_lp(1e18, stop_gap=stop)
        assert len(cg.rounds) == expect + 1
        assert lp.bound >= full.z - 1e-6 and lp.z <= full.z + 1e-6  # valid, stopped early or not
    assert first(best) <= k < first(low)
