"""The dive's MIP reduced by its fixings (:func:`fix_out`): a pair fixed at 1 on a packing row (row_hi ≤ 1, every
entry ≥ 1: H2 per cadre, H3 per post) sets every other column of that row to 0; fixed columns then leave the MIP
(their share moves into the row sides and the objective offset), and rows that no value of the columns left can
violate leave it too. HiGHS's presolve finds the same reductions, but spent 17-20 s on them at 5,000 in play
(44,663 rows, of which 4,655 remained), and a master above the guard's size runs in a child process that the
reduced MIP does not need."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class Fixed:
    """A model's MIP over the columns ``cols`` (indices into the model's variables) and the rows ``rows``, the other
    columns fixed at ``value`` (0 or their lower bound), with the arrays :func:`cadrex.solvers.highs.solve_model`
    reads; ``n_pairs``: how many of ``cols`` are pairs. ``conflict``: a row no completion can satisfy (the fixings
    alone break it), or -1."""

    A: sp.csr_matrix
    obj: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    integer: np.ndarray
    offset: float
    cols: np.ndarray
    rows: np.ndarray
    value: np.ndarray
    n_pairs: int
    conflict: int = -1

    @property
    def n_vars(self) -> int:
        return len(self.obj)

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    def objective_of(self, x: np.ndarray) -> float:
        return float(self.obj @ x + self.offset)

    def lift(self, x: np.ndarray) -> np.ndarray:
        """``x`` over these columns as a vector over every variable of the model (the fixed values elsewhere)."""
        out = self.value.copy()
        out[self.cols] = x
        return out


def _activity_range(A: sp.csr_matrix, lb: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the least and the largest activity over the bounds (±inf where a bound is infinite)."""
    a = A.data
    lo_c, hi_c = lb[A.indices], ub[A.indices]
    with np.errstate(invalid="ignore"):  # 0 · inf does not occur: stored entries are nonzero
        small = np.where(a > 0, a * lo_c, a * hi_c)
        large = np.where(a > 0, a * hi_c, a * lo_c)
    starts = A.indptr[:-1]
    nonempty = np.diff(A.indptr) > 0
    lo_act, hi_act = np.zeros(A.shape[0]), np.zeros(A.shape[0])
    if len(a):
        lo_act[nonempty] = np.add.reduceat(small, starts[nonempty])
        hi_act[nonempty] = np.add.reduceat(large, starts[nonempty])
    return lo_act, hi_act


def fix_out(m, fix: np.ndarray) -> Fixed:
    """``m`` (a :class:`~cadrex.model.Model`) with the pairs in ``fix`` at 1, reduced: every column that shares a
    packing row with one of them is 0 (so is every column whose bounds are 0), the columns so fixed are substituted
    out, and rows their remaining columns cannot violate are dropped. The reduced MIP has the same optimum (each
    reduction holds in every solution of the fixed master), and :meth:`Fixed.lift` maps its plan back."""
    A = m.A
    lb, ub = m.lb.astype(float).copy(), m.ub.astype(float).copy()
    lb[: m.n_pairs][fix] = 1.0
    per_row = np.diff(A.indptr)
    small = np.bincount(np.repeat(np.arange(A.shape[0]), per_row)[A.data < 1.0 - 1e-9], minlength=A.shape[0])
    packing = (m.row_hi <= 1.0 + 1e-9) & (small == 0)
    hit = np.zeros(A.shape[0], bool)
    hit[A.tocsc()[:, np.flatnonzero(fix)].indices] = True  # rows of the fixed pairs
    rows = np.flatnonzero(hit & packing)
    zero = np.zeros(m.n_vars, bool)
    if len(rows):
        zero[A[rows].indices] = True
    zero &= lb <= 0.0  # a column with a positive lower bound stays: a conflict then shows as a broken row
    ub[zero] = 0.0
    fixed = lb >= ub
    value = np.where(fixed, lb, 0.0)
    shift = A @ value
    cols = np.flatnonzero(~fixed)
    Ac = A[:, cols].tocsr()
    lo, hi = m.row_lo - shift, m.row_hi - shift
    lo_act, hi_act = _activity_range(Ac, lb[cols], ub[cols])
    broken = np.flatnonzero((hi_act < lo - 1e-9) | (lo_act > hi + 1e-9))
    keep = np.flatnonzero(~((lo_act >= lo - 1e-9) & (hi_act <= hi + 1e-9)))
    if len(broken):  # no completion satisfies this row: keep it, for HiGHS to report the MIP infeasible
        keep = np.union1d(keep, broken)
    return Fixed(Ac[keep], m.obj[cols], lb[cols], ub[cols], lo[keep], hi[keep], m.integer[cols],
                 float(m.offset) + float(m.obj @ value), cols, keep, value, int(np.count_nonzero(cols < m.n_pairs)),
                 int(broken[0]) if len(broken) else -1)
