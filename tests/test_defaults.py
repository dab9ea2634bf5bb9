"""Defaults that serve (issue 17): a solve says at the start what it will do (method, time limit, gap goal), column
generation stops at its documented default gap (0.05 %) unless asked for a proof, progress carries the phase, and a
plan short of a proof ends with the command for a tighter one."""

from __future__ import annotations

import pytest
from conftest import SAMPLE

import cadrex
from cadrex.cli import main
from cadrex.jobs.solve import CG_GAP


@pytest.fixture(scope="module")
def case120(tmp_path_factory):
    d = tmp_path_factory.mktemp("c") / "g"
    assert main(["generate", "--cadres", "120", "--seed", "4", str(d)]) == 0
    return d


def test_default_gap_is_zero_for_the_full_model_and_cg_gap_for_column_generation(case120):
    case = cadrex.load_case(case120)
    full = cadrex.solve(case, method="full", time_limit=60)
    assert full.summary["gap_goal"] == 0.0 and full.status == "optimal"
    cg = cadrex.solve(case, method="cg", time_limit=60)
    assert CG_GAP == 0.0005 and cg.summary["gap_goal"] == CG_GAP
    assert cg.gap is not None and cg.gap <= CG_GAP and cg.objective >= full.objective * (1 - CG_GAP)
    proof = cadrex.solve(case, method="cg", time_limit=60, gap=0)
    assert proof.summary["gap_goal"] == 0 and proof.objective == full.objective


def test_progress_carries_phases_and_plain_callbacks_still_work(case120):
    case = cadrex.load_case(case120)
    phases, plain = [], []
    cadrex.solve(case, method="cg", time_limit=60, progress=lambda t, o, b, phase=None: phases.append(phase))
    assert "LP 1" in phases and "dive" in phases
    cadrex.solve(case, method="cg", time_limit=60, progress=lambda t, o, b: plain.append(b))
    assert plain


def test_the_cli_announces_the_plan_and_says_how_to_tighten(case120, tmp_path, capsys):
    assert main(["solve", str(case120), "--out", str(tmp_path / "o"), "--method", "cg"]) == 0
    said = capsys.readouterr().err
    assert "by column generation" in said and "gap goal 0.0500%" in said and "time limit 60 s" in said
    import json

    feasible = json.loads((tmp_path / "o" / "summary.json").read_text())["status"] == "feasible"  # this run's own
    assert ("--gap 0 --time-limit 120" in said) == feasible
    assert (f"--out {tmp_path / 'o'}-proof" in said) == feasible  # a new folder: the plan at hand stays
    assert main(["solve", str(SAMPLE), "--out", str(tmp_path / "s"), "--lang", "zh"]) == 0
    said = capsys.readouterr().err
    assert "完整模型" in said and "证明最优" in said


def test_no_plan_in_time_ends_with_the_command_for_more_time(monkeypatch, tmp_path, capsys):
    """A solve that finds no plan in its time limit (exit 4) says what to run instead, in either language. The
    backend is replaced by one that finds nothing, as a real solve does at national scale on a short limit."""
    from cadrex.solvers import BackendResult

    def nothing(model, options):
        return BackendResult("no_solution", None, None, None, 0.0)

    monkeypatch.setattr("cadrex.solvers.highs.solve", nothing)
    out = tmp_path / "p"
    code = main(["solve", str(SAMPLE), "--out", str(out), "--time-limit", "5"])
    err = capsys.readouterr().err
    assert code == 4, err
    assert f"cadrex solve {SAMPLE} --out {out} --time-limit 20" in err
    # the hint keeps a gap goal as a percentage, which --gap reads back (a bare 0.01 is refused as ambiguous)
    assert main(["solve", str(SAMPLE), "--out", str(out), "--time-limit", "5", "--gap", "1%"]) == 4
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    assert hint.endswith(f"cadrex solve {SAMPLE} --out {out} --gap 1% --time-limit 20"), hint
    assert main(hint.split("cadrex ", 1)[1].split()) == 4  # it runs (exit 4 again here, not a usage error)
    assert "--method cg" not in capsys.readouterr().err  # a small full model: no column-generation hint
    monkeypatch.setattr("cadrex.cli.plan.CG_HINT_PAIRS", 1)  # as if large: column generation is offered, and runs
    assert main(["solve", str(SAMPLE), "--out", str(out), "--time-limit", "5", "--gap", "1%", "--lang", "zh"]) == 4
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    assert hint.startswith("或改用列生成求解") and hint.endswith(f"cadrex solve {SAMPLE} --out {out} --gap 1% --method cg --lang zh")
    assert main(hint.split("cadrex ", 1)[1].split() + ["--quiet"]) == 0 and (out / "summary.json").exists()


