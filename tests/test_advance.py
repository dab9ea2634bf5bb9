"""The next round's case (SPEC §12): apply(plan) then advance one year, on hand-made changes of the tiny case —
tenure clocks, grade after a promotion, hardship years, retirements, pins only in round 1, 29 February. And the
derived case is a valid case by the independent verifier's reading (holders' grade and province match their posts)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd

import cadrex
from cadrex.analysis.verify import evaluate
from cadrex.io.advance import advance, apply_plan, retiring


def _plan(case, **moves):
    """The status quo of the case's cadres in play, with ``moves`` (cadre -> post) applied."""
    ev = evaluate(case, {})
    own = {h: p for p, h in case.posts["holder_id"].items() if h}
    return {c: own.get(c) for c in ev.in_play} | moves


def test_apply_moves_resets_clocks_and_takes_the_new_province_and_grade(tiny_path):
    case = cadrex.load_case(tiny_path)
    res = cadrex.solve(case)
    plan = {r["cadre_id"]: (r["to_post"] or None) for r in res.assignments.to_dict("records")}
    nxt = apply_plan(case, plan)
    for r in res.assignments[res.assignments["action"] == "move"].to_dict("records"):
        c, p = r["cadre_id"], r["to_post"]
        row = nxt.cadres.loc[c]
        assert nxt.posts.at[p, "holder_id"] == c
        assert row["province_id"] == case.teams.at[case.posts.at[p, "team_id"], "province_id"]
        assert (row["years_in_post"], row["years_in_province"], row["exchange_kind"]) == (0, 0, "")
        assert row["grade"] == case.posts.at[p, "grade"]
        if r["from_post"]:
            assert nxt.posts.at[r["from_post"], "holder_id"] in ("", *plan)  # vacated, or taken by another mover
    stay = res.assignments[res.assignments["action"] == "stay"]["cadre_id"].iloc[0]
    assert nxt.cadres.loc[stay].equals(case.cadres.loc[stay])  # everyone else unchanged
    assert len(nxt.pins) == 0 and len(case.pins) > 0  # pins apply to round 1 only
    assert len(nxt.preferences) == len(case.preferences) and len(nxt.relations) == len(case.relations)
    # the verifier reads the derived case as a valid one: every holder's grade and province match its post
    for p, h in nxt.posts["holder_id"].items():
        if h:
            assert nxt.cadres.at[h, "grade"] == nxt.posts.at[p, "grade"]
            assert nxt.cadres.at[h, "province_id"] == nxt.teams.at[nxt.posts.at[p, "team_id"], "province_id"]


def test_promotion_resets_years_in_grade_same_grade_keeps_it(tiny_path):
    case = cadrex.load_case(tiny_path)
    # C000005 moves to P000029 in the worked example: same grade or one up, by the case's data
    g0, g1 = case.cadres.at["C000005", "grade"], case.posts.at["P000029", "grade"]
    nxt = apply_plan(case, _plan(case, C000005="P000029"))
    want = 0 if g1 != g0 else case.cadres.at["C000005", "years_in_grade"]
    assert nxt.cadres.at["C000005", "years_in_grade"] == want and nxt.cadres.at["C000005", "grade"] == g1
    # a hand-made promotion: the same move with the post one grade up
    up = case.posts.copy()
    up.loc["P000029", "grade"] = g0 + 1
    promoted = apply_plan(case.__class__(**{**case.__dict__, "posts": up}), _plan(case, C000005="P000029"))
    assert promoted.cadres.at["C000005", "grade"] == g0 + 1 and promoted.cadres.at["C000005", "years_in_grade"] == 0


def test_advance_clocks_hardship_and_ages():
    case = cadrex.load_case(Path(__file__).resolve().parents[1] / "data" / "sample")  # has hardship teams
    nxt = advance(case)
    n_hard = 0
    assert nxt.as_of == dt.date(case.as_of.year + 1, case.as_of.month, case.as_of.day)
    holders = set(h for h in case.posts["holder_id"] if h)
    team_of = {h: t for h, t in zip(case.posts["holder_id"], case.posts["team_id"], strict=True) if h}
    for c, r in case.cadres.iterrows():
        if c not in nxt.cadres.index:
            continue
        n = nxt.cadres.loc[c]
        assert n["years_in_grade"] == r["years_in_grade"] + 1
        assert n["age"] == r["age"] + 1
        held = c in holders
        assert n["years_in_post"] == r["years_in_post"] + held
        assert n["years_in_province"] == r["years_in_province"] + held
        hard = held and case.teams.at[team_of[c], "hardship"] >= 1
        n_hard += hard
        assert n["hardship_years"] == r["hardship_years"] + hard
    assert n_hard > 0  # the hardship clock was exercised


def test_advance_retires_and_vacates(tiny_path, tmp_path):
    d = tmp_path / "t"
    shutil.copytree(tiny_path, d)
    cad = pd.read_csv(d / "cadres.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    posts = pd.read_csv(d / "posts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    holder = posts.loc[posts["holder_id"] != "", "holder_id"].iloc[0]
    post = posts.loc[posts["holder_id"] == holder, "post_id"].iloc[0]
    case0 = cadrex.load_case(d)
    # the holder turns 60 (retirement_age) within the coming year; a relation and a preference of it go too
    born = _next_birthday_before(case0.as_of, 60)
    cad.loc[cad["cadre_id"] == holder, "birth_date"] = born.isoformat()
    cad.to_csv(d / "cadres.csv", index=False)
    (d / "relations.csv").write_text(f"cadre_a,cadre_b,relation\n{holder},{cad['cadre_id'].iloc[-1]},spouse\n", encoding="utf-8")
    case = cadrex.load_case(d)
    assert holder in set(retiring(case))
    nxt = advance(case)
    assert holder not in nxt.cadres.index and nxt.posts.at[post, "holder_id"] == ""
    assert len(nxt.relations) == 0
    assert not (nxt.preferences["cadre_id"] == holder).any() and not (nxt.scores["cadre_id"] == holder).any()


def _next_birthday_before(as_of: dt.date, age: int) -> dt.date:
    """A birth date at which a cadre is ``age`` − 1 at ``as_of`` and ``age`` one year later."""
    d = as_of - dt.timedelta(days=1)
    return d.replace(year=d.year - age + 1)


def test_advance_29_february(tiny_path, tmp_path):
    d = tmp_path / "t"
    shutil.copytree(tiny_path, d)
    (d / "case.toml").write_text('as_of = 2028-02-29\nname = "leap"\n', encoding="utf-8")
    case = cadrex.load_case(d)
    assert advance(case).as_of == dt.date(2029, 2, 28)
