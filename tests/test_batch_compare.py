"""Batch on Dask (one broken scenario does not stop the others; rerun skips unchanged; an existing scheduler) and
compare (documented columns, offline HTML, injection escaped)."""

from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pytest

from cadrex.cli import main
from cadrex.reports.compare import compare

SAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "sample"

SCENARIOS = """
[defaults]
case = "{case}"
time_limit = 30

[[scenario]]
name = "base"

[[scenario]]
name = "care-first"
policy = "care-first"

[[scenario]]
name = "promote"
policy = "promote"

[[scenario]]
name = "broken"
[scenario.overrides]
move_costt = 5
"""


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    (d / "scenarios.toml").write_text(SCENARIOS.format(case=SAMPLE), encoding="utf-8")
    assert main(["batch", str(d / "scenarios.toml"), "--out", str(d / "out"), "--workers", "2"]) == 0
    return d


def test_broken_scenario_recorded_others_solved(batch_dir):
    idx = pd.read_csv(batch_dir / "out" / "index.csv", encoding="utf-8-sig", keep_default_na=False)
    assert list(idx["scenario"]) == ["base", "care-first", "promote", "broken"]
    st = dict(zip(idx["scenario"], idx["status"], strict=True))
    assert st["broken"] == "invalid" and "move_costt" in idx.set_index("scenario").at["broken", "error"]
    assert all(st[s] == "optimal" for s in ("base", "care-first", "promote"))
    assert not (batch_dir / "out" / "broken").exists()


def test_rerun_skips_unchanged(batch_dir):
    assert main(["batch", str(batch_dir / "scenarios.toml"), "--out", str(batch_dir / "out"), "--workers", "1"]) == 0
    idx = pd.read_csv(batch_dir / "out" / "index.csv", encoding="utf-8-sig", keep_default_na=False)
    skipped = dict(zip(idx["scenario"], idx["skipped"], strict=True))
    assert skipped == {"base": True, "care-first": True, "promote": True, "broken": False}


def test_existing_scheduler(tmp_path):
    from dask.distributed import LocalCluster

    (tmp_path / "s.toml").write_text(SCENARIOS.format(case=SAMPLE), encoding="utf-8")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(["batch", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--scheduler", cluster.scheduler_address]) == 0
    idx = pd.read_csv(tmp_path / "o" / "index.csv", encoding="utf-8-sig")
    assert len(idx) == 4 and (idx["status"] == "optimal").sum() == 3


def test_compare_columns_html_xlsx(batch_dir, tmp_path):
    html, xlsx = tmp_path / "report.html", tmp_path / "report.xlsx"
    t = compare([str(batch_dir / "out")], html_path=str(html), xlsx_path=str(xlsx))
    for col in ["scenario", "objective", "term_fit", "term_structure", "moves", "filled_hardship_0", "must_move_honoured",
                "promotions", "structure_units_before", "structure_units_after", "flow_imbalance", "runtime_s", "gap"]:
        assert col in t.columns
    assert list(t["scenario"]) == ["base", "care-first", "promote"]
    text = html.read_text(encoding="utf-8")
    assert "http" not in text and "data:image" not in text and text.count('<svg class="chart"') >= 4
    assert "Who goes where" in text and "Vacancy chains" in text
    compare([str(batch_dir / "out")], html_path=str(html), lang="zh")
    assert "人选差异" in html.read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(xlsx)
    assert {"scenarios", "differences"} <= set(wb.sheetnames)


def test_compare_escapes_formula_names(tmp_path):
    case = tmp_path / "c"
    shutil.copytree(SAMPLE, case)
    cad = pd.read_csv(case / "cadres.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cad["name"] = '=HYPERLINK("x")'
    cad.to_csv(case / "cadres.csv", index=False, encoding="utf-8-sig")
    for name, pol in (("a", []), ("b", ["--policy", "care-first"])):
        assert main(["solve", str(case), "--out", str(tmp_path / name), "--quiet", *pol]) == 0
    compare([str(tmp_path / "a"), str(tmp_path / "b")], html_path=str(tmp_path / "r.html"), xlsx_path=str(tmp_path / "r.xlsx"))
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    cells = [c for r in wb["differences"].iter_rows() for c in r if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and c.value.startswith("'") for c in cells)
    assert "=HYPERLINK" not in (tmp_path / "r.html").read_text(encoding="utf-8").replace("&#x27;=HYPERLINK", "")


def test_bad_scenarios_file_and_compare_dir_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[defaults]\ncase = "x"\n[[scenario]]\nname = "a"\nfoo = = 1\n', encoding="utf-8")
    assert main(["batch", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert f"{bad}:5:" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "nothing")]) == 2
    assert "summary.json:1:1: not a plan folder" in capsys.readouterr().err


def test_every_shipped_policy_changes_the_sample_plan():
    """Issue 16: a shipped scenario that plans the sample exactly as the default shows nothing in a comparison. Each
    named policy in models/policies/ either changes the sample's plan or makes it infeasible (strict: documented)."""
    import os

    from conftest import ROOT, SAMPLE

    import cadrex

    case = cadrex.load_case(SAMPLE)
    base = cadrex.solve(case, seed=0).assignments.set_index("cadre_id")["to_post"]
    names = sorted(f[:-5] for f in os.listdir(ROOT / "models" / "policies") if f.endswith(".toml") and f != "default.toml")
    assert names
    for name in names:
        r = cadrex.solve(case, policy=name, seed=0)
        if r.status == "infeasible":
            continue
        plan = r.assignments.set_index("cadre_id")["to_post"].reindex(base.index)
        assert (plan != base).any(), f"policy {name} plans the sample exactly as the default"


def test_a_misspelt_scenario_key_is_an_error_not_a_silent_default(tmp_path, capsys):
    """A newcomer's `polcy = "promote"` ran the scenario under the default policy without a word."""
    s = tmp_path / "s.toml"
    s.write_text(f'[defaults]\ncase = "{SAMPLE.as_posix()}"\ntimelimit = 5\n\n[[scenario]]\nname = "a"\npolcy = "promote"\n',
                 encoding="utf-8")
    assert main(["batch", str(s), "--out", str(tmp_path / "runs"), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{s}:5:1: unknown scenario key 'polcy'" in err and f"{s}:3:1: unknown scenario key 'timelimit'" in err
    assert not (tmp_path / "runs").exists()
