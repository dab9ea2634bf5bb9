"""Diagnosis, the search: the deletion filter that shrinks an infeasible set of instances and the loop that
finds disjoint conflicts one after another; the reasons (English, Chinese) a result is not minimal."""

from __future__ import annotations

import logging
import time

import numpy as np

from cadrex.analysis.diagnose.checker import _Checker, _mask
from cadrex.i18n import Msg

log = logging.getLogger("cadrex.analysis.diagnose")

TIMED_OUT = Msg("diag.timed_out")
DEADLINE = Msg("diag.deadline")
NO_TIME = Msg("diag.no_time")
UNCONFIRMED = Msg("diag.unconfirmed")
MAX_REACHED = Msg("diag.max_reached")


def _deletion_filter(chk: _Checker, S: list[int], deadline: float) -> tuple[list[int], Msg | None]:
    """Shrink the infeasible set ``S`` (instance numbers) while it stays infeasible: chunks, halved down to single
    instances. An instance leaves only when the set without it is *proven* infeasible. Returns the set and None
    when every single drop was answered (proven feasible on ``chk``'s model), else why not."""
    n = len(chk.inst)
    cap = max(1.0, (deadline - time.perf_counter()) / 4)
    chunk = max(1, len(S) // 2)
    unknown = False
    while True:
        i = 0
        while i < len(S):
            if time.perf_counter() >= deadline:
                return S, DEADLINE
            T = S[:i] + S[i + chunk:]
            r = chk.infeasible(_mask(n, T), deadline, cap)
            if r is True:
                S = T
            else:
                unknown |= r is None and chunk == 1  # a chunk's unknown is retried instance by instance
                i += chunk
        if chunk == 1:
            return S, TIMED_OUT if unknown else None
        chunk = max(1, chunk // 2)


def _search(chk: _Checker, deadline: float, max_conflicts: int, known_infeasible: bool, confirm
            ) -> tuple[list[tuple[list[int], Msg | None]], Msg | None]:
    """Disjoint conflicts among ``chk``'s instances: [(instance numbers, why not minimal or None)], and why the
    search stopped before every conflict was isolated (:data:`MAX_REACHED`, a time reason), or None when it ran out
    of conflicts: the instances left were proven feasible together on ``chk``'s model (or none were left)."""
    n = len(chk.inst)
    alive = np.ones(n, bool)
    found: list[tuple[list[int], Msg | None]] = []
    first = True
    while alive.any() and len(found) < max_conflicts:
        if time.perf_counter() >= deadline:
            return found, DEADLINE
        if not (first and known_infeasible):  # is what is left still infeasible?
            r = chk.infeasible(alive, deadline)
            if r is None:
                return found, TIMED_OUT
            if r is False:
                break
        S = list(np.flatnonzero(alive))
        sup = chk.ray(alive, deadline)
        if sup is not None:
            start = chk.named(sup, alive)
            if start.any() and start.sum() < len(S) and chk.infeasible(start, deadline) is True:
                S = list(np.flatnonzero(start))
        first = False
        log.info("diagnosis: conflict search from %d of %d instances", len(S), n)
        whole = len(S) == int(alive.sum())
        S, why = _deletion_filter(chk, S, deadline)
        if why == DEADLINE and whole and len(S) == int(alive.sum()):
            return found, DEADLINE  # nothing narrowed down: "everything that is left" is no diagnosis
        if why is None:
            why = confirm(S)
        found.append((S, why))
        alive[S] = False
    if len(found) >= max_conflicts and alive.any():  # stopped at the cap: is what is left feasible, all found relaxed?
        if time.perf_counter() >= deadline or chk.infeasible(alive, deadline) is not False:
            return found, MAX_REACHED
    return found, None
