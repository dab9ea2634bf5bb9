"""``cadrex explain`` at national scale (issue 17): no full model, a forced pair's change as an interval from a
neighbourhood re-solve (low) and the solve's saved duals (high). The interval must hold the exact change that the
small-case path computes by re-solving the full model with the pair pinned, on cases of two families."""

from __future__ import annotations

import json
import shutil

import pytest

import cadrex
from cadrex.analysis import explain as explain_mod
from cadrex.analysis.explain import explain
from cadrex.cli import main


@pytest.fixture(scope="module", params=["base", "tight"])
def solved(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    assert main(["generate", "--cadres", "120", "--seed", "5", "--family", request.param, str(d / "case")]) == 0
    case = cadrex.load_case(d / "case")
    res = cadrex.solve(case, method="cg", gap=0, time_limit=120)
    assert res.status == "optimal"
    res.write(d / "plan")
    return d, case, res


def _movers(res, k=2):
    return res.assignments[res.assignments["action"] == "move"]["cadre_id"].head(k).tolist()


def _forced(d: dict) -> dict:
    key = "post" if "cadre" in d else "cadre"
    return {r[key]: r["forced"] for r in d["eligible"] if r.get("forced")}


def test_forced_interval_holds_the_exact_change(solved, monkeypatch):
    d, case, res = solved
    assert (d / "plan" / "duals.json").is_file()
    seen = 0
    for cid in _movers(res):
        exact = _forced(explain(case, cadre=cid, plan_dir=str(d / "plan"), top=3, time_cap=60))
        monkeypatch.setattr(explain_mod, "LOCAL_ABOVE", 0)  # the national-scale path on this small case
        scaled = _forced(explain(case, cadre=cid, plan_dir=str(d / "plan"), top=3, time_cap=60))
        monkeypatch.undo()
        assert scaled.keys() == exact.keys()
        for post, f in scaled.items():
            e = exact[post]
            if e["status"] == "infeasible":  # no forced plan exists: the local one finds none either
                assert f["low"] is None
                continue
            assert e["exact"], e
            assert f["high"] is not None and e["low"] <= f["high"], (cid, post, e, f)
            if f["low"] is not None:
                assert f["low"] <= e["low"], (cid, post, e, f)
            if f["exact"]:
                assert f["low"] == f["high"] == e["low"]
            seen += 1
    assert seen >= 3


def test_saved_duals_tighten_the_upper_end(solved, monkeypatch):
    """With the duals a forced pair's upper end is its reduced-cost bound, below the plan's bound (a proof here, so
    bound − objective = 0); without them only the plan's bound is left."""
    d, case, res = solved
    monkeypatch.setattr(explain_mod, "LOCAL_ABOVE", 0)
    cid = _movers(res, 1)[0]
    with_duals = _forced(explain(case, cadre=cid, plan_dir=str(d / "plan"), top=3))
    assert any(f["high"] < 0 for f in with_duals.values()), with_duals
    bare = d / "bare"
    shutil.copytree(d / "plan", bare)
    (bare / "duals.json").unlink()
    without = _forced(explain(case, cadre=cid, plan_dir=str(bare), top=3))
    assert all(f["high"] == res.best_bound - res.objective for f in without.values()), without


def test_duals_of_another_case_are_not_used(solved, monkeypatch, caplog):
    """A case changed after the solve (one cadre's name here) makes the saved duals stale: they are not used, and
    the log says so."""
    d, case, res = solved
    other = d / "edited"
    shutil.copytree(d / "case", other)
    text = (other / "cadres.csv").read_text(encoding="utf-8")
    cid = _movers(res, 1)[0]
    line = next(x for x in text.splitlines() if x.startswith(cid + ","))
    parts = line.split(",")
    parts[1] = parts[1] + "甲"
    (other / "cadres.csv").write_text(text.replace(line, ",".join(parts)), encoding="utf-8")
    monkeypatch.setattr(explain_mod, "LOCAL_ABOVE", 0)
    with caplog.at_level("WARNING"):
        got = _forced(explain(cadrex.load_case(other), cadre=cid, plan_dir=str(d / "plan"), top=2))
    assert "another case or policy" in caplog.text
    assert all(f["high"] == res.best_bound - res.objective for f in got.values())


def test_duals_file_records_the_bound(solved):
    d, _, res = solved
    saved = json.loads((d / "plan" / "duals.json").read_text(encoding="utf-8"))
    assert saved["lagrangian_bound"] >= res.objective - 1e-6 and saved["rows"]
    # a second solve replaces the folder it wrote, duals.json included
    (d / "plan" / "duals.json").write_text("{}", encoding="utf-8")
    assert main(["solve", str(d / "case"), "--out", str(d / "plan"), "--method", "cg", "--gap", "0"]) == 0
    again = json.loads((d / "plan" / "duals.json").read_text(encoding="utf-8"))
    assert again["lagrangian_bound"] >= res.objective - 1e-6 and again["rows"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_forced_range_says_whether_forcing_helps(lang):
    """A what-if range is read for one thing, whether forcing the pair costs: a sure loss, no loss, or a loss up to
    the lower end with a gain possible only inside the plan's own gap (a newcomer could not tell from "-70 to +155")."""
    from cadrex.analysis.explain_scale import Forced

    loss, none_, mixed = (Forced(-70, -5, False, "local"), Forced(0, 12, False, "local"), Forced(-70, 155, False, "local"))
    at_most_loss, at_most = Forced(None, -40, False, "capped"), Forced(None, 30, False, "capped")
    en = lang == "en"
    assert ("forcing it lowers the objective (" if en else "强制安排会降低目标值") in loss.text(lang)
    assert ("does not lower" if en else "不会降低") in none_.text(lang)
    m = mixed.text(lang)
    assert (("lowers the objective by up to 70" in m and "up to +155, is possible only if the plan is not yet the best" in m)
            if en else ("至多使目标值降低 70" in m and "尚非最优" in m and "至多 +155" in m)), m
    assert ("by 40 or more" if en else "至少降低 40") in at_most_loss.text(lang)
    assert ("lowers" if en else "降低") not in at_most.text(lang)
    assert Forced(-12, -12, True, "exact").text(lang) == "-12"
    zero = Forced(-5, 0, False, "local").text(lang)  # an upper end of 0: no gain, perhaps a loss, not a sure loss
    assert (("does not raise the objective and may lower it by up to 5" in zero and "forcing it lowers the objective ("
             not in zero) if en else ("不会提高目标值，至多使其降低 5" in zero and "强制安排会降低目标值" not in zero)), zero
