"""Trust (issue 11): cadrex replaces only folders and report files it wrote itself, never an input, the case or the
working folder; a failed final rename puts the previous output back; a plan the verifier rejects is never written;
the README's batch line names a shipped scenarios file."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import said_in_zh

import cadrex
from cadrex.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def snapshot(d: Path) -> dict[str, bytes]:
    """Every file below ``d`` (relative name -> bytes)."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture
def case(tmp_path) -> Path:
    """A private copy of the sample case (never the repository's own folder)."""
    c = tmp_path / "case"
    shutil.copytree(SAMPLE, c)
    return c


@pytest.fixture
def foreign(tmp_path) -> Path:
    """A folder cadrex did not write, holding a file of the user's."""
    f = tmp_path / "foreign"
    f.mkdir()
    (f / "keep.txt").write_text("the user's own file", encoding="utf-8")
    return f


def test_solve_out_equal_to_case_refused(case, capsys):
    before = snapshot(case)
    assert main(["solve", str(case), "--out", str(case), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is the case folder" in err and "Traceback" not in err
    assert "就是案例目录" in said_in_zh(main, ["solve", str(case), "--out", str(case), "--quiet"], 2, capsys)
    assert snapshot(case) == before


def test_solve_out_containing_case_refused(tmp_path, capsys):
    outer = tmp_path / "outer"
    shutil.copytree(SAMPLE, outer / "case")
    before = snapshot(outer)
    assert main(["solve", str(outer / "case"), "--out", str(outer), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "contains the case folder" in err
    assert "包含案例目录" in said_in_zh(main, ["solve", str(outer / "case"), "--out", str(outer), "--quiet"], 2, capsys)
    assert snapshot(outer) == before


@pytest.mark.parametrize("out", [".", ".."])
def test_solve_out_equal_to_or_containing_cwd_refused(tmp_path, monkeypatch, capsys, out):
    work = tmp_path / "work"
    shutil.copytree(SAMPLE, work / "case")
    (work / "notes.txt").write_text("mine", encoding="utf-8")
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    assert main(["solve", "case", "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "current working folder" in err
    assert "当前工作目录" in said_in_zh(main, ["solve", "case", "--out", out, "--quiet"], 2, capsys)
    assert snapshot(tmp_path) == before


def test_solve_out_foreign_nonempty_refused(case, foreign, capsys):
    assert main(["solve", str(case), "--out", str(foreign), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "was not written by cadrex" in err
    zh = said_in_zh(main, ["solve", str(case), "--out", str(foreign), "--quiet"], 2, capsys)
    assert "不是 cadrex 写出的" in zh and "cadrex: " not in zh  # one colon style in zh (full-width)
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.txt"]
    assert (foreign / "keep.txt").read_text(encoding="utf-8") == "the user's own file"


def test_resolve_into_own_folder_and_empty_folder(case, tmp_path):
    out = tmp_path / "o"
    out.mkdir()  # an empty existing folder is fine
    assert main(["solve", str(case), "--out", str(out), "--quiet"]) == 0
    marker = json.loads((out / ".cadrex-output").read_text(encoding="utf-8"))
    assert marker["tool"] == "cadrex" and marker["kind"] == "plan" and marker["version"] == cadrex.__version__
    assert main(["solve", str(case), "--out", str(out), "--quiet", "--policy", "care-first"]) == 0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["policy"]["move_cost"] == 15
    # a plan folder written before the marker existed (only plan files, a summary with cadrex's version) is cadrex's
    (out / ".cadrex-output").unlink()
    assert main(["solve", str(case), "--out", str(out), "--quiet"]) == 0
    assert (out / ".cadrex-output").is_file()
    # a folder inside the case folder is allowed (case/out); the case files stay as they were
    before = snapshot(case)
    assert main(["solve", str(case), "--out", str(case / "out"), "--quiet"]) == 0
    assert {k: v for k, v in snapshot(case).items() if not k.startswith("out")} == before


def test_generate_into_foreign_nonempty_refused(foreign, tmp_path, capsys):
    assert main(["generate", "--cadres", "10", "--seed", "1", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "was not written by cadrex" in err
    assert "不是 cadrex 写出的" in said_in_zh(main, ["generate", "--cadres", "10", "--seed", "1", str(foreign)], 2, capsys)
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.txt"]
    g = tmp_path / "g"
    assert main(["generate", "--cadres", "10", "--seed", "1", str(g)]) == 0
    assert json.loads((g / ".cadrex-output").read_text(encoding="utf-8"))["kind"] == "case"
    assert main(["generate", "--cadres", "12", "--seed", "2", str(g)]) == 0  # its own case folder is replaced
    # a plan folder is not a case folder: generate refuses to replace it
    assert main(["solve", str(g), "--out", str(tmp_path / "plan"), "--quiet"]) == 0
    before = snapshot(tmp_path / "plan")
    assert main(["generate", "--cadres", "10", "--seed", "1", str(tmp_path / "plan")]) == 2
    assert snapshot(tmp_path / "plan") == before


def test_batch_scenario_names_must_be_plain(tmp_path, capsys):
    victim = tmp_path / "x"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine", encoding="utf-8")
    s = tmp_path / "s.toml"
    s.write_text(f'[defaults]\ncase = "{SAMPLE.as_posix()}"\ntime_limit = 10\n\n[[scenario]]\nname = "../x"\n\n'
                 '[[scenario]]\n  name = "a/b"\n\n[[scenario]]\nname = ""\n\n[[scenario]]\nname = "ok"\n'
                 '[[scenario]]\nname = "ok"\n', encoding="utf-8")
    out = tmp_path / "runs"
    assert main(["batch", str(s), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{s}:6:8: scenario name: '../x' is not a plain name" in err
    assert f"{s}:9:10: scenario name: 'a/b' is not a plain name" in err
    assert f"{s}:12:8: scenario name: must be a non-empty text" in err
    assert f"{s}:17:8: scenario name 'ok' repeats scenario 4" in err
    assert "Traceback" not in err
    zh = said_in_zh(main, ["batch", str(s), "--out", str(out), "--workers", "1"], 2, capsys)
    assert "不是简单名称" in zh and "情景名" in zh
    assert not out.exists() and sorted(p.name for p in victim.iterdir()) == ["keep.txt"]


def test_batch_root_foreign_refused_and_stale_only_if_cadrex_wrote(tmp_path, foreign, capsys):
    s = tmp_path / "s.toml"
    s.write_text(f'[[scenario]]\nname = "broken"\ncase = "{SAMPLE.as_posix()}"\n[scenario.overrides]\nmove_costt = 5\n',
                 encoding="utf-8")
    assert main(["batch", str(s), "--out", str(foreign), "--workers", "1"]) == 2
    assert "was not written by cadrex" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.txt"]
    # a failed scenario removes its earlier output only when cadrex wrote it
    from cadrex.jobs.batch import read_scenarios, run_scenario

    root = tmp_path / "runs"
    (root / "broken").mkdir(parents=True)
    (root / "broken" / "keep.txt").write_text("mine", encoding="utf-8")
    rec = run_scenario(read_scenarios(str(s))[0], str(root))
    assert rec["status"] == "invalid" and "not written by cadrex" in rec["error"]
    assert (root / "broken" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_compare_never_overwrites_an_input_or_a_foreign_file(case, tmp_path, capsys):
    a = tmp_path / "a"
    assert main(["solve", str(case), "--out", str(a), "--quiet"]) == 0
    before, case_before = snapshot(a), snapshot(case)
    for opt, target in (("--html", a / "summary.json"), ("--xlsx", a / "assignments.csv"), ("--html", case / "posts.csv")):
        assert main(["compare", str(a), opt, str(target)]) == 2
        err = capsys.readouterr().err
        assert "is one of the inputs" in err or "is a file of the case folder" in err
        zh = said_in_zh(main, ["compare", str(a), opt, str(target)], 2, capsys)
        assert "输入文件之一" in zh or "是案例目录" in zh
    assert snapshot(a) == before and snapshot(case) == case_before
    mine = tmp_path / "report.html"
    mine.write_text("<html>my own report</html>", encoding="utf-8")
    assert main(["compare", str(a), "--html", str(mine)]) == 2
    assert "was not written by cadrex" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "<html>my own report</html>"
    # cadrex's own reports (marked) are replaced on a rerun
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    for _ in range(2):
        assert main(["compare", str(a), "--html", str(html), "--xlsx", str(xlsx)]) == 0
    assert '<meta name="generator" content="cadrex' in html.read_text(encoding="utf-8")
    from cadrex.reports.compare import is_cadrex_xlsx

    assert is_cadrex_xlsx(str(xlsx)) and not is_cadrex_xlsx(str(mine))


def test_failed_final_rename_restores_previous_output(case, tmp_path, monkeypatch):
    res = cadrex.solve(cadrex.load_case(case))
    out = tmp_path / "o"
    res.write(out)
    before = snapshot(out)
    real_rename = os.rename
    calls = []

    def flaky(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the first moves the old output aside, the second would put the new one in place
            raise OSError("disk trouble")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky)
    res.summary["note"] = "second write"
    with pytest.raises(OSError, match="disk trouble"):
        res.write(out)
    monkeypatch.setattr(os, "rename", real_rename)
    assert snapshot(out) == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # no temporary or aside folder left


def test_rejected_plan_is_never_written(case, tmp_path, monkeypatch, capsys):
    out = tmp_path / "o"
    assert main(["solve", str(case), "--out", str(out), "--quiet"]) == 0
    before = snapshot(out)
    real_solve = cadrex.solve

    def rejected(*args, **kwargs):
        res = real_solve(*args, **kwargs)
        res.summary["violations"] = ["H3: post P000001 gets two cadres (C000001, C000002)",
                                     "H1: C000003 must move but stays in P000003"]
        res.summary["written_by_the_rejected_run"] = True
        return res

    monkeypatch.setattr(cadrex, "solve", rejected)
    assert main(["solve", str(case), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "rejected by the independent verifier" in err
    assert "H1, H3" in err and "H3: post P000001 gets two cadres" in err and "Traceback" not in err
    assert "独立校验器否决" in said_in_zh(main, ["solve", str(case), "--out", str(out), "--quiet"], 1, capsys)
    assert snapshot(out) == before
    # the library refuses too, before touching anything
    from cadrex.reports.result import PlanRejected

    res = rejected(cadrex.load_case(case))
    with pytest.raises(PlanRejected) as exc:
        res.write(tmp_path / "fresh")
    assert exc.value.rules == ["H1", "H3"] and not (tmp_path / "fresh").exists()


def test_readme_batch_line_names_a_shipped_scenarios_file():
    from cadrex.io.tomlfiles import models_dir
    from cadrex.jobs.batch import read_scenarios

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"`cadrex batch (\S+) --out (\S+)", readme)
    assert m, "README has no batch line"
    path = ROOT / m.group(1)
    assert path.is_file()
    scen = read_scenarios(str(path))
    assert 2 <= len(scen) <= 3
    for sc in scen:
        assert Path(sc["case"]) == SAMPLE
        assert sc.get("policy") is None or (models_dir() / "policies" / f"{sc['policy']}.toml").is_file()
        assert sc["time_limit"] <= 60
