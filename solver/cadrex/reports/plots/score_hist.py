"""Distribution of weighted pair scores of the chosen assignments, per scenario."""

from __future__ import annotations

import pandas as pd


def score_hist(assignments: dict[str, pd.DataFrame]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, a in assignments.items():
        ax.hist(a.loc[a["action"] != "unassigned", "score"].astype(float), bins=20, alpha=0.5, label=name)
    ax.set_xlabel("weighted pair score")
    ax.set_ylabel("cadres")
    ax.set_title("Pair scores of the plan")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
