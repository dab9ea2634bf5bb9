"""The re-plan frontier (SPEC §10) as a standalone SVG: best §6 objective against the number of changes allowed,
each step labelled with its gain ("accept one more change, gain Δ"). SVG text is drawn by the reader's browser, so
the Chinese labels render with the reader's own fonts."""

from __future__ import annotations

from html import escape

import pandas as pd


def frontier_svg(frontier: pd.DataFrame, width: int = 560, height: int = 320) -> str:
    """``frontier``: columns ``k`` and ``objective`` (None where no plan); returns the SVG document."""
    pts = [(int(k), int(o)) for k, o in zip(frontier["k"], frontier["objective"], strict=True) if pd.notna(o)]
    ml, mr, mt, mb = 70, 20, 40, 50
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            'font-family="sans-serif" font-size="12">')
    title = '<text x="10" y="20" font-size="14">变动人数与最优目标值 / best objective by changes allowed</text>'
    if not pts:
        return head + title + '<text x="10" y="60">无可行方案 / no feasible plan</text></svg>\n'
    k0, k1 = pts[0][0], max(pts[-1][0], pts[0][0] + 1)
    lo, hi = min(o for _, o in pts), max(o for _, o in pts)
    if hi == lo:
        lo, hi = lo - 1, hi + 1

    def x(k: int) -> float:
        return ml + (k - k0) / (k1 - k0) * (width - ml - mr)

    def y(o: int) -> float:
        return mt + (hi - o) / (hi - lo) * (height - mt - mb)

    parts = [head, title]
    parts.append(f'<line x1="{ml}" y1="{height - mb}" x2="{width - mr}" y2="{height - mb}" stroke="black"/>')
    parts.append(f'<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{height - mb}" stroke="black"/>')
    for k, _ in pts:
        parts.append(f'<text x="{x(k):.1f}" y="{height - mb + 16}" text-anchor="middle">{k}</text>')
    for o in (lo, hi):
        parts.append(f'<text x="{ml - 6}" y="{y(o) + 4:.1f}" text-anchor="end">{o}</text>')
    parts.append(f'<text x="{(ml + width - mr) / 2:.0f}" y="{height - 10}" text-anchor="middle">'
                 '允许的变动人数 k / changes allowed k</text>')
    path = " ".join(f"{x(k):.1f},{y(o):.1f}" for k, o in pts)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#c0392b" stroke-width="2"/>')
    for i, (k, o) in enumerate(pts):
        parts.append(f'<circle cx="{x(k):.1f}" cy="{y(o):.1f}" r="4" fill="#c0392b"><title>k={k}: {o}</title></circle>')
        if i:
            d = o - pts[i - 1][1]
            parts.append(f'<text x="{x(k):.1f}" y="{y(o) - 10:.1f}" text-anchor="middle" fill="#555">'
                         f'{escape(f"+{d}" if d >= 0 else str(d))}</text>')
    parts.append("</svg>\n")
    return "".join(parts)
