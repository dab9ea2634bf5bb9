"""SPEC §12 multi-year plan: hand-made cases where the myopic plan is provably worse (a 10-year deadline in round 2
with H5, a holder retiring after round 1), a brute force over every pair of round plans (verifier and the §12
derivation only) on generated cases, on every backend; every round's folder passes ``cadrex verify``; bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SAMPLE, said_in_zh
from test_solve import feasible_plans

import cadrex
from cadrex.analysis.verify import evaluate
from cadrex.cli import main
from cadrex.io.advance import mark_deadlines, next_round
from cadrex.jobs.generate import generate_frames, write_frames
from cadrex.jobs.horizon import horizon

BACKENDS = ["highs", "cpsat", "pyomo"]
CAD_COLS = ("cadre_id,name,gender,birth_date,education,specialty,sectors,grade,years_in_grade,years_in_post,"
            "years_in_province,province_id,native_province,exchange_kind,movable")


def mini_case(tmp, posts: list[str], cadres: list[str], prefs: list[str] = (), policy: str = "") -> cadrex.Case:
    """Two provinces (A, B); teams TA (party) and TG (government) of locality L1 in A, TB (hardship 3) and TC in B; no
    structure rules; no flow penalty. ``posts``/``cadres``: CSV lines."""
    d = tmp / "case"
    (d / "structures").mkdir(parents=True)
    (d / "structures" / "none.toml").write_text("[rules]\n", encoding="utf-8")
    (d / "case.toml").write_text("as_of = 2026-06-30\n", encoding="utf-8")
    (d / "provinces.csv").write_text("province_id,name,lat,lon\nA,甲省,30,110\nB,乙省,40,120\n", encoding="utf-8")
    (d / "teams.csv").write_text("team_id,name,province_id,locality_id,sector,structure_model,hardship\n"
                                 "TA,甲市委,A,L1,party,none,0\nTG,甲市政府,A,L1,government,none,0\nTB,乙州,B,L2,party,none,3\n"
                                 "TC,乙市,B,L3,party,none,0\n",
                                 encoding="utf-8")
    (d / "posts.csv").write_text("post_id,team_id,title,grade,role,specialty,holder_id\n" + "\n".join(posts) + "\n", encoding="utf-8")
    (d / "cadres.csv").write_text(CAD_COLS + "\n" + "\n".join(cadres) + "\n", encoding="utf-8")
    if prefs:
        (d / "preferences.csv").write_text("side,cadre_id,post_id,rank\n" + "\n".join(prefs) + "\n", encoding="utf-8")
    (d / "policy.toml").write_text("[weights]\nflow = 0\n" + policy, encoding="utf-8")
    return cadrex.load_case(d)


def h5_deadline_case(tmp):
    """The party secretary X and the government head Z of locality L1 both reach 10 years in A in round 2: both must
    move then, but H5 lets only one of the two posts change holder in a round. Moving early costs (move cost, the
    key post's fill), so the myopic plan keeps both in round 1 and has no round 2."""
    posts = ["PS,TA,书记,bureau,party_secretary,,X", "GH,TG,市长,bureau,government_head,,Z",
             "V1,TC,副书记,bureau,member,,", "V2,TC,常委,bureau,member,,"]
    cadres = ["X,甲,M,1975-01-01,master,economics,party,bureau,5,5,9,A,A,,false",
              "Z,乙,M,1976-01-01,master,economics,party,bureau,5,5,9,A,A,,false"]
    return mini_case(tmp, posts, cadres)


def retirement_case(tmp):
    """R holds the key post PR in hardship team TB and retires after round 1 (60 in round 2). M, without a post, can
    take the weak vacancy V1 now (worth it alone) or PR next year (worth more than V1 for both years); once placed,
    E5 (任满一届) keeps M in V1. The myopic plan takes V1."""
    posts = ["PR,TB,州长,bureau,government_head,economics,R", "V1,TC,秘书长,bureau,member,law,"]
    cadres = ["R,丙,M,1967-01-01,master,economics,party,bureau,9,4,4,B,B,,false",
              "M,丁,F,1981-01-01,master,economics,party,bureau,5,0,2,A,A,,true"]
    return mini_case(tmp, posts, cadres, ["cadre,M,PR,1", "post,M,PR,1"])


def test_h1_deadline_in_round_2_needs_a_joint_plan(tmp_path):
    case = h5_deadline_case(tmp_path)
    for backend in BACKENDS:
        h = horizon(case, 2, backend=backend, time_limit=30)
        assert h.myopic_total is None, "round by round, round 2 has two H1 movers and H5 allows one"
        assert h.status == "optimal" and h.summary["violations"] == []
        moves = [set(r.assignments.loc[r.assignments["action"] == "move", "cadre_id"]) for r in h.rounds]
        assert len(moves[0]) == 1 and len(moves[1]) == 1 and moves[0] | moves[1] == {"X", "Z"}, (backend, moves)
        assert h.summary["deadlines_met"][1] == 1


def test_retirement_after_round_1_joint_beats_myopic(tmp_path):
    case = retirement_case(tmp_path)
    for backend in BACKENDS:
        h = horizon(case, 2, backend=backend, time_limit=30)
        assert h.status == "optimal"
        assert h.myopic_total is not None and h.total > h.myopic_total, (h.total, h.myopic_total)
        a1, a2 = (r.assignments.set_index("cadre_id") for r in h.rounds)
        assert a1.at["M", "action"] == "unassigned" and a2.at["M", "to_post"] == "PR"
        assert list(h.timeline.loc[h.timeline["action"] == "retire", "cadre_id"]) == ["R"]
    assert h.total == brute_horizon(case, 2)


def brute_horizon(case, years: int) -> int | None:
    """Best Σ of §6 objectives over every sequence of round plans, each enumerated and scored by the independent
    verifier on its case derived by the §12 rules (``next_round``); None when every sequence breaks a rule."""
    pol = case.policy

    def best(c, t: int) -> int | None:
        out = None
        for plan, obj in feasible_plans(c):
            rest = 0 if t == years else best(next_round(c, plan, years, t, pol), t + 1)
            if rest is not None and (out is None or obj + rest > out):
                out = obj + rest
        return out

    return best(mark_deadlines(case, years, 1, pol), 1)


def dynamic_case(tmp, seed: int):
    """A generated case cut to 2 cadres in play, with what makes round 2 differ: one of them 9 years in its
    province (a deadline in round 2), the other 2 years in post (E5 opens in round 2), a fixed holder who retires
    after round 1 (a vacancy in round 2)."""
    rng = np.random.default_rng(seed)
    f = generate_frames(6, seed)
    cad, posts = f["cadres"], f["posts"]
    inplay = list(cad.index[cad["movable"] == "是"])
    keep = inplay[:2]
    drop = [c for c in cad.index if c not in keep]  # everyone else fixed in every round (no deadline inside 2 years)
    cad.loc[drop, "movable"] = "否"
    cad.loc[drop, "exchange_kind"] = ""
    cad.loc[drop, "years_in_province"] = np.minimum(cad.loc[drop, "years_in_province"], 8)
    cad.loc[keep, "exchange_kind"] = ""
    cad.loc[keep[0], ["years_in_province", "years_in_post"]] = [9, 4]
    cad.loc[keep[1], ["years_in_post", "years_in_province"]] = [2, 3]
    held = set(posts["holder_id"]) - {""}
    fixed_holders = [c for c in cad.index[cad["cadre_id"].isin(held)] if c not in keep]
    if fixed_holders:
        cad.loc[fixed_holders[int(rng.integers(len(fixed_holders)))], "birth_date"] = "1966-12-01"
    d = tmp / f"dyn{seed}"
    write_frames(f, str(d), "as_of = 2026-06-30\n")
    (d / "policy.toml").write_text(f'scope = "{["any", "cross_province"][seed % 2]}"\n', encoding="utf-8")
    return cadrex.load_case(d)


@pytest.mark.parametrize("seed", [1, 2, 4, 8, 11, 23, 31, 47, 59, 77])
def test_horizon_equals_brute_force(tmp_path, seed):
    case = dynamic_case(tmp_path, seed)
    want = brute_horizon(case, 2)
    for backend in BACKENDS:
        h = horizon(case, 2, backend=backend, time_limit=30)
        if want is None:
            assert h.status == "infeasible", backend
            continue
        assert h.status == "optimal" and h.summary["violations"] == [], (backend, h.summary)
        assert h.total == want, (backend, h.total, want)
        assert h.myopic_total is None or h.myopic_total <= h.total
        for r, c in zip(h.rounds, h.cases, strict=True):  # each round re-checked on its own derived case
            plan = {a: (p or None) for a, p in zip(r.assignments["cadre_id"], r.assignments["to_post"], strict=True)}
            assert evaluate(c, plan).violations == []


def test_cli_horizon_writes_rounds_that_verify(tmp_path, capsys):
    out = tmp_path / "hz"
    assert main(["horizon", str(SAMPLE), "--years", "3", "--out", str(out), "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["years"] == 3 and len(s["objectives"]) == 3 and s["total"] == sum(s["objectives"])
    # the moves per year in words, not a Python list
    line = capsys.readouterr().out
    assert "moves per year " + ", ".join(f"{n} in year {k + 1}" for k, n in enumerate(s["moves"])) + ";" in line, line
    assert s["myopic_total"] is not None and s["total"] >= s["myopic_total"]
    assert s["best_bound"] is not None and s["best_bound"] >= s["total"]
    for t in (1, 2, 3):
        assert main(["verify", str(out / f"year-{t}" / "case"), str(out / f"year-{t}")]) == 0
    head = (out / "timeline.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert head == "cadre_id,name,year,action,post_id,province_id"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "myopic" in html and "状态 / status: <b>最优 / optimal</b>" in html
    # year 2's case is round 1's plan applied and one year passed
    c2 = cadrex.load_case(out / "year-2" / "case")
    assert str(c2.as_of) == "2027-06-30"


@pytest.mark.parametrize("years", ["0", "11", "x"])
def test_bad_years_exit_2(tmp_path, capsys, years):
    with pytest.raises(SystemExit) as exc:
        main(["horizon", str(SAMPLE), "--years", years, "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "--years" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError):
        horizon(cadrex.load_case(SAMPLE), int(years) if years.isdigit() else 0)


def test_negative_cap_exit_2_with_location(tmp_path, capsys):
    pol = tmp_path / "p.toml"
    pol.write_text("max_moves = -1\n", encoding="utf-8")
    assert main(["horizon", str(SAMPLE), "--years", "2", "--out", str(tmp_path / "o"), "--policy", str(pol)]) == 2
    err = capsys.readouterr().err
    assert f"{pol}:1:" in err and "max_moves" in err


def test_infeasible_round_exits_3_naming_it(tmp_path, capsys):
    assert main(["horizon", str(SAMPLE), "--years", "2", "--out", str(tmp_path / "o"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "year 2" in err
    assert "第2年" in said_in_zh(main, ["horizon", str(SAMPLE), "--years", "2", "--out", str(tmp_path / "o"), "--quiet"], 3,
                                capsys)
    d = json.loads((tmp_path / "o" / "diagnosis.json").read_text(encoding="utf-8"))
    assert d and all(x["year"] == 2 for x in d)
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")  # the status in words, no Python None
    assert "无可行方案 / infeasible" in html and "None" not in html and "上界 / bound: —" in html


@pytest.mark.parametrize("backend", BACKENDS)
def test_h8_caps_hold_in_every_round(backend):
    """max_moves 8 on the sample: round by round it runs out of moves in a later round; the joint plan spreads them."""
    h = horizon(cadrex.load_case(SAMPLE), 3, policy={"max_moves": 8}, backend=backend, time_limit=120)
    assert h.status == "optimal" and max(h.summary["moves"]) <= 8 and h.myopic_total is None
    free = horizon(cadrex.load_case(SAMPLE), 3, backend=backend, time_limit=120)
    assert max(free.summary["moves"]) > 8 and free.total >= h.total


@pytest.mark.parametrize("seed", [1, 8, 23])
def test_priced_joint_solve_equals_the_full_one(tmp_path, monkeypatch, seed):
    """The column-generation path of large joint models (forced here on small ones): same optimum as the full model
    and the brute force, a bound that is valid (never below the plan) and the sample's 3 years."""
    import cadrex.jobs.horizon as hz

    case = dynamic_case(tmp_path, seed)
    want = brute_horizon(case, 2)
    monkeypatch.setattr(hz, "PRICE_ABOVE", 0)
    h = hz.horizon(case, 2, time_limit=60)
    assert h.summary["method"] == "priced"
    if want is None:
        assert h.status in ("infeasible", "no_solution")
    else:
        assert h.status == "optimal" and h.total == want
    monkeypatch.setattr(hz, "PRICE_ABOVE", 10**9)
    ref = hz.horizon(cadrex.load_case(SAMPLE), 3, time_limit=60)
    monkeypatch.setattr(hz, "PRICE_ABOVE", 0)
    s = hz.horizon(cadrex.load_case(SAMPLE), 3, time_limit=60)
    assert ref.summary["method"] == "full" and s.summary["method"] == "priced"
    assert s.status == ref.status == "optimal" and s.total == ref.total and s.best_bound >= s.total


@pytest.mark.parametrize(("n", "seed"), [(60, 2), (80, 3)])
def test_priced_joint_solve_closes_its_master_with_a_closure_mip(tmp_path, monkeypatch, n, seed):
    """When the restricted MIP's master is not closed (columns outside it could still improve on its plan), the
    priced joint solve adds those columns and solves once more, so its bound holds for the whole model: the full
    model's optimum, proven. Without the closure MIP (cap 0) the bound stays the Lagrangian one, above the plan."""
    import cadrex.jobs.horizon as hz
    import cadrex.solvers.cg.explicit as ex
    from cadrex.jobs.generate import generate_case

    generate_case(str(tmp_path / "c"), n, seed)
    case = cadrex.load_case(str(tmp_path / "c"))
    monkeypatch.setattr(hz, "PRICE_ABOVE", 10**9)
    full = hz.horizon(case, 2, time_limit=60)
    monkeypatch.setattr(hz, "PRICE_ABOVE", 0)
    h = hz.horizon(case, 2, time_limit=60)
    cg = h.summary["column_generation"]
    assert full.status == h.status == "optimal" and h.total == full.total and h.best_bound == h.total
    assert cg["closed"] and cg["closure_columns"] > 0
    monkeypatch.setattr(ex, "CLOSURE_CAP", 0)
    short = hz.horizon(case, 2, time_limit=60)
    assert not short.summary["column_generation"]["closed"] and short.best_bound > short.total


def test_a_multi_year_plan_short_of_its_gap_goal_says_what_to_run(tmp_path, monkeypatch, capsys):
    """A joint plan short of its gap goal says so after the result line (a newcomer's stopped at 19 s of 120,
    silent): with a command for a tighter proof that runs when more time may help (here the closure MIP gives no
    bound, as when cut by time), and without one when its closure was over the cap (more time cannot lower a
    Lagrangian bound)."""
    import cadrex.jobs.horizon as hz
    import cadrex.solvers.cg.explicit as ex
    from cadrex.jobs.generate import generate_case

    generate_case(str(tmp_path / "c"), 60, 2)
    monkeypatch.setattr(hz, "PRICE_ABOVE", 0)
    monkeypatch.setattr(ex, "_closure_mip", lambda model, inR, more, x, L, *a: (x, L, False))
    out = tmp_path / "h"
    assert main(["horizon", str(tmp_path / "c"), "--years", "2", "--out", str(out), "--time-limit", "30", "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "feasible" and s["gap"] > 0 and s["column_generation"]["closed"] is False
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    want = f"cadrex horizon {tmp_path / 'c'} --years 2 --out {out}-proof --time-limit 60"
    assert hint.startswith("the multi-year plan is within ") and hint.endswith(want), hint
    assert main(hint.split("cadrex ", 1)[1].split() + ["--quiet"]) == 0 and (tmp_path / "h-proof" / "summary.json").exists()
    capsys.readouterr()
    monkeypatch.setattr(ex, "CLOSURE_CAP", 0)  # the closure over its cap: no command, the reason instead
    assert main(["horizon", str(tmp_path / "c"), "--years", "2", "--out", str(tmp_path / "u"), "--quiet", "--lang", "zh"]) == 0
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said.startswith("多年度方案与最优值的差距不超过") and "延长时限也不会降低该上界" in said and "cadrex" not in said, said


def test_quiet_still_writes_the_full_log_file(tmp_path, capsys):
    """--quiet silences the terminal, not --log-file (issue 16): the file gets the info lines of the run."""
    log = tmp_path / "run.log"
    assert main(["horizon", str(SAMPLE), "--years", "1", "--out", str(tmp_path / "o"), "--quiet", "--log-file", str(log)]) == 0
    text = log.read_text(encoding="utf-8")
    assert " INFO " in text and "horizon model" in text
    assert " INFO " not in capsys.readouterr().err


def test_every_option_of_every_command_has_a_help_line():
    from cadrex.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = [f"{name} {a.dest}" for name, p in sub.choices.items() for a in p._actions
               if not a.help and a.dest != "help"]
    assert not missing, missing
