"""cadrex explain: every excluding rule (cross-checked by the independent verifier), forced cost equal to the
optimum with a require pin minus the optimum, the short list, and the CLI in text and JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import cadrex
from cadrex.analysis.explain import explain
from cadrex.analysis.verify import evaluate
from cadrex.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "p"
    res = cadrex.solve(cadrex.load_case(SAMPLE))
    res.write(out)
    return res, out


def test_every_excluding_rule_listed(solved):
    res, out = solved
    case = cadrex.load_case(SAMPLE)
    d = explain(case, post="P000054", plan_dir=str(out), top=0)
    multi = [r for r in d["ineligible"] if len(r["rules"]) >= 2 and not r.get("stay")]
    assert multi, "the sample should have a pair excluded by several rules"
    plan = {r["cadre_id"]: (r["to_post"] or None) for r in res.assignments.to_dict("records")}
    for r in multi:
        # the independent verifier, shown the same move, must name exactly the same E rules
        moved = dict(plan) | {r["cadre"]: "P000054"}
        holder = next((c for c, p in plan.items() if p == "P000054"), None)
        if holder and holder != r["cadre"]:
            moved[holder] = None
        got = sorted({v.split(":")[0] for v in evaluate(case, moved).violations if v.startswith("E")})
        assert got == sorted(r["rules"]), (r, got)


def test_forced_cost_equals_reoptimisation_with_pin(solved, tmp_path):
    res, out = solved
    case = cadrex.load_case(SAMPLE)
    d = explain(case, cadre="C000004", plan_dir=str(out), top=5, time_cap=20)
    exact = [r for r in d["eligible"] if r.get("forced") and r["forced"]["exact"]]
    assert exact
    r = exact[0]
    c2 = tmp_path / "c"
    shutil.copytree(SAMPLE, c2)
    with open(c2 / "pins.csv", "a", encoding="utf-8") as fh:
        fh.write(f"C000004,{r['post']},require\n")
    pinned = cadrex.solve(cadrex.load_case(c2))
    assert pinned.status == "optimal"
    assert pinned.objective - res.objective == r["forced"]["low"] == r["forced"]["high"]


def test_short_list_matches_posts_csv(solved):
    res, out = solved
    d = explain(cadrex.load_case(SAMPLE), post="P000054", plan_dir=str(out), top=0)
    row = res.posts[res.posts["post_id"] == "P000054"].iloc[0]
    assert row["candidates"].split(";") == d["short_list"][:3]


def test_cli_text_and_json(solved, capsys):
    _, out = solved
    assert main(["explain", str(SAMPLE), "--plan", str(out), "--cadre", "C000004", "--top", "1"]) == 0
    text = capsys.readouterr().out
    assert "chosen:" in text and "ineligible (every rule that excludes it):" in text and "E9 disciplinary" in text
    assert main(["explain", str(SAMPLE), "--plan", str(out), "--post", "P000054", "--json", "--top", "0"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["post"] == "P000054" and len(d["short_list"]) >= 3


def test_explain_says_when_the_cadre_must_move(solved, capsys):
    """The header of a cadre H1 keeps from staying says so (the newcomer read the rest without knowing), zh too;
    a cadre who may stay gets no such line."""
    from cadrex.rules.context import Context

    _, out = solved
    case = cadrex.load_case(SAMPLE)
    ctx = Context(case)
    ids = list(case.cadres.index)
    must = next(ids[i] for i in ctx.I if ctx.c_must[i])
    free = next(ids[i] for i in ctx.I if not ctx.c_must[i])
    for cid, lang, want in ((must, "en", True), (free, "en", False), (must, "zh", True)):
        assert main(["--lang", lang, "explain", str(SAMPLE), "--plan", str(out), "--cadre", cid, "--top", "0"]) == 0
        head = capsys.readouterr().out.splitlines()[:3]
        assert any(("H1 must move" if lang == "en" else "H1 必须交流") in h for h in head) is want, head


def test_explain_names_posts_and_cadres_and_takes_the_plan_as_verify_does(solved, capsys, tmp_path):
    """Every pair line shows the other side by name as well as id (a post's title and team name, a cadre's name;
    the newcomer saw ids only), in either language; ``explain CASE PLAN`` works as ``verify CASE PLAN`` does, and two
    different plan folders are refused (exit 2)."""
    _, out = solved
    case = cadrex.load_case(SAMPLE)
    assert main(["explain", str(SAMPLE), str(out), "--cadre", "C000004", "--top", "0"]) == 0
    head = capsys.readouterr().out.splitlines()[1]  # the header names the post held today and the plan's
    held = case.posts.index[case.posts["holder_id"] == "C000004"][0]
    plan = pd.read_csv(out / "assignments.csv", dtype=str).set_index("cadre_id").at["C000004", "to_post"]
    assert head.startswith(f"  current post: {held} ") and head.endswith(f"in the plan: {plan}"), head
    assert main(["explain", str(SAMPLE), str(out), "--cadre", "C000001", "--top", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for ln in lines[2:]:
        if ln.startswith("  P"):
            pid = ln.split()[0]
            tid = case.posts.at[pid, "team_id"]
            assert f"{pid} {case.posts.at[pid, 'title']} ({case.teams.at[tid, 'name']} {tid})" in ln, ln
    assert main(["--lang", "zh", "explain", str(SAMPLE), str(out), "--post", "P000054", "--top", "0"]) == 0
    text = capsys.readouterr().out
    holder = next(c for c in case.cadres.index if f"{c} {case.cadres.at[c, 'name']}" in text)
    assert holder and "（班子 " in text.splitlines()[0]
    # PLAN after the options too, as verify takes it (argparse alone fills an optional PLAN before them)
    assert main(["explain", str(SAMPLE), "--cadre", "C000001", "--top", "0", str(out)]) == 0
    assert "C000001" in capsys.readouterr().out
    # … and it was taken as the plan: with a different --plan as well, refused
    assert main(["explain", str(SAMPLE), "--cadre", "C000001", str(out), "--plan", str(tmp_path / "x")]) == 2
    assert "--plan" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # anything more: argparse's own usage error
        main(["explain", str(SAMPLE), "--cadre", "C000001", str(out), "extra"])
    err = capsys.readouterr().err
    # only the leftover is named (PLAN was taken), with explain's own usage
    assert exc.value.code == 2 and "cadrex explain: error: unrecognized arguments: extra" in err, err
    assert "--cadre" in err  # the usage shown is explain's own, not the top level's list of commands
    other = tmp_path / "other"
    assert main(["explain", str(SAMPLE), str(out), "--plan", str(other), "--cadre", "C000001"]) == 2
    assert "--plan" in capsys.readouterr().err


def test_unknown_ids_exit_2(solved, capsys):
    _, out = solved
    assert main(["explain", str(SAMPLE), "--plan", str(out), "--cadre", "NOPE"]) == 2
    assert "unknown cadre" in capsys.readouterr().err


def test_a_closed_pipe_ends_explain_quietly(solved, monkeypatch, capsys):
    """`cadrex explain … | head -2`: the reader closes the pipe; cadrex stops with exit 0 and no internal error."""
    import sys

    class Closed:  # stdout whose reader has gone
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    _, out = solved
    cadre = (SAMPLE / "cadres.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["explain", str(SAMPLE), "--plan", str(out), "--cadre", cadre]) == 0
    assert "internal error" not in capsys.readouterr().err


def test_explain_quiet_keeps_the_solver_log_off_stderr(solved, capsys):
    """`explain --quiet`: the answer on stdout, no solver log lines (INFO) on stderr; with --verbose they are there."""
    _, out = solved
    cadre = (SAMPLE / "cadres.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    assert main(["explain", str(SAMPLE), "--plan", str(out), "--cadre", cadre, "--quiet"]) == 0
    said = capsys.readouterr()
    assert cadre in said.out and " INFO " not in said.err
    assert main(["explain", str(SAMPLE), "--plan", str(out), "--cadre", cadre, "--verbose"]) == 0
    assert " INFO " in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_long_ineligible_list_starts_with_a_count_per_rule(solved, capsys, monkeypatch, lang):
    """On a national case one cadre can be ineligible for thousands of posts (1,950 lines for one cadre at 1,500 in
    play): past INELIGIBLE_SHOWN the text first counts them per rule, lists the first ones and says how many more
    (every one stays in --json)."""
    import re
    from collections import Counter

    from cadrex.analysis import explain

    _, out = solved
    assert main(["explain", str(SAMPLE), str(out), "--cadre", "C000004", "--top", "0", "--json"]) == 0
    bad = json.loads(capsys.readouterr().out)["ineligible"]
    assert len(bad) > 3
    monkeypatch.setattr(explain, "INELIGIBLE_SHOWN", 3)
    assert main(["--lang", lang, "explain", str(SAMPLE), str(out), "--cadre", "C000004", "--top", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = lines.index("ineligible (every rule that excludes it):" if lang == "en" else "不合格（排除该配对的全部规则）：")
    count, listed, more = lines[head + 1], lines[head + 2:head + 5], lines[head + 5]
    assert count.startswith(f"  {len(bad)} in all" if lang == "en" else f"  共 {len(bad)} 个"), count
    per_rule = Counter(x for r in bad for x in r["rules"])
    shown = {m.group(1): int(m.group(2)) for m in re.finditer(r"\b([EH]\d+)\b[^,，、;；]*? (\d+)", count)}
    assert {k: v for k, v in shown.items() if k in per_rule} == {k: v for k, v in per_rule.items() if k[0] in "EH"}
    assert all(r["post"] in ln for r, ln in zip(bad[:3], listed, strict=True))
    assert more.strip().startswith(f"… and {len(bad) - 3} more" if lang == "en" else f"……另有 {len(bad) - 3} 个")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_long_eligible_list_shows_the_computed_rows_and_the_best_others(solved, capsys, monkeypatch, lang):
    """At 1,200 in play one cadre had 1,446 eligible rows whose forced change was not computed: the text lists every
    row with a computed change and the best others up to ELIGIBLE_SHOWN, then says how many more --json holds."""
    from cadrex.analysis import explain

    _, out = solved
    assert main(["explain", str(SAMPLE), str(out), "--cadre", "C000004", "--top", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rows = [r for r in d["eligible"] if not d["chosen"] or r["post"] != d["chosen"]["post"]]
    computed = [r for r in rows if r.get("forced")]
    assert len(rows) > 4 and 1 <= len(computed) <= 2
    monkeypatch.setattr(explain, "ELIGIBLE_SHOWN", 3)
    assert main(["--lang", lang, "explain", str(SAMPLE), str(out), "--cadre", "C000004", "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    a = lines.index("eligible, not chosen (objective change if forced):" if lang == "en" else "合格但未选（若强制安排，目标值的变化）：")
    b = next(i for i in range(a + 1, len(lines)) if not lines[i].startswith("  P"))
    listed = lines[a + 1:b]
    want = [r for i, r in enumerate(rows) if r.get("forced") or i < 3]
    assert [ln.split()[0] for ln in listed] == [r["post"] for r in want]
    assert lines[b].strip().startswith(f"… and {len(rows) - len(want)} more" if lang == "en" else f"……另有 {len(rows) - len(want)} 个")
