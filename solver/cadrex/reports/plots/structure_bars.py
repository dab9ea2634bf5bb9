"""Structure shortfall units per rule before and after, per scenario."""

from __future__ import annotations


def structure_bars(summaries: dict[str, dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rules = sorted({k for s in summaries.values() for k in s["metrics"]["structure_after"]})
    fig, ax = plt.subplots(figsize=(8, 4))
    first = next(iter(summaries.values()))
    w = 0.8 / (len(summaries) + 1)
    x = np.arange(len(rules))
    ax.bar(x, [first["metrics"]["structure_before"].get(r, 0) for r in rules], w, label="before (today)")
    for i, (name, s) in enumerate(summaries.items(), start=1):
        ax.bar(x + i * w, [s["metrics"]["structure_after"].get(r, 0) for r in rules], w, label=f"after: {name}")
    ax.set_xticks(x + w * len(summaries) / 2, rules, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("shortfall units (age: person-years)")
    ax.set_title("Team structure shortfalls, all teams")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
