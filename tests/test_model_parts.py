"""The model builder made of parts, and its extension points (issue 12): a real extension — the change terms of
SPEC §10 (a cost per pair off a baseline plan, a cap on the number of changed cadres) — built through
``build_model(ctx, extensions=...)`` and through column generation, which must agree; without extensions the model
is exactly the model of SPEC §5–§6."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

import cadrex
from cadrex.model import Extension, RowIndex, build_model, core_dot, pair_columns
from cadrex.rules import Context
from cadrex.solvers.cg import ColumnGeneration, solve_scaled
from cadrex.solvers.highs import solve_model

SAMPLE = cadrex.__file__.rsplit("/solver/", 1)[0] + "/data/sample"


class Change(Extension):
    """Re-plan against ``base`` (cadre index -> post index, −1: no post): −``w`` per pair off the baseline (the
    minus form), and an auxiliary u = number of changed cadres (u ≤ ``k``, −1 each as a tie-break) defined by the
    row Σ_{no baseline post} x − Σ_{baseline pairs} x − u = −#(cadres with a baseline post)."""

    def __init__(self, base: dict[int, int], w: int, k: int):
        self.base, self.w, self.k = base, w, k

    def _on_base(self, ctx: Context, pairs) -> tuple[np.ndarray, np.ndarray]:
        post = np.full(ctx.n_cad, -2, np.int64)  # -2: not in the baseline
        for c, p in self.base.items():
            post[c] = p
        b = post[pairs.c]
        return b == pairs.p, b == -1  # the baseline pair; a pair of a cadre with no baseline post

    def pair_objective(self, ctx, pairs):
        on, _ = self._on_base(ctx, pairs)
        return np.where(on, 0.0, -float(self.w))

    def add_rows(self, ctx, ri: RowIndex):
        n_base = sum(1 for p in self.base.values() if p >= 0)
        (r,) = ri.add(1, -n_base, -n_base, "change", [f"changed cadres (at most {self.k})"], [((), (), ())])
        ri.aux(1, -1.0, [float(self.k)], ["changed"], np.array([r]), -1.0, bounded=True)
        return r

    def pair_entries(self, ctx, pairs, r):
        on, none = self._on_base(ctx, pairs)
        j = np.flatnonzero(on | none)
        return np.full(len(j), r, np.int64), j, np.where(on[j], -1.0, 1.0)


@functools.cache
def _ctx() -> Context:
    return Context(cadrex.load_case(SAMPLE))


@functools.cache
def _plans():
    """The base model, its optimum and a feasible plan far from it (the worst one) as the baseline."""
    ctx = _ctx()
    m = build_model(ctx)
    best = solve_model(m, time_limit=60)
    worst = solve_model(dataclasses.replace(m, obj=-m.obj), time_limit=60)
    assert best.status == worst.status == "optimal"
    return m, best, worst


def _plan_of(m, x) -> dict[int, int]:
    """cadre -> post (−1: none) of a solution over the model's pairs, for every cadre in play."""
    out = {int(c): -1 for c in m.ctx.I}
    for j in np.flatnonzero(x[: m.n_pairs] > 0.5):
        out[int(m.pair_c[j])] = int(m.pair_p[j])
    return out


