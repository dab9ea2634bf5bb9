"""Re-plan with minimum change (SPEC §10): the worked example on every backend, each event kind, the change count,
the cap and the frontier on hand-made cases with known answers, a brute force (independent verifier only) on tiny
generated cases, and bad input (exit 2 with the location, nothing written)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from test_solve import feasible_plans as plans
from test_solve import small_case

import cadrex
from cadrex.analysis.verify import evaluate
from cadrex.cli import main
from cadrex.io.events import apply_events, load_events

BACKENDS = ["highs", "cpsat", "pyomo"]


@pytest.fixture
def example(tiny_path):
    ex = tiny_path.parent / "tiny-replan"
    if not ex.is_dir():
        pytest.skip("../shared/examples/tiny-replan not present")
    return ex


def write_events(path, rows) -> str:
    pd.DataFrame(rows, columns=["event", "cadre_id", "post_id", "note"]).to_csv(path, index=False)
    return str(path)


def plan_of(res) -> dict:
    return {r["cadre_id"]: (r["to_post"] or None) for r in res.assignments.to_dict("records")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_replan_worked_example(tiny_path, example, backend):
    res = cadrex.replan(cadrex.load_case(tiny_path), example / "baseline", example / "events.csv", backend=backend,
                        frontier=3)
    rp = res.summary["replan"]
    assert res.status == "optimal" and res.summary["violations"] == []
    assert (res.objective, rp["changes"], rp["objective"], rp["k_min"]) == (1328, 2, 1128, 2)
    assert res.best_bound == 1128 and res.gap == 0  # bound and gap refer to the re-plan objective
    assert list(res.tables["frontier.csv"]["objective"]) == [1328, 1338, 1338]
    ch = res.tables["changes.csv"]
    assert set(ch["cadre_id"]) == {"C000020", "C000026"} and set(ch["cause"]) == {"event"}
    assert plan_of(res)["C000026"] != "P000002"  # decline honoured
    assert plan_of(res)["C000020"] != "P000019"  # forbid honoured


def test_replan_change_cost_zero_takes_the_extra_change(tiny_path, example):
    case = cadrex.load_case(tiny_path).with_policy({"change_cost": 0})
    res = cadrex.replan(case, example / "baseline", example / "events.csv")
    assert (res.objective, res.summary["replan"]["changes"]) == (1338, 3)


def test_max_changes_cap_and_its_diagnosis(tiny_path, example):
    case = cadrex.load_case(tiny_path)
    res = cadrex.replan(case, example / "baseline", example / "events.csv", max_changes=1)
    assert res.status == "infeasible"
    d = res.diagnosis[0]
    assert d["rule"] == "max_changes" and "max_changes" in d["rules"]
    assert "--max-changes" in d["message"] and any(e["line"] == 4 for e in d["events"])
    assert d["k_min"] == 2 and "fewest changes any plan needs: 2" in d["message"] and "至少需变动 2 人" in d["message_zh"]
    ok = cadrex.replan(case, example / "baseline", example / "events.csv", max_changes=2)
    assert ok.summary["replan"]["objective"] == 1128
    free = cadrex.replan(case.with_policy({"change_cost": 0}), example / "baseline", example / "events.csv", max_changes=2)
    assert (free.objective, free.summary["replan"]["changes"]) == (1328, 2)  # the frontier's k = 2 point


def test_e8_withdraw_keeps_own_post_and_drops_pins(tiny_path, example, tmp_path):
    ev = write_events(tmp_path / "ev.csv", [["withdraw", "C000005", "", "本人撤回"]])
    case = cadrex.load_case(tiny_path)
    res = cadrex.replan(case, example / "baseline", ev)
    plan = plan_of(res)
    assert res.status == "optimal" and "C000005" not in plan  # not in play: keeps P000002, its require pin gone
    assert "P000002" not in set(res.posts["post_id"])
    ch = res.tables["changes.csv"].set_index("cadre_id")
    # its baseline post P000002 stays with C000005: not named by the event (SPEC §10: chain), but traced to it
    assert ch.loc["C000026", "cause"] == "chain"
    assert "withdrawal of C000005" in ch.loc["C000026", "why"]


def test_vacate_makes_the_post_vacant_and_removes_the_holder(tiny_path, example, tmp_path):
    ev = write_events(tmp_path / "ev.csv", [["vacate", "", "P000004", "退休"]])
    res = cadrex.replan(cadrex.load_case(tiny_path), example / "baseline", ev)
    posts = res.posts.set_index("post_id")
    assert posts.loc["P000004", "holder_before"] == "" and "C000014" not in plan_of(res)
    changed = load_events(ev, cadrex.load_case(tiny_path))
    assert "C000014" not in apply_events(cadrex.load_case(tiny_path), changed).cadres.index


def test_close_equals_forbidding_everyone(tiny_path, example, tmp_path):
    """Closing a post (no must_fill) is the same as a forbid event for every cadre in play on it."""
    case = cadrex.load_case(tiny_path)
    closed = cadrex.replan(case, example / "baseline", write_events(tmp_path / "a.csv", [["close", "", "P000007", ""]]))
    assert "P000007" not in set(closed.assignments.loc[closed.assignments["action"] == "move", "to_post"])
    holder = case.posts.loc["P000007", "holder_id"]
    rows = [["forbid", c, "P000007", ""] for c in evaluate(case, {}).in_play if c != holder]
    forbid = cadrex.replan(case, example / "baseline", write_events(tmp_path / "b.csv", rows))
    assert closed.summary["replan"]["objective"] == forbid.summary["replan"]["objective"]


def test_require_is_honoured(tiny_path, example, tmp_path):
    case = cadrex.load_case(tiny_path)
    res = cadrex.replan(case, example / "baseline", write_events(tmp_path / "e.csv", [["require", "C000026", "P000015", ""]]))
    assert plan_of(res)["C000026"] == "P000015" and res.summary["replan"]["changes"] == 1


def test_close_against_a_require_pin_is_infeasible_naming_the_event(tiny_path, example, tmp_path):
    # the baseline pins C000005 to P000029 (require, pins.csv); closing P000029 contradicts it
    ev = write_events(tmp_path / "e.csv", [["close", "", "P000029", "岗位撤销"]])
    res = cadrex.replan(cadrex.load_case(tiny_path), example / "baseline", ev)
    assert res.status == "infeasible"
    assert any(e["event"] == "close" for d in res.diagnosis for e in d["events"])


def brute_replan(case, base: dict, cost: int) -> tuple[int | None, int | None]:
    """Best re-plan objective and fewest changes over every plan of the changed case (verifier only)."""
    own = {h: p for p, h in case.posts["holder_id"].items() if h}
    best, kmin = None, None
    for plan, obj in plans(case):
        ch = sum(plan[c] != base.get(c, own.get(c)) for c in plan)
        best = obj - cost * ch if best is None else max(best, obj - cost * ch)
        kmin = ch if kmin is None else min(kmin, ch)
    return best, kmin


@pytest.mark.parametrize("seed", [3, 5, 7, 13, 17, 41, 57, 88, 101, 202])
def test_replan_equals_brute_force(tmp_path, seed):
    """Baseline: a random feasible plan of a tiny generated case (not the optimum, so that it moves people); events:
    a decline of one of its moves, a forbid on one of its stays, a vacancy — drawn from the seed."""
    rng = np.random.default_rng(seed)
    case = small_case(tmp_path, seed, 3, ["any", "cross_province"][seed % 2], bool(seed % 3))
    feasible = plans(case)
    assert feasible, "the generated case has a plan"
    plan = max(feasible, key=lambda t: (sum(p is not None for p in t[0].values()), rng.random()))[0]
    pd.DataFrame({"cadre_id": list(plan), "to_post": [p or "" for p in plan.values()]}).to_csv(
        tmp_path / "assignments.csv", index=False)
    own = {h: p for p, h in case.posts["holder_id"].items() if h}
    moved = [c for c, p in plan.items() if p is not None and p != own.get(c)]
    stays = [c for c, p in plan.items() if p is not None and p == own.get(c)]
    held = [p for p, h in case.posts["holder_id"].items() if h and h not in plan]
    rows = []
    if moved:
        c = moved[int(rng.integers(len(moved)))]
        rows.append(["decline", c, plan[c], ""])
    if stays and seed % 4 == 1:
        c = stays[int(rng.integers(len(stays)))]
        rows.append(["forbid", c, plan[c], ""])
    if held and not seed % 2:
        rows.append(["vacate", "", held[int(rng.integers(len(held)))], ""])
    ev = write_events(tmp_path / "ev.csv", rows or [["withdraw", list(plan)[0], "", ""]])
    cost = [0, 7, 100][seed % 3]
    case = case.with_policy({"change_cost": cost})
    want, kmin = brute_replan(apply_events(case, load_events(ev, case)), plan, cost)
    for backend in BACKENDS:
        res = cadrex.replan(case, tmp_path, ev, backend=backend, time_limit=30)
        if want is None:
            assert res.status == "infeasible"
            continue
        assert res.status == "optimal" and res.summary["violations"] == []
        assert res.summary["replan"]["objective"] == want, backend
        assert res.summary["replan"]["k_min"] == kmin, backend


def test_cli_replan_verify_and_tampering(tiny_path, example, tmp_path):
    out = tmp_path / "re"
    args = [str(tiny_path), "--plan", str(example / "baseline"), "--events", str(example / "events.csv")]
    assert main(["replan", *args[:1], *args[1:], "--out", str(out), "--quiet", "--frontier", "2"]) == 0
    for f in ("assignments.csv", "posts.csv", "teams.csv", "summary.json", "changes.csv", "events.csv", "frontier.csv",
              "frontier.svg"):
        assert (out / f).is_file(), f
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["objective"] == 1328 and s["replan"]["objective"] == 1128 and s["replan"]["k_min"] == 2
    vargs = ["verify", str(tiny_path), str(out), "--events", str(example / "events.csv"), "--baseline", str(example / "baseline")]
    assert main(vargs) == 0
    assert main(["verify", str(tiny_path), str(out)]) == 3  # not the changed case: the plan does not fit it
    s["replan"]["changes"] = 1
    (out / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    assert main(vargs) == 3
    assert main(["replan", *args, "--out", str(tmp_path / "cap"), "--quiet", "--max-changes", "1"]) == 3
    assert main(["replan", *args, "--out", str(example / "baseline"), "--quiet"]) == 2  # never onto the baseline


@pytest.mark.parametrize("rows, where, what", [
    ([["decline", "C999999", "P000002", ""]], (2, 2), "unknown cadre"),
    ([["forbid", "C000026", "P999", ""]], (2, 3), "unknown post"),
    ([["decline", "C000026", "", ""]], (2, 3), "needs a post_id"),
    ([["retire", "C000026", "", ""]], (2, 1), "allowed"),
    ([["vacate", "", "P000004", ""], ["vacate", "", "P000004", ""]], (3, 3), "already vacant"),
    ([["require", "C000026", "P000015", ""], ["decline", "C000026", "P000015", ""]], (3, 1), "same pair"),
    ([["vacate", "", "P000004", ""], ["withdraw", "C000014", "", ""]], (3, 2), "left the case"),
])
def test_bad_events_exit_2_with_location(tiny_path, example, tmp_path, capsys, rows, where, what):
    ev = write_events(tmp_path / "ev.csv", rows)
    out = tmp_path / "out"
    assert main(["replan", str(tiny_path), "--plan", str(example / "baseline"), "--events", ev, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"ev.csv:{where[0]}:{where[1]}:" in err and what in err, err
    assert not out.exists()


@pytest.mark.parametrize("edit, where, what", [
    (lambda df: df.assign(cadre_id=df["cadre_id"].where(df.index != 1, "X0001")), (3, 1), "not a cadre of the case"),
    (lambda df: pd.concat([df, df.iloc[[0]]]), (None, 1), "appears twice"),
    (lambda df: df.assign(to_post=df["to_post"].where(df.index != 0, "P999")), (2, 5), "not a post of the case"),
])
def test_bad_baseline_exit_2_with_location(tiny_path, example, tmp_path, capsys, edit, where, what):
    base = tmp_path / "base"
    shutil.copytree(example / "baseline", base)
    df = pd.read_csv(base / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = edit(df)
    df.to_csv(base / "assignments.csv", index=False)
    out = tmp_path / "out"
    assert main(["replan", str(tiny_path), "--plan", str(base), "--events", str(example / "events.csv"),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    line = where[0] if where[0] is not None else len(df) + 1
    assert f"assignments.csv:{line}:{where[1]}:" in err and what in err, err
    assert not out.exists()


def test_readme_replan_commands_run(tmp_path, monkeypatch):
    """The README's re-plan and verify commands, after its solve, on the shipped sample events."""
    import re
    import shlex
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    cmds = [re.search(r"cadrex (replan [^\n`]+)", readme), re.search(r"`cadrex (verify [^`]+--events[^`]+)`", readme)]
    assert all(cmds), "README lacks the re-plan or its verify command"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").symlink_to(root / "data")
    assert main(["solve", "data/sample", "--out", "out/sample", "--quiet"]) == 0
    for m in cmds:
        assert main(shlex.split(m.group(1)) + (["--quiet"] if m.group(1).startswith("replan") else [])) == 0, m.group(1)
    ch = pd.read_csv(tmp_path / "out" / "replan" / "changes.csv", encoding="utf-8-sig")
    assert len(ch) >= 3  # the three decliners at least


