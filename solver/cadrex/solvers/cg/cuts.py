"""Cuts on the max_avg_age rows (SPEC §3 structure; §6's structure term, age_penalty_per_year per excess
person-year; H6 when the rule is hard, which caps the excess: the cuts need only e ≥ 0) for the master LP of column
generation (:class:`AgeCuts`, a part of :class:`~cadrex.solvers.cg.driver.ColumnGeneration`).

A team's age row reads Σ_j a_j·x_j − e ≤ b, with a_j = age − k over the pairs into the team (its holders' stays
among them), e ≥ 0 its excess. The LP meets it with fractions of old and young cadres that no plan has: at 2,000 in
play (`vacancies` seed 2) the LP bound stood 0.054 % above the optimum, and with these rows relaxed the gap closed
(170 → 1.5). Complementing a set S of the team's pool pairs (x̄ = 1 − x) gives Σ_{j∉S} a_j x_j +
Σ_{j∈S} (−a_j) x̄_j − e ≤ β, β = b − Σ_S a_j, and for an integer δ > 0 with r₀ = β mod δ > 0 the mixed-integer
rounding inequality, scaled by δ − r₀, is

    Σ_{j∉S} κ(a_j)·x_j − Σ_{j∈S} κ(−a_j)·x_j − e ≤ (δ − r₀)·⌊β/δ⌋ − Σ_S κ(−a_j),
    κ(a) = (δ − r₀)·⌊a/δ⌋ + max(0, (a mod δ) − r₀),

integral throughout (ages and k are integers), valid for every plan of the full model whatever S is. S is the
team's stays or the pairs above 1/2 in the LP solution (the more violated; the second took tight s2's master LP
266,213 → 266,162 where the first stopped, benchmarks/README.md), all of them pool pairs, kept per cut: every other
pool pair, in the master or not, gets κ(a_j) from its age and team alone, so pricing and the Lagrangian bound stay
exact with the cuts' duals. The cuts are separated from an LP solution that priced out or came near the gap rule
(:data:`CUT_FROM`), at most :data:`CUT_ROUNDS` times."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import scipy.sparse as sp

from cadrex.solvers.cg.pool import SMALL_POOL
from cadrex.solvers.cg.pricing import map_chunks

log = logging.getLogger(__name__)

#: separation rounds per solve (each is one master re-solve); measured at 2,000 in play, the first round took the
#: LP bound 315,118 → 315,042 of the 315,036 that LP-dependent complementing reached, the next ones 8 more
CUT_ROUNDS = 3
#: cuts in the first LP phase too (before the dive), not only in the rounds resumed after it (2,000 in play, 14
#: cases: time median 14.5 -> 12.8 s, every case but `tight` within the 0.05 % goal; benchmarks/README.md, session 28)
FIRST_PHASE = True
#: the cuts are separated once the LP round's bound is within CUT_FROM times the gap rule's share of the LP value (the
#: gap goal itself, the rule stopping at a quarter of it), not only once it meets the rule: the cut rounds then overlap
#: the last pricing rounds. 2,000 in play, the 14 cases (`cadrex.solve(case, gap=0.0005)` one after the other): time
#: median 18.0 -> 16.0 s, every family but `tight` faster, every gap within the goal; `tight` s1-s4 28.8, 74.1, 76.9,
#: 92.5 s -> 41.9, 93.8, 71.5, 74.6 s (s4 gap 0.149 -> 0.097 %); benchmarks/README.md, session 32
CUT_FROM = 4
#: the step sizes δ tried per team
DELTAS = np.arange(2, 21)
#: a cut enters when violated by more than this, in the units of its unscaled inequality
MIN_VIOLATION = 1e-3


def kappa(a: np.ndarray, delta: np.ndarray, r0: np.ndarray) -> np.ndarray:
    """The cut coefficient κ(a) of a non-stay pair (integers: ``a``, ``delta`` and ``r0`` broadcast)."""
    return (delta - r0) * np.floor_divide(a, delta) + np.maximum(0, np.mod(a, delta) - r0)


class AgeCuts:
    """The cuts of a :class:`~cadrex.solvers.cg.driver.ColumnGeneration` (its ``ctx``, ``rows``, ``pairs``, master
    LP ``h``, ``cols``, ``x_lp``, ``aux_lp``, ``row_lo``/``row_hi``, ``active``). Cut k is row ``rows.n + k`` of the
    duals ``y``; ``row_lo``/``row_hi`` grow with them."""

    @property
    def cut_from(self) -> float:
        """:data:`CUT_FROM`, read at each round (the driver's ``cuts`` argument hides this module's name there)."""
        return CUT_FROM

    def team_of(self, idx) -> np.ndarray:
        """The team of each pool pair in ``idx`` (indices or a slice)."""
        return self.ctx.p_team[self.pairs.p[idx]]

    def init_cuts(self) -> None:
        ctx, ri = self.ctx, self.rows
        T = ctx.n_team
        self.cut_team = np.zeros(0, np.int64)
        self.cut_delta = np.zeros(0, np.int64)
        self.cut_r0 = np.zeros(0, np.int64)
        self.cut_aux = np.zeros(0, np.int64)
        self.cut_lp_row = np.zeros(0, np.int64)  # each cut's row in the master LP
        # each cut's complemented pool pairs S_k, as sorted keys k·N + j (N pool pairs; the pool never changes)
        self.cut_comp = np.zeros(0, np.int64)
        self.cut_rounds = 0
        # per team: its age row's one auxiliary (coefficient −1) and right-hand side b; −1 where a team has no age
        # row or its row has another auxiliary (an extension's): no cuts there
        self.age_aux = np.full(T, -1, np.int64)
        self.age_b = np.zeros(T, np.int64)
        self._stays = np.zeros(0, np.int64)
        if ri.age_row is None or not (ri.age_row >= 0).any():
            return
        ar, aa, av = (np.asarray(v) for v in self.aux_coo)
        team_of_row = np.full(ri.n, -1, np.int64)
        teams = np.flatnonzero(ri.age_row >= 0)
        team_of_row[ri.age_row[teams]] = teams
        on = team_of_row[ar.astype(np.int64)] >= 0 if len(ar) else np.zeros(0, bool)
        t_on = team_of_row[ar[on].astype(np.int64)]
        n_aux = np.bincount(t_on, minlength=T)
        one = t_on[(n_aux[t_on] == 1) & (av[on] == -1.0)]
        self.age_aux[one] = aa[on][(n_aux[t_on] == 1) & (av[on] == -1.0)].astype(np.int64)
        b = np.asarray(ri.hi, float)[np.maximum(ri.age_row, 0)]
        ok = (self.age_aux >= 0) & np.isfinite(b) & (b == np.round(b))
        self.age_aux[~ok] = -1
        self.age_b = np.where(ok, np.round(np.where(ok, b, 0)).astype(np.int64), 0)
        st = np.flatnonzero(self.pairs.stay)
        self._stays = st[self.age_aux[self.team_of(st)] >= 0]  # the stays of teams with cuts

    def _age(self, idx: np.ndarray, team: np.ndarray) -> np.ndarray:
        """a_j = age − k of pool pairs ``idx`` in the age rows of teams ``team``."""
        return self.ctx.c_age[self.pairs.c[idx]].astype(np.int64) - self.rows.age_k[team]

    def pad(self, y: np.ndarray) -> np.ndarray:
        """Duals ``y`` over every row and cut (0 on cuts added after they were taken)."""
        n = len(self.row_lo)
        return y if len(y) == n else np.concatenate([y, np.zeros(n - len(y))])

    def _coef(self, k: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The coefficients of pool pairs ``idx`` in cuts ``k`` (elementwise; each pair in its cut's team):
        κ(a), or −κ(−a) where the pair is in the cut's complemented set."""
        a = self._age(idx, self.cut_team[k])
        d, r0 = self.cut_delta[k], self.cut_r0[k]
        key = k * len(self.pairs) + idx
        at = np.minimum(np.searchsorted(self.cut_comp, key), max(len(self.cut_comp) - 1, 0))
        comp = (self.cut_comp[at] == key) if len(self.cut_comp) else np.zeros(len(key), bool)
        return np.where(comp, -kappa(-a, d, r0), kappa(a, d, r0)).astype(float)

    def cut_entries(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cuts' entries of pool pairs ``idx``: (cut, position in ``idx``, value)."""
        if not len(self.cut_team) or not len(idx):
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        t = self.team_of(idx)
        order = np.argsort(self.cut_team, kind="stable")
        lo = np.searchsorted(self.cut_team[order], t, "left")
        cnt = np.searchsorted(self.cut_team[order], t, "right") - lo
        pos = np.repeat(np.arange(len(idx)), cnt)
        k = order[np.repeat(lo, cnt) + (np.arange(len(pos)) - np.repeat(np.cumsum(cnt) - cnt, cnt))]
        return k, pos, self._coef(k, idx[pos])

    def price_cuts(self, rc: np.ndarray, y: np.ndarray) -> None:
        """Subtract the cuts' part of Aᵀy from the pool's reduced costs ``rc`` (in place)."""
        n = self.rows.n
        pi = y[n:n + len(self.cut_team)] if len(y) > n else np.zeros(0)
        live = np.flatnonzero(pi != 0)
        if not len(live):
            return
        on = np.zeros(self.ctx.n_team, bool)
        on[self.cut_team[live]] = True

        def part(sl: slice) -> None:  # chunk by chunk, in place (disjoint slices): bounded memory at any pool size
            sel = sl.start + np.flatnonzero(on[self.team_of(sl)])
            k, pos, v = self.cut_entries(sel)
            rc[sel] -= np.bincount(pos, weights=pi[k] * v, minlength=len(sel))
        map_chunks(part, len(rc), self.chunk)

    def with_cuts(self, priced: tuple[np.ndarray, float], y: np.ndarray) -> tuple[np.ndarray, float]:
        """:meth:`ColumnGeneration.price`'s reduced costs and excess without the cuts, ``priced``, with them."""
        rc, extra = priced
        if not len(self.cut_team):
            return rc, extra
        self.price_cuts(rc, y)
        return rc, float(np.maximum(0.0, np.where(self.in_R, 0.0, rc)).sum())

    def cut_aux_part(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cuts' part of Aᵀy on the auxiliaries: (auxiliary, value) (each cut's excess has −1)."""
        n = self.rows.n
        pi = y[n:n + len(self.cut_team)] if len(y) > n else np.zeros(0)
        return self.cut_aux[: len(pi)], -pi

    def _cut_matrix(self, k0: int, idx: np.ndarray, col: np.ndarray, aux0: int, n_cols: int) -> sp.csr_matrix:
        """Cuts ``k0``… as CSR rows over ``n_cols`` columns: pool pairs ``idx`` in columns ``col`` (by position in
        ``idx``), each cut's excess −1 in column ``aux0`` + its auxiliary."""
        k, pos, v = self.cut_entries(idx)
        sel = k >= k0
        n = len(self.cut_team) - k0
        R = np.concatenate([k[sel] - k0, np.arange(n)])
        C = np.concatenate([col[pos[sel]], aux0 + self.cut_aux[k0:]])
        M = sp.csr_matrix((np.concatenate([v[sel], -np.ones(n)]), (R, C)), shape=(n, n_cols))
        M.sum_duplicates()
        M.eliminate_zeros()
        return M

    def cut_model(self, m):
        """The master model ``m`` (a :class:`~cadrex.model.Model` over pool pairs ``m.pair_index``) with the cuts
        as extra rows (rule "cut"): the same variables and plans, a tighter LP (a dive's MIP bound then reads like
        the cut LP's). ``m`` itself when there are none."""
        if not len(self.cut_team):
            return m
        n, nr = len(self.cut_team), self.rows.n
        cut = self._cut_matrix(0, m.pair_index, np.arange(m.n_pairs), m.n_pairs, m.A.shape[1])
        return dataclasses.replace(
            m, A=sp.vstack([m.A, cut], format="csr"), row_lo=np.concatenate([m.row_lo, self.row_lo[nr:nr + n]]),
            row_hi=np.concatenate([m.row_hi, self.row_hi[nr:nr + n]]),
            row_rule=np.concatenate([np.asarray(m.row_rule), np.full(n, "cut")]),
            row_label=list(m.row_label) + [f"age cut {self.ctx.team_ids[t]} δ={d}"
                                           for t, d in zip(self.cut_team, self.cut_delta, strict=True)],
            row_ent=list(m.row_ent) + [((), (), (int(t),)) for t in self.cut_team])

    def first_phase_cuts(self) -> bool:
        """Whether the first LP phase separates cuts: :data:`FIRST_PHASE`, on pools of at most
        :data:`~cadrex.solvers.cg.pool.SMALL_POOL` pairs (larger ones' rounds cost tens of seconds, and their plans
        were certified by the LP bound alone), without extensions (re-plans were not measured)."""
        return FIRST_PHASE and not self.extensions and len(self.pairs) <= SMALL_POOL

    def cut_now(self, out, near: bool, partial: bool, end: float) -> int:
        """Separate and add cuts (:meth:`separate_cuts`) if the last round's exact LP solution priced out or is
        ``near`` the gap rule (within :data:`CUT_FROM` times it) without artificials, before ``end``; how many."""
        ok = (out.converged or near) and not partial and self.artificial <= 1e-6 and time.perf_counter() < end
        return self.separate_cuts() if ok else 0

    def _most_violated(self, idx: np.ndarray, x: np.ndarray, comp: np.ndarray, e: np.ndarray):
        """Per team, with pool pairs ``idx`` at LP values ``x`` and those where ``comp`` complemented (every pair of
        S among ``idx``; the others' x may be 0): β = b − Σ_S a_j and the most violated δ with its violation (in
        the units of the unscaled inequality; δ = 0 where none beats :data:`MIN_VIOLATION`)."""
        T = self.ctx.n_team
        t = self.team_of(idx)
        a = self._age(idx, t)
        beta = self.age_b - np.bincount(t[comp], weights=a[comp], minlength=T).astype(np.int64)
        w, a = np.where(comp, 1.0 - x, x), np.where(comp, -a, a)  # x̄ and −a where complemented
        best, best_d = np.full(T, MIN_VIOLATION), np.zeros(T, np.int64)
        for d in DELTAS:
            r0 = np.mod(beta, d)
            lhs = np.bincount(t, weights=w * kappa(a, d, r0[t]), minlength=T)
            viol = (lhs - e - (d - r0) * np.floor_divide(beta, d)) / np.maximum(d - r0, 1)
            better = (viol > best) & (r0 > 0) & (self.age_aux >= 0)
            best[better], best_d[better] = viol[better], d
        return beta, best, best_d

    def separate_cuts(self) -> int:
        """Add to the master LP the most violated cut of each team whose age row its last LP solution breaks as a
        plan cannot: one δ and one complemented set per team, the team's stays or its pairs above 1/2 in the LP
        solution, whichever is more violated; how many."""
        if self.cut_rounds >= CUT_ROUNDS or self.x_lp is None or self.aux_lp is None or not (self.age_aux >= 0).any():
            return 0
        self.cut_rounds += 1
        T, N = self.ctx.n_team, len(self.pairs)
        nz = self.x_lp.support(1e-9)
        nz = nz[self.age_aux[self.team_of(nz)] >= 0]
        teams = np.flatnonzero(self.age_aux >= 0)
        e = np.zeros(T)
        e[teams] = self.aux_lp[self.age_aux[teams]]
        st = np.setdiff1d(self._stays, nz)  # stays at 0 in the LP solution
        cand = [np.concatenate([nz, st]), nz]  # S = the stays; S = the pairs above 1/2
        comps = [self.pairs.stay[cand[0]], self.x_lp[nz] > 0.5]
        xs = [np.concatenate([self.x_lp[nz], np.zeros(len(st))]), self.x_lp[nz]]
        res = [self._most_violated(i, x, c, e) for i, x, c in zip(cand, xs, comps, strict=True)]
        pick = np.argmax(np.stack([r[1] for r in res]), axis=0)  # per team: the candidate S more violated
        best_d = np.choose(pick, [r[2] for r in res])
        beta = np.choose(pick, [r[0] for r in res])
        new_t = np.flatnonzero(best_d > 0)
        if not len(new_t):
            return 0
        k0 = len(self.cut_team)
        slot = np.full(T, -1, np.int64)
        slot[new_t] = k0 + np.arange(len(new_t))
        keys = []
        for i, (idx, comp) in enumerate(zip(cand, comps, strict=True)):
            j = idx[comp]
            tj = self.team_of(j)
            mine = (slot[tj] >= 0) & (pick[tj] == i)  # the teams whose new cut complements this candidate's S
            keys.append(slot[tj[mine]] * N + j[mine])
        self.cut_comp = np.concatenate([self.cut_comp, np.sort(np.concatenate(keys))])
        self.cut_team = np.concatenate([self.cut_team, new_t])
        self.cut_delta = np.concatenate([self.cut_delta, best_d[new_t]])
        self.cut_r0 = np.concatenate([self.cut_r0, np.mod(beta[new_t], best_d[new_t])])
        self.cut_aux = np.concatenate([self.cut_aux, self.age_aux[new_t]])
        k = np.arange(k0, len(self.cut_team))
        # right-hand sides (δ − r₀)·⌊β/δ⌋ − Σ_S κ(−a_j)
        kc = self.cut_comp[self.cut_comp >= k0 * N]
        kk, j = kc // N, kc % N
        sk = np.bincount(kk - k0, weights=kappa(-self._age(j, self.cut_team[kk]), self.cut_delta[kk], self.cut_r0[kk]),
                         minlength=len(k))
        d = self.cut_delta[k]
        rhs = (d - self.cut_r0[k]) * np.floor_divide(beta[new_t], d) - sk
        # the rows over the master's LP columns: its pairs' entries and each cut's excess
        M = self._cut_matrix(k0, self.cols, self._lp_col_of_master(), self.n0, self.h.getNumCol())
        self.h.addRows(len(k), np.full(len(k), -np.inf), rhs, int(M.nnz), M.indptr[:-1].astype(np.int32),
                       M.indices.astype(np.int32), M.data)
        self.row_lo = np.concatenate([self.row_lo, np.full(len(k), -np.inf)])
        self.row_hi = np.concatenate([self.row_hi, rhs])
        self.cut_lp_row = np.concatenate([self.cut_lp_row, len(self.active) + np.arange(len(k))])
        self.active += list(self.rows.n + k)
        log.info("age cuts, round %d: %d teams' max_avg_age rows cut (mixed-integer rounding; %d with the LP's "
                 "complementing)", self.cut_rounds, len(k), int((pick[new_t] == 1).sum()))
        return len(k)
