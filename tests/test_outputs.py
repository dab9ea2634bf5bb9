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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reasons_name_each_post_by_team_and_title(tiny_path, tmp_path, lang):
    """A move's reason names both posts as the case's files do (team name and title beside the id), and the id
    alone where the case gives neither."""
    case = tmp_path / "c"
    shutil.copytree(tiny_path, case)
    read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    posts = pd.read_csv(case / "posts.csv", **read).set_index("post_id")
    teams = pd.read_csv(case / "teams.csv", **read).set_index("team_id")
    out = tmp_path / "o"
    assert main(["solve", str(case), "--out", str(out), "--quiet", "--lang", lang]) == 0
    a = pd.read_csv(out / "assignments.csv", **read)
    moves = a[(a["action"] == "move") & (a["from_post"] != "")]
    assert len(moves)
    left, right = (" (", ")") if lang == "en" else ("（", "）")
    for _, m in moves.iterrows():
        for p in (m["from_post"], m["to_post"]):
            words = f"{teams.at[posts.at[p, 'team_id'], 'name']} {posts.at[p, 'title']}"
            assert f"{p}{left}{words}{right}" in m["reasons"], (p, m["reasons"])
    for stem in ("posts", "teams"):  # both columns are optional: the id alone
        f = pd.read_csv(case / f"{stem}.csv", **read)
        f.drop(columns=["title" if stem == "posts" else "name"]).to_csv(case / f"{stem}.csv", index=False, encoding="utf-8-sig")
    out2 = tmp_path / "o2"
    assert main(["solve", str(case), "--out", str(out2), "--quiet", "--lang", lang]) == 0
    a2 = pd.read_csv(out2 / "assignments.csv", **read)
    m = a2[(a2["action"] == "move") & (a2["from_post"] != "")].iloc[0]
    assert f"{m['to_post']}{left}" not in m["reasons"] and m["to_post"] in m["reasons"]