@pytest.mark.parametrize("n,seed", [(120, 4), (150, 8)])
def test_cg_replan_equals_full_replan(tmp_path, n, seed):
    """Column generation (warm-started from the baseline's pairs, smoothed duals) reaches the full model's re-plan
    optimum, with a bound valid for the full re-plan model."""
    from cadrex.jobs.generate import generate_case

    generate_case(str(tmp_path / "g"), n, seed)
    case = cadrex.load_case(tmp_path / "g")
    base = cadrex.solve(case, method="full", time_limit=120)
    base.write(tmp_path / "base")
    moves = base.assignments[base.assignments["action"] == "move"].sort_values("cadre_id")
    rng = np.random.default_rng(seed)
    pick = moves.iloc[np.sort(rng.choice(len(moves), 4, replace=False))]
    ev = write_events(tmp_path / "ev.csv", [["decline", c, p, ""] for c, p in zip(pick["cadre_id"], pick["to_post"], strict=True)])
    full = cadrex.replan(case, tmp_path / "base", ev, method="full", time_limit=120)
    cg = cadrex.replan(case, tmp_path / "base", ev, method="cg", gap=0, time_limit=120)
    assert full.status == "optimal" and cg.status == "optimal", (full.summary, cg.summary)
    assert cg.summary["replan"]["objective"] == full.summary["replan"]["objective"]
    assert cg.best_bound == full.best_bound == full.summary["replan"]["objective"]
    assert cg.summary["replan"]["changes"] >= len(pick)


