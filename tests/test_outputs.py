"""Outputs: formula injection escaped in CSV and xlsx; atomic replacement keeps a complete previous output."""

from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pytest

import cadrex
from cadrex.cli import main


def test_formula_names_are_text_in_csv_and_xlsx(tiny_path, tmp_path):
    case = tmp_path / "c"
    shutil.copytree(tiny_path, case)
    cad = pd.read_csv(case / "cadres.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cad.loc[cad["cadre_id"] == "C000005", "name"] = '=HYPERLINK("x")'
    cad.to_csv(case / "cadres.csv", index=False, encoding="utf-8-sig")
    out = tmp_path / "o"
    assert main(["solve", str(case), "--out", str(out), "--xlsx", "--quiet"]) == 0
    text = (out / "assignments.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ',=HYPERLINK' not in text
    wb = openpyxl.load_workbook(out / "plan.xlsx")
    ws = wb["assignments"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and c.value.startswith("'") for c in cells)
    assert ws.freeze_panes == "A2"
    assert main(["verify", str(case), str(out)]) == 0  # ids and names read back unescaped


def test_rewrite_replaces_whole_folder(tiny_path, tmp_path):
    """A stale output of an earlier run (here a diagnosis.json) does not survive a rewrite; a file the user put in
    the folder is never deleted: the rewrite is refused instead (issue 11)."""
    from cadrex.io.outdir import OutDirError

    out = tmp_path / "o"
    res = cadrex.solve(cadrex.load_case(tiny_path))
    res.write(out)
    (out / "diagnosis.json").write_text("[]", encoding="utf-8")
    res.write(out)
    assert not (out / "diagnosis.json").exists() and (out / "summary.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutDirError, match="notes.txt"):
        res.write(out)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
