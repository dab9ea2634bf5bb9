"""Wording that states only what is proven (issue 12 review): a minimal conflict says that dropping one of its
instances resolves *this* conflict (not that a plan then exists), and a diagnosis that stopped before every conflict
was isolated says that more may exist (``more_conflicts_possible``, English and Chinese). The must-move explanation
is written once (``cadrex.rules.why``) for the assignments table and the diagnosis; a generated case is dated by
one ``as_of``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cadrex
from cadrex.analysis import diagnose
from cadrex.jobs.generate import generate_case
from cadrex.model import build_model
from cadrex.rules import Context
from cadrex.rules.why import must_move

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
MORE_EN, MORE_ZH = "Other conflicts may exist (", "可能还存在其他冲突（"


def _set(case: Path, stem: str, key: str, col: str, value: str) -> None:
    p = case / f"{stem}.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[df.iloc[:, 0] == key, col] = value
    df.to_csv(p, index=False, encoding="utf-8-sig")


def _claims_no_plan(d: dict) -> None:
    assert "makes a plan possible" not in d["message"] and "形成方案" not in d["message_zh"], d


def test_a_minimal_conflict_claims_only_itself(h5_case):
    res = cadrex.solve(cadrex.load_case(h5_case), time_limit=30)
    assert res.status == "infeasible" and len(res.diagnosis) == 1
    d = res.diagnosis[0]
    assert sorted(d["rules"]) == ["H1", "H3", "H5"] and d["minimal"] is True
    assert d["message"].endswith("Dropping any one of them resolves this conflict.")
    assert d["message_zh"].endswith("去掉其中任意一条即可消除此冲突。")
    _claims_no_plan(d)
    # the only conflict: relaxing it was proven to leave a plan possible, so no "more may exist"
    assert d["more_conflicts_possible"] is False
    assert MORE_EN not in d["message"] and MORE_ZH not in d["message_zh"]


def test_a_one_instance_conflict_claims_only_itself(tiny_path):
    ctx = Context(cadrex.load_case(tiny_path))
    p = int(ctx.J[0])
    d = diagnose._describe(ctx, [diagnose.Instance("H3", "row-hi", 0, np.inf, (), (p,), (int(ctx.p_team[p]),),
                                                   key=("row-hi", 0))], None)
    assert d["message"].startswith("This rule instance cannot hold: ")
    assert d["message"].endswith("Dropping it resolves this conflict.")
    assert d["message_zh"].endswith("去掉该条即可消除此冲突。")
    _claims_no_plan(d)


def test_the_cap_on_conflicts_is_not_a_false_signal(h5_case):
    """max_conflicts=1 on a case with one conflict: the rest was proven feasible, so nothing more may exist."""
    out = diagnose.diagnose(build_model(Context(cadrex.load_case(h5_case))), max_conflicts=1, time_limit=30)
    assert len(out) == 1 and out[0]["minimal"] is True and out[0]["more_conflicts_possible"] is False


@pytest.fixture(scope="module")
def many_conflicts(tmp_path_factory) -> Path:
    """A generated case where every cadre in play with a year in its province must move (the review's case,
    smaller): far more conflicts than max_conflicts, most of them must-movers who can move nowhere."""
    d = tmp_path_factory.mktemp("many") / "case"
    generate_case(str(d), 60, 3)
    return d


@pytest.mark.parametrize("method", ["full", "cg"])
def test_a_search_stopped_early_says_more_may_exist(many_conflicts, method):
    res = cadrex.solve(cadrex.load_case(many_conflicts), policy={"mandatory_rotation_years": 1}, method=method,
                       time_limit=30)
    assert res.status == "infeasible" and res.diagnosis
    assert all(d["rules"] for d in res.diagnosis)  # proven conflicts, not "nothing isolated"
    assert all(d["more_conflicts_possible"] is True for d in res.diagnosis)
    *first, last = res.diagnosis
    assert MORE_EN in last["message"] and last["message"].endswith(").")
    assert MORE_ZH in last["message_zh"] and last["message_zh"].endswith("）。")
    for d in first:  # said once, at the end of the list
        assert MORE_EN not in d["message"] and MORE_ZH not in d["message_zh"]
    for d in res.diagnosis:
        _claims_no_plan(d)


def test_no_conflict_isolated_is_marked_too():
    for d in (diagnose._unproven(None), diagnose._generic()):
        assert d["rules"] == [] and d["more_conflicts_possible"] is True


def test_must_move_is_worded_once_for_the_table_and_the_diagnosis(h5_case, tmp_path):
    case = cadrex.load_case(SAMPLE)
    ctx = Context(case)
    res = cadrex.solve(case, time_limit=30)
    res.write(str(tmp_path / "out"))
    reasons = pd.read_csv(tmp_path / "out" / "assignments.csv", dtype=str, keep_default_na=False)
    reasons = dict(zip(reasons["cadre_id"], reasons["reasons"], strict=True))
    must = [int(c) for c in ctx.I if ctx.c_must[c]]
    assert {ctx.c_kind[c] for c in must} & {"mandatory", "avoidance", "disciplinary"}
    assert any(ctx.c_kind[c] == "" for c in must)  # both kinds of reason are on the sample
    for c in must:
        assert "H1 must move: " + must_move(ctx, c, threshold=True)[0] in reasons[ctx.cad_ids[c]]
    # the diagnosis of the H5 case explains its must-mover with the same words
    ctx5 = Context(cadrex.load_case(h5_case))
    c = int(np.flatnonzero(ctx5.cad_ids == "C000012")[0])
    en, zh = must_move(ctx5, c)
    assert (en, zh) == ("exchange kind mandatory (规定性)", "交流类型为规定性")
    d = cadrex.solve(cadrex.load_case(h5_case), time_limit=30).diagnosis[0]
    assert f"({en})" in d["message"] and f"（{zh}）" in d["message_zh"]


def test_a_generated_case_is_dated_by_one_as_of(tmp_path):
    generate_case(str(tmp_path / "a"), 20, 5)
    generate_case(str(tmp_path / "b"), 20, 5, as_of=date(2030, 1, 15))
    assert "as_of = 2026-06-30\n" in (tmp_path / "a" / "case.toml").read_text(encoding="utf-8")
    assert "as_of = 2030-01-15\n" in (tmp_path / "b" / "case.toml").read_text(encoding="utf-8")
    a, b = (pd.read_csv(tmp_path / x / "cadres.csv", dtype=str) for x in "ab")
    year = lambda s: s.str[:4].astype(int)  # noqa: E731
    assert ((year(b["birth_date"]) - year(a["birth_date"])) == 4).all()
    assert (a["birth_date"].str[4:] == b["birth_date"].str[4:]).all()


def test_solve_and_verify_summaries_in_the_chosen_language(tmp_path, capsys):
    """The one-line results of solve and verify in the language chosen by --lang (issue 16; a newcomer saw English
    only): each language's line, and not the other's."""
    from conftest import SAMPLE, said_in_zh

    from cadrex.cli import main

    assert main(["solve", str(SAMPLE), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "objective" in out and "目标值" not in out
    zh = said_in_zh(main, ["solve", str(SAMPLE), "--out", str(tmp_path / "o"), "--quiet"], 0, capsys)
    assert "目标值" in zh and "交流" in zh and "objective" not in zh
    assert main(["verify", str(SAMPLE), str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "verify: plan satisfies" in out
    assert "校验通过" in said_in_zh(main, ["verify", str(SAMPLE), str(tmp_path / "o")], 0, capsys)
