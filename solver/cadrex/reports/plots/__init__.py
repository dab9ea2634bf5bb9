"""Plots for reports: one function per file, each returning a matplotlib Figure (English labels: the machine may
lack CJK fonts; the HTML around them is bilingual)."""

from cadrex.reports.plots.flow_map import flow_map
from cadrex.reports.plots.hardship_filled import hardship_filled
from cadrex.reports.plots.score_hist import score_hist
from cadrex.reports.plots.structure_bars import structure_bars

__all__ = ["flow_map", "hardship_filled", "score_hist", "structure_bars"]
