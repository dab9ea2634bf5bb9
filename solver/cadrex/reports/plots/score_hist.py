"""Distribution of weighted pair scores of the chosen assignments, per scenario."""

from __future__ import annotations

import pandas as pd

from cadrex.i18n import say
from cadrex.reports.plots.font import chart_lang


def score_hist(assignments: dict[str, pd.DataFrame], lang: str | None = None):
    """Histogram figure; labels in ``lang`` when a CJK font is installed (:func:`chart_lang`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lang = chart_lang(lang)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, a in assignments.items():
        ax.hist(a.loc[a["action"] != "unassigned", "score"].astype(float), bins=20, alpha=0.5, label=name)
    ax.set_xlabel(say("plot.scores_x", lang))
    ax.set_ylabel(say("plot.scores_y", lang))
    ax.set_title(say("plot.scores_title", lang))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
