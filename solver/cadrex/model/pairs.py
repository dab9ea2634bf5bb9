"""The pair set and its objective (SPEC §5): every stay option and eligible move as a (cadre, post) pair, and per pair
the objective coefficient: weighted score + fill − move cost (plus the per-pair terms of any extension, see
:mod:`cadrex.model.core`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadrex.rules.context import Context
from cadrex.rules.eligibility import eligible_moves, stay_block
from cadrex.rules.scores import fill_value, pair_terms, weighted

#: what fixes a stay option at 0, by code (0: nothing); see :func:`cadrex.rules.eligibility.stay_block`
BLOCK_RULES = np.array(["", "none", "H1", "H4", "E8"], dtype=object)


@dataclass
class Pairs:
    """A set of (cadre, post) pairs: int32 cadre and post, a stay flag and an int8 block code (10 bytes a pair, so
    that the tens of millions of eligible pairs of a national case fit in memory)."""

    c: np.ndarray
    p: np.ndarray
    stay: np.ndarray
    code: np.ndarray

    def __len__(self) -> int:
        return len(self.c)

    @property
    def block(self) -> np.ndarray:
        """Per pair: '' or the rule that fixes it at 0 (object array; use :attr:`ok` on large sets)."""
        return BLOCK_RULES[self.code]

    @property
    def ok(self) -> np.ndarray:
        """Per pair: may it be chosen (not a blocked stay option)?"""
        return self.code == 0

    def take(self, idx: np.ndarray) -> Pairs:
        return Pairs(self.c[idx], self.p[idx], self.stay[idx], self.code[idx])


def all_pairs(ctx: Context) -> Pairs:
    """Every stay option (blocked ones included, see :func:`stay_block`) and every eligible move, sorted by cadre
    then post. The moves come sorted; each stay is inserted at its place (no sort of tens of millions of pairs)."""
    block = stay_block(ctx)
    has_post = block != "none"
    sc = ctx.I[has_post].astype(np.int32)
    sp_ = ctx.c_post[sc].astype(np.int32)
    mc, mp = eligible_moves(ctx)
    lo_ = np.searchsorted(mc, sc, "left")
    hi_ = np.searchsorted(mc, sc, "right")
    # a loop per cadre, not per pair: a vectorized search would need an int64 key for every pair (400 MB at 10,000)
    pos = np.array([a + int(np.searchsorted(mp[a:b], q)) for a, b, q in zip(lo_, hi_, sp_, strict=True)], np.int64)
    c = np.insert(mc, pos, sc)
    p = np.insert(mp, pos, sp_)
    at = pos + np.arange(len(pos))  # where the inserted stays end up
    stay = np.zeros(len(c), bool)
    stay[at] = True
    blk = np.zeros(len(c), np.int8)
    for code, rule in enumerate(BLOCK_RULES):
        blk[at[block[has_post] == rule]] = code
    return Pairs(c, p, stay, blk)


def pair_objective(ctx: Context, pairs: Pairs, extensions: tuple = ()) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Unweighted terms, weighted pair score, and the objective coefficient (score + fill − move cost, plus each
    extension's :meth:`~cadrex.model.core.Extension.pair_objective`; those are not part of the terms or score)."""
    pol, w = ctx.policy, ctx.policy["weights"]
    terms = pair_terms(ctx, pairs.c, pairs.p)
    score = weighted(ctx, terms)
    fill = int(w["fill"]) * fill_value(ctx, pairs.p)
    holder_move = (~pairs.stay) & (ctx.c_post[pairs.c] >= 0) & ~ctx.c_must[pairs.c]
    move = int(w["move"]) * int(pol["move_cost"]) * holder_move
    obj = (score + fill - move).astype(np.float64)
    for ext in extensions:
        extra = ext.pair_objective(ctx, pairs)
        if extra is not None:
            obj = obj + extra
    return terms, score, obj
