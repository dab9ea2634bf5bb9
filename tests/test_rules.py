"""One test per rule (E1–E10, H1, H3–H7): on a generated case, the rule changes the answer. Pattern: solve with
the rule relaxed (a policy toggle, or an edited copy of the case); the independent verifier, under the real
rules, must flag that relaxed plan with exactly this rule id, while the real optimum verifies clean and is no
better than the relaxed one. Rules that random data may not make binding get a planted instance that cuts off
the current optimum. H2 (one post per cadre) cannot be relaxed; it is covered by brute force and verify tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import cadrex
from cadrex.analysis.verify import evaluate
from cadrex.jobs.generate import generate_case

N, SEED = 150, 5


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, cadrex.Result]:
    d = tmp_path_factory.mktemp("rules") / "g"
    generate_case(str(d), N, SEED)
    res = cadrex.solve(cadrex.load_case(d), time_limit=60)
    assert res.status == "optimal"
    return d, res


def _plan(res) -> dict:
    a = res.assignments
    return {r["cadre_id"]: (r["to_post"] or None) for r in a.to_dict("records")}


def _check(case_dir: Path, relaxed: cadrex.Result, strict: cadrex.Result, rule: str, pure: bool = True) -> None:
    """``pure``: the strict case only removes options, so its optimum can be no better."""
    case = cadrex.load_case(case_dir)
    assert relaxed.status == "optimal" and strict.status == "optimal"
    assert not evaluate(case, _plan(strict), strict.summary["policy"]).violations
    bad = evaluate(case, _plan(relaxed), strict.summary["policy"]).violations
    assert any(v.startswith(f"{rule}:") for v in bad), (rule, bad[:5])
    if pure:
        assert strict.objective <= relaxed.objective


# E6 cannot be relaxed alone: the retirement limit also bounds H1, so that comparison is not a pure relaxation
POLICY_TOGGLES = {
    "E2": ({"scope": "any"}, True),
    "E5": ({"min_years_in_post": 0}, True),
    "E6": ({"retirement_age": 90, "mandatory_rotation_years": 99}, False),
}


@pytest.mark.parametrize("rule", sorted(POLICY_TOGGLES))
def test_policy_rule_binds(base, rule):
    d, strict = base
    over, pure = POLICY_TOGGLES[rule]
    relaxed = cadrex.solve(cadrex.load_case(d), policy=over, time_limit=60)
    _check(d, relaxed, strict, rule, pure)


def test_e1_grade_binds(base, tmp_path):
    """A cadre without a post that moved in the optimum drops one grade with no years in it: that move is now a
    two-grade promotion (or one without the years)."""
    d, relaxed = base
    case = cadrex.load_case(d)
    mv = _moves(relaxed)
    hit = mv[mv["from_post"] == ""].iloc[0]
    e = _copy(d, tmp_path)
    cad = pd.read_csv(e / "cadres.csv", dtype=str, keep_default_na=False)
    from cadrex.io.schema import GRADES

    g = int(case.cadres.at[hit["cadre_id"], "grade"])
    cad.loc[cad["cadre_id"] == hit["cadre_id"], ["grade", "years_in_grade"]] = [GRADES[g - 1], "0"]
    _write(cad, e / "cadres.csv")
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "E1", pure=False)


def test_e3_native_avoidance_binds(base, tmp_path):
    """A cadre that moved to a key role gets that province as its native province."""
    d, relaxed = base
    case = cadrex.load_case(d)
    from cadrex.io.schema import KEY_ROLES

    mv = _moves(relaxed)
    hit = mv[[case.posts.at[p, "role"] in KEY_ROLES for p in mv["to_post"]]].iloc[0]
    e = _copy(d, tmp_path)
    _set_cell(e, "cadres", "cadre_id", hit["cadre_id"], "native_province", hit["to_province"])
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "E3")


def test_e7_strict_education_binds(base, tmp_path):
    d, _ = base
    case = cadrex.load_case(d)
    strict = cadrex.solve(case, policy={"strict_education": True}, time_limit=60)
    relaxed = cadrex.solve(case, time_limit=60)
    assert relaxed.status == strict.status == "optimal"
    bad = evaluate(case, _plan(relaxed), strict.summary["policy"]).violations
    assert any(v.startswith("E7:") for v in bad)
    assert not evaluate(case, _plan(strict), strict.summary["policy"]).violations


def test_h1_must_move_binds(base):
    d, strict = base
    relaxed = cadrex.solve(cadrex.load_case(d), policy={"mandatory_rotation_years": 99}, time_limit=60)
    # the relaxed case has fewer cadres in play: those left out stay where they are
    plan = _plan(relaxed)
    case = cadrex.load_case(d)
    ev = evaluate(case, {c: plan.get(c, _own(case, c)) for c in evaluate(case, {}).in_play}, strict.summary["policy"])
    assert any(v.startswith("H1:") for v in ev.violations)


def _own(case, c):
    h = case.posts[case.posts["holder_id"] == c]
    return h.index[0] if len(h) else None


def _copy(d: Path, tmp: Path) -> Path:
    out = tmp / "edited"
    shutil.copytree(d, out)
    return out


def _moves(res) -> pd.DataFrame:
    a = res.assignments
    return a[a["action"] == "move"]


def _write(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, encoding="utf-8")


def _set_cell(case: Path, stem: str, key_col: str, key: str, col: str, value: str) -> None:
    """Set one cell of ``stem.csv`` in an edited case copy."""
    df = pd.read_csv(case / f"{stem}.csv", dtype=str, keep_default_na=False)
    df.loc[df[key_col] == key, col] = value
    _write(df, case / f"{stem}.csv")


def _append(case: Path, stem: str, row: dict) -> None:
    """Add one row to ``stem.csv`` of an edited case copy."""
    df = pd.read_csv(case / f"{stem}.csv", dtype=str, keep_default_na=False)
    _write(pd.concat([df, pd.DataFrame([row])]), case / f"{stem}.csv")


def test_e4_kin_with_fixed_binds(base, tmp_path):
    """Plant a relative of a moving cadre as a fixed member of its destination team."""
    d, relaxed = base
    case = cadrex.load_case(d)
    mv = _moves(relaxed).iloc[0]
    team = case.posts.at[mv["to_post"], "team_id"]
    inplay = set(relaxed.assignments["cadre_id"])
    fixed = [h for h in case.posts[case.posts["team_id"] == team]["holder_id"] if h and h not in inplay]
    e = _copy(d, tmp_path)
    _append(e, "relations", {"cadre_a": mv["cadre_id"], "cadre_b": fixed[0], "relation": "配偶"})
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "E4")


def test_h4_kin_in_play_binds(base, tmp_path):
    """Plant a relation between two cadres in play who end up in the same team."""
    d, relaxed = base
    case = cadrex.load_case(d)
    a = relaxed.assignments[relaxed.assignments["to_post"] != ""].copy()
    a["team"] = [case.posts.at[p, "team_id"] for p in a["to_post"]]
    pair = a.groupby("team")["cadre_id"].agg(list)
    pair = pair[pair.map(len) >= 2].iloc[0]
    e = _copy(d, tmp_path)
    _append(e, "relations", {"cadre_a": pair[0], "cadre_b": pair[1], "relation": "兄弟姐妹"})
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "H4")


def test_h4_a_stay_beside_a_fixed_relative_is_one_breach(base, tmp_path):
    """A cadre in play who stays in a team where a relative not in play holds a post breaks H4 once: verify says it
    once (it also counted the pair in the team, and a relation listed both ways twice more: a newcomer saw one
    breach as two)."""
    d, res = base
    case = cadrex.load_case(d)
    a = res.assignments
    inplay = set(a["cadre_id"])
    stay = a[a["action"] == "stay"].iloc[0]
    team = case.posts.at[stay["to_post"], "team_id"]
    fixed = [h for h in case.posts[case.posts["team_id"] == team]["holder_id"] if h and h not in inplay]
    e = _copy(d, tmp_path)
    for x, y in ((stay["cadre_id"], fixed[0]), (fixed[0], stay["cadre_id"])):
        _append(e, "relations", {"cadre_a": x, "cadre_b": y, "relation": "配偶"})
    bad = evaluate(cadrex.load_case(e), _plan(res), res.summary["policy"]).violations
    h4 = [v for v in bad if v.startswith("H4:")]
    assert len(h4) == 1 and stay["cadre_id"] in h4[0] and fixed[0] in h4[0], bad


def test_e8_forbid_pin_binds(base, tmp_path):
    d, relaxed = base
    mv = _moves(relaxed).iloc[0]
    e = _copy(d, tmp_path)
    _append(e, "pins", {"cadre_id": mv["cadre_id"], "post_id": mv["to_post"], "mode": "forbid"})
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "E8")


def test_h7_require_pin_binds(base, tmp_path):
    """Require an eligible pair the optimum does not choose (the post's short list names eligible cadres)."""
    d, relaxed = base
    chosen = set(zip(relaxed.assignments["cadre_id"], relaxed.assignments["to_post"], strict=True))
    e = _copy(d, tmp_path)
    pins = pd.read_csv(e / "pins.csv", dtype=str, keep_default_na=False)
    tried = 0
    for r in relaxed.posts.to_dict("records"):
        for c in filter(None, r["candidates"].split(";")):
            if (c, r["post_id"]) in chosen:
                continue
            _write(pd.concat([pins, pd.DataFrame([{"cadre_id": c, "post_id": r["post_id"], "mode": "require"}])]), e / "pins.csv")
            strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
            tried += 1
            if strict.status == "optimal":
                _check(e, relaxed, strict, "H7")
                return
            assert tried < 10, "no feasible require pin found"
    pytest.fail("no candidate pair to pin")


def test_e9_disciplinary_binds(base, tmp_path):
    """Make disciplinary a cadre whose optimal move is a key role or a promotion."""
    d, relaxed = base
    case = cadrex.load_case(d)
    from cadrex.io.schema import KEY_ROLES

    mv = _moves(relaxed)
    hit = mv[[case.posts.at[p, "role"] in KEY_ROLES or case.posts.at[p, "grade"] > case.cadres.at[c, "grade"]
              for c, p in zip(mv["cadre_id"], mv["to_post"], strict=True)]].iloc[0]
    e = _copy(d, tmp_path)
    _set_cell(e, "cadres", "cadre_id", hit["cadre_id"], "exchange_kind", "处理性")
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "E9", pure=False)  # disciplinary also forces a move (H1) and lifts E5


