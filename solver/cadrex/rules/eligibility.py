"""Eligibility of moves, rule by rule (SPEC §5 E1–E10), evaluated in cadre blocks: never a dense
cadre × post matrix of the whole case."""

from __future__ import annotations

import numpy as np

from cadrex.rules.context import Context

#: rule id -> short English description (seed source in docs/rules.md)
E_RULES = {
    "E1": "grade",
    "E2": "scope (must change province)",
    "E3": "native avoidance",
    "E4": "kinship with a fixed team member",
    "E5": "tenure (任满一届)",
    "E6": "retirement buffer",
    "E7": "education (strict)",
    "E8": "forbid pin (or a post closed by a re-plan event)",
    "E9": "disciplinary: no key role, no promotion",
    "E10": "strict specialty",
}


def rule_masks(ctx: Context, ci: np.ndarray, pj: np.ndarray) -> dict[str, np.ndarray]:
    """For global cadre indices ``ci`` and post indices ``pj``: per rule id, a ``len(ci) × len(pj)`` bool
    matrix, True where that rule allows the move."""
    pol = ctx.policy
    g = ctx.c_grade[ci][:, None]
    pg = ctx.p_grade[pj][None, :]
    promo = bool(pol["allow_promotion"]) & (ctx.c_years_grade[ci] >= pol["promotion_min_years"])
    disc = ctx.c_disc[ci][:, None]
    forced = ctx.c_forced_kind[ci][:, None]
    m: dict[str, np.ndarray] = {}
    # E1 grade: same, one up with promotion, one down only for disciplinary
    m["E1"] = (pg == g) | (promo[:, None] & (pg == g + 1)) | (disc & (pg == g - 1))
    # E2 scope
    if pol["scope"] == "cross_province":
        m["E2"] = ctx.p_prov[pj][None, :] != ctx.c_prov[ci][:, None]
    else:
        m["E2"] = np.ones((len(ci), len(pj)), bool)
    # E3 native avoidance
    m["E3"] = ~(ctx.p_avoid[pj][None, :] & (ctx.p_prov[pj][None, :] == ctx.c_native[ci][:, None]))
    # E4 kinship with the fixed members of the post's team
    keys = ci.astype(np.int64)[:, None] * ctx.n_team + ctx.p_team[pj][None, :]
    m["E4"] = ~np.isin(keys, ctx.kin_fixed_keys) if len(ctx.kin_fixed_keys) else np.ones(keys.shape, bool)
    # E5 tenure: below min_years_in_post only forced kinds or cadres without a post may move
    ten = (ctx.c_years_post[ci] >= pol["min_years_in_post"]) | ctx.c_forced_kind[ci] | (ctx.c_post[ci] < 0)
    m["E5"] = np.broadcast_to(ten[:, None], keys.shape)
    # E6 retirement buffer
    ret = (ctx.c_age[ci] < pol["retirement_age"] - pol["retirement_buffer"])[:, None] | forced
    m["E6"] = np.broadcast_to(ret, keys.shape)
    # E7 education, when strict
    if pol["strict_education"]:
        m["E7"] = ctx.c_edu[ci][:, None] >= ctx.p_min_edu[pj][None, :]
    else:
        m["E7"] = np.ones(keys.shape, bool)
    # E8 forbid pins
    e8 = np.ones(keys.shape, bool)
    fb = ~ctx.pin_require
    if fb.any():
        pos_c = {int(c): i for i, c in enumerate(ci)}
        pos_p = {int(p): j for j, p in enumerate(pj)}
        for c, p in zip(ctx.pin_c[fb], ctx.pin_p[fb], strict=True):
            if int(c) in pos_c and int(p) in pos_p:
                e8[pos_c[int(c)], pos_p[int(p)]] = False
    e8 &= ~ctx.p_closed[pj][None, :]  # a post closed by a re-plan event (SPEC §10): no one moves in
    m["E8"] = e8
    # E9 disciplinary: no key role, no promotion
    m["E9"] = ~disc | (~ctx.p_key[pj][None, :] & (pg <= g))
    # E10 strict specialty
    ps = ctx.p_spec[pj][None, :]
    ns = max(1, len(ctx.spec_ids))
    has_other = np.isin(ci.astype(np.int64)[:, None] * ns + np.maximum(ps, 0), ctx.other_keys)
    m["E10"] = ~ctx.p_strict[pj][None, :] | (ps < 0) | (ps == ctx.c_spec[ci][:, None]) | has_other
    return m


def _allowed_blocks(ctx: Context, ci: np.ndarray, block_cells: int):
    """For the cadres ``ci`` in blocks of at most ``block_cells`` cells: (the block's cadres, their
    ``len × len(ctx.J)`` mask of the posts E1–E10 allow them, a cadre's own post excluded)."""
    J = ctx.J
    bs = max(1, block_cells // max(1, len(J)))
    for s in range(0, len(ci), bs):
        part = ci[s:s + bs]
        ok = ctx.c_post[part][:, None] != J[None, :]
        for v in rule_masks(ctx, part, J).values():
            ok &= v
        yield part, ok


def eligible_moves(ctx: Context, block_cells: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """All eligible (cadre, post) moves among cadres and posts in play, as two int32 arrays of global indices,
    sorted by cadre then post. A cadre's own post is never a move."""
    if len(ctx.I) == 0 or len(ctx.J) == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    out_c, out_p = [], []
    for part, ok in _allowed_blocks(ctx, ctx.I, block_cells):
        r, c = np.nonzero(ok)
        out_c.append(part[r])
        out_p.append(ctx.J[c])
    return np.concatenate(out_c).astype(np.int32, copy=False), np.concatenate(out_p).astype(np.int32, copy=False)


def has_eligible_post(ctx: Context, ci: np.ndarray, block_cells: int = 4_000_000) -> np.ndarray:
    """Per global cadre index in ``ci``: whether E1–E10 allow it some post in play other than its own."""
    ci = np.asarray(ci, np.int64)
    if len(ci) == 0 or len(ctx.J) == 0:
        return np.zeros(len(ci), bool)
    return np.concatenate([ok.any(axis=1) for _, ok in _allowed_blocks(ctx, ci, block_cells)])


def stay_block(ctx: Context) -> np.ndarray:
    """Per cadre in play (aligned with ``ctx.I``): why it may not keep its own post — '' (it may), 'none' (holds no
    post), 'H1' (must move), 'H4' (a fixed relative in its team) or 'E8' (forbid pin on its own post)."""
    I = ctx.I
    own = ctx.c_post[I]
    out = np.full(len(I), "", dtype=object)
    if len(ctx.kin_fixed_keys):
        keys = I.astype(np.int64) * ctx.n_team + ctx.p_team[np.maximum(own, 0)]
        out[np.isin(keys, ctx.kin_fixed_keys)] = "H4"  # H4: may not stay beside a fixed relative
    fb = ~ctx.pin_require
    if fb.any():
        fk = ctx.pin_c[fb].astype(np.int64) * ctx.n_post + ctx.pin_p[fb]
        out[np.isin(I.astype(np.int64) * ctx.n_post + own, fk)] = "E8"
    out[ctx.c_must[I]] = "H1"
    out[own < 0] = "none"
    return out


def stay_allowed(ctx: Context) -> np.ndarray:
    """Per cadre in play (aligned with ``ctx.I``): may it keep its own post (see :func:`stay_block`)?"""
    return stay_block(ctx) == ""