def test_a_national_case_gets_the_column_generation_time_limit_unless_one_was_chosen(case120, tmp_path, monkeypatch):
    """``auto`` choosing column generation (here for any size) with no time limit chosen gets ``CG_TIME_LIMIT``
    (the shipped 60 s gave no plan at all at 5,000 in play). A limit chosen anywhere is kept, even when it is the
    shipped value: as an argument, in the policy overrides, in a policy file, in the case's own ``policy.toml``;
    and so is the policy's for the full model and for an explicit ``method="cg"``."""
    import shutil

    from cadrex.jobs import solve as solve_mod

    case = cadrex.load_case(case120)
    assert case.policy["time_limit"] == 60 and "time_limit" not in case.policy_keys
    monkeypatch.setattr(solve_mod, "CG_ABOVE", 0)
    r = cadrex.solve(case)
    assert r.summary["method"] == "cg" and r.summary["time_limit"] == solve_mod.CG_TIME_LIMIT == 600
    assert cadrex.solve(case, time_limit=30).summary["time_limit"] == 30
    assert cadrex.solve(case, policy={"time_limit": 60}).summary["time_limit"] == 60
    assert cadrex.solve(case.with_policy({"time_limit": 60})).summary["time_limit"] == 60
    pf = tmp_path / "sixty.toml"
    pf.write_text("time_limit = 60\n", encoding="utf-8")
    assert cadrex.solve(case, policy=str(pf)).summary["time_limit"] == 60
    assert cadrex.solve(cadrex.load_case(case120, policy_file=str(pf))).summary["time_limit"] == 60
    own = tmp_path / "own"
    shutil.copytree(case120, own)
    (own / "policy.toml").write_text("time_limit = 60\n", encoding="utf-8")
    assert cadrex.solve(cadrex.load_case(own)).summary["time_limit"] == 60
    assert cadrex.solve(case, method="cg").summary["time_limit"] == 60
    monkeypatch.setattr(solve_mod, "CG_ABOVE", 10**12)
    full = cadrex.solve(case)
    assert full.summary["method"] == "full" and full.summary["time_limit"] == 60


def test_a_log_line_first_clears_the_live_progress_line(capsys, monkeypatch):
    """On a terminal the progress line is rewritten in place; a log line written meanwhile first clears it, so the
    two never run together on one line, and the next progress call writes the line again."""
    import argparse
    import logging

    from cadrex.cli import common, plan

    common._setup_logging(argparse.Namespace(quiet=False, verbose=True, lang="en", log_file=None))
    p = plan._Progress("en")
    p.tty = True
    p(1.0, 100.0, 120.0, phase="dive")
    logging.getLogger("cadrex.test").info("a log line")
    p(2.0, 110.0, 120.0)
    p.done()
    err = capsys.readouterr().err
    before, after = err.split("a log line")
    live = before.split("\r")[1]  # the live line as written
    assert live.startswith("[") and before.endswith("\r" + " " * len(live) + "\r" + before.split("\r")[-1])
    assert before.split("\r")[-1].count(":") >= 2  # the log line (its timestamp) starts on the blanked line
    assert "110" in after and after.endswith("\n") and common.LiveLine.width == 0
    logging.getLogger().handlers.clear()