def test_e10_strict_specialty_binds(base, tmp_path):
    d, relaxed = base
    case = cadrex.load_case(d)
    mv = _moves(relaxed)
    hit = mv[[bool(case.posts.at[p, "specialty"]) and case.posts.at[p, "specialty"] != case.cadres.at[c, "specialty"]
              and case.posts.at[p, "specialty"] not in case.cadres.at[c, "other_specialties"]
              for c, p in zip(mv["cadre_id"], mv["to_post"], strict=True)]].iloc[0]
    e = _copy(d, tmp_path)
    _set_cell(e, "posts", "post_id", hit["to_post"], "specialty_strict", "是")
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "E10")


def test_h3_must_fill_binds(base, tmp_path):
    """A post the optimum leaves empty becomes must-fill: the optimum fills every post someone can take, so the case
    turns infeasible and the diagnosis names H3 and that post."""
    d, relaxed = base
    e = _copy(d, tmp_path)
    posts = pd.read_csv(e / "posts.csv", dtype=str, keep_default_na=False)
    empty = relaxed.posts[relaxed.posts["holder_after"] == ""]["post_id"]
    if len(empty):
        p = empty.iloc[0]
    else:  # every post is filled: a vacancy becomes a 正部 post nobody in the case can take
        p = relaxed.posts[relaxed.posts["holder_before"] == ""]["post_id"].iloc[0]
        posts.loc[posts["post_id"] == p, "grade"] = "正部"
    posts.loc[posts["post_id"] == p, "must_fill"] = "是"
    _write(posts, e / "posts.csv")
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    if strict.status == "optimal":
        _check(e, relaxed, strict, "H3")
    else:
        assert strict.status == "infeasible"
        assert any(x["rule"] == "H3" and p in x["message"] for x in strict.diagnosis), strict.diagnosis


