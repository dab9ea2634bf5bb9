"""Outputs: formula injection escaped in CSV and xlsx; atomic replacement keeps a complete previous output."""

from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE

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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_h4_e8_reasons_say_which_rule_keeps_a_cadre_from_staying(tmp_path, lang):
    """A cadre who may not keep its post says why: a forbid pin on it (E8) or a relative not in play in its team (H4)."""
    case = tmp_path / "c"
    shutil.copytree(SAMPLE, case)
    read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    held = pd.read_csv(case / "posts.csv", **read).query("holder_id != ''").set_index("holder_id")
    pins = pd.read_csv(case / "pins.csv", **read)
    base = tmp_path / "base"  # cadres who move in the plan without the new rules can still move with them
    assert main(["solve", str(case), "--out", str(base), "--quiet", "--lang", lang]) == 0
    a0 = pd.read_csv(base / "assignments.csv", **read)
    in_play = set(a0["cadre_id"])
    free = [c for c in a0.query("action == 'move' and from_post != '' and kind == ''")["cadre_id"]
            if c not in set(pins["cadre_id"]) and "H1" not in a0.set_index("cadre_id").at[c, "reasons"]]
    h4, kin = next((c, k) for c in free for k in held.index
                   if k not in in_play and held.at[k, "team_id"] == held.at[c, "team_id"])
    e8 = next(c for c in free if c != h4)
    pins.loc[len(pins)] = [e8, held.at[e8, "post_id"], "forbid"]  # E8: forbid the post it holds
    pins.to_csv(case / "pins.csv", index=False, encoding="utf-8-sig")
    rel = pd.read_csv(case / "relations.csv", **read)
    rel.loc[len(rel)] = [h4, kin] + ["夫妻"] * (len(rel.columns) - 2)  # H4: a relative fixed in its team
    rel.to_csv(case / "relations.csv", index=False, encoding="utf-8-sig")
    out = tmp_path / "o"
    assert main(["solve", str(case), "--out", str(out), "--quiet", "--lang", lang]) == 0
    a = pd.read_csv(out / "assignments.csv", **read).set_index("cadre_id")
    words = {"E8": {"en": "E8: may not stay in own post: a forbid pin", "zh": "E8 不得留任：现职被禁止安排"},
             "H4": {"en": "H4: may not stay in own post: a relative not in play", "zh": "H4 不得留任：同一班子中有不参与本轮交流的亲属"}}
    for rule, c in (("E8", e8), ("H4", h4)):
        assert a.at[c, "action"] == "move", (rule, c, a.at[c, "reasons"])
        assert words[rule][lang] in a.at[c, "reasons"], (rule, a.at[c, "reasons"])
        assert words["H4" if rule == "E8" else "E8"][lang] not in a.at[c, "reasons"]
    assert not any(words[r][lang] in x for r in words for x in a0["reasons"])  # the base plan says neither


def test_verify_line_adds_up_by_hand_under_weights(tmp_path, capsys):
    """Under a policy whose weights are not 1 (care-first: care and preference ×3), verify writes those terms as
    weight×term, and the line's own numbers add up to its objective by hand; under the default nothing is weighted."""
    import re

    for policy in ("care-first", None):
        out = tmp_path / f"o-{policy}"
        opt = ["--policy", policy] if policy else []
        assert main(["solve", str(SAMPLE), "--out", str(out), "--quiet", "--lang", "en", *opt]) == 0
        capsys.readouterr()
        assert main(["verify", str(SAMPLE), str(out), "--lang", "en", *opt]) == 0
        line = capsys.readouterr().out
        m = re.search(r"objective (-?\d+) = pairs\(fit (\S+), hardship (\S+), care (\S+), preference (\S+), "
                      r"assess (\S+)\) \+ fill (\S+) − move (\S+) − structure (\S+) − flow (\S+?)[ \n(]", line)
        assert m, line

        def val(t: str) -> float:
            w, _, v = t.rstrip(",").rpartition("×")
            return float(w or 1) * float(v)
        f = [val(t) for t in m.groups()[1:]]
        assert sum(f[:6]) - sum(f[6:]) == int(m.group(1)), line  # pairs and fill, less move, structure, flow
        assert ("3×" in m.group(4) and "3×" in m.group(5) and "weight × term" in line) if policy else "×" not in line
