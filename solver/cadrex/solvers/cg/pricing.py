"""Pricing for column generation: reduced costs ``c − Aᵀy`` of every pool pair under a round's row duals (from a
cache of the pairs' columns without their H2/H3/flow entries, plus :func:`cadrex.model.core_dot` for those), the
Lagrangian excess ``Σ_{j∉R} max(0, rc_j)``, and the top-k selections that pick pairs per cadre or post."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from cadrex.model import Pairs, RowIndex, core_dot, pair_columns
from cadrex.rules.context import Context
from cadrex.solvers.base import glibc_call

log = logging.getLogger(__name__)
T = TypeVar("T")

#: threads for the passes over the pool in chunks (pricing, the bound's per-group maxima, the pool's objective, the
#: pricing cache): numpy's array operations and scipy's sparse products release the GIL, so two chunks run at once on
#: a 2-core machine. Results come back in chunk order, and sums are taken in that order: the same numbers as one
#: thread. 1 where processes already share the cores (:func:`cadrex.solvers.cg.master.serial_resolves`)
THREADS = 2


_ONE_ARENA: list[bool] = []


def _one_arena() -> None:
    """Once per process: glibc's malloc gives each new thread an arena of its own, which keeps the memory freed in it
    (2,000 in play, `tight`: peak 528 MB on two threads, 392 MB with one arena, 393 MB on one thread; the same
    seconds). Every thread created from now on shares one arena (``mallopt(M_ARENA_MAX, 1)``; glibc only, and not
    when ``MALLOC_ARENA_MAX`` is set in the environment: the user's choice stands)."""
    if _ONE_ARENA:
        return
    _ONE_ARENA.append(True)
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    ok = glibc_call("mallopt", -8, 1)  # M_ARENA_MAX; 1 on success
    log.debug("pricing on %d threads: one malloc arena for new threads %s", THREADS, "set" if ok == 1 else "not available")


def map_chunks(fn: Callable[[slice], T], n: int, chunk: int) -> list[T]:
    """``[fn(slice) for each chunk of range(n)]``, in chunk order, on :data:`THREADS` threads (one in a daemonic
    process: a Dask worker of a batch run, one per core already)."""
    parts = [slice(s, min(n, s + chunk)) for s in range(0, n, chunk)]
    if THREADS <= 1 or len(parts) <= 1 or multiprocessing.current_process().daemon:
        return [fn(sl) for sl in parts]
    _one_arena()
    with ThreadPoolExecutor(THREADS) as ex:
        return list(ex.map(fn, parts))


def _top_per_group(group: np.ndarray, value: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``value`` within each ``group``."""
    order = np.lexsort((-value, group))
    g = group[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    rank = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    return order[rank < k]


def _top_k(group: np.ndarray, value: np.ndarray, k: int, mask: np.ndarray, chunk: int = 1_000_000) -> np.ndarray:
    """Indices ``i`` with ``mask[i]`` of the ``k`` largest ``value`` per ``group``, in bounded memory: the top k of
    each chunk first (a group's top k overall is among the union of those), then the top k of that union."""
    def part(sl: slice) -> np.ndarray:
        idx = sl.start + np.flatnonzero(mask[sl])
        return idx[_top_per_group(group[idx], value[idx], k)]
    parts = map_chunks(part, len(group), chunk)
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

    def block(sl: slice) -> sp.csr_matrix:
        r, c, v = pair_columns(ctx, rows, pairs.take(np.arange(sl.start, sl.stop)), core=False)
        return sp.csr_matrix((v.astype(np.float32), (c.astype(np.int32), r.astype(np.int32))), shape=(sl.stop - sl.start, rows.n))
    return map_chunks(block, n, chunk)


def reduced_costs(ctx: Context, rows: RowIndex, pairs: Pairs, obj: np.ndarray | None, AT: list[sp.csr_matrix] | None,
                  in_R: np.ndarray, blocked: np.ndarray, chunk: int, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Reduced costs of all pairs (``obj − Aᵀy``; ``obj`` None: costs 0, phase I) and Σ over pairs outside the
    master (``~in_R``) of max(0, rc). Blocked stay options read −inf (fixed at 0, always in the master)."""
    n = len(pairs)
    rc = np.empty(n)

    def part(sl: slice) -> float:
        if AT is not None:
            rest = AT[sl.start // chunk] @ y
        else:
            r, c, v = pair_columns(ctx, rows, pairs.take(np.arange(sl.start, sl.stop)), core=False)
            rest = np.bincount(c, weights=v * y[r], minlength=sl.stop - sl.start)
        rc[sl] = (obj[sl] if obj is not None else 0.0) - rest - core_dot(ctx, rows, pairs.c[sl], pairs.p[sl], y)
        return float(np.maximum(0.0, np.where(in_R[sl], 0.0, rc[sl])).sum())
    extra = sum(map_chunks(part, n, chunk), 0.0)
    rc[blocked] = -np.inf
    return rc, extra
