"""Integer pair terms of the objective (SPEC §6): fit, hard, care, pref, assess; fill values of posts."""

from __future__ import annotations

import numpy as np

from cadrex.rules.context import Context

TERMS = ("fit", "hard", "care", "pref", "assess")
WEIGHT_OF = {"fit": "fit", "hard": "hardship", "care": "care", "pref": "preference", "assess": "assess"}


def _lookup(keys: np.ndarray, table_keys: np.ndarray, table_vals: np.ndarray) -> np.ndarray:
    if len(table_keys) == 0:
        return np.zeros(len(keys), np.int64)
    order = np.argsort(table_keys, kind="stable")
    sk, sv = table_keys[order], table_vals[order]
    pos = np.clip(np.searchsorted(sk, keys), 0, len(sk) - 1)
    return np.where(sk[pos] == keys, sv[pos], 0).astype(np.int64)


def _ids(ctx: Context, df) -> np.ndarray:
    """cadre index × n_post + post index for the rows of a (cadre_id, post_id) table (ids validated on load)."""
    import pandas as pd

    c = pd.Index(ctx.cad_ids).get_indexer(df["cadre_id"]).astype(np.int64)
    p = pd.Index(ctx.post_ids).get_indexer(df["post_id"]).astype(np.int64)
    return c * ctx.n_post + p


def pair_terms(ctx: Context, c: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Unweighted integer terms for pairs of global cadre indices ``c`` and post indices ``p``."""
    pol = ctx.policy
    ns = max(1, len(ctx.spec_ids))
    cs, ps = ctx.c_spec[c], ctx.p_spec[p]
    other = np.isin(c.astype(np.int64) * ns + np.maximum(ps, 0), ctx.other_keys) & (ps >= 0)
    fam = (ctx.p_family[p] >= 0) & (ctx.c_family[c] == ctx.p_family[p])
    spec = np.select([ps < 0, cs == ps, other, fam], [20, 40, 25, 15], 0)
    edu = np.where((ctx.p_min_edu[p] < 0) | (ctx.c_edu[c] >= ctx.p_min_edu[p]), 10, 0)
    tsec = ctx.t_sector[ctx.p_team[p]]
    sector = np.where((tsec >= 0) & np.isin(c.astype(np.int64) * ctx.n_sector + np.maximum(tsec, 0), ctx.sector_keys), 10, 0)
    fit = (spec + edu + sector).astype(np.int64)
    h = ctx.t_hard[ctx.p_team[p]].astype(np.int64)
    kind = ctx.c_kind[c]
    training = kind == "training"
    care_k = kind == "care"
    served = ctx.c_hardship_years[c] >= pol["hardship_served_years"]
    hard = 10 * h * training - 15 * h * care_k - 10 * h * served
    d = ctx.distance_km(ctx.c_home[c], ctx.p_prov[p])
    care = np.where(care_k, np.maximum(0, 30 - np.floor(d / 100.0).astype(np.int64)), 0).astype(np.int64)
    keys = c.astype(np.int64) * ctx.n_post + p
    pref = np.zeros(len(c), np.int64)
    prefs = ctx.case.preferences
    if len(prefs):
        pk = _ids(ctx, prefs)
        pv = 4 * (6 - prefs["rank"].to_numpy(np.int64))
        for side in ("cadre", "post"):
            sel = (prefs["side"] == side).to_numpy()
            pref += _lookup(keys, pk[sel], pv[sel])
    sc = ctx.case.scores
    assess = np.zeros(len(c), np.int64)
    if len(sc):
        sk = _ids(ctx, sc)
        assess = _lookup(keys, sk, sc["score"].to_numpy(np.int64))
    return {"fit": fit, "hard": hard.astype(np.int64), "care": care, "pref": pref, "assess": assess}


def weighted(ctx: Context, terms: dict[str, np.ndarray]) -> np.ndarray:
    """The weighted pair score: Σ w·term."""
    w = ctx.policy["weights"]
    return sum(int(w[WEIGHT_OF[t]]) * terms[t] for t in TERMS)


def fill_value(ctx: Context, p: np.ndarray) -> np.ndarray:
    """Unweighted value of filling post ``p``: fill_base + fill_hardship_bonus·h + key_post_bonus·[key role]."""
    pol = ctx.policy
    return (pol["fill_base"] + pol["fill_hardship_bonus"] * ctx.t_hard[ctx.p_team[p]].astype(np.int64)
            + pol["key_post_bonus"] * ctx.p_key[p].astype(np.int64))


def top_candidates(ctx: Context, c: np.ndarray, p: np.ndarray, score: np.ndarray, ok: np.ndarray,
                   k: int = 3) -> np.ndarray:
    """Indices of the 以岗选人 short list (SPEC §7, seed 003) among the pairs ``(c, p)``: per post, the ``k`` best
    allowed pairs (``ok``) by weighted pair score, ties by cadre id. Sorted by post, then rank. The top ``k`` of a
    union of pair sets is the top ``k`` of the union of each set's top ``k``, so a caller may select chunk by chunk.
    The one definition for every method: it is taken over every eligible pair, before any is dropped for speed."""
    rank = np.empty(ctx.n_cad, np.int64)
    rank[np.argsort(ctx.cad_ids.astype(str), kind="stable")] = np.arange(ctx.n_cad)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((rank[c[idx]], -np.asarray(score[idx], np.int64), p[idx]))]
    g = p[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1] if len(g) else np.zeros(0, np.int64)
    pos = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    return order[pos < k]


def short_list(ctx: Context, c: np.ndarray, p: np.ndarray, idx: np.ndarray) -> dict[str, list[str]]:
    """Post id -> short-listed cadre ids, in rank order, from :func:`top_candidates`'s indices."""
    out: dict[str, list[str]] = {}
    for pi, ci in zip(ctx.post_ids[p[idx]], ctx.cad_ids[c[idx]], strict=True):
        out.setdefault(pi, []).append(ci)
    return out
