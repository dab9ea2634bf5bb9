"""The Lagrangian bound of column generation (:class:`LagrangianBound`, a part of
:class:`~cadrex.solvers.cg.driver.ColumnGeneration`): for any row duals, a bound valid for the full model with one
side's one-post rows kept in the subproblem, and per pair the closure costs that say which pairs a plan better than a
target may use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadrex.solvers.cg.pricing import _up32, map_chunks


@dataclass
class Lagrangian:
    """A Lagrangian bound of the full model under row duals ``y`` (:meth:`ColumnGeneration.lagrangian`): ``bound``
    with the one-post rows of ``side`` kept ("c": H2 per cadre, "p": H3 per post), ``plain`` with every row relaxed
    (what explain recomputes from saved duals), the pairs' reduced costs ``rc`` (c − Aᵀy) and ``g``, per cadre (or
    post), the best cost of its pairs without the kept row's dual. Per pair, δ and the closure costs come from
    :meth:`ColumnGeneration.delta` and :meth:`ColumnGeneration.closure_costs`."""

    bound: float
    plain: float
    rc: np.ndarray
    y: np.ndarray
    side: str = "c"
    g: np.ndarray | None = None


class LagrangianBound:
    """The bound and the closure costs of a :class:`~cadrex.solvers.cg.driver.ColumnGeneration` (its pool, rows,
    pricing, auxiliaries and require pins)."""

    def clean_duals(self, y: np.ndarray) -> np.ndarray:
        """``y`` with 0 for every dual on an infinite row side (the duals a bound is computed with)."""
        return np.where(((y > 0) & ~np.isfinite(self.row_hi)) | ((y < 0) & ~np.isfinite(self.row_lo)), 0.0, y)

    def duals_by_label(self, y: np.ndarray, plain: float) -> dict | None:
        """What explain needs to bound a forced pair (``analysis/explain_scale``): the duals ``y`` as the bound saw
        them, by row label, with their plain bound; None when the labels do not name the rows uniquely."""
        y, labels = self.clean_duals(self.pad(y)), self.rows.label
        if len(set(labels)) != len(labels):
            return None
        if np.any(y[self.rows.n:]):  # the cuts' duals are no row's: the plain bound without them (valid, weaker)
            y = self.pad(y[: self.rows.n])
            plain = self.lagrangian(y).plain
        return {"lagrangian_bound": float(plain), "rows": {labels[i]: float(y[i]) for i in np.flatnonzero(y[: self.rows.n])}}

    def lagrangian(self, y: np.ndarray, rc: np.ndarray | None = None) -> Lagrangian:
        """The Lagrangian bound of the full model under row duals ``y`` (any, not only a master's optimum), with the
        one-post rows of one side kept in the subproblem (a dual on an infinite row side is set to 0 first: any
        duals then give a valid bound). ``rc``: the pairs' reduced costs under ``y`` if already priced.

        Relaxing every row gives the plain bound offset + Σ_i y_i·(hi_i if y_i > 0 else lo_i) + Σ_j u_j·max(0, rc_j)
        over every pool pair (u = 1) and auxiliary (its true bound) + Σ min(0, rc_j) over require-pinned pairs. It
        counts every positive pair of a cadre, while a plan gives each cadre one post. Keeping H2 (a cadre's pairs sum
        to at most, or exactly, 1) in the subproblem instead, the pairs of cadre c contribute g_c = the best of its
        pairs' costs without the H2 dual (at least 0 when c may stay without a post; its pinned pair's if pinned).
        The same with H3 per post; the lower of the two is returned. For every feasible plan x then
        c·x ≤ L + Σ_c δ_{x(c)} with δ_j = (rc_j + y_{H2(c)}) − g_c ≤ 0 (the H2 side; H3 alike): a plan worth more
        than T uses only pairs with δ_j > −(L − T), the closure argument of :func:`solve_scaled`. With the LP's
        own duals at convergence both equal the LP value; in the first rounds the kept side is far lower."""
        y = self.pad(y)
        clean = self.clean_duals(y)
        if rc is None or not np.array_equal(clean, y):
            rc, _ = self.price(clean)
        y = clean
        side = np.where(y > 0, np.where(np.isfinite(self.row_hi), self.row_hi, 0.0),
                        np.where(np.isfinite(self.row_lo), self.row_lo, 0.0))
        r, a, v = self.aux_coo
        rc_aux = self.aux_obj - np.bincount(a.astype(np.int64), weights=v * y[r.astype(np.int64)], minlength=len(self.aux_obj))
        ca, cv = self.cut_aux_part(y)
        rc_aux -= np.bincount(ca, weights=cv, minlength=len(self.aux_obj))
        pos = rc_aux > 1e-9
        if np.any(pos & ~np.isfinite(self.aux_ub)):
            return Lagrangian(np.inf, np.inf, rc, y)
        base = self.rows.offset + float((self.aux_ub[pos] * rc_aux[pos]).sum())
        ys = y * side
        plain = base + float(ys.sum()) + float(np.maximum(rc, 0.0).sum()) + float(np.minimum(rc[self.pinned], 0.0).sum())
        best = None
        for key in ("c", "p"):  # H2 kept (per cadre), H3 kept (per post)
            L, g = self._kept_side(key, y, ys, rc, base)
            if best is None or L < best.bound:
                best = Lagrangian(L, plain, rc, y, key, g)
        return best

    def _kept_side(self, key: str, y: np.ndarray, ys: np.ndarray, rc: np.ndarray, base: float) -> tuple[float, np.ndarray]:
        """The bound with the one-post rows of side ``key`` kept, and per group the best cost g (see
        :meth:`lagrangian`), ``chunk`` pairs at a time."""
        rowmap = self.rows.h2_row if key == "c" else self.rows.h3_row
        grp = getattr(self.pairs, key)
        kept = rowmap >= 0

        def best(sl: slice) -> np.ndarray:  # per group, its best cost without the kept row's dual, over one chunk
            gk = np.full(len(rowmap), -np.inf)
            np.maximum.at(gk, grp[sl], rc[sl] + y[rowmap[grp[sl]]])
            return gk
        g = np.maximum.reduce(map_chunks(best, len(grp), self.chunk) + [np.full(len(rowmap), -np.inf)])
        pin_grp = grp[self.pinned]  # H7: a pinned cadre (post) takes its pinned pair
        if len(pin_grp):
            gp = np.full(len(rowmap), -np.inf)
            np.maximum.at(gp, pin_grp, rc[self.pinned] + y[rowmap[pin_grp]])
            g[pin_grp] = gp[pin_grp]
        must = self.row_lo[np.maximum(rowmap, 0)] > 0.5
        # at least 0 where the row lets the group take nothing, or where it has no pair at all (then the model is
        # infeasible: any number is a valid bound, and a finite one keeps the arithmetic sound)
        g = np.where(kept & must & np.isfinite(g), g, np.maximum(g, 0.0))
        g[~kept] = 0.0
        other = np.ones(len(y), bool)
        other[rowmap[kept]] = False
        return base + float(ys[other].sum()) + float(g[kept].sum()), g

    def _delta_of(self, lag: Lagrangian):
        """A function of a slice of pairs giving δ over it: δ_j = rc_j + y_kept(j) − g(j), −inf for the other pairs
        of a pinned cadre (post), which are in no feasible plan."""
        rowmap = self.rows.h2_row if lag.side == "c" else self.rows.h3_row
        grp = getattr(self.pairs, lag.side)
        pinned_grp = np.zeros(len(rowmap), bool)
        pinned_grp[grp[self.pinned]] = True
        is_pin = np.zeros(len(grp), bool)
        is_pin[self.pinned] = True

        def of(sl: slice) -> np.ndarray:
            gs = grp[sl]
            d = lag.rc[sl] + lag.y[rowmap[gs]] - lag.g[gs]
            d[pinned_grp[gs] & ~is_pin[sl]] = -np.inf
            return d
        return of

    def delta(self, lag: Lagrangian) -> np.ndarray:
        """δ per pair (≤ 0): for every feasible plan x, c·x ≤ bound + Σ_j δ_j·x_j."""
        out = np.empty(len(self.pairs))
        of = self._delta_of(lag)

        def part(sl: slice) -> None:
            out[sl] = of(sl)
        map_chunks(part, len(out), self.chunk)
        return out

    def closure_costs(self, lag: Lagrangian) -> np.ndarray:
        """Per pair, min(δ, rc + plain − bound) in float32, rounded up: a plan worth more than T uses only pairs
        above −(bound − T). Both arguments hold for every plan, so a pair needs to pass both (the plain one prunes
        pairs of cadres whose best pair is far off; the kept side most others)."""
        out = np.empty(len(self.pairs), np.float32)
        of = self._delta_of(lag)

        def part(sl: slice) -> None:
            out[sl] = _up32(np.minimum(of(sl), lag.rc[sl] + (lag.plain - lag.bound)))
        map_chunks(part, len(out), self.chunk)
        return out


def down32(v: float) -> np.float32:
    """``v`` as a float32 not above it (a threshold for the float32 closure costs, rounded up)."""
    r = np.float32(v)
    return np.nextafter(r, np.float32(-np.inf)) if float(r) > v else r


def closure_target(z1: float, gap: float) -> float:
    """The value a plan must beat for the gap to be missed: z1 itself, or z1 plus the allowed gap (integers)."""
    return z1 + np.floor(gap * max(1.0, abs(z1)) + 1e-9) if gap > 0 else z1


def certified_from(B: float, gap: float) -> float:
    """The lowest integral plan value that the bound ``B`` certifies at the relative ``gap`` (``closure_target`` of
    it at least ``B``); inf without a finite bound or a gap goal."""
    if gap <= 0 or not np.isfinite(B):
        return np.inf
    z = float(np.floor(B / (1.0 + gap) if B >= 0 else B / (1.0 - gap))) - 2.0
    while closure_target(z, gap) < B:
        z += 1.0
    return z


def closable_from(rc: np.ndarray, in_R: np.ndarray, B: float, gap: float, k: int) -> float:
    """About the lowest plan value whose closure under bound ``B`` and reduced costs ``rc`` has at most ``k`` pairs
    outside the master ``in_R``, or that ``B`` certifies alone (no closure then) (-inf: every plan's): a closure is
    the pairs with rc above -(B - target), and a plan's target (:func:`closure_target`) is about the plan times
    1 + ``gap``."""
    out = rc[~in_R]
    if len(out) <= k or not np.isfinite(B):
        return -np.inf
    t = float(np.partition(out, len(out) - k - 1)[len(out) - k - 1])  # the (k+1)-th largest: above it, k pairs at most
    x = B + min(t, 0.0)  # the target needed; a target is z + gap·|z| (z < 0: a model with a negative offset)
    return x / (1.0 + gap) if x >= 0 else x / (1.0 - gap)
