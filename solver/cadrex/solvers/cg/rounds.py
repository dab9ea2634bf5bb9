"""What the LP phase of column generation records: one :class:`LPRound` per round and the :class:`LPOutcome` of the
phase (:meth:`cadrex.solvers.cg.driver.ColumnGeneration.solve_lp`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadrex.solvers.cg.pool import SMALL_POOL

#: the LP phase's gap rule (``stop_gap``) reads the plain bound (every row relaxed) on pools of at most KEPT_STOP_ABOVE
#: pairs, the kept-side bound B above. At 2,000 in play B met it a round earlier at duals whose closure was far larger
#: (base: 181k pairs instead of 20k, 73 s instead of 31 s, session 16); at 5,000 the dive's plan was certified by B
#: alone in every family but `tight`, which stopped at the same round either way, and B saved an exact round on `base`,
#: `preferences` and `vacancies` (8-14 s each; benchmarks/README.md, session 26)
KEPT_STOP_ABOVE = SMALL_POOL


def gap_reached(reading: float, z: float, gap: float) -> bool:
    """Whether a bound ``reading`` is within the relative ``gap`` of the LP value ``z``."""
    return bool(np.isfinite(reading)) and reading - z <= gap * max(1.0, abs(z)) + 1e-6


@dataclass
class LPRound:
    """One LP round: its LP value, the row duals ``y`` (a vector over every row of the :class:`cadrex.model.RowIndex`, 0 on rows
    outside the LP), its Lagrangian bound under those duals, and — kept for the round with the lowest bound and the
    latest round only (36M pairs at 10,000 in play) — its closure costs δ under the same duals (float32, rounded
    up; :class:`cadrex.solvers.cg.bound.Lagrangian`). ``r["bound"]`` reads like the dict a round used to be."""

    index: int
    lp: float
    bound: float
    duals: np.ndarray
    added: int
    rows_added: int
    secs: float
    rc: np.ndarray | None = None
    #: a partial solve of the master (:data:`cadrex.solvers.cg.driver.PARTIAL_ITERATIONS`): ``lp`` is not its LP value
    partial: bool = False
    #: dual simplex iterations of this round's master solve (its work: the machine's load does not change it)
    iterations: int = 0
    #: the plain bound (every row relaxed) of its duals, or of its smoothed point's if lower (the small pools' gap rule)
    plain: float = np.inf

    def __getitem__(self, key: str):
        return getattr(self, key)

    def summary(self) -> dict:
        return {"lp": self.lp, "bound": self.bound, "added": self.added, "rows_added": self.rows_added, "secs": self.secs,
                "partial": self.partial, "iterations": self.iterations,
                "plain": float(self.plain) if np.isfinite(self.plain) else None}


@dataclass
class LPOutcome:
    """The LP phase of column generation. ``bound`` (inf when no round gave duals) is the lowest Lagrangian bound
    over the rounds, partial ones included, and ``rc`` the closure costs δ *of that same bound* (float32, rounded up;
    see :class:`cadrex.solvers.cg.bound.Lagrangian`), so that the closure ``rc > −(B − T)`` is valid; ``z`` is the
    restricted LP value of the last exact round (not partial); ``converged``: no pair with a positive reduced cost and
    no violated lazy row in that round; ``artificial``: the phase-I columns' total there."""

    z: float = -np.inf
    bound: float = np.inf
    rc: np.ndarray | None = None
    bound_round: int = 0
    #: the row duals of ``bound`` (a round's, or a smoothed point's): explain prices forced pairs with them, against
    #: ``plain``, their bound with every row relaxed (:class:`cadrex.solvers.cg.bound.Lagrangian`)
    duals: np.ndarray | None = None
    plain: float = np.inf
    #: the lowest plain bound over every round so far (the gap rule's; ``plain`` is the best bound's own)
    plain_low: float = np.inf
    converged: bool = False
    priced_out: bool = False
    artificial: float = 0.0
    #: stopped by the time limit (or HiGHS's), before convergence, the gap goal or ``stop_bound``: more rounds may help
    stopped_early: bool = False


class PoolValues:
    """Values over the whole pool that are 0 but on a few pairs (an LP solution): stored for those pairs only (at
    10,000 in play a dense float64 copy took 286 MB for ~20,000 nonzeros). ``values[idx]`` gives them densely."""

    def __init__(self, n: int, idx: np.ndarray, val: np.ndarray):
        keep = val != 0
        order = np.argsort(idx[keep], kind="stable")
        self.n, self.idx, self.val = n, idx[keep][order], val[keep][order].astype(float)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: np.ndarray) -> np.ndarray:
        i = np.asarray(i)
        if not len(self.idx):
            return np.zeros(i.shape)
        pos = np.minimum(np.searchsorted(self.idx, i), len(self.idx) - 1)
        return np.where(self.idx[pos] == i, self.val[pos], 0.0)

    def support(self, tol: float) -> np.ndarray:
        """The pairs (sorted) whose value is above ``tol``."""
        return self.idx[self.val > tol]
