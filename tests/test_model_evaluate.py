"""The model side's reading of a plan (``cadrex.model.plan_values``) equals the independent verifier's
(``cadrex.analysis.verify.evaluate``) — objective, every term, per-cadre pair terms, every team's shortfalls before
and after — for optimal, status-quo and random plans; a disagreement is an internal error, never written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import cadrex
from cadrex.analysis.verify import evaluate
from cadrex.io.tomlfiles import effective_policy
from cadrex.jobs.generate import generate_case
from cadrex.model import build_model, plan_values
from cadrex.reports.result import PlanRejected
from cadrex.rules import Context
from cadrex.solvers import get_backend

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _model(case):
    pol = effective_policy(case.policy, None)
    return build_model(Context(case, pol)), pol


def _plan(model, x) -> dict:
    ctx = model.ctx
    x = np.asarray(x, bool)
    dest = dict(zip(ctx.cad_ids[model.pair_c[x]], ctx.post_ids[model.pair_p[x]], strict=True))
    return {ctx.cad_ids[c]: dest.get(ctx.cad_ids[c]) for c in ctx.I}


def _random_plan(model, rng) -> np.ndarray:
    """A random matching over the model's pairs (blocked stays included): one post per cadre, one cadre per post at
    most, some cadres left out; feasible or not."""
    n = model.n_pairs
    order = rng.permutation(n)[: max(1, int(0.8 * n))]
    _, first = np.unique(model.pair_c[order], return_index=True)
    keep = order[first]
    _, first = np.unique(model.pair_p[keep], return_index=True)
    x = np.zeros(n, bool)
    x[keep[first]] = True
    return x


def _agree(case, model, pol, x) -> None:
    mv = plan_values(model, x)
    ev = evaluate(case, _plan(model, x), pol)
    assert mv.objective == ev.objective
    assert mv.terms == ev.terms
    assert list(mv.terms) == list(ev.terms)
    assert mv.cadre_terms == ev.cadre_terms
    assert mv.shortfall_before == ev.shortfall_before
    assert mv.shortfall_after == ev.shortfall_after


def _check_case(case, seeds=(0, 1, 2), time_limit=30.0) -> None:
    model, pol = _model(case)
    br = get_backend("highs")(model, time_limit=time_limit, seed=0, num_workers=None, progress=None, gap=0.0)
    assert br.x is not None
    x_opt = np.round(br.x[: model.n_pairs]).astype(bool)
    _agree(case, model, pol, x_opt)
    if br.status == "optimal":  # at the optimum the solver's auxiliaries are the best ones too
        assert plan_values(model, br.x).objective == round(model.objective_of(np.round(br.x)))
    _agree(case, model, pol, model.pair_stay.copy())  # status quo: every holder in play stays
    _agree(case, model, pol, np.zeros(model.n_pairs, bool))  # nobody placed
    for s in seeds:
        _agree(case, model, pol, _random_plan(model, np.random.default_rng(s)))


def test_sample_agrees():
    _check_case(cadrex.load_case(SAMPLE))


def test_tiny_agrees(tiny_path):
    _check_case(cadrex.load_case(tiny_path))


@pytest.mark.parametrize(("n", "seed"), [(60, 1), (90, 2), (120, 3), (200, 4)])
def test_generated_cases_agree(tmp_path, n, seed):
    generate_case(str(tmp_path / "case"), n, seed)
    _check_case(cadrex.load_case(tmp_path / "case"), time_limit=20.0 if n < 200 else 30.0)


def test_policy_variants_agree():
    """Zero flow/structure weights (no flow rows, free auxiliaries) and heavy penalties read the same both ways."""
    case = cadrex.load_case(SAMPLE)
    for over in ({"weights": {"flow": 0, "structure": 0}}, {"flow_penalty": 50, "structure_penalty": 300}):
        case2 = dataclasses.replace(case, policy=effective_policy(case.policy, over))
        model, pol = _model(case2)
        for s in (5, 6):
            _agree(case2, model, pol, _random_plan(model, np.random.default_rng(s)))
        _agree(case2, model, pol, model.pair_stay.copy())


def test_solve_full_and_cg_report_no_disagreement():
    case = cadrex.load_case(SAMPLE)
    for method in ("full", "cg"):
        res = cadrex.solve(case, method=method, gap=0, time_limit=60)
        assert res.status == "optimal", res.summary["violations"]
        assert not [v for v in res.summary["violations"] if v.split(":")[0] in ("objective", "terms", "teams")]


def test_injected_disagreement_is_reported_with_both_numbers(tiny_path, tmp_path, monkeypatch):
    import cadrex.jobs.solve as api

    real = api.plan_values

    def skewed(model, x):
        mv = real(model, x)
        mv.objective += 7
        mv.terms = mv.terms | {"fill": mv.terms["fill"] + 3}
        tid = next(iter(mv.shortfall_after))
        mv.shortfall_after = mv.shortfall_after | {tid: mv.shortfall_after[tid] | {"max_avg_age": 999}}
        return mv

    monkeypatch.setattr(api, "plan_values", skewed)
    res = cadrex.solve(cadrex.load_case(tiny_path), time_limit=30)
    assert res.status == "rejected" and res.summary["status"] == "rejected"
    v = res.summary["violations"]
    (obj,) = [m for m in v if m.startswith("objective:")]
    assert str(res.objective) in obj and str(res.objective + 7) in obj
    (term,) = [m for m in v if m.startswith("terms:")]
    ev_fill = res.summary["terms"]["fill"] - 3  # summary terms are the model side's
    assert "fill" in term and str(ev_fill) in term and str(ev_fill + 3) in term
    (team,) = [m for m in v if m.startswith("teams:")]
    assert tid_in(team) and "999" in team
    with pytest.raises(PlanRejected):
        res.write(str(tmp_path / "out"))
    assert not (tmp_path / "out" / "assignments.csv").exists()


def tid_in(msg: str) -> bool:
    return msg.startswith("teams: team ") and "after" in msg
