"""The dive's reduced MIP (issue 17, :mod:`cadrex.solvers.cg.fixing`): on small random models, checked against
every 0/1 vector, the reduced MIP's solutions lifted back are exactly the solutions of the model with the fixings,
with the same objective; a conflict the fixings alone cause is found without a solve."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

from cadrex.solvers.cg.fixing import fix_out, solve_fixed


def _model(rng: np.random.Generator, n: int = 7, n_pairs: int = 5, rows: int = 5) -> SimpleNamespace:
    A = rng.choice([-1.0, 0.0, 0.0, 1.0, 1.0, 2.0], size=(rows, n))
    lo = np.where(rng.random(rows) < 0.4, -np.inf, rng.integers(-1, 2, rows).astype(float))
    hi = np.where(rng.random(rows) < 0.3, np.inf, rng.integers(0, 3, rows).astype(float))
    pack = rng.random(rows) < 0.5  # packing rows (H2/H3-like): entries 1 on a few columns, at most 1
    A[pack] = (rng.random((int(pack.sum()), n)) < 0.5).astype(float)
    lo[pack], hi[pack] = np.where(rng.random(int(pack.sum())) < 0.5, 1.0, -np.inf), 1.0
    lb = (rng.random(n) < 0.1).astype(float)  # require pins
    ub = (rng.random(n) >= 0.1).astype(float)  # blocked columns; lb > ub now and then
    return SimpleNamespace(A=sp.csr_matrix(A), obj=rng.integers(-5, 10, n).astype(float), lb=lb, ub=ub, row_lo=lo,
                           row_hi=hi, integer=np.ones(n), offset=3.0, n_pairs=n_pairs, n_vars=n)


def _solutions(A, lb, ub, lo, hi, n) -> set[tuple]:
    out = set()
    for bits in itertools.product((0.0, 1.0), repeat=n):
        x = np.array(bits)
        if np.all(x >= lb) and np.all(x <= ub) and np.all(A @ x >= lo - 1e-9) and np.all(A @ x <= hi + 1e-9):
            out.add(bits)
    return out


def test_dive_reduction_keeps_every_solution_and_its_objective():
    rng = np.random.default_rng(17)
    checked = 0
    for _ in range(1000):
        m = _model(rng)
        fix = rng.random(m.n_pairs) < 0.4
        lb = m.lb.copy()
        lb[: m.n_pairs][fix] = 1.0
        want = _solutions(m.A, lb, m.ub, m.row_lo, m.row_hi, m.n_vars)
        sub = fix_out(m, fix)
        got = {tuple(sub.lift(np.array(b))) for b in _solutions(sub.A, sub.lb, sub.ub, sub.row_lo, sub.row_hi, sub.n_vars)}
        assert got == want
        if sub.conflict >= 0:
            assert not want
        for x in want:
            y = np.array(x)[sub.cols]
            assert sub.objective_of(y) == m.obj @ np.array(x) + m.offset
        checked += bool(want) and sub.n_vars < m.n_vars
    assert checked > 50  # the reduction did remove columns on many feasible cases


def test_a_conflict_or_an_empty_dive_mip_needs_no_solve():
    """Two pairs fixed on one packing row: infeasible without calling the solver; every column fixed: the fixed plan
    (HiGHS reports a model without columns as no solution)."""
    A = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    m = SimpleNamespace(A=A, obj=np.array([2.0, 3.0, 4.0]), lb=np.zeros(3), ub=np.ones(3), row_lo=np.array([-np.inf, 1.0]),
                        row_hi=np.ones(2), integer=np.ones(3), offset=1.0, n_pairs=3, n_vars=3)

    def never(model, **kw):
        raise AssertionError("no solve expected")

    r, sub = solve_fixed(m, np.array([True, True, False]), never)
    assert r.status == "infeasible" and sub.conflict >= 0
    r, sub = solve_fixed(m, np.array([False, True, False]), never)
    assert sub.n_vars == 0 and r.status == "optimal" and list(r.x) == [0.0, 1.0, 0.0] and r.objective == 4.0


def test_the_reduced_mip_is_guarded_by_the_size_of_the_mip_it_came_from(monkeypatch):
    """HiGHS overran a dive's time cap in process on a reduced MIP of a large master: ``solve_fixed`` passes the
    master's size, and ``solve_model`` decides its guard by it."""
    import cadrex.solvers.highs.translate as tr

    A = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    m = SimpleNamespace(A=A, obj=np.array([2.0, 3.0, 4.0]), lb=np.zeros(3), ub=np.ones(3), row_lo=np.full(2, -np.inf),
                        row_hi=np.ones(2), integer=np.ones(3), offset=0.0, n_pairs=3, n_vars=3)
    seen = []
    monkeypatch.setattr(tr, "_solve_guarded", lambda model, *a, **k: seen.append("guarded") or tr._solve_inprocess(model, *a, **k))
    for above, expect in ((4, []), (3, ["guarded"])):
        seen.clear()
        monkeypatch.setattr(tr, "GUARD_ABOVE", above)
        r, sub = solve_fixed(m, np.array([False, False, True]), tr.solve_model, time_limit=5.0)
        assert sub.n_vars < m.n_vars and seen == expect and r.objective == 6.0
