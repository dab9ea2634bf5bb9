"""Flow rows (SPEC §5, the flow penalty): per province, arrivals − departures − f⁺ + f⁻ = 0 with penalized
imbalance auxiliaries f⁺, f⁻ (no rows at all when the flow weight is 0)."""

from __future__ import annotations

import numpy as np

from cadrex.model.rows import RowIndex
from cadrex.rules.context import Context


def flow_rows(ctx: Context, ri: RowIndex) -> None:
    """Flow balance per province; ``ri.flow_row`` maps a province to its row (−1 without)."""
    pol, w = ctx.policy, ctx.policy["weights"]
    fw = int(w["flow"]) * int(pol["flow_penalty"])
    ri.flow_row = np.full(len(ctx.prov_ids), -1, np.int64)
    if fw:
        Q, n = len(ctx.prov_ids), len(ctx.I)
        r = ri.add(Q, 0.0, 0.0, "flow", [f"flow balance {q}" for q in ctx.prov_ids])
        ri.flow_row[:] = r
        ri.aux(Q, -fw, np.full(Q, n), [f"flow+ {q}" for q in ctx.prov_ids], r, -1.0)
        ri.aux(Q, -fw, np.full(Q, n), [f"flow- {q}" for q in ctx.prov_ids], r, 1.0)