def test_a_log_gets_no_empty_progress_record(caplog):
    """Off a terminal the progress goes to the log; its first call, before any phase, plan or bound, is not logged
    (it read "solve 0s: plan none, bound none, gap n/a" at the top of every log), the next one with a plan is."""
    import logging

    from cadrex.cli import plan

    p = plan._Progress("en")
    p.tty = False
    with caplog.at_level(logging.INFO, logger="cadrex"):
        p(0.0, None, None)
        assert not [r for r in caplog.records if "solve" in r.getMessage()]
        p(0.5, 100.0, 120.0)
    lines = [r.getMessage() for r in caplog.records if "solve" in r.getMessage()]
    assert len(lines) == 1 and "100" in lines[0] and "120" in lines[0]


def test_a_log_gets_one_progress_record_for_the_lp_rounds(caplog):
    """Off a terminal each LP round has its own "CG round" log line: the progress adds one record when the LP phase
    starts, not one per round, and one at each later phase (the dive, the closure MIP)."""
    import logging

    from cadrex.cli import plan

    p = plan._Progress("en")
    p.tty = False
    with caplog.at_level(logging.INFO, logger="cadrex"):
        for k in range(1, 6):
            p(0.0, None, 1000.0 - k, phase=f"LP {k}")
        p(0.0, 900.0, 990.0, phase="dive")
        p(0.0, 950.0, 990.0, phase="closure MIP")
    lines = [r.getMessage() for r in caplog.records if "solve" in r.getMessage()]
    assert [ln.split("]")[0] for ln in lines] == ["[bounding, LP round 1", "[seeking a first plan from the LP",
                                                  "[proving the plan (closure MIP)"], lines


def test_quiet_with_a_log_file_keeps_the_progress_in_the_file(case120, tmp_path, capsys):
    """``--quiet --log-file F``: the terminal gets the result line only, the file the full log with the progress
    records too (a newcomer found no LP round or closure MIP record there)."""
    log = tmp_path / "run.log"
    assert main(["solve", str(case120), "--out", str(tmp_path / "o"), "--method", "cg", "--quiet",
                 "--log-file", str(log)]) == 0
    err = capsys.readouterr().err
    text = log.read_text(encoding="utf-8")
    assert "[bounding, LP round 1]" in text and "LP round" not in err and "CG round 1" in text


