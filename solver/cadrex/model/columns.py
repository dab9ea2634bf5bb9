"""Columns: the entries of any batch of pairs against a :class:`~cadrex.model.rows.RowIndex` (the full model and
every restricted master of column generation share this), the product of the H2/H3/flow entries with a dual vector,
and which cadres count for a structure count rule."""

from __future__ import annotations

import numpy as np

from cadrex.model.pairs import Pairs
from cadrex.model.rows import RowIndex
from cadrex.rules.context import Context


def count_attr(ctx: Context, young_age: np.ndarray, name: str, c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Does cadre ``c`` count for rule ``name`` in team ``t``? (``young_age``: per team, its model's young age)"""
    if name == "min_female":
        return ctx.c_female[c]
    if name == "min_young":
        return ctx.c_age[c] <= young_age[t]
    if name == "min_non_cpc":
        return ctx.c_noncpc[c]
    if name == "min_minority":
        return ctx.c_minority[c]
    return ctx.c_grassroots[c]


def _lookup_rows(keys_sorted: np.ndarray | None, rowid: np.ndarray | None, q: np.ndarray) -> np.ndarray:
    if keys_sorted is None or not len(keys_sorted):
        return np.full(len(q), -1, np.int64)
    pos = np.clip(np.searchsorted(keys_sorted, q), 0, len(keys_sorted) - 1)
    return np.where(keys_sorted[pos] == q, rowid[pos], -1)


def pair_columns(ctx: Context, ri: RowIndex, pairs: Pairs, core: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO entries (row, pair index, value) of the pairs' columns against the row index (extension rows included).
    With ``core=False`` the
    H2, H3 and flow entries are left out: :func:`core_dot` gives their product with a dual vector from the pairs'
    cadre and post alone (the column-generation pricing cache stores only the rest)."""
    n = len(pairs)
    j = np.arange(n, dtype=np.int64)
    c, p = pairs.c, pairs.p
    t = ctx.p_team[p]
    NS, T = max(1, len(ctx.spec_ids)), ctx.n_team
    R, C, V = ([ri.h2_row[c], ri.h3_row[p]], [j, j], [np.ones(n), np.ones(n)]) if core else ([], [], [])

    def put(rows: np.ndarray, vals) -> None:
        ok = rows >= 0
        R.append(rows[ok])
        C.append(j[ok])
        V.append(np.broadcast_to(np.asarray(vals, float), (n,))[ok] if np.ndim(vals) else np.full(int(ok.sum()), float(vals)))

    if ri.kin_key is not None:  # a cadre may have several relatives: one entry per matching row
        q = c.astype(np.int64) * T + t
        lo_, hi_ = np.searchsorted(ri.kin_key, q, "left"), np.searchsorted(ri.kin_key, q, "right")
        cnt = hi_ - lo_
        has = np.flatnonzero(cnt)
        k = np.repeat(has, cnt[has])
        first = np.repeat(lo_[has] - np.r_[0, np.cumsum(cnt[has])[:-1]], cnt[has])
        R.append(ri.kin_rowid[first + np.arange(len(k))])
        C.append(k)
        V.append(np.ones(len(k)))
    h5 = ri.h5_row[p]
    vacant = ctx.p_holder[p] < 0
    put(np.where(vacant, h5, -1), 1.0)
    put(np.where(~vacant & pairs.stay, h5, -1), -1.0)
    for name, rows in ri.count_rows.items():
        put(np.where(count_attr(ctx, ri.young_age, name, c, t), rows[t], -1), 1.0)
    cs = ctx.c_spec[c]
    key = t.astype(np.int64) * NS + np.maximum(cs, 0)
    put(np.where(cs >= 0, _lookup_rows(ri.spec_keys, ri.spec_rowid, key), -1), 1.0)
    put(np.where(cs >= 0, _lookup_rows(ri.req_keys, ri.req_rowid, key), -1), 1.0)
    if ri.age_row is not None:
        put(ri.age_row[t], (ctx.c_age[c] - ri.age_k[t]).astype(float))
    if ri.h8_move_row >= 0:  # H8 max_moves: every pair but a stay changes post
        put(np.where(~pairs.stay, ri.h8_move_row, -1), 1.0)
    if ri.h8_dep_row is not None:  # H8 departures: a pair into another province, at the cadre's province
        cp = ctx.c_prov[c]
        put(np.where(cp != ctx.p_prov[p], ri.h8_dep_row[np.maximum(cp, 0)], -1), 1.0)
    for ext, handle in ri.extensions:  # in the cached part of pricing too: priced like any other row
        er, ec, ev = ext.pair_entries(ctx, pairs, handle)
        R.append(np.asarray(er, np.int64))
        C.append(np.asarray(ec, np.int64))
        V.append(np.asarray(ev, float))
    if core:
        cp, pp = ctx.c_prov[c], ctx.p_prov[p]
        mv = cp != pp
        put(np.where(mv, ri.flow_row[pp], -1), 1.0)
        put(np.where(mv, ri.flow_row[cp], -1), -1.0)
    return np.concatenate(R), np.concatenate(C), np.concatenate(V)


def core_dot(ctx: Context, ri: RowIndex, c: np.ndarray, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per pair (c, p): the product of its H2, H3 and flow entries (see :func:`pair_columns`) with the duals ``y``."""
    ye = np.append(y, 0.0)  # row -1 (no row) reads the appended 0
    out = ye[ri.h2_row[c]] + ye[ri.h3_row[p]]
    cp, pp = ctx.c_prov[c], ctx.p_prov[p]
    fl = ye[ri.flow_row[pp]] - ye[ri.flow_row[cp]]
    return out + np.where(cp != pp, fl, 0.0)

