"""``cadrex explain`` at national scale: answer "what if this pair were forced" without building the full model.

Every pair is enumerated (cheap: 10 bytes a pair), but columns and objective terms are built only for the pairs a
question needs: the subject's own (every post of the cadre, or every cadre of the post), and per forced pair a
neighbourhood sub-model — the touched cadres free (the cadre, the post's planned holder, the planned members of
both teams, the best candidates for the posts they leave), everyone else held at the plan.

A forced pair's change is an interval:

* low: the value of the best forced plan the neighbourhood re-solve finds, minus the plan's (a feasible plan, so a
  true lower end);
* high: with the row duals ``y`` a column-generation solve saved (``duals.json``) and their Lagrangian bound ``L``,
  every feasible plan x has ``c·x ≤ L + Σ_{rc_j < 0} rc_j·x_j`` (over pairs without a require pin: L counts
  those already), so forcing pair g gives at most ``L + min(0, rc_g)``; also at most the plan's certified bound. Without saved duals only the bound is left.

When low equals high the change is exact. The duals apply only to the case and policy they were computed on (a
fingerprint of both is saved with them); otherwise they are not used.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass

import numpy as np

from cadrex.i18n import Msg, say
from cadrex.model import Model, RowIndex, all_pairs, assemble, build_rows, pair_objective, summarize
from cadrex.model.pairs import Pairs
from cadrex.rules import Context

log = logging.getLogger(__name__)

#: per left post, this many of its best candidates (by pair score) join a forced pair's neighbourhood
BEST_PER_POST = 20
#: per free cadre, this many of the posts the plan leaves empty (best by pair score) are open in a forced re-solve
VACANT_PER_CADRE = 10


@dataclass
class Forced:
    """Objective change if a pair is forced: exact when ``exact``, else within [low, high]."""

    low: float | None
    high: float | None
    exact: bool
    status: str

    def text(self, lang: str = "en") -> str:
        if self.status == "infeasible":
            return say("explain.forced_infeasible", lang)
        if self.exact:
            return f"{self.low:+.0f}"
        lo = "?" if self.low is None else f"{self.low:+.0f}"
        hi = "?" if self.high is None else f"{self.high:+.0f}"
        how = say("explain.how_local" if self.status == "local" else "explain.how_capped", lang)
        if self.low is None:  # with a verdict when the bound alone says forcing costs
            return say("explain.forced_at_most_loss" if self.high is not None and self.high < 0 else "explain.forced_at_most",
                       lang, high=hi, loss=f"{-(self.high or 0):.0f}", how=how)
        # whether forcing helps: a loss for sure (upper end < 0), none for sure (lower end ≥ 0), no gain but perhaps a
        # loss (upper end 0), or a loss up to the lower end with a gain possible only inside the plan's own gap to its
        # bound (the upper end)
        mid = "explain.forced_loss" if self.high is not None and self.high < 0 else \
            "explain.forced_no_loss" if self.low >= 0 else \
            "explain.forced_no_gain" if self.high is not None and self.high == 0 else "explain.forced_between"
        return say(mid, lang, low=lo, high=hi, loss=f"{-self.low:.0f}", how=how)

    def as_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "exact": self.exact, "status": self.status}


@dataclass
class Saved:
    """A solve's saved duals: the Lagrangian bound and the dual of each row, by row label."""

    bound: float
    rows: dict[str, float]


