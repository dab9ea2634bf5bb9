"""SPEC §2 validation: every check reports the exact file:line:column and exits 2; valid forms load."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cadrex.cli import main
from cadrex.io import CaseError, load_case


def _copy(tiny: Path, tmp: Path) -> Path:
    d = tmp / "case"
    shutil.copytree(tiny, d)
    return d


def _edit(case: Path, stem: str, key: str | None, col: str, value: str) -> tuple[int, int]:
    """Set one cell (row whose first column == key; None = append a copy of the last row) and return its
    (line, column)."""
    p = case / f"{stem}.csv"
    rows = list(csv.reader(p.read_text(encoding="utf-8-sig").splitlines()))
    header = rows[0]
    if key is None:
        rows.append(list(rows[-1]))
        i = len(rows) - 1
    else:
        i = next(k for k, r in enumerate(rows) if r and r[0] == key)
    rows[i][header.index(col)] = value
    with open(p, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return i + 1, header.index(col) + 1


def _problems(case: Path, capsys) -> list[str]:
    assert main(["validate", str(case)]) == 2
    return [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("cadrex:")]


CELL_DEFECTS = [
    # (stem, row key, column, bad value, expected words)
    ("cadres", "C000003", "gender", "X", "gender"),
    ("cadres", "C000003", "birth_date", "1973-13-40", "date"),
    ("cadres", "C000004", "education", "小学", "education"),
    ("cadres", "C000004", "grade", "科员", "grade"),
    ("cadres", "C000004", "movable", "maybe", "boolean"),
    ("cadres", "C000004", "years_in_post", "three", "number"),
    ("cadres", "C000004", "exchange_kind", "随便", "exchange kind"),
    ("cadres", "C000004", "province_id", "ZZ", "unknown province"),
    ("teams", "T00002", "hardship", "5", "within 0..3"),
    ("teams", "T00002", "province_id", "XX", "unknown province"),
    ("teams", "T00002", "structure_model", "nosuch", "unknown structure model"),
    ("posts", "P000007", "team_id", "T99999", "unknown team"),
    ("posts", "P000007", "holder_id", "C999999", "unknown cadre"),
    ("posts", "P000007", "holder_id", "C000021", "already holds"),      # a cadre holding two posts
    ("posts", "P000029", "holder_id", "C000012", "grade"),              # 正厅 holder on a 副厅 post
    ("posts", "P000007", "holder_id", "C000018", "serves in SD"),       # SD cadre on a BJ team
    ("posts", "P000007", "role", "局长", "role"),
    ("provinces", "BJ", "lat", "95", "within -90..90"),
    ("provinces", "BJ", "lon", "east", "number"),
    ("relations", "C000012", "cadre_b", "C000012", "related to itself"),
    ("relations", "C000012", "cadre_b", "C404", "unknown cadre"),
    ("pins", "C000005", "post_id", "P404", "unknown post"),
    ("pins", "C000005", "mode", "maybe", "mode"),
]


@pytest.mark.parametrize("stem,key,col,value,words", CELL_DEFECTS, ids=[f"{d[0]}-{d[2]}-{d[4]}" for d in CELL_DEFECTS])
def test_cell_defect_located(tiny_path, tmp_path, capsys, stem, key, col, value, words):
    case = _copy(tiny_path, tmp_path)
    line, c = _edit(case, stem, key, col, value)
    probs = _problems(case, capsys)
    want = f"{case / (stem + '.csv')}:{line}:{c}:"
    assert any(p.startswith(want) and words in p for p in probs), probs


def test_preference_rank_out_of_range(tiny_path, tmp_path, capsys):
    case = _copy(tiny_path, tmp_path)
    p = case / "preferences.csv"
    lines = p.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",7"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    probs = _problems(case, capsys)
    assert any(x.startswith(f"{p}:4:4:") and "rank" in x for x in probs), probs


def test_duplicate_id(tiny_path, tmp_path, capsys):
    case = _copy(tiny_path, tmp_path)
    line, _ = _edit(case, "cadres", None, "cadre_id", "C000001")
    probs = _problems(case, capsys)
    assert any(x.startswith(f"{case / 'cadres.csv'}:{line}:1:") and "duplicate" in x and "line 2" in x for x in probs)


def test_missing_file_and_column(tiny_path, tmp_path, capsys):
    case = _copy(tiny_path, tmp_path)
    (case / "teams.csv").unlink()
    df = pd.read_csv(case / "cadres.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig").drop(columns=["gender"])
    df.to_csv(case / "cadres.csv", index=False)
    probs = _problems(case, capsys)
    assert any(x.startswith(f"{case / 'teams.csv'}:1:1:") and "missing" in x for x in probs)
    assert any(x.startswith(f"{case / 'cadres.csv'}:1:1:") and "gender" in x for x in probs)


def test_a_folder_where_a_table_should_be_is_said_so_not_missing(tiny_path, tmp_path, capsys):
    """A folder named teams.csv (a required table) or relations.csv (an optional one) is reported as a folder at its
    path (exit 2), not as a missing file, and not silently skipped."""
    case = _copy(tiny_path, tmp_path)
    for stem in ("teams", "relations"):
        (case / f"{stem}.csv").unlink()
        (case / f"{stem}.csv").mkdir()
    probs = _problems(case, capsys)
    for stem in ("teams", "relations"):
        assert any(x.startswith(f"{case / (stem + '.csv')}:1:1:") and "folder, not a file" in x for x in probs), probs
    assert not any("missing" in x for x in probs)


def test_unknown_column_like_a_known_one_is_said_and_ignored(tiny_path, tmp_path, capsys):
    """SPEC §1 keeps and ignores unknown columns; one that looks like a misspelt known column (an optional column
    would silently take its default) gets a warning at file:1:column naming the likely column. Others stay silent."""
    case = _copy(tiny_path, tmp_path)
    df = pd.read_csv(case / "cadres.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = df.rename(columns={"years_in_grade": "yrs_in_grade"}).assign(备注="")
    df.to_csv(case / "cadres.csv", index=False)
    assert main(["validate", str(case)]) == 0
    err = capsys.readouterr().err
    col = list(df.columns).index("yrs_in_grade") + 1
    assert f"{case / 'cadres.csv'}:1:{col}: unknown column 'yrs_in_grade' is ignored; did you mean 'years_in_grade'?" in err
    assert "备注" not in err
    assert main(["validate", str(case), "--lang", "zh"]) == 0
    assert "未知列“yrs_in_grade”" in capsys.readouterr().err


def test_all_problems_in_one_run(tiny_path, tmp_path, capsys):
    case = _copy(tiny_path, tmp_path)
    _edit(case, "cadres", "C000003", "gender", "X")
    _edit(case, "teams", "T00002", "hardship", "9")
    _edit(case, "posts", "P000007", "team_id", "T0")
    assert len(_problems(case, capsys)) == 3


def test_unknown_policy_key_and_type(tiny_path, tmp_path, capsys):
    case = _copy(tiny_path, tmp_path)
    (case / "policy.toml").write_text("time_limit = 120\nmove_cots = 3\n\n[weights]\ncare = 2\nfoo = 1\nfit = 'x'\n", encoding="utf-8")
    probs = _problems(case, capsys)
    p = case / "policy.toml"
    assert any(x.startswith(f"{p}:2:1:") and "move_cots" in x for x in probs), probs
    assert any(x.startswith(f"{p}:6:1:") and "weights.foo" in x for x in probs), probs
    assert any(x.startswith(f"{p}:7:1:") and "not an integer" in x for x in probs), probs


def test_unknown_structure_rule_key(tiny_path, tmp_path, capsys):
    case = _copy(tiny_path, tmp_path)
    p = case / "structures" / "city_gov.toml"
    p.write_text(p.read_text(encoding="utf-8") + "min_femail = 2\n", encoding="utf-8")
    line = len(p.read_text(encoding="utf-8").splitlines())
    probs = _problems(case, capsys)
    assert any(x.startswith(f"{p}:{line}:1:") and "min_femail" in x for x in probs), probs


def test_bad_as_of(tiny_path, tmp_path, capsys):
    case = _copy(tiny_path, tmp_path)
    (case / "case.toml").write_text('name = "x"\nas_of = "2026-02-30"\n', encoding="utf-8")
    probs = _problems(case, capsys)
    assert any(x.startswith(f"{case / 'case.toml'}:2:1:") and "as_of" in x for x in probs), probs


@pytest.mark.parametrize("form", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_encodings_and_xlsx_round_trip(tiny_path, tmp_path, form):
    case = _copy(tiny_path, tmp_path)
    ref = load_case(tiny_path)
    for stem in ("cadres", "posts", "teams"):
        df = pd.read_csv(case / f"{stem}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if form == "xlsx":
            (case / f"{stem}.csv").unlink()
            df.to_excel(case / f"{stem}.xlsx", index=False)
        else:
            df.to_csv(case / f"{stem}.csv", index=False, encoding=form)
    got = load_case(case)
    for stem in ("cadres", "posts", "teams"):
        a, b = getattr(ref, stem).drop(columns="_line"), getattr(got, stem).drop(columns="_line")
        pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_labels_and_ids_equivalent(tiny_path, tmp_path):
    case = _copy(tiny_path, tmp_path)
    _edit(case, "cadres", "C000003", "grade", "vice_bureau")
    _edit(case, "cadres", "C000003", "gender", "M")
    _edit(case, "cadres", "C000003", "minority", "no")
    c = load_case(case)
    assert c.cadres.at["C000003", "grade"] == 4 and c.cadres.at["C000003", "gender"] == "M"
    _edit(case, "cadres", "C000003", "grade", "副厅级")  # as analysts write them (a newcomer's were refused)
    _edit(case, "cadres", "C000003", "gender", "女性")
    c = load_case(case)
    assert c.cadres.at["C000003", "grade"] == 4 and c.cadres.at["C000003", "gender"] == "F"


def test_caseerror_lists_everything(tiny_path, tmp_path):
    case = _copy(tiny_path, tmp_path)
    _edit(case, "cadres", "C000003", "gender", "X")
    with pytest.raises(CaseError) as e:
        load_case(case)
    assert "gender" in str(e.value)


def test_formula_like_names_are_valid(tiny_path, tmp_path):
    case = _copy(tiny_path, tmp_path)
    _edit(case, "cadres", "C000004", "name", '=HYPERLINK("x")')
    assert load_case(case).cadres.at["C000004", "name"] == '=HYPERLINK("x")'


def test_one_problem_is_counted_in_the_singular_and_zh_lists_use_full_width_commas(tiny_path, tmp_path, capsys):
    """One bad grade: "1 problem in the input" (not "problem(s)"); the allowed values are listed with ", " in English
    and "，" in Chinese, as the rest of the Chinese message."""
    case = _copy(tiny_path, tmp_path)
    _edit(case, "posts", "P000007", "grade", "vice_bureauX")
    assert main(["validate", str(case)]) == 2
    err = capsys.readouterr().err
    assert "1 problem in the input" in err and "副科, section" in err
    assert main(["--lang", "zh", "validate", str(case)]) == 2
    err = capsys.readouterr().err
    assert "输入中有 1 处问题" in err and "副科，section 正科" in err and "副科, " not in err


def test_a_misspelt_column_is_said_again_when_no_plan_comes_and_the_log_keeps_how_the_run_ended(tmp_path, capsys):
    """The sample with `years_in_post` misspelt reads (the column is optional, so its default stands) and has no plan
    (E5 tenure then keeps cadres who must move): the solve says the reading warning again next to the verdict, so
    the user is not left with the rules alone; the --log-file holds the verdict and the warning too, and a run
    stopped by bad input keeps its problems there."""
    from conftest import SAMPLE

    case = tmp_path / "c"
    shutil.copytree(SAMPLE, case)
    df = pd.read_csv(case / "cadres.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.rename(columns={"years_in_post": "years_in_psot"}).to_csv(case / "cadres.csv", index=False)
    log = tmp_path / "run.log"
    code = main(["solve", str(case), "--out", str(tmp_path / "out"), "--log-file", str(log), "--quiet"])
    err = capsys.readouterr().err
    assert code == 3 and "infeasible" in err
    again = err.split("reading the case gave these warnings")[1]
    assert "unknown column 'years_in_psot' is ignored; did you mean 'years_in_post'?" in again
    text = log.read_text(encoding="utf-8")
    assert "reading the case gave these warnings" in text and "infeasible: no plan satisfies every rule" in text
    _edit(case, "posts", "P000001", "grade", "vice_bureauX")
    assert main(["solve", str(case), "--out", str(tmp_path / "out2"), "--log-file", str(log), "--quiet"]) == 2
    capsys.readouterr()
    text = log.read_text(encoding="utf-8")
    assert "grade: 'vice_bureauX' is not allowed" in text and "1 problem in the input; nothing written" in text
