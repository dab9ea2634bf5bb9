"""PNG charts (matplotlib) for notebooks: one function per file, each returning a Figure labelled in the chosen
language when a CJK font is installed (:func:`chart_lang`), else in English with one warning. The HTML reports
draw their charts as inline SVG instead (:mod:`cadrex.reports.svg`)."""

from cadrex.reports.plots.font import chart_lang, cjk_font
from cadrex.reports.plots.hardship_filled import hardship_filled
from cadrex.reports.plots.score_hist import score_hist
from cadrex.reports.plots.structure_bars import structure_bars

__all__ = ["chart_lang", "cjk_font", "hardship_filled", "score_hist", "structure_bars"]
