"""Province-to-province moves drawn as arrows between province coordinates."""

from __future__ import annotations

import pandas as pd


def flow_map(flows: list[list], provinces: pd.DataFrame, title: str = "Moves between provinces"):
    """``flows``: [from, to, count]; ``provinces``: index province_id with lat, lon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter(provinces["lon"], provinces["lat"], s=12, color="grey")
    for pid, r in provinces.iterrows():
        ax.annotate(str(pid), (r["lon"], r["lat"]), fontsize=6, color="grey")
    top = max([n for _, _, n in flows] or [1])
    for a, b, n in flows:
        if a in provinces.index and b in provinces.index:
            pa, pb = provinces.loc[a], provinces.loc[b]
            ax.annotate("", xy=(pb["lon"], pb["lat"]), xytext=(pa["lon"], pa["lat"]),
                        arrowprops={"arrowstyle": "->", "lw": 0.5 + 3 * n / top, "alpha": 0.6, "color": "tab:red"})
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title)
    fig.tight_layout()
    return fig
