"""Vacancies filled by hardship level, per scenario."""

from __future__ import annotations


def hardship_filled(summaries: dict[str, dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    levels = ["0", "1", "2", "3"]
    w = 0.8 / max(1, len(summaries))
    for i, (name, s) in enumerate(summaries.items()):
        v = s["metrics"]["vacancies_filled_by_hardship"]
        ax.bar(np.arange(4) + i * w, [v.get(k, 0) for k in levels], w, label=name)
    ax.set_xticks(np.arange(4) + w * (len(summaries) - 1) / 2, [f"hardship {k}" for k in levels])
    ax.set_ylabel("vacancies filled")
    ax.set_title("Hardship postings filled")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