def load_duals(plan_dir: str, case, policy_sha256: str) -> Saved | None:
    """The plan folder's ``duals.json`` if it was computed on this very case and policy, else None (and why, in
    the log)."""
    from cadrex.io.case import case_fingerprint

    path = os.path.join(plan_dir, "duals.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            d = json.load(fh)
        from cadrex.version import __version__

        # rows are matched by label: another version may name or define them differently
        if (d.get("case_fingerprint") != case_fingerprint(case) or d.get("policy_sha256") != policy_sha256
                or d.get("version") != __version__):
            log.warning(Msg("explain.duals_stale", path=path))
            return None
        return Saved(float(d["lagrangian_bound"]), {str(k): float(v) for k, v in d["rows"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        log.warning(Msg("explain.duals_unreadable", path=path))
        return None


class Scope:
    """The pairs of a case and its rows, with sub-models built on demand (see the module docstring)."""

    def __init__(self, ctx: Context, plan: dict):
        self.ctx = ctx
        self.pairs: Pairs = all_pairs(ctx)
        self.rows: RowIndex = build_rows(ctx, summarize(ctx, self.pairs))
        self.y = None
        self.bound = None
        key = self.pairs.c.astype(np.int64) * ctx.n_post + self.pairs.p  # sorted: pairs come by cadre, then post
        want = np.array([ctx.cix[c] * ctx.n_post + ctx.pix[p] for c, p in plan.items() if p], np.int64)
        pos = np.minimum(np.searchsorted(key, want), max(0, len(key) - 1))
        self.chosen = np.sort(pos[key[pos] == want]) if len(key) else np.zeros(0, np.int64)
        self.start = np.searchsorted(self.pairs.c, np.arange(ctx.n_cad + 1))  # cadre c's pairs: start[c]:start[c+1]

    def use(self, saved: Saved | None) -> None:
        """Price forced pairs with a solve's saved duals (rows matched by label; a row the solve lacked has dual 0)."""
        if saved is not None:
            self.y = np.array([saved.rows.get(lbl, 0.0) for lbl in self.rows.label])
            self.bound = saved.bound

    def model(self, idx: np.ndarray) -> Model:
        """The model over the pairs ``idx`` (sorted) and every auxiliary."""
        sub = self.pairs.take(idx)
        terms, score, obj = pair_objective(self.ctx, sub)
        return assemble(self.ctx, self.rows, sub, terms, score, obj, pair_index=idx)

    def of_cadre(self, c: int) -> np.ndarray:
        return np.arange(self.start[c], self.start[c + 1])

    def of_cadres(self, cs) -> np.ndarray:
        return np.concatenate([self.of_cadre(int(c)) for c in sorted(cs)] or [np.zeros(0, np.int64)])

    def reduced_costs(self, m: Model) -> np.ndarray | None:
        """The saved duals' reduced cost of each of ``m``'s pairs (None without saved duals)."""
        if self.y is None:
            return None
        n = m.n_pairs
        return m.obj[:n] - m.A[:, :n].T @ self.y

    def neighbourhood(self, g: int) -> np.ndarray:
        """Cadres free in the forced re-solve of pair ``g`` (see the module docstring)."""
        ctx, P = self.ctx, self.pairs
        c, p = int(P.c[g]), int(P.p[g])
        team = ctx.p_team
        ch = self.chosen
        own = P.p[ch[P.c[ch] == c]]
        teams = {int(team[p])} | {int(team[q]) for q in own}
        touched = set(P.c[ch[np.isin(team[P.p[ch]], list(teams))]].tolist()) | {c}
        left = set(P.p[ch[np.isin(P.c[ch], list(touched))]].tolist())
        if left:
            into = np.flatnonzero(np.isin(P.p, list(left)) & P.ok)
            _, score, _ = pair_objective(ctx, P.take(into))
            for q in left:
                at = into[P.p[into] == q]
                best = at[np.argsort(-score[P.p[into] == q], kind="stable")[:BEST_PER_POST]]
                touched |= set(P.c[best].tolist())
        return np.array(sorted(touched), np.int64)

    def forced(self, g: int, optimum: int, time_cap: float, bound: float | None, rc_g: float | None, seed: int = 0):
        """The objective change if pair ``g`` is forced: a :class:`~cadrex.analysis.explain.Forced` interval."""
        from cadrex.solvers.highs import solve_model

        highs = [] if bound is None else [float(np.floor(bound + 1e-6))]
        if self.bound is not None and rc_g is not None:
            highs.append(float(np.floor(self.bound + min(0.0, rc_g) + 1e-6)))
        high = min(highs) - optimum if highs else None
        free = self.neighbourhood(g)
        held = self.chosen[~np.isin(self.pairs.c[self.chosen], free)]
        mine = self.of_cadres(free.tolist())
        # a post the plan gives to someone held is taken (H3): the free cadres choose among the others
        P = self.pairs
        mine = mine[~np.isin(P.p[mine], P.p[held])]
        # the posts the free cadres hold in the plan (and the forced one) are open to all of them; of the posts the
        # plan leaves empty, each free cadre gets its best few (measured: with 30 % vacancies, all of them made the
        # re-solves 3-4 times slower for the same forced plans)
        vacant = ~np.isin(P.p[mine], np.r_[P.p[self.chosen], P.p[g]])
        if vacant.any():
            v = mine[vacant]
            _, score, _ = pair_objective(self.ctx, P.take(v))
            order = np.lexsort((-score, P.c[v]))
            cs = P.c[v][order]
            rank = np.arange(len(order)) - np.searchsorted(cs, cs)
            mine = np.union1d(mine[~vacant], v[order[rank < VACANT_PER_CADRE]])
        idx = np.union1d(mine, held)
        m = self.model(idx)
        at = int(np.searchsorted(idx, g))
        if not m.ub[at]:
            return Forced(None, None, False, "infeasible")
        free_col = np.zeros(m.n_vars, bool)
        free_col[: m.n_pairs] = ~np.isin(idx, held)  # everyone outside the neighbourhood keeps the plan's post
        small, cols = _without(m, free_col)
        at_small = int(np.searchsorted(cols, at))
        # the plan's own value in the small model, then the forced one: their difference is the change (the parts
        # left out are the same in both)
        plan = small.lb.copy()
        plan[: small.n_pairs] = np.isin(idx[cols[: small.n_pairs]], self.chosen)
        base = solve_model(dataclasses.replace(small, lb=plan, ub=np.where(np.arange(small.n_vars) < small.n_pairs, plan, small.ub)),
                           time_limit=time_cap, seed=seed)
        small.lb[at_small] = 1.0
        # presolve off: measured on a 2,000-in-play case (5 forced pairs of a cadre, 5,000-10,000 pairs and 1,200-1,900
        # rows each), HiGHS's presolve took 1-3 s a pair for the same optima; 4.3 s instead of 10.6 s in all. No
        # feasibility jump: before the root LP it took 0.3-1.1 s of each 0.5-2.2 s re-solve and never gave the plan
        # (tight family, 2,000 in play, a post's 5 forced pairs: 6.4 s -> 4.2 s in all, the same optima)
        r = solve_model(small, time_limit=time_cap, seed=seed,
                        options={"presolve": "off", "mip_heuristic_run_feasibility_jump": False})
        if base.objective is None:
            return Forced(None, high, False, "local")
        optimum = base.objective  # the plan's value, counted as the forced plan's is
        low = None if r.objective is None else float(round(r.objective - optimum))  # objectives are integers
        if low is not None and high is not None and low > high:
            log.error("forced %d: a forced plan %+.0f above the bound %+.0f (internal error)", g, low, high)
        if low is not None and low == high:
            return Forced(low, high, True, "optimal")
        log.info("forced %s -> %s: neighbourhood of %d cadres, %d pairs, %d rows: %s", self.ctx.cad_ids[self.pairs.c[g]],
                 self.ctx.post_ids[self.pairs.p[g]], len(free), small.n_pairs, small.n_rows, r.status)
        return Forced(low, high, False, "local")


def _without(m: Model, free: np.ndarray) -> tuple[Model, np.ndarray]:
    """The part of ``m`` a neighbourhood re-solve moves, and its columns in ``m``: the ``free`` pairs, the rows they
    touch and, closed under sharing a row, the auxiliaries on those rows. Every other pair of ``m`` is held at 1
    and substituted into the row bounds; rows and
    auxiliaries apart from the free pairs are left out (their value does not depend on them). So the small model's
    objective differs from the full one's by a constant: compare two of its own values. Only what a backend reads
    is kept consistent."""
    n = m.n_pairs
    A = m.A.tocsc()
    held = np.zeros(m.n_vars, bool)
    held[:n] = ~free[:n]
    act = np.asarray(A[:, np.flatnonzero(held)].sum(axis=1)).ravel() if held.any() else np.zeros(m.n_rows)
    cols = free.copy()
    aux = np.zeros(m.n_vars, bool)
    aux[n:] = True
    B = (A != 0).astype(np.int8)
    rows = np.asarray(B[:, np.flatnonzero(cols)].sum(axis=1)).ravel() > 0
    while True:  # auxiliaries on these rows, and their rows, until nothing is added
        more = aux & ~cols & (np.asarray(B[np.flatnonzero(rows)].sum(axis=0)).ravel() > 0)
        if not more.any():
            break
        cols |= more
        rows |= np.asarray(B[:, np.flatnonzero(more)].sum(axis=1)).ravel() > 0
    c, r = np.flatnonzero(cols), np.flatnonzero(rows)
    kp = c[c < n]
    small = dataclasses.replace(
        m, A=A[:, c].tocsr()[r], row_lo=m.row_lo[r] - act[r], row_hi=m.row_hi[r] - act[r], obj=m.obj[c], lb=m.lb[c].copy(),
        ub=m.ub[c], integer=m.integer[c], offset=0.0, pair_c=m.pair_c[kp], pair_p=m.pair_p[kp], pair_stay=m.pair_stay[kp],
        pair_score=m.pair_score[kp], terms={k: v[kp] for k, v in m.terms.items()}, row_rule=m.row_rule[r],
        row_label=[m.row_label[i] for i in r], row_ent=[], h6_caps=[], h7_pins=[], pair_block=None, pair_index=None,
        rows=None, infeasible=[])
    return small, c