def test_without_extensions_the_model_is_unchanged_and_an_empty_extension_adds_nothing():
    ctx = _ctx()
    a, b = build_model(ctx), build_model(ctx, extensions=(Extension(),))
    for f in ("obj", "lb", "ub", "row_lo", "row_hi", "integer", "pair_c", "pair_p", "row_rule"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert (a.A != b.A).nnz == 0 and a.row_label == b.row_label and a.aux_label == b.aux_label
    # the rules of SPEC §5–§6, in the builder's order, and nothing else
    seen = list(dict.fromkeys(a.row_rule))
    assert seen == [r for r in ("H2", "H1", "H3", "H4", "H5", "structure", "H6", "flow") if r in seen]
    assert a.pair_index is None and a.rows.extensions == ()


def test_change_extension_adds_exactly_its_terms_rows_and_auxiliary():
    m, _, worst = _plans()
    ctx = _ctx()
    base = _plan_of(m, worst.x)
    e = build_model(ctx, extensions=(Change(base, w=7, k=3),))
    n = m.n_pairs
    assert e.n_pairs == n and e.n_rows == m.n_rows + 1 and e.n_vars == m.n_vars + 1
    # the model of SPEC §5–§6 is untouched: same rows over the same variables, the new row and auxiliary last
    assert (e.A[: m.n_rows, : m.n_vars] != m.A).nnz == 0 and e.A[: m.n_rows, m.n_vars:].nnz == 0
    assert np.array_equal(e.obj[n:m.n_vars], m.obj[n:]) and np.array_equal(e.ub[: m.n_vars], m.ub)
    assert e.row_rule[-1] == "change" and e.aux_label[-1] == "changed" and e.obj[-1] == -1 and e.ub[-1] == 3
    off = np.array([base[int(c)] != int(p) for c, p in zip(m.pair_c, m.pair_p, strict=True)])
    assert np.array_equal(e.obj[:n] - m.obj[:n], np.where(off, -7.0, 0.0))
    row = e.A[-1].toarray().ravel()
    assert row[-1] == -1 and e.row_lo[-1] == e.row_hi[-1] == -sum(p >= 0 for p in base.values())
    # the baseline itself changes no cadre: its row activity is the row's side exactly (u = 0)
    assert e.A[-1] @ np.r_[_x_of(m, base), np.zeros(e.n_vars - n)] == e.row_lo[-1]


def _x_of(m, plan: dict[int, int]) -> np.ndarray:
    x = np.zeros(m.n_pairs)
    want = {(c, p) for c, p in plan.items() if p >= 0}
    x[[j for j in range(m.n_pairs) if (int(m.pair_c[j]), int(m.pair_p[j])) in want]] = 1.0
    return x


def test_change_cap_zero_keeps_the_baseline_plan():
    m, best, worst = _plans()
    base = _plan_of(m, worst.x)
    assert m.objective_of(worst.x) < best.objective  # a baseline that is not the optimum
    e = build_model(_ctx(), extensions=(Change(base, w=5, k=0),))
    r = solve_model(e, time_limit=60)
    assert r.status == "optimal"
    assert _plan_of(e, r.x) == base
    assert r.x[-1] == pytest.approx(0.0)


@pytest.mark.parametrize("k", [0, 2, 6])
def test_full_model_and_column_generation_agree_with_the_extension(k):
    m, best, worst = _plans()
    base = _plan_of(m, worst.x)
    ext = (Change(base, w=3, k=k),)
    full = solve_model(build_model(_ctx(), extensions=ext), time_limit=60)
    br, master, info = solve_scaled(_ctx(), 60, extensions=ext)
    assert full.status == br.status == "optimal"
    assert br.objective == pytest.approx(full.objective) and br.bound == pytest.approx(full.objective)
    changed = sum(1 for c, p in _plan_of(master, br.x).items() if base[c] != p)
    assert changed <= k and master.rows.extensions[0][0] is ext[0]
    if k == 0:
        assert _plan_of(master, br.x) == base
    assert full.objective < best.objective  # the cap and the change cost cost something against the free optimum


def test_pricing_sees_the_extension_rows(check_pricing):
    """Reduced costs (cached and uncached) equal c − Aᵀy with the full columns, extension entries included."""
    m, _, worst = _plans()
    ctx = _ctx()
    cg = ColumnGeneration(ctx, extensions=(Change(_plan_of(m, worst.x), w=3, k=2),))
    r, c, v = pair_columns(ctx, cg.rows, cg.pairs)
    assert cg.rows.rule[-1] == "change" and np.isin(cg.rows.n - 1, r)
    check_pricing(ctx, cg, 3)
    y = np.random.default_rng(3).normal(0, 50, cg.rows.n)
    # core_dot is the H2/H3/flow part alone: the extension's entries are in the rest
    r2, c2, v2 = pair_columns(ctx, cg.rows, cg.pairs, core=False)
    core = np.bincount(c, weights=v * y[r], minlength=len(cg.pairs)) - np.bincount(c2, weights=v2 * y[r2], minlength=len(cg.pairs))
    assert np.allclose(core, core_dot(ctx, cg.rows, cg.pairs.c, cg.pairs.p, y))


def test_lp_rounds_are_records_with_duals_and_the_best_rounds_reduced_costs():
    cg = ColumnGeneration(_ctx())
    lp = cg.solve_lp(1e18)
    assert lp.converged and cg.rounds
    best = min(cg.rounds, key=lambda r: r.bound)
    assert lp.bound == best.bound == best["bound"] and lp.bound_round == best.index
    assert lp.rc is best.rc and all(len(r.duals) == cg.rows.n for r in cg.rounds)
    kept = [r.index for r in cg.rounds if r.rc is not None]
    assert set(kept) <= {best.index, cg.rounds[-1].index}
