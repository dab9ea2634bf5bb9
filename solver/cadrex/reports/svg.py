"""Charts as inline SVG (class ``chart``): drawn by the reader's browser with the reader's own fonts, so Chinese
labels show wherever the report is opened; no script, no network."""

from __future__ import annotations

from html import escape

COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]

__all__ = ["bars", "flow_matrix", "histogram"]


def _open(title: str, width: int, height: int) -> list[str]:
    return [f'<svg class="chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
            f'<text x="10" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']


def _legend(names: list[str], height: int) -> list[str]:
    """A colour key below the plot area, four entries a row."""
    out = []
    for j, name in enumerate(names):
        x, y = 60 + (j % 4) * 150, height + 26 + 18 * (j // 4)
        out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLORS[j % len(COLORS)]}"/>'
                   f'<text x="{x + 14}" y="{y + 9}" font-size="11">{escape(name)}</text>')
    return out


def bars(title: str, groups: list[str], series: dict[str, list[float]], width: int = 640, height: int = 220) -> str:
    """Grouped bar chart: one group per label of ``groups``, one bar per series (legend below)."""
    vals = [v for s in series.values() for v in s if v is not None]
    top = max([1.0] + [abs(v) for v in vals])
    n, k = max(1, len(groups)), max(1, len(series))
    gw = (width - 60) / n
    bw = gw * 0.8 / k
    legend_rows = (len(series) + 3) // 4
    out = _open(title, width, height + 30 + 18 * legend_rows)
    out.append(f'<line x1="50" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#333"/>')
    for i, g in enumerate(groups):
        x0 = 50 + i * gw + gw * 0.1
        out.append(f'<text x="{x0 + gw * 0.4:.1f}" y="{height + 16}" font-size="11" text-anchor="middle">{escape(g)}</text>')
        for j, (name, s) in enumerate(series.items()):
            v = s[i] if i < len(s) and s[i] is not None else 0.0
            hgt = (height - 30) * abs(v) / top
            out.append(f'<rect x="{x0 + j * bw:.1f}" y="{height - hgt:.1f}" width="{bw * 0.9:.1f}" height="{hgt:.1f}" '
                       f'fill="{COLORS[j % len(COLORS)]}"><title>{escape(name)} {escape(g)}: {v:g}</title></rect>')
            out.append(f'<text x="{x0 + j * bw + bw * 0.45:.1f}" y="{height - hgt - 3:.1f}" font-size="10" '
                       f'text-anchor="middle">{v:g}</text>')
    out += _legend(list(series), height)
    out.append("</svg>")
    return "".join(out)


def histogram(title: str, samples: dict[str, list[float]], bins: int = 12, width: int = 640, height: int = 220) -> str:
    """Histograms of several samples on shared bins (outlined steps, one colour per sample)."""
    allv = [v for s in samples.values() for v in s]
    lo, hi = (min(allv), max(allv)) if allv else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1
    step = (hi - lo) / bins
    counts = {n: [0] * bins for n in samples}
    for n, s in samples.items():
        for v in s:
            counts[n][min(bins - 1, int((v - lo) / step))] += 1
    top = max([1] + [c for cs in counts.values() for c in cs])
    bw = (width - 60) / bins
    legend_rows = (len(samples) + 3) // 4
    out = _open(title, width, height + 30 + 18 * legend_rows)
    out.append(f'<line x1="50" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#333"/>')
    for b in range(0, bins + 1, max(1, bins // 6)):
        out.append(f'<text x="{50 + b * bw:.1f}" y="{height + 16}" font-size="10" text-anchor="middle">{lo + b * step:.0f}</text>')
    for j, (n, cs) in enumerate(counts.items()):
        pts = []
        for b, c in enumerate(cs):
            y = height - (height - 30) * c / top
            pts += [f"{50 + b * bw:.1f},{y:.1f}", f"{50 + (b + 1) * bw:.1f},{y:.1f}"]
        color = COLORS[j % len(COLORS)]
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{50:.1f},{height} {" ".join(pts)} '
                   f'{50 + bins * bw:.1f},{height}"><title>{escape(n)}</title></polyline>')
    out += _legend(list(samples), height)
    out.append("</svg>")
    return "".join(out)


def flow_matrix(title: str, flows: list[list], from_label: str, to_label: str, cell: int = 26) -> str:
    """Province-to-province moves as a matrix: rows = from, columns = to, shade and number = cadres."""
    provs = sorted({a for a, _, _ in flows} | {b for _, b, _ in flows})
    if not provs:
        provs = ["-"]
    idx = {p: i for i, p in enumerate(provs)}
    top = max([1] + [n for _, _, n in flows])
    left, head = 70, 60
    w, h = left + cell * len(provs) + 20, head + cell * len(provs) + 30
    out = _open(title, max(w, 320), h)
    out.append(f'<text x="{left}" y="{head - 28}" font-size="11">{escape(to_label)} →</text>')
    out.append(f'<text x="6" y="{head + 12}" font-size="11">{escape(from_label)} ↓</text>')
    for p, i in idx.items():
        out.append(f'<text x="{left + i * cell + cell / 2:.1f}" y="{head - 6}" font-size="10" text-anchor="middle">{escape(p)}</text>')
        out.append(f'<text x="{left - 6}" y="{head + i * cell + cell * 0.65:.1f}" font-size="10" text-anchor="end">{escape(p)}</text>')
        for j in range(len(provs)):
            out.append(f'<rect x="{left + j * cell}" y="{head + i * cell}" width="{cell}" height="{cell}" fill="none" stroke="#ddd"/>')
    for a, b, n in flows:
        i, j = idx[a], idx[b]
        shade = 0.15 + 0.85 * n / top
        out.append(f'<rect x="{left + j * cell}" y="{head + i * cell}" width="{cell}" height="{cell}" fill="#e15759" '
                   f'fill-opacity="{shade:.2f}"><title>{escape(a)} → {escape(b)}: {n}</title></rect>')
        out.append(f'<text x="{left + j * cell + cell / 2:.1f}" y="{head + i * cell + cell * 0.65:.1f}" font-size="10" '
                   f'text-anchor="middle">{n}</text>')
    out.append("</svg>")
    return "".join(out)
