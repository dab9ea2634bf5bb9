"""Structure shortfall units per rule before and after, per scenario."""

from __future__ import annotations

from cadrex.i18n import catalogue, say
from cadrex.reports.plots.font import chart_lang


def structure_bars(summaries: dict[str, dict], lang: str | None = None):
    """Grouped bar figure; labels in ``lang`` when a CJK font is installed (:func:`chart_lang`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    lang = chart_lang(lang)
    rules = sorted({k for s in summaries.values() for k in s["metrics"]["structure_after"]})
    names = [say(f"structure.{r}", lang) if f"structure.{r}" in catalogue() else r for r in rules]
    fig, ax = plt.subplots(figsize=(8, 4))
    first = next(iter(summaries.values()))
    w = 0.8 / (len(summaries) + 1)
    x = np.arange(len(rules))
    ax.bar(x, [first["metrics"]["structure_before"].get(r, 0) for r in rules], w, label=say("report.before", lang))
    for i, (name, s) in enumerate(summaries.items(), start=1):
        ax.bar(x + i * w, [s["metrics"]["structure_after"].get(r, 0) for r in rules], w,
               label=say("report.after", lang, name=name))
    ax.set_xticks(x + w * len(summaries) / 2, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(say("plot.structure_y", lang))
    ax.set_title(say("plot.structure_title", lang))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