def test_h5_heads_binds(base, tmp_path):
    """Two head posts that both change holder in the optimum are put in one locality."""
    d, relaxed = base
    case = cadrex.load_case(d)
    ch = relaxed.posts[relaxed.posts["changed"].astype(str) == "True"]
    heads = [p for p in ch["post_id"] if case.posts.at[p, "role"] in ("party_secretary", "government_head")]
    ta, tb = case.posts.at[heads[0], "team_id"], case.posts.at[heads[1], "team_id"]
    e = _copy(d, tmp_path)
    teams = pd.read_csv(e / "teams.csv", dtype=str, keep_default_na=False)
    teams.loc[teams["team_id"] == tb, "locality_id"] = case.teams.at[ta, "locality_id"] or "LX"
    teams.loc[teams["team_id"] == ta, "locality_id"] = case.teams.at[ta, "locality_id"] or "LX"
    _write(teams, e / "teams.csv")
    strict = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(e, relaxed, strict, "H5")


def test_h6_structure_binds(base, tmp_path):
    """Without hard structure rules (relaxed) some team's hard rule gets worse; with them it does not."""
    d, strict = base
    e = _copy(d, tmp_path)
    (e / "structures").mkdir(exist_ok=True)
    from cadrex.io.tomlfiles import models_dir

    for m in ("city_party", "city_gov", "dept"):
        txt = (models_dir() / "structures" / f"{m}.toml").read_text(encoding="utf-8")
        txt = "\n".join(ln for ln in txt.splitlines() if not ln.startswith("hard"))
        (e / "structures" / f"{m}.toml").write_text(txt + "\nhard = []\n", encoding="utf-8")
    relaxed = cadrex.solve(cadrex.load_case(e), time_limit=60)
    _check(d, relaxed, strict, "H6")
