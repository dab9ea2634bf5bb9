"""Plot of the national-scale benchmark: time per size for cadrex (each case and the median over the case families),
the assignment floor and the full model."""

from __future__ import annotations


def plot_scale(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({r["in_play"] for r in rows})
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["in_play"] for r in rows], [r["cadrex_s"] for r in rows], "o", alpha=0.4, label="cadrex, each case")
    med = [sorted(r["cadrex_s"] for r in rows if r["in_play"] == n) for n in sizes]
    ax.plot(sizes, [v[len(v) // 2] for v in med], "o-", label="cadrex, median over the cases")
    ax.plot([r["in_play"] for r in rows], [r["lsa_s"] for r in rows], "s", alpha=0.4,
            label="linear_sum_assignment floor (no side rules)")
    full = [(r["in_play"], r["full_s"]) for r in rows if r.get("full_s") and r.get("full_status") in ("optimal", "feasible")]
    if full:
        ax.plot(*zip(*full, strict=True), "^:", label="full model, one MIP")
    none = [(r["in_play"], r["full_s"]) for r in rows if r.get("full_s") and r.get("full_status") not in ("optimal", "feasible")]
    if none:
        ax.plot(*zip(*none, strict=True), "rx", markersize=9, label="full model: no plan by the time limit")
    ax.set_xlabel("cadres in play")
    ax.set_ylabel("seconds")
    ax.set_yscale("log")
    ax.set_title("cadrex at scale (each size: cadrex and references in one run)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
