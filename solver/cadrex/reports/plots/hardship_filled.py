"""Vacancies filled by hardship level, per scenario."""

from __future__ import annotations

from cadrex.i18n import say
from cadrex.reports.plots.font import chart_lang


def hardship_filled(summaries: dict[str, dict], lang: str | None = None):
    """Bar figure; labels in ``lang`` when a CJK font is installed (:func:`chart_lang`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    lang = chart_lang(lang)
    fig, ax = plt.subplots(figsize=(6, 4))
    levels = ["0", "1", "2", "3"]
    w = 0.8 / max(1, len(summaries))
    for i, (name, s) in enumerate(summaries.items()):
        v = s["metrics"]["vacancies_filled_by_hardship"]
        ax.bar(np.arange(4) + i * w, [v.get(k, 0) for k in levels], w, label=name)
    ax.set_xticks(np.arange(4) + w * (len(summaries) - 1) / 2, [say("report.hardship_level", lang, k=k) if k != "0" else say("report.hardship_none", lang) for k in levels])
    ax.set_ylabel(say("plot.hardship_y", lang))
    ax.set_title(say("plot.hardship_title", lang))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
