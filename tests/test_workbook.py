"""The 方案表 (issue 16): ``solve --xlsx`` and ``compare --xlsx`` write the workbook an organization department
expects — 交流人选名单, 岗位空缺与补充, 班子结构变化 — in the chosen language, with print settings (A4 landscape,
repeated header rows, frozen panes) and formula-like text kept as text. Expected cells are read from the case's CSV
files here, not from cadrex's tables."""

from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE, set_cell

from cadrex.cli import main

LIST_HEAD = ["序号", "姓名", "性别", "民族", "出生年月", "学历", "现任职务", "拟任职务", "交流类型", "交流理由"]


def _csv(case, stem):
    return pd.read_csv(case / f"{stem}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index(
        f"{stem[:-1]}_id" if stem != "cadres" else "cadre_id")


def _print_ready(ws, rows: str = "$1:$2", freeze: str = "A3") -> None:
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
    assert ws.print_title_rows == rows and ws.freeze_panes == freeze
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    d = tmp_path_factory.mktemp("wb")
    case = d / "case"
    shutil.copytree(SAMPLE, case)
    set_cell(case, "cadres", "C000004", "name", "=HYPERLINK(\"x\")")  # a mover whose name looks like a formula
    assert main(["solve", str(case), "--out", str(d / "plan"), "--xlsx", "--lang", "zh", "--quiet"]) == 0
    return case, d / "plan"


def test_exchange_list_sheet(workbook):
    case, plan = workbook
    wb = openpyxl.load_workbook(plan / "plan.xlsx")
    assert wb.sheetnames[:3] == ["交流人选名单", "岗位空缺与补充", "班子结构变化"]
    ws = wb["交流人选名单"]
    _print_ready(ws)
    assert [c.value for c in ws[2]] == LIST_HEAD
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    a = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    movers = a[a["action"] == "move"]
    assert [r[0] for r in rows] == list(range(1, len(movers) + 1))
    cad, posts, teams = _csv(case, "cadres"), _csv(case, "posts"), _csv(case, "teams")
    by_name = {r[1]: r for r in rows}
    for m in movers.itertuples():
        c = cad.loc[m.cadre_id]
        r = by_name["'" + c["name"] if c["name"].startswith("=") else c["name"]]
        assert r[2] == c["gender"] and r[4] == c["birth_date"][:7].replace("-", ".") and r[5] == c["education"]
        assert r[3] == ("少数民族" if c["minority"] == "是" else "汉族")
        p = posts.loc[m.to_post]
        assert r[7] == teams.at[p["team_id"], "name"] + p["title"]
        if m.from_post:
            q = posts.loc[m.from_post]
            assert r[6] == teams.at[q["team_id"], "name"] + q["title"]
        assert r[9].startswith(f"由{m.from_post}（" if m.from_post else "交流至")
    cell = next(c for c in ws["B"] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_vacancy_and_structure_sheets(workbook):
    case, plan = workbook
    wb = openpyxl.load_workbook(plan / "plan.xlsx")
    ws = wb["岗位空缺与补充"]
    _print_ready(ws)
    got = {r[1]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    p = pd.read_csv(plan / "posts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    vac = p[p["holder_before"] == ""]
    assert set(vac["post_id"]) <= set(got)
    for r in vac.itertuples():
        assert got[r.post_id][7] == ("空缺补充" if r.holder_after else "仍空缺")
    ws = wb["班子结构变化"]
    _print_ready(ws)
    assert [c.value for c in ws[2]] == ["序号", "班子", "结构要求", "交流前短板", "交流后短板", "变化"]
    for r in ws.iter_rows(min_row=3, values_only=True):
        b, a = float(r[3]), float(r[4])
        assert r[5] == ("改善" if a < b else "变差" if a > b else "不变")
    ws = wb["全部人选"]
    assert [c.value for c in ws[1]][:3] == ["干部编号", "姓名", "安排"] and ws.print_title_rows == "$1:$1"
    assert {c.value for c in ws["C"][1:]} <= {"留任", "交流", "未安排"}
    assert "班子名称" in [c.value for c in wb["班子结构"][1]]
    reason = next(c for c in wb["交流人选名单"][3] if c.column_letter == "J")
    assert reason.alignment.wrap_text and wb["交流人选名单"].oddFooter.center.text == "&P / &N"


def test_english_workbook_and_compare_workbook(tmp_path):
    assert main(["solve", str(SAMPLE), "--out", str(tmp_path / "a"), "--xlsx", "--lang", "en", "--quiet"]) == 0
    wb = openpyxl.load_workbook(tmp_path / "a" / "plan.xlsx")
    assert wb.sheetnames[:3] == ["Exchange list", "Vacancies and fills", "Team structure"]
    assert [c.value for c in wb["Exchange list"][2]][:3] == ["No.", "Name", "Gender"]
    assert main(["solve", str(SAMPLE), "--out", str(tmp_path / "b"), "--policy", "promote", "--quiet"]) == 0
    out = tmp_path / "c.xlsx"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--xlsx", str(out), "--lang", "zh"]) == 0
    wb = openpyxl.load_workbook(out)
    assert {"方案总览", "人选差异", "交流人选名单-a", "交流人选名单-b", "cadrex"} <= set(wb.sheetnames)
    _print_ready(wb["方案总览"], "$1:$1", "A2")
