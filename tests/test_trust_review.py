"""Trust, second pass (issue 11, found by an independent review): policy values too large for exact arithmetic,
--log-file onto an input, non-finite time limits, a marked output folder holding the user's files, symbolic links,
batch overrides located in the scenarios file, a rejected batch plan keeping the earlier output."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cadrex.cli import main


def _tree(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture
def case(tiny_path, tmp_path) -> Path:
    d = tmp_path / "case"
    shutil.copytree(tiny_path, d)
    return d


@pytest.mark.parametrize("text,where", [("[weights]\nfit = 99999999999999999999\n", ":2:1:"),
                                        ("move_cost = 9223372036854775807\n", ":1:1:"),
                                        ("time_limit = inf\n", ":1:1:"), ("time_limit = nan\n", ":1:1:")])
def test_policy_values_too_large_or_not_finite_are_input_errors(case, tmp_path, capsys, text, where):
    pol = tmp_path / "p.toml"
    pol.write_text(text, encoding="utf-8")
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--policy", str(pol), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"p.toml{where}" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_log_file_never_touches_an_input(case, tmp_path, capsys):
    before = _tree(case)
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--log-file", str(case / "cadres.csv")]) == 2
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--log-file", str(tmp_path / "no" / "x.log")]) == 2
    foreign = tmp_path / "mine.log"
    foreign.write_text("my notes\n", encoding="utf-8")
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--log-file", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--log-file" in err
    assert _tree(case) == before and foreign.read_text(encoding="utf-8") == "my notes\n"
    log = tmp_path / "run.log"
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--log-file", str(log)]) == 0
    assert main(["solve", str(case), "--out", str(tmp_path / "o"), "--log-file", str(log)]) == 0  # its own log
    assert log.read_text(encoding="utf-8").count("objective") >= 2


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0"])
def test_time_limit_must_be_finite_and_positive(case, tmp_path, value):
    with pytest.raises(SystemExit) as exc:
        main(["solve", str(case), "--out", str(tmp_path / "o"), f"--time-limit={value}"])
    assert exc.value.code == 2


def test_marked_folder_with_a_user_file_is_not_replaced(case, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["solve", str(case), "--out", str(out), "--quiet"]) == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["solve", str(case), "--out", str(out), "--quiet"]) == 2
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine" and (out / "summary.json").is_file()
    gen = tmp_path / "g"
    assert main(["generate", "--cadres", "20", "--seed", "1", str(gen)]) == 0
    (gen / "plan").mkdir()
    assert main(["generate", "--cadres", "20", "--seed", "2", str(gen)]) == 2
    assert (gen / "plan").is_dir()
    assert "notes.txt" in capsys.readouterr().err


def test_out_as_a_symbolic_link_is_refused(case, tmp_path):
    real = tmp_path / "real"
    assert main(["solve", str(case), "--out", str(real), "--quiet"]) == 0
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    before = _tree(real)
    assert main(["solve", str(case), "--out", str(link), "--quiet"]) == 2
    assert link.is_symlink() and _tree(real) == before


def test_batch_overrides_are_checked_at_their_line(case, tmp_path):
    """A bad override fails its scenario alone (recorded as invalid), located in the scenarios file."""
    import pandas as pd

    sc = tmp_path / "sc.toml"
    sc.write_text(f'[defaults]\ncase = "{case.as_posix()}"\n\n[[scenario]]\nname = "a"\n[scenario.overrides]\n'
                  'move_cost = -1\n', encoding="utf-8")
    assert main(["batch", str(sc), "--out", str(tmp_path / "runs"), "--workers", "1"]) == 0
    idx = pd.read_csv(tmp_path / "runs" / "index.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert idx.at[0, "status"] == "invalid"
    assert "sc.toml:7:1:" in idx.at[0, "error"] and "move_cost" in idx.at[0, "error"]


@pytest.mark.parametrize("name", ["x\\n", " base", "tab\\there"])
def test_batch_names_without_control_characters_or_edge_spaces(case, tmp_path, name):
    sc = tmp_path / "sc.toml"
    sc.write_text(f'[[scenario]]\nname = "{name}"\ncase = "{case.as_posix()}"\n', encoding="utf-8")
    assert main(["batch", str(sc), "--out", str(tmp_path / "runs"), "--workers", "1"]) == 2


def test_batch_rejected_plan_keeps_the_earlier_output(case, tmp_path, request):
    from cadrex.jobs.batch import read_scenarios, run_scenario

    sc = tmp_path / "sc.toml"
    sc.write_text(f'[[scenario]]\nname = "a"\ncase = "{case.as_posix()}"\ntime_limit = 30\n', encoding="utf-8")
    (s,) = read_scenarios(str(sc))
    root = tmp_path / "runs"
    root.mkdir()
    assert run_scenario(s, str(root))["status"] == "optimal"
    before = _tree(root / "a")
    request.getfixturevalue("inject_violation")
    s["seed"] = 5  # another hash: the scenario is solved again
    rec = run_scenario(s, str(root))
    assert rec["status"] == "rejected" and "H3" in rec["error"]
    assert _tree(root / "a") == before
    assert json.loads((root / "a" / "summary.json").read_text(encoding="utf-8"))["status"] == "optimal"