def test_explain_on_a_replan_shows_the_chain(tiny_path, example, tmp_path):
    """``explain`` on a re-plan folder works in the changed case (from the events copy the folder keeps) and says why
    the cadre changed; the declined pair reads as E8."""
    from cadrex.analysis.explain import explain, render

    out = tmp_path / "re"
    cadrex.replan(cadrex.load_case(tiny_path), example / "baseline", example / "events.csv").write(out)
    d = explain(cadrex.load_case(tiny_path), cadre="C000026", plan_dir=str(out), top=0)
    assert [r["cause"] for r in d["changes"]] == ["event"] and "decline" in d["changes"][0]["why"]
    assert any(r["post"] == "P000002" and "E8" in r["rules"] for r in d["ineligible"])
    assert "re-plan changes from the baseline plan" in render(d) and "与基准方案相比的变动" in render(d, "zh")
    d = explain(cadrex.load_case(tiny_path), cadre="C000004", plan_dir=str(out), top=0)
    assert d["changes"] == [] and "(none: as in the baseline plan" in render(d)


def test_events_xlsx_is_read_like_csv(tiny_path, example, tmp_path):
    df = pd.read_csv(example / "events.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.to_excel(tmp_path / "events.xlsx", index=False)
    res = cadrex.replan(cadrex.load_case(tiny_path), example / "baseline", tmp_path / "events.xlsx")
    assert res.summary["replan"]["objective"] == 1128 and list(res.tables["events.csv"]["event"]) == list(df["event"])


def test_explain_on_an_infeasible_replan_folder_is_a_clear_error(tiny_path, example, tmp_path, capsys):
    out = tmp_path / "cap"
    args = [str(tiny_path), "--plan", str(example / "baseline"), "--events", str(example / "events.csv")]
    assert main(["replan", *args, "--out", str(out), "--quiet", "--max-changes", "1"]) == 3
    assert main(["explain", str(tiny_path), "--plan", str(out), "--cadre", "C000026"]) == 2
    assert "holds no plan" in capsys.readouterr().err
