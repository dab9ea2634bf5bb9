"""The worked example of ../shared/examples: exact optimum 1379 and its term breakdown."""

import pytest

import cadrex
from cadrex.analysis.verify import evaluate
from cadrex.cli import main
from cadrex.io.plan import read_plan


@pytest.mark.parametrize("backend", ["highs"])
def test_example_optimum_and_terms(tiny_path, backend):
    case = cadrex.load_case(tiny_path)
    res = cadrex.solve(case, backend=backend, seed=0)
    assert res.status == "optimal"
    assert res.objective == 1379
    assert res.status_quo_objective == 1390
    t = res.summary["terms"]
    assert (t["fit"], t["hard"], t["care"], t["pref"], t["assess"]) == (500, 0, 20, 32, 0)
    assert (t["fill"], t["move"], t["structure"], t["flow"]) == (1220, 30, 415, 0)
    assert res.summary["violations"] == []


def test_example_cli_solve_verify(tiny_path, tmp_path, capsys):
    out = tmp_path / "plan"
    assert main(["solve", str(tiny_path), "--out", str(out), "--quiet"]) == 0
    assert main(["verify", str(tiny_path), str(out)]) == 0
    plan = read_plan(str(out))
    ev = evaluate(cadrex.load_case(tiny_path), plan)
    assert ev.objective == 1379 and not ev.violations
