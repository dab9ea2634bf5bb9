"""H8 round size (SPEC §5, v2): ``max_moves`` and ``max_departures_per_province`` on every backend and in column
generation, equal to a brute force through the independent verifier, rechecked by ``verify``, named in a diagnosis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_solve import brute_force, small_case

import cadrex
from cadrex.cli import main
from cadrex.jobs.generate import generate_case

BACKENDS = ["highs", "cpsat", "pyomo"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _moves(res) -> int:
    a = res.assignments
    return int(((a["to_post"] != "") & (a["to_post"] != a["from_post"])).sum())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [3, 7, 17, 41])
def test_h8_caps_equal_brute_force(tmp_path, backend, seed):
    base = small_case(tmp_path, seed, 3, "any", True)
    for caps in ({"max_moves": 1}, {"max_departures_per_province": 1}, {"max_moves": 2, "max_departures_per_province": 1}):
        case = base.with_policy(caps)
        want = brute_force(case)
        res = cadrex.solve(case, backend=backend, time_limit=30)
        if want is None:
            assert res.status == "infeasible", caps
            continue
        assert res.status == "optimal" and res.objective == want, (caps, res.summary)
        if "max_moves" in caps:
            assert _moves(res) <= caps["max_moves"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_h8_max_moves_binds_on_the_sample(backend):
    case = cadrex.load_case(SAMPLE)
    free = cadrex.solve(case, backend=backend)
    k = _moves(free) - 3
    capped = cadrex.solve(case.with_policy({"max_moves": k}), backend=backend)
    assert capped.status == "optimal" and _moves(capped) <= k and capped.objective < free.objective
    assert capped.summary["violations"] == []


def test_h8_infeasible_cap_is_diagnosed(tiny_path):
    """The tiny case's optimum moves its one must-move cadre and its one require-pinned cadre: one move is too few,
    and the diagnosis names H8 with the H1 and H7 instances it conflicts with."""
    res = cadrex.solve(cadrex.load_case(tiny_path).with_policy({"max_moves": 1}))
    assert res.status == "infeasible"
    assert sorted(res.diagnosis[0]["rules"]) == ["H1", "H7", "H8"] and res.diagnosis[0]["rule"] == "H8"
    assert "max_moves" in res.diagnosis[0]["message"] and "max_moves" in res.diagnosis[0]["message_zh"]


def test_h8_column_generation_equals_full(tmp_path):
    generate_case(str(tmp_path / "g"), 150, 6)
    case = cadrex.load_case(tmp_path / "g").with_policy({"max_moves": 25, "max_departures_per_province": 4})
    full = cadrex.solve(case, method="full", time_limit=120)
    cg = cadrex.solve(case, method="cg", gap=0, time_limit=120)
    assert full.status == "optimal" and cg.status == "optimal"
    assert cg.objective == full.objective and _moves(cg) <= 25
    free = cadrex.solve(cadrex.load_case(tmp_path / "g"), method="full", time_limit=120)
    assert _moves(free) > 25  # the cap binds


def test_verify_rechecks_h8(tiny_path, tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["solve", str(tiny_path), "--out", str(out), "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    s["policy"]["max_moves"] = 1
    (out / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    assert main(["verify", str(tiny_path), str(out)]) == 3
    assert "H8:" in capsys.readouterr().err


def test_explain_says_the_h8_cap(tmp_path):
    from cadrex.analysis.explain import explain, render

    case = cadrex.load_case(SAMPLE).with_policy({"max_moves": 8})
    cadrex.solve(case).write(tmp_path / "p")
    d = explain(case, cadre="C000004", plan_dir=str(tmp_path / "p"), top=1)
    assert d["h8"] == {"max_moves": 8, "moves": 8} and "H8 round size" in render(d)
