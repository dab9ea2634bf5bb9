"""The dive's MIP reduced by its fixings (:func:`fix_out`): a pair fixed at 1 on a packing row (row_hi ≤ 1, every
entry ≥ 1, every column nonnegative: H2 per cadre, H3 per post, H4 kinship) sets every other column of that row to
0; fixed columns then leave the MIP (their share moves into the row sides and the objective offset), and rows that no
value of the columns left can violate leave it too. HiGHS's presolve finds the same reductions; with its probing
they took 20 s of a 63 s dive at 5,000 in play (44,663 rows, of which 4,655 remained). The reduced MIP still runs in
the guarded child process when the master would (:func:`solve_fixed`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cadrex.model.core import MipArrays
from cadrex.solvers.base import BackendResult


@dataclass
class Fixed(MipArrays):
    """A model's MIP over the columns ``cols`` (indices into the model's variables) and the rows ``rows``, the other
    columns fixed at ``value`` (0 or their lower bound), with the arrays :func:`cadrex.solvers.highs.solve_model`
    reads; ``n_pairs``: how many of ``cols`` are pairs. ``conflict``: a row that the fixings alone break (no value
    of the columns left satisfies it: the fixed MIP is infeasible), or -1."""

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

    def lift(self, x: np.ndarray) -> np.ndarray:
        """``x`` over these columns as a vector over every variable of the model (the fixed values elsewhere)."""
        out = self.value.copy()
        out[self.cols] = x
        return out


def _activity_range(A: sp.csr_matrix, lb: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the least and the largest activity over the bounds (±inf where a bound is infinite; an explicit
    zero entry times an infinite bound gives NaN, and a NaN row is never dropped)."""
    a = A.data
    lo_c, hi_c = lb[A.indices], ub[A.indices]
    with np.errstate(invalid="ignore"):
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
    """``m`` (a :class:`~cadrex.model.Model`, or anything with its arrays and ``n_pairs``) with the pairs in ``fix``
    at 1, reduced: every column that shares a packing row with one of them is 0 (so is every column whose bounds
    are 0), the columns so fixed are substituted out, and rows their remaining columns cannot violate are dropped.
    Each reduction holds in every solution of the fixed master, so the reduced MIP has the same solutions, lifted
    (:meth:`Fixed.lift`), and the same optimum. A column whose lower bound exceeds its upper one (a require pin on a
    blocked pair) stays in the MIP, which is then infeasible as the master is."""
    A = m.A
    lb, ub = np.array(m.lb, float), np.array(m.ub, float)
    lb[: m.n_pairs][fix] = 1.0
    rows_of = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    # a packing row: every entry at least 1 on a nonnegative column, at most 1 in all
    weak = np.bincount(rows_of[(A.data < 1.0 - 1e-9) | (lb[A.indices] < 0.0)], minlength=A.shape[0])
    packing = (m.row_hi <= 1.0 + 1e-9) & (weak == 0)
    hit = np.zeros(A.shape[0], bool)
    is_fixed = np.zeros(A.shape[1], bool)
    is_fixed[np.flatnonzero(fix) if fix.dtype == bool else fix] = True
    hit[rows_of[is_fixed[A.indices]]] = True  # rows of the fixed pairs (no CSC copy of the master)
    rows = np.flatnonzero(hit & packing)
    zero = np.zeros(m.n_vars, bool)
    if len(rows):
        zero[A[rows].indices] = True
    zero &= lb == 0.0  # a column with a positive lower bound stays: a conflict then shows as a broken row
    ub[zero] = 0.0
    fixed = lb == ub
    value = np.where(fixed, lb, 0.0)
    shift = A @ value
    cols = np.flatnonzero(~fixed)
    Ac = A[:, cols].tocsr()
    lo, hi = m.row_lo - shift, m.row_hi - shift
    lo_act, hi_act = _activity_range(Ac, lb[cols], ub[cols])
    broken = np.flatnonzero((hi_act < lo - 1e-9) | (lo_act > hi + 1e-9))  # never redundant below, so kept
    keep = np.flatnonzero(~((lo_act >= lo - 1e-9) & (hi_act <= hi + 1e-9)))
    return Fixed(Ac[keep], m.obj[cols], lb[cols], ub[cols], lo[keep], hi[keep], m.integer[cols],
                 float(m.offset) + float(m.obj @ value), cols, keep, value, int(np.count_nonzero(cols < m.n_pairs)),
                 int(broken[0]) if len(broken) else -1)


def solve_fixed(m, fix: np.ndarray, solve, **kw) -> tuple[BackendResult, Fixed]:
    """``m`` with the pairs in ``fix`` at 1, reduced (:func:`fix_out`) and solved by ``solve`` (a
    :func:`cadrex.solvers.highs.solve_model`, given ``kw``), its plan lifted to ``m``'s variables. A conflict is
    infeasible without a solve; a MIP with no column left is its fixed plan (HiGHS reports an empty model as having
    no solution)."""
    sub = fix_out(m, fix)
    # guarded by the master's size, as before the reduction: HiGHS overran a dive's time cap in process by 125 s on
    # `tight` at 5,000 in play (a 50k-column reduced MIP)
    kw.setdefault("guard_size", m.n_vars)
    if sub.conflict >= 0:
        r = BackendResult("infeasible", None, None, None, 0.0, message=f"the fixings break row {sub.conflict}")
    elif sub.n_vars == 0:
        r = BackendResult("optimal", np.zeros(0), sub.offset, sub.offset, 0.0)
    else:
        r = solve(sub, **kw)
    return (dataclasses.replace(r, x=sub.lift(r.x)) if r.x is not None else r), sub