def test_the_headline_says_whether_a_feasible_plan_met_its_gap_goal(case120, tmp_path, capsys):
    """A plan stopped at its gap goal and one cut short both have SPEC's status ``feasible``: the result line says
    which (a newcomer read "feasible:" as "not good enough"), in both languages."""
    import json

    from cadrex.cli.plan import _status_word

    assert main(["solve", str(case120), "--out", str(tmp_path / "o"), "--method", "cg", "--gap", "1%"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    r = json.loads((tmp_path / "o" / "summary.json").read_text())  # this run's own result, not another solve's
    assert r["status"] == "optimal" or r["gap"] <= 0.01
    assert line.startswith("optimal:" if r["status"] == "optimal" else "feasible, within the gap goal 1.0000%:"), line
    short = {"gap": 0.002, "gap_goal": 0.0005}
    assert _status_word("feasible", short, "en") == "feasible, gap goal 0.0500% not reached"
    assert _status_word("feasible", short, "zh") == "可行，未达到差距目标 0.0500%"
    assert _status_word("feasible", {"gap": 0.0004, "gap_goal": 0.0005}, "zh") == "可行，已达到差距目标 0.0500%"
    assert _status_word("feasible", {"gap": 0.01, "gap_goal": 0.0}, "en") == "feasible, optimality not proven"
    assert _status_word("feasible", {"gap": None, "gap_goal": 0.0005}, "en") == "feasible, optimality not proven"
    assert _status_word("optimal", short, "zh") == "最优"


def test_a_suggested_command_keeps_the_options_as_a_shell_reads_them():
    """A hint's command is pasted into a shell: paths with spaces are quoted, numbers keep every digit, a seed of 0
    is kept, and ``r1/`` does not become ``r1/-proof`` (a folder inside the plan at hand)."""
    import argparse
    import shlex

    from cadrex.cli.plan import _same_options, _sh_out

    ns = argparse.Namespace(policy="my policy.toml", backend=None, method="cg", seed=0, num_workers=None,
                            time_limit=1234567.0, closure_cap=None, gap=None)
    opts = _same_options(ns, " --gap 0.0005", closure=True)
    assert opts == " --policy 'my policy.toml' --method cg --seed 0 --time-limit 1234567 --gap 0.0005"
    assert shlex.split(opts)[1] == "my policy.toml"
    assert _sh_out("plans/r1/") + "-proof" == "plans/r1-proof"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_result_line_counts_the_cadres_left_without_a_post(tiny_path, tmp_path, capsys, lang):
    """Cadres in play left without a post were only in summary.json and assignments.csv: the result line says how
    many (a retiree without a post, ineligible everywhere by E6, is one of them), and says nothing when none are."""
    import json
    import shutil

    import pandas as pd

    case = tmp_path / "case"
    shutil.copytree(tiny_path, case)
    with open(case / "cadres.csv", "a", encoding="utf-8") as fh:  # E6: at 63 no post is open to him
        fh.write("C000099,钱老,男,1963-01-01,,汉族,cpc,本科,discipline,,social,正厅,6,0,3,5,0,SD,SD,SD,,是\n")
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--lang", lang]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    a = pd.read_csv(tmp_path / "o" / "assignments.csv", dtype=str, keep_default_na=False)
    n = int((a["action"] == "unassigned").sum())
    assert n >= 1 and a.loc[a["cadre_id"] == "C000099", "action"].item() == "unassigned"
    # … and its reason says no rule allowed it any post (not "no vacancy worth filling"), naming the command to see why
    why = a.loc[a["cadre_id"] == "C000099", "reasons"].item()
    assert "E1–E10" in why and "--cadre C000099" in why, why
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["counts"]["unassigned"] == n
    said = f", {n} in play left without a post" if lang == "en" else f"，交流人选中 {n} 人未安排职务"
    assert said in line, line
    assert main(["solve", str(SAMPLE), "--out", str(tmp_path / "s"), "--lang", lang]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    none = not (pd.read_csv(tmp_path / "s" / "assignments.csv", dtype=str)["action"] == "unassigned").any()
    assert none == ("without a post" not in line and "未安排职务" not in line), line
    # posts the plan leaves empty (held before, empty after) are counted and said too (a newcomer found one only in
    # plan.xlsx); the sample's plan leaves one
    p = pd.read_csv(tmp_path / "s" / "posts.csv", dtype=str, keep_default_na=False)
    left = int(((p["holder_before"] != "") & (p["holder_after"] == "")).sum())
    assert left >= 1 and json.loads((tmp_path / "s" / "summary.json").read_text())["counts"]["left_vacant"] == left
    assert (f"left vacant by a holder moving out: {left} (" if lang == "en" else f"，{left} 个职位因原任交流调出而空缺") in line, line
    bound = json.loads((tmp_path / "s" / "summary.json").read_text())["best_bound"]  # an integral bound as one: 4659
    assert (f"bound {int(bound)}，" if lang == "zh" else f"bound {int(bound)},") in line.replace("上界", "bound"), line


def test_gap_takes_a_fraction_or_a_percentage_as_the_outputs_show_it(tmp_path, capsys):
    """``--gap 0.5%`` is ``--gap 0.005`` (every output shows the gap as a percentage); a gap of 1 or more, or text,
    is refused (exit 2) with both forms named, in both languages, and nothing is written; so is a bare number from 0.01
    up (``--gap 0.5``: 50 % or half a percent?), with both readings offered."""
    import json

    from cadrex.cli.common import _fraction

    assert _fraction("0.05%") == pytest.approx(0.0005) and _fraction(" 0 % ") == 0 and _fraction("0.0005") == 0.0005
    assert main(["solve", str(SAMPLE), "--out", str(tmp_path / "o"), "--gap", "0.5%", "--quiet"]) == 0
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["gap_goal"] == pytest.approx(0.005)
    for bad in ("100", "100%", "x%", "%"):
        with pytest.raises(SystemExit) as ex:
            main(["solve", str(SAMPLE), "--out", str(tmp_path / "b"), "--gap", bad])
        err = capsys.readouterr().err
        assert ex.value.code == 2 and "give a fraction (0.0005) or a percentage (0.05%)" in err and "did you mean" not in err
    with pytest.raises(SystemExit) as ex:  # a percentage without its sign: the hint names it
        main(["solve", str(SAMPLE), "--out", str(tmp_path / "b"), "--gap", "5"])
    assert ex.value.code == 2 and "did you mean 5% (a percentage)?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["solve", str(SAMPLE), "--out", str(tmp_path / "b"), "--gap", "5", "--lang", "zh"])
    zh = capsys.readouterr().err
    assert "是否应为 5%（百分数）？" in zh and not (tmp_path / "b").exists()
    for bare, frac, pct in (("0.5", "50%", "0.5%"), ("0.01", "1%", "0.01%")):  # 50 % or half a percent? refused
        with pytest.raises(SystemExit) as ex:
            main(["solve", str(SAMPLE), "--out", str(tmp_path / "b"), "--gap", bare])
        err = capsys.readouterr().err
        assert ex.value.code == 2 and f"'{bare}' is ambiguous: as a fraction it is {frac}" in err and f"({frac} or {pct})" in err
    with pytest.raises(SystemExit):
        main(["robustness", str(SAMPLE), str(tmp_path / "p"), "--out", str(tmp_path / "b"), "--gap", "0.5", "--lang", "zh"])
    assert "'0.5' 有歧义：按小数理解为 50%" in capsys.readouterr().err and not (tmp_path / "b").exists()
    assert _fraction("0.0099") == 0.0099 and _fraction("1%") == 0.01 and _fraction("0.05％") == pytest.approx(0.0005)  # full-width ％


def test_the_closing_line_says_what_the_gap_means_in_objective_points(tmp_path, capsys):
    """A gap of 0.0765 % means little by itself: the closing line also says how far below the best possible objective
    the plan may be (bound − objective, from this run's summary.json), in both languages; with no gap, nothing."""
    import json

    from cadrex.jobs.generate import generate_case

    generate_case(str(tmp_path / "g"), 300, 1)  # seed 1: a gap of ~0.16 % left at the 1 % goal
    for lang, words in (("en", "at most {n} below the best possible objective"), ("zh", "即比最优目标值至多低 {n}")):
        out = tmp_path / f"o{lang}"
        assert main(["solve", str(tmp_path / "g"), "--out", str(out), "--method", "cg", "--gap", "1%", "--lang", lang]) == 0
        line = capsys.readouterr().out.strip().splitlines()[-1]
        s = json.loads((out / "summary.json").read_text())
        assert s["gap"] > 0, "this case was picked to end with a gap"
        assert words.format(n=int(s["best_bound"] - s["objective"])) in line, line
    assert main(["solve", str(SAMPLE), "--out", str(tmp_path / "s")]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("optimal:") and "gap 0.0000%;" in line and "below the best possible" not in line


def test_the_console_shows_the_same_lines_in_both_languages_and_details_only_when_asked(case120, tmp_path, capsys):
    """Without ``--verbose`` the console has the lines written for the user (what the run will do, progress, result)
    and warnings, the same ones in en and zh (a newcomer found a Chinese solve quieter than an English one); the
    engine's English detail lines ("CG round …") come with ``--verbose`` and are always in ``--log-file``."""
    import logging

    runs = {}
    for lang, extra in (("en", []), ("zh", []), ("en", ["--verbose"])):
        log = tmp_path / f"{lang}{len(extra)}.log"
        argv = ["solve", str(case120), "--out", str(tmp_path / f"o{lang}{len(extra)}"), "--method", "cg", "--lang", lang,
                "--log-file", str(log), *extra]
        assert main(argv) == 0
        err = capsys.readouterr().err
        runs[lang, bool(extra)] = [ln.split(" ", 2)[1] for ln in err.splitlines() if ln[:2].isdigit()]  # levels
        assert "CG round 1" in log.read_text(encoding="utf-8")
        if extra:
            assert "CG round 1" in err
        else:
            assert not [w for w in ("CG round", "LP dive", "price-and-branch", " MB)") if w in err], err
        logging.getLogger().handlers.clear()
    zh_level = {"信息": "INFO", "警告": "WARNING", "错误": "ERROR"}  # the console names levels in the user's language
    assert [zh_level[x] for x in runs["zh", False]] == runs["en", False] and len(runs["en", False]) >= 2
    assert len(runs["en", True]) > len(runs["en", False])


def test_a_busy_machine_gets_a_hint_and_the_same_plan(case120, monkeypatch, caplog):
    """Other work on the cores makes both-core column generation several times slower (a newcomer: 162 s instead of
    57 s): the run says so and names --num-workers 1, in both languages. A hint only: the plan and bound are the
    ones of an idle machine, and --num-workers 1 or an idle machine gets no hint."""
    import logging
    import os

    case = cadrex.load_case(case120)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    got = {}
    for load, workers in ((1.9, None), (0.5, None), (1.9, 1), (0.95, None)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="cadrex"):
            r = cadrex.solve(case, method="cg", num_workers=workers)
        hints = [x for x in caplog.records if "--num-workers 1" in str(x.msg)]
        got[load, workers] = (r.objective, r.best_bound)
        if (load, workers) == (0.95, None):  # one busy process on 2 cores: a hint too
            assert len(hints) == 1
        elif (load, workers) == (1.9, None):
            assert len(hints) == 1 and "load 1.9 on 2 cores" in str(hints[0].msg)
            assert getattr(hints[0], "user", False)  # a line for the user: shown in zh too, not only with --verbose
        else:
            assert not hints
    assert got[1.9, None] == got[0.5, None] == got[0.95, None]


def test_a_jobs_inner_solves_say_nothing_only_the_job_announces(tiny_path, tmp_path, monkeypatch, capsys):
    """A re-plan with --frontier 3 solves four times but says once what it will do; robustness's samples (column
    generation on a busy machine, in this process: --workers 0) give no start line and no busy hint each: the load is
    the job's; a multi-year plan says once what it will do, not once per year's solve."""
    import os

    tiny_replan = tiny_path.parent / "tiny-replan"
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.9, 1.9, 1.9))
    assert main(["replan", str(tiny_path), "--plan", str(tiny_replan / "baseline"), "--events",
                 str(tiny_replan / "events.csv"), "--frontier", "3", "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert err.count("solving 12 cadres") == 1, err
    assert len((tmp_path / "r" / "frontier.csv").read_text().splitlines()) == 4  # header and three solves
    assert main(["robustness", str(tiny_path), "--plan", str(tiny_replan / "baseline"), "--samples", "6",
                 "--decline-rate", "0.5", "--workers", "0", "--out", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert "solving " not in err and "--num-workers 1" not in err and "robustness" in err, err
    main(["horizon", str(tiny_path), "--years", "3", "--out", str(tmp_path / "h")])  # its yearly solves: one line
    err = capsys.readouterr().err
    assert err.count("planning 3 years") == 1 and "solving " not in err, err
    assert main(["solve", str(tiny_path), "--method", "cg", "--out", str(tmp_path / "s")]) == 0
    assert capsys.readouterr().err.count("--num-workers 1") == 1  # the same hint where a solve is the job
