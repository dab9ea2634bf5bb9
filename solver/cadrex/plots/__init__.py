"""Plots for reports: one function per file, each returning a matplotlib Figure (English labels: the machine may
lack CJK fonts; the HTML around them is bilingual)."""

from cadrex.plots.flow_map import flow_map
from cadrex.plots.hardship_filled import hardship_filled
from cadrex.plots.score_hist import score_hist
from cadrex.plots.structure_bars import structure_bars

__all__ = ["flow_map", "hardship_filled", "score_hist", "structure_bars"]
