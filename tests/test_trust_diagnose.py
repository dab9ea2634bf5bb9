"""Issue 11, diagnosis: a step that timed out is never called irreducible; ``--time-limit`` bounds solve and
diagnosis together; column generation diagnoses without the full model and finds the 3-instance conflict of two
require pins (H7) on one post (H3 at most one holder)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cadrex
from cadrex.analysis import diagnose
from cadrex.jobs.generate import generate_case
from cadrex.rules import Context
from cadrex.rules.eligibility import rule_masks


def _set(case: Path, stem: str, key: str, col: str, value: str) -> None:
    p = case / f"{stem}.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[df.iloc[:, 0] == key, col] = value
    df.to_csv(p, index=False, encoding="utf-8-sig")


def test_a_timed_out_step_is_never_called_irreducible(tiny_path, tmp_path, monkeypatch, h5_case):
    """Every check that would have proven "feasible" times out instead: the conflict is still reported (it was
    proven infeasible) but with minimal false and the reason, and its message claims no irreducibility."""
    case = cadrex.load_case(h5_case)
    real = diagnose._Checker.infeasible

    def unanswered(self, *args, **kwargs):
        r = real(self, *args, **kwargs)
        return None if r is False else r

    monkeypatch.setattr(diagnose._Checker, "infeasible", unanswered)
    res = cadrex.solve(case, time_limit=30)
    assert res.status == "infeasible" and res.diagnosis
    for d in res.diagnosis:
        assert d["minimal"] is False and d["irreducible"] is False, d
        assert "timed out" in d["reason"] and "超时" in d["reason"]
        assert "Dropping any one" not in d["message"] and "去掉其中任意一条" not in d["message_zh"]
    assert {"H1", "H3", "H5"} <= set(res.diagnosis[0]["rules"])  # still a superset of the real conflict


def test_time_limit_bounds_solve_and_diagnosis(tiny_path, tmp_path, monkeypatch, h5_case):
    """Slow feasibility checks (1 s each; the search on this case takes 8–11 of them): the diagnosis stops at the
    solve's deadline, not max(10 s, time limit) after the solve."""
    case = cadrex.load_case(h5_case)
    real = diagnose._Checker.infeasible

    def slow(self, *args, **kwargs):
        time.sleep(1.0)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(diagnose._Checker, "infeasible", slow)
    T = 3.0
    t0 = time.perf_counter()
    res = cadrex.solve(case, time_limit=T)
    took = time.perf_counter() - t0
    assert res.status == "infeasible"
    assert took <= T + 2.0, took
    for d in res.diagnosis:  # whatever was found in time is honest about itself
        assert d["minimal"] is False or "Dropping any one" in d["message"]


def _two_pins_on_one_post(tmp: Path, n: int = 300, seed: int = 7) -> tuple[Path, str, str, str]:
    """A generated case plus two require pins of two eligible cadres (in play, holding no post) onto one vacant
    post in play that need not be filled."""
    d = tmp / "g"
    generate_case(str(d), n, seed)
    case = cadrex.load_case(d)
    ctx = Context(case, case.policy)
    J = ctx.J
    for p in J[(ctx.p_holder[J] < 0) & ~ctx.p_must[J]]:
        ok = np.all([v[:, 0] for v in rule_masks(ctx, ctx.I, np.array([p], np.int32)).values()], axis=0)
        free = [int(c) for c in ctx.I[ok] if ctx.c_post[c] < 0 and not ctx.c_must[c]]
        if len(free) >= 2:
            a, b = ctx.cad_ids[free[0]], ctx.cad_ids[free[1]]
            with open(d / "pins.csv", "a", encoding="utf-8") as fh:
                fh.write(f"{a},{ctx.post_ids[p]},require\n{b},{ctx.post_ids[p]},require\n")
            return d, a, b, ctx.post_ids[p]
    raise AssertionError("no vacant post with two eligible free cadres")


def _assert_three(res, a: str, b: str, post: str) -> None:
    assert res.status == "infeasible"
    assert len(res.diagnosis) == 1, res.diagnosis
    d = res.diagnosis[0]
    assert sorted(d["rules"]) == ["H3", "H7", "H7"], d
    assert d["rule"] == "H7" and d["cadres"] == sorted([a, b]) and d["posts"] == [post]
    assert d["minimal"] is True and d["irreducible"] is True and d["reason"] == ""
    assert "at most one holder" in d["message"] and "Dropping any one" in d["message"]
    assert "H3" in d["message_zh"] and "H7" in d["message_zh"] and "去掉其中任意一条" in d["message_zh"]


def test_column_generation_finds_the_three_instance_conflict_without_the_full_model(tmp_path, monkeypatch):
    d, a, b, post = _two_pins_on_one_post(tmp_path)

    def no_full_model(*args, **kwargs):
        raise AssertionError("the full model was built")

    import cadrex.jobs.solve
    import cadrex.model
    import cadrex.model.core

    for mod in (cadrex.model.core, cadrex.model, cadrex.jobs.solve, diagnose):
        monkeypatch.setattr(mod, "build_model", no_full_model, raising=False)
    _assert_three(cadrex.solve(cadrex.load_case(d), method="cg", gap=0, time_limit=60), a, b, post)


def test_full_model_finds_the_same_three_instance_conflict(tmp_path):
    d, a, b, post = _two_pins_on_one_post(tmp_path)
    _assert_three(cadrex.solve(cadrex.load_case(d), method="full", time_limit=60), a, b, post)


def test_long_conflict_message_lists_ten_and_counts_the_rest(tiny_path):
    ctx = Context(cadrex.load_case(tiny_path))
    iis = [diagnose.Instance("H3", "row-hi", k, np.inf, (), (int(p),), (int(ctx.p_team[p]),), key=("row-hi", k))
           for k, p in enumerate(ctx.J[:13])]
    d = diagnose._describe(ctx, iis, None)
    assert len(d["rules"]) == 13 and d["message"].count("H3:") == 10
    assert "… and 3 more" in d["message"] and "另有 3 项" in d["message_zh"]


@pytest.mark.parametrize("left", [0.0, 0.5])
def test_no_time_left_still_gets_the_floor(tiny_path, tmp_path, left, h5_case):
    """A deadline already past (the solve used everything): the diagnosis still gets DIAG_FLOOR seconds, enough for
    the small conflict of the tiny case, and takes no more than that."""
    from cadrex.model import build_model

    case = cadrex.load_case(h5_case)
    m = build_model(Context(case))
    t0 = time.perf_counter()
    out = diagnose.diagnose_full(m, t0 + left)
    assert time.perf_counter() - t0 <= diagnose.DIAG_FLOOR + 1.0
    assert sorted(out[0]["rules"]) == ["H1", "H3", "H5"] and out[0]["minimal"] is True
