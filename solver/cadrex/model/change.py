"""Re-plan change terms (SPEC §10) as an :class:`~cadrex.model.core.Extension` of the one model builder.

For a cadre c in play, b(c) is its post in the baseline plan (−1: none). changed(c) = 1 when c's post in the plan
differs from b(c) ("none" counts as a value). In pair variables, with g = −1 on c's baseline pair and +1 on every
pair of a cadre whose b(c) is none (0 elsewhere)::

    Σ_c changed(c) = n_b + g·x        (n_b = cadres in play with a baseline post)

— exact whatever the plan: a cadre with a baseline post keeps it iff its baseline pair is chosen (a baseline pair
that is no longer eligible, e.g. declined, simply does not exist, so that cadre counts as changed), and a cadre
without one changes iff it is placed. The objective gets −change_cost·(n_b + g·x) (the constant in ``offset``) and
``--max-changes K`` the row g·x ≤ K − n_b (rule id ``max_changes``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cadrex.i18n import Msg
from cadrex.model.core import Extension, Model
from cadrex.model.pairs import Pairs
from cadrex.model.rows import RowIndex
from cadrex.rules.context import Context

#: the rule id of the ``--max-changes`` row in diagnoses
CAP_RULE = "max_changes"


class Change(Extension):
    """−``cost`` per changed cadre, and Σ changed ≤ ``cap`` (None: no cap). ``baseline``: per cadre of the context
    (global index), its baseline post index or −1."""

    def __init__(self, baseline: np.ndarray, cost: int, cap: int | None = None):
        self.baseline = np.asarray(baseline, np.int64)
        self.cost, self.cap = int(cost), (None if cap is None else int(cap))

    def n_b(self, ctx: Context) -> int:
        """Cadres in play with a baseline post."""
        return int((self.baseline[ctx.I] >= 0).sum())

    def g(self, ctx: Context, pairs: Pairs) -> np.ndarray:
        """Per pair of the batch: −1 on a baseline pair, +1 on a pair of a cadre without a baseline post, else 0."""
        b = self.baseline[pairs.c]
        return np.where(b < 0, 1.0, np.where(pairs.p == b, -1.0, 0.0))

    def offset(self, ctx: Context) -> float:
        return float(-self.cost * self.n_b(ctx))

    def pair_objective(self, ctx: Context, pairs: Pairs) -> np.ndarray | None:
        return -self.cost * self.g(ctx, pairs) if self.cost else None

    def master_pairs(self, ctx: Context, pairs: Pairs) -> np.ndarray | None:
        """The baseline pairs: the first master holds the baseline plan (what is left of it), a warm start."""
        return self.g(ctx, pairs) < 0

    def add_rows(self, ctx: Context, ri: RowIndex):
        if self.cap is None:
            return None
        label = Msg("diag.cap", k=self.cap)
        return ri.add(1, -np.inf, self.cap - self.n_b(ctx), CAP_RULE, [label])

    def pair_entries(self, ctx: Context, pairs: Pairs, handle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if handle is None:
            return super().pair_entries(ctx, pairs, handle)
        g = self.g(ctx, pairs)
        j = np.flatnonzero(g)
        return np.full(len(j), int(handle[0]), np.int64), j, g[j]


def fewest_changes_model(model: Model, change: Change) -> Model:
    """``model`` with its objective replaced by −Σ changed(c) (every rule kept): its optimum is −k_min."""
    ctx = model.ctx
    pairs = Pairs(model.pair_c, model.pair_p, model.pair_stay, np.zeros(model.n_pairs, np.int8))
    obj = np.zeros(model.n_vars)
    obj[: model.n_pairs] = -change.g(ctx, pairs)
    return dataclasses.replace(model, obj=obj, offset=float(-change.n_b(ctx)))


__all__ = ["CAP_RULE", "Change", "fewest_changes_model"]
