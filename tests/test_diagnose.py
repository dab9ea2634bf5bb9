"""Infeasibility diagnosis: each kind names its rule and exactly the cadres/posts involved; removing one element of
the conflict (by editing the case) makes it feasible again, checked by re-solving."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import cadrex


def _copy(tiny: Path, tmp: Path) -> Path:
    d = tmp / "case"
    shutil.copytree(tiny, d)
    return d


def _set(case: Path, stem: str, key: str, col: str, value: str) -> None:
    p = case / f"{stem}.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[df.iloc[:, 0] == key, col] = value
    df.to_csv(p, index=False, encoding="utf-8-sig")


def _solve(case: Path):
    return cadrex.solve(cadrex.load_case(case), time_limit=30)


def test_h1_must_move_nowhere_to_go(tiny_path, tmp_path):
    case = _copy(tiny_path, tmp_path)
    (case / "pins.csv").unlink()
    # C000026 must move (11 years in SD); a strict specialty on every post in play leaves him nothing
    posts = pd.read_csv(case / "posts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    posts["specialty_strict"] = "是"
    posts.loc[posts["specialty"] == "", "specialty"] = "economics"
    posts.loc[posts["specialty"] == "social_security", "specialty"] = "law"
    posts.to_csv(case / "posts.csv", index=False, encoding="utf-8-sig")
    res = _solve(case)
    assert res.status == "infeasible"
    d = [x for x in res.diagnosis if x["rule"] == "H1"]
    assert d and d[0]["cadres"] == ["C000026"], res.diagnosis
    assert "E10" in d[0]["message"] and "H1" in d[0]["message_zh"]
    _set(case, "cadres", "C000026", "years_in_province", "3")  # drop the H1 reason
    assert _solve(case).status == "optimal"


def test_h3_must_fill_nobody_eligible(tiny_path, tmp_path):
    case = _copy(tiny_path, tmp_path)
    _set(case, "posts", "P000030", "must_fill", "是")
    _set(case, "posts", "P000030", "grade", "正部")
    res = _solve(case)
    assert res.status == "infeasible"
    d = res.diagnosis[0]
    assert d["rule"] == "H3" and d["posts"] == ["P000030"], res.diagnosis
    assert "E1" in d["message"]
    _set(case, "posts", "P000030", "must_fill", "否")
    assert _solve(case).status == "optimal"


def test_h5_both_heads_would_change(tiny_path, tmp_path, h5_case):
    case = h5_case
    res = _solve(case)
    assert res.status == "infeasible"
    d = res.diagnosis[0]
    assert d["rule"] == "H5", res.diagnosis
    assert sorted(d["rules"]) == ["H1", "H3", "H5"]
    assert d["cadres"] == ["C000012"] and d["posts"] == ["P000016", "P000024"] and d["irreducible"]
    # drop any one of the three instances: feasible
    _set(case, "cadres", "C000012", "exchange_kind", "")
    assert _solve(case).status == "optimal"
    _set(case, "cadres", "C000012", "exchange_kind", "规定性")
    _set(case, "posts", "P000016", "must_fill", "否")
    assert _solve(case).status == "optimal"
    _set(case, "posts", "P000016", "must_fill", "是")
    _set(case, "teams", "T00004", "locality_id", "L0099")
    assert _solve(case).status == "optimal"


def test_h7_require_pin_on_ineligible_pair(tiny_path, tmp_path):
    case = _copy(tiny_path, tmp_path)
    (case / "pins.csv").write_text("cadre_id,post_id,mode\nC000005,P000008,require\n", encoding="utf-8")
    res = _solve(case)
    assert res.status == "infeasible"
    d = res.diagnosis[0]
    assert d["rule"] == "H7" and d["cadres"] == ["C000005"] and d["posts"] == ["P000008"]
    assert "E2" in d["message"]  # P000008 is in BJ, C000005's own province


def test_h4_kin_stay_and_pin(tiny_path, tmp_path):
    """C000004 is pinned to stay but a fixed relative sits in its team: H4 and H7 conflict."""
    case = _copy(tiny_path, tmp_path)
    (case / "pins.csv").write_text("cadre_id,post_id,mode\nC000004,P000009,require\n", encoding="utf-8")
    rel = pd.read_csv(case / "relations.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rel = pd.concat([rel, pd.DataFrame([{"cadre_a": "C000004", "cadre_b": "C000013", "relation": "配偶"}])])
    rel.to_csv(case / "relations.csv", index=False, encoding="utf-8-sig")
    res = _solve(case)
    assert res.status == "infeasible"
    d = res.diagnosis[0]
    assert sorted(d["rules"]) == ["H4", "H7"] and d["cadres"] == ["C000004"], res.diagnosis


def test_h6_hard_structure(tiny_path, tmp_path):
    """T00003 (city_party, hard min_female) has one woman (C000024), who is made must-move; no woman can come in."""
    case = _copy(tiny_path, tmp_path)
    _set(case, "cadres", "C000024", "exchange_kind", "规定性")
    _set(case, "cadres", "C000007", "gender", "男")  # the team's other woman
    cad = pd.read_csv(case / "cadres.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    women = cad[(cad["gender"] == "女") & (cad["cadre_id"] != "C000024")]["cadre_id"]
    cad.loc[cad["cadre_id"].isin(women), "movable"] = "否"
    cad.to_csv(case / "cadres.csv", index=False, encoding="utf-8-sig")
    res = _solve(case)
    assert res.status == "infeasible"
    d = res.diagnosis[0]
    assert sorted(d["rules"]) == ["H1", "H6"] and "T00003" in d["teams"] and d["cadres"] == ["C000024"], res.diagnosis
    assert "min_female" in d["message"]
    _set(case, "cadres", "C000024", "exchange_kind", "")
    assert _solve(case).status == "optimal"


def test_cli_prints_short_diagnosis(tiny_path, tmp_path, capsys):
    from cadrex.cli import main

    case = _copy(tiny_path, tmp_path)
    _set(case, "posts", "P000030", "must_fill", "是")
    _set(case, "posts", "P000030", "grade", "正部")
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "  H3: post P000030 must be filled" in err and "[H3" not in err  # the rule id once, not twice
    assert (tmp_path / "o" / "diagnosis.json").is_file()


@pytest.mark.parametrize("backend", ["cpsat", "pyomo"])
def test_other_backends_also_diagnose(tiny_path, tmp_path, backend, h5_case):
    case = h5_case
    res = cadrex.solve(cadrex.load_case(case), backend=backend, time_limit=30)
    assert res.status == "infeasible" and res.diagnosis[0]["rule"] == "H5"
