"""Pricing for column generation: reduced costs ``c − Aᵀy`` of every pool pair under a round's row duals (from a
cache of the pairs' columns without their H2/H3/flow entries, plus :func:`cadrex.model.core_dot` for those), the
Lagrangian excess ``Σ_{j∉R} max(0, rc_j)``, and the top-k selections that pick pairs per cadre or post."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cadrex.model import Pairs, RowIndex, core_dot, pair_columns
from cadrex.rules.context import Context


def _top_per_group(group: np.ndarray, value: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``value`` within each ``group``."""
    order = np.lexsort((-value, group))
    g = group[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    rank = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    return order[rank < k]


def _top_k(group: np.ndarray, value: np.ndarray, k: int, mask: np.ndarray, chunk: int = 2_000_000) -> np.ndarray:
    """Indices ``i`` with ``mask[i]`` of the ``k`` largest ``value`` per ``group``, in bounded memory: the top k of
    each chunk first (a group's top k overall is among the union of those), then the top k of that union."""
    parts = []
    for s in range(0, len(group), chunk):
        idx = s + np.flatnonzero(mask[s:s + chunk])
        parts.append(idx[_top_per_group(group[idx], value[idx], k)])
    cand = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return cand[_top_per_group(group[cand], value[cand], k)]


def _up32(a: np.ndarray) -> np.ndarray:
    """``a`` in float32, each value rounded up (never below ``a``): a closure over these keeps every pair it must."""
    r = a.astype(np.float32)
    low = r < a
    r[low] = np.nextafter(r[low], np.float32(np.inf))
    return r


def pricing_cache(ctx: Context, rows: RowIndex, pairs: Pairs, chunk: int, cache_nnz: int) -> list[sp.csr_matrix] | None:
    """The columns of every pair but their H2, H3 and flow entries (:func:`core_dot` computes those from cadre and
    post), as CSR row blocks (pair × row) of ``chunk`` pairs when they fit in ``cache_nnz``: pricing is then one Aᵀy
    per block plus a few gathers. None when they do not fit (columns are then rebuilt each round)."""
    n = len(pairs)
    if n * 3 > cache_nnz:
        return None
    out = []
    for s in range(0, n, chunk):
        idx = np.arange(s, min(n, s + chunk))
        r, c, v = pair_columns(ctx, rows, pairs.take(idx), core=False)
        out.append(sp.csr_matrix((v.astype(np.float32), (c.astype(np.int32), r.astype(np.int32))), shape=(len(idx), rows.n)))
    return out


def reduced_costs(ctx: Context, rows: RowIndex, pairs: Pairs, obj: np.ndarray | None, AT: list[sp.csr_matrix] | None,
                  in_R: np.ndarray, blocked: np.ndarray, chunk: int, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Reduced costs of all pairs (``obj − Aᵀy``; ``obj`` None: costs 0, phase I) and Σ over pairs outside the
    master (``~in_R``) of max(0, rc). Blocked stay options read −inf (fixed at 0, always in the master)."""
    n = len(pairs)
    rc = np.empty(n)
    extra = 0.0
    for k, s in enumerate(range(0, n, chunk)):
        sl = slice(s, min(n, s + chunk))
        if AT is not None:
            rest = AT[k] @ y
        else:
            r, c, v = pair_columns(ctx, rows, pairs.take(np.arange(sl.start, sl.stop)), core=False)
            rest = np.bincount(c, weights=v * y[r], minlength=sl.stop - sl.start)
        rc[sl] = (obj[sl] if obj is not None else 0.0) - rest - core_dot(ctx, rows, pairs.c[sl], pairs.p[sl], y)
        extra += float(np.maximum(0.0, np.where(in_R[sl], 0.0, rc[sl])).sum())
    rc[blocked] = -np.inf
    return rc, extra
