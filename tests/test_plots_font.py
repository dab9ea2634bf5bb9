"""PNG charts in Chinese (issue 16): with an installed CJK font the labels are Chinese and drawn in that font with
no missing glyph; without one they fall back to English with exactly one warning."""

from __future__ import annotations

import io
import logging
import warnings

import pytest
from conftest import SAMPLE

import cadrex
from cadrex.reports.plots import font, hardship_filled, score_hist, structure_bars


@pytest.fixture(scope="module")
def summary():
    res = cadrex.solve(cadrex.load_case(str(SAMPLE)))
    return {"base": res.summary}, {"base": res.assignments}


def test_zh_charts_use_a_cjk_font_and_miss_no_glyph(summary):
    name = font.cjk_font()
    if name is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei; .ci/system-deps installs it)")
    sums, assigns = summary
    for fig in (structure_bars(sums, lang="zh"), hardship_filled(sums, lang="zh"), score_hist(assigns, lang="zh")):
        ax = fig.axes[0]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in ax.get_title())
        assert ax.title.get_fontname() == name
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fig.savefig(io.BytesIO(), format="png")
        assert not [x for x in w if "missing from" in str(x.message) or "Glyph" in str(x.message)]


def test_without_a_cjk_font_english_labels_and_one_warning(summary, monkeypatch, caplog):
    monkeypatch.setattr(font, "cjk_font", lambda: None)
    monkeypatch.setattr(font, "_warned", [False])
    sums, _ = summary
    with caplog.at_level(logging.WARNING):
        a = structure_bars(sums, lang="zh")
        b = hardship_filled(sums, lang="zh")
    assert a.axes[0].get_title() == "Team structure shortfalls, all teams"
    assert b.axes[0].get_title() == "Hardship postings filled"
    assert sum("no CJK font" in r.message for r in caplog.records) == 1
