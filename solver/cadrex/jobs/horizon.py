"""``cadrex.horizon``: the multi-year rotation plan (SPEC §12) — the joint model of Y rounds
(:mod:`cadrex.model.horizon`), the myopic reference (round by round) in the same run, and every round's plan
re-read on its own derived case by the one-round pipeline and the independent verifier."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cadrex.i18n import Msg, say
from cadrex.io import Case
from cadrex.io.advance import mark_deadlines, next_round
from cadrex.io.tomlfiles import effective_policy
from cadrex.jobs.solve import _sha, _with_policy_file, plan_result, solve
from cadrex.model.horizon import HorizonModel, build_horizon
from cadrex.reports.result import Result
from cadrex.rules import Context
from cadrex.solvers import Status, get_backend
from cadrex.version import __version__

log = logging.getLogger(__name__)

MAX_YEARS = 10
#: above this many pair variables the joint model is solved by column generation over its columns (HiGHS)
PRICE_ABOVE = 50_000
#: the myopic reference's rounds stop at this certified gap at least (it is a reference and a start)
MYOPIC_GAP = 0.001


@dataclass
class HorizonResult:
    """A multi-year plan: ``rounds[t-1]`` is round t's plan read on ``cases[t-1]`` (case_t, derived from the rounds
    before it), ``total`` = Σ of their §6 objectives, ``best_bound``/``gap`` on the total; ``myopic_total`` the
    round-by-round reference (None when some round of it is infeasible). ``diagnosis``: for an infeasible
    horizon, the conflicts of the first round that cannot be planned, each with its ``year``."""

    status: Status
    years: int
    total: int | None
    best_bound: float | None
    gap: float | None
    myopic_total: int | None
    rounds: list[Result]
    cases: list[Case]
    timeline: pd.DataFrame
    summary: dict
    diagnosis: list[dict] = field(default_factory=list)
    case: Case | None = None

    def write(self, out_dir, inputs=(), lang: str | None = None) -> None:
        """Write DIR atomically (see :func:`cadrex.reports.horizon.write_horizon`); ``lang``: of the reasons."""
        from cadrex.reports.horizon import write_horizon

        write_horizon(self, out_dir, inputs, lang)


def _in_play(case: Case, pol: dict, plan: dict[str, str | None]) -> dict[str, str | None]:
    """``plan`` restricted to the cadres in play in ``case`` (a mover who is fixed in a later round is not)."""
    ctx = Context(case, pol)
    return {str(c): plan.get(str(c)) for c in ctx.cad_ids[ctx.I]}


def _hint(hm: HorizonModel, plans: list[dict], backend, seed: int, time_limit: float = 30.0) -> np.ndarray | None:
    """The myopic plans as values of every joint variable (the auxiliaries completed by a solve with the pairs
    fixed), or None when they are not a plan of the joint model (a cadre moved twice)."""
    ctx1 = hm.ctxs[0]
    own = {str(ctx1.cad_ids[c]): (str(ctx1.post_ids[ctx1.c_post[c]]) if ctx1.c_post[c] >= 0 else None) for c in range(ctx1.n_cad)}
    moved: dict[str, tuple[int, str]] = {}
    for t, plan in enumerate(plans, 1):
        for c, p in plan.items():
            before = moved[c][1] if c in moved else own.get(c)
            if p is not None and p != before:
                if c in moved:
                    return None
                moved[c] = (t, p)
    m_round = np.zeros(ctx1.n_cad, np.int64)  # per cadre of round 1: the round it moves in (0: never), and where
    m_post = np.full(ctx1.n_cad, -1, np.int64)
    for c, (t, p) in moved.items():
        m_round[ctx1.cix[c]], m_post[ctx1.cix[c]] = t, ctx1.pix[p]
    mr, vr = m_round[hm.v_cadre], hm.v_round
    x = np.where(hm.v_stay, (mr == 0) | (mr > vr), (mr == vr) & (m_post[hm.v_cadre] == hm.v_post)).astype(float)
    fixed = hm.model
    lb, ub = fixed.lb.copy(), fixed.ub.copy()
    lb[: fixed.n_pairs] = ub[: fixed.n_pairs] = x
    import dataclasses

    br = backend(dataclasses.replace(fixed, lb=lb, ub=ub), time_limit=max(1.0, time_limit), seed=seed)
    return br.x if br.x is not None else None


def horizon(case: Case, years: int, policy=None, backend: str | None = None, time_limit: float | None = None,
            seed: int | None = None, gap: float | None = None, num_workers: int | None = None, progress=None) -> HorizonResult:
    """The best plan over ``years`` rounds (SPEC §12) and its myopic reference; ``time_limit`` covers the whole run
    (the myopic rounds first, then the joint model started from them). Raises ValueError for ``years`` outside
    1 … 10. Never raises for an infeasible horizon: the result says which round cannot be planned."""
    gap = 0.0 if gap is None else gap
    if not isinstance(years, int) or not 1 <= years <= MAX_YEARS:
        raise ValueError(f"--years must be between 1 and {MAX_YEARS} (got {years!r}) / --years 须在 1 到 {MAX_YEARS} 之间（收到 {years!r}）")
    t0 = time.perf_counter()
    pol = effective_policy(case.policy, policy)
    if policy is not None and not isinstance(policy, dict):
        case = _with_policy_file(case, policy)
    backend = backend or pol["backend"]
    time_limit = float(time_limit if time_limit is not None else pol["time_limit"])
    seed = int(seed if seed is not None else pol["seed"])
    log.info(Msg("horizon.announce", years=years, limit=f"{time_limit:g}", goal=f"{gap:.4%}" if gap > 0 else
                 Msg("plan.prove")), extra={"user": True})  # once: the rounds' solves below say nothing each
    Y = years
    c1 = mark_deadlines(case, Y, 1, pol)
    # the myopic reference: each round alone, the next derived from its plan (same derivation, same marking)
    my_res: list[Result] = []
    my_fail: tuple[int, Result] | None = None
    c = c1
    for t in range(1, Y + 1):
        share = max(1.0, (time_limit * 0.4 - (time.perf_counter() - t0)) / (Y - t + 1))
        r = solve(c, policy=pol, backend=backend, time_limit=share, seed=seed, gap=max(gap, MYOPIC_GAP),
                  method="cg" if backend == "highs" and _size(c, pol) > PRICE_ABOVE else "auto", announce=False)
        if r.status not in (Status.OPTIMAL, Status.FEASIBLE):
            my_fail = (t, r)
            break
        my_res.append(r)
        if t < Y:
            c = next_round(c, r.placements, Y, t, pol)
    myopic_total = sum(int(r.objective) for r in my_res) if my_fail is None else None
    t_myopic = time.perf_counter() - t0
    # the joint model over the unmoved derivation
    cases0 = [c1]
    for t in range(1, Y):
        cases0.append(next_round(cases0[-1], {}, Y, t, pol))
    hm = build_horizon([Context(ci, pol) for ci in cases0])
    be = get_backend(backend)
    hint = _hint(hm, [r.placements for r in my_res], be, seed,
                 min(30.0, 0.1 * (time_limit - (time.perf_counter() - t0)))) if my_fail is None else None
    remaining = max(1.0, time_limit - (time.perf_counter() - t0))
    priced = backend == "highs" and hm.model.n_pairs > PRICE_ABOVE and num_workers is None
    pinfo: dict = {}
    if hm.model.infeasible:
        br = None
    elif priced:
        from cadrex.solvers.cg.explicit import solve_priced

        br, pinfo = solve_priced(hm.model, _start(hm), remaining, seed=seed, gap=gap, hint=hint, progress=progress,
                                 stages=hm.v_round)
    else:
        br = be(hm.model, time_limit=remaining, seed=seed, gap=gap, num_workers=num_workers, progress=progress, hint=hint)
    t_joint = time.perf_counter() - t0 - t_myopic
    joint_plans = [hm.positions(br.x, t) for t in range(1, Y + 1)] if br is not None and br.x is not None else None
    joint_obj = hm.model.objective_of(br.x) if joint_plans is not None else None
    use_joint = joint_plans is not None and (myopic_total is None or joint_obj >= myopic_total - 0.5)
    base = {"years": Y, "backend": backend, "seed": seed, "time_limit": time_limit, "gap_goal": gap,
            "input_sha256": case.input_sha256, "policy_sha256": _sha(pol), "version": __version__, "policy": pol,
            "exact": hm.exact, "model": hm.model.stats(), "myopic_total": myopic_total,
            "method": "priced" if priced else "full", "myopic_gap": max(gap, MYOPIC_GAP), "column_generation": pinfo,
            "myopic_objectives": [int(r.objective) for r in my_res] if my_fail is None else None}
    if not use_joint and myopic_total is None:
        # infeasible only when proven for the horizon (the joint model, when it is exact); a myopic round that is
        # infeasible explains it; a round or a joint solve that ran out of time proves nothing (no_solution)
        proven = hm.exact and ((br is not None and br.status == Status.INFEASIBLE) or bool(hm.model.infeasible))
        status = Status.INFEASIBLE if proven else Status.NO_SOLUTION
        shown = my_fail if my_fail is not None and my_fail[1].status == Status.INFEASIBLE else None
        diag = _round_diagnosis(shown, proven) if shown is not None else []
        summary = base | {"status": status.value, "objectives": None, "total": None, "best_bound": None, "gap": None,
                          "infeasible_year": shown[0] if shown else None, "infeasible_proven": bool(proven),
                          "timings": {"myopic": round(t_myopic, 3), "joint": round(t_joint, 3)}}
        return HorizonResult(status, Y, None, None, None, None, [], [], pd.DataFrame(), summary, diag, case)
    plans = joint_plans if use_joint else [r.placements for r in my_res]
    rounds, cases = [], [c1]
    for t in range(1, Y + 1):
        plan = _in_play(cases[-1], pol, plans[t - 1])
        rounds.append(plan_result(cases[-1], plan, pol, backend, seed, time_limit))
        if t < Y:
            cases.append(next_round(cases[-1], plan, Y, t, pol))
    total = sum(int(r.objective) for r in rounds)
    violations = [f"year {t}: {v}" for t, r in enumerate(rounds, 1) for v in r.summary.get("violations", [])]
    if hm.exact and br is not None and br.status == Status.INFEASIBLE and my_fail is None:
        violations.append("joint model: proven infeasible while the myopic plan is a plan of every year (internal error)"
                          " / 联合模型判定不可行，而逐年方案可行（内部错误）")
    if use_joint and abs(joint_obj - total) > 0.5:
        violations.append(f"total: the joint model's objective {joint_obj:.0f} differs from the rounds' verified total {total}"
                          f" (internal error) / 联合模型目标值 {joint_obj:.0f} 与逐年校验合计 {total} 不一致（内部错误）")
    bound = br.bound if br is not None and hm.exact else None
    if br is not None and br.status == Status.OPTIMAL and bound is None and hm.exact:
        bound = joint_obj
    if bound is not None and math.isfinite(bound):
        bound = float(math.floor(bound + 1e-6))
        if bound < total:
            log.error("horizon bound %s below the total %s: not reported", bound, total)
            bound = None
    else:
        bound = None
    gap_ = (bound - total) / max(1, abs(total)) if bound is not None else None
    status = Status.REJECTED if violations else (Status.OPTIMAL if gap_ == 0 else Status.FEASIBLE)
    timeline = _timeline(rounds, cases)
    summary = base | {
        "status": status.value, "objectives": [int(r.objective) for r in rounds], "total": total, "best_bound": bound,
        "gap": gap_, "plan_from": "joint" if use_joint else "myopic", "violations": violations,
        "moves": [int(r.summary["counts"]["moves"]) for r in rounds],
        "deadlines_met": [int(r.summary["metrics"]["must_move_honoured"]) for r in rounds],
        "must_move": [int(r.summary["metrics"]["must_move"]) for r in rounds],
        "structure_after": [r.summary["metrics"]["structure_after"] for r in rounds],
        "retired": [int(len(cases[t - 1].cadres) - len(cases[t].cadres)) for t in range(1, Y)],
        "timings": {"myopic": round(t_myopic, 3), "joint": round(t_joint, 3), "total": round(time.perf_counter() - t0, 3)}}
    if br is not None:
        summary["joint_status"] = br.status.value
    return HorizonResult(status, Y, total, bound, gap_, myopic_total, rounds, cases, timeline, summary, [], case)


def _size(case: Case, pol: dict) -> int:
    """Cadres × posts in play of a round's case (what ``method="auto"`` looks at)."""
    ctx = Context(case, pol)
    return len(ctx.I) * len(ctx.J)


def _start(hm: HorizonModel, k: int = 3) -> np.ndarray:
    """The first master of the priced joint solve: every stay and each cadre's ``k`` best moves of each round by
    objective coefficient (the myopic plan's pairs are added by the hint)."""
    m = hm.model
    key = hm.v_round.astype(np.int64) * m.ctx.n_cad + hm.v_cadre
    order = np.lexsort((-m.obj[: m.n_pairs], key))
    ks = key[order]
    first = np.r_[0, np.flatnonzero(ks[1:] != ks[:-1]) + 1] if len(ks) else np.zeros(0, np.int64)
    rank = np.arange(len(ks)) - np.repeat(first, np.diff(np.r_[first, len(ks)]))
    start = hm.v_stay.copy()
    start[order[rank < k]] = True
    return start


def _round_diagnosis(fail: tuple[int, Result], proven: bool) -> list[dict]:
    """The conflicts of the round the myopic reference could not plan, each with its ``year``; when the joint model
    has not proven the horizon infeasible they are marked as the myopic plan's (``proven`` false)."""
    t, r = fail
    out = []
    for d in r.diagnosis:
        d = dict(d)
        d["year"], d["proven_for_every_plan"] = t, bool(proven)
        mid = "horizon_diag.year" if proven else "horizon_diag.year_myopic"
        d["message"] = say(mid, "en", t=t, message=d.get("message", ""))
        d["message_zh"] = say(mid, "zh", t=t, message=d.get("message_zh", ""))
        out.append(d)
    return out


def _timeline(rounds: list[Result], cases: list[Case]) -> pd.DataFrame:
    """``cadre_id,name,year,action,post_id,province_id``: each cadre in play per year (stay, move, unassigned) and
    each cadre who retires after a year (``retire``)."""
    rows = []
    for t, (r, c) in enumerate(zip(rounds, cases, strict=True), 1):
        a = r.assignments
        for cid, name, act, to_post, to_prov in zip(a["cadre_id"], a["name"], a["action"], a["to_post"], a["to_province"], strict=True):
            rows.append({"cadre_id": cid, "name": name, "year": t, "action": act, "post_id": to_post, "province_id": to_prov})
        if t < len(cases):
            gone = sorted(set(c.cadres.index) - set(cases[t].cadres.index))
            for cid in gone:
                rows.append({"cadre_id": cid, "name": c.cadres.at[cid, "name"], "year": t, "action": "retire", "post_id": "",
                             "province_id": ""})
    return pd.DataFrame(rows, columns=["cadre_id", "name", "year", "action", "post_id", "province_id"])


__all__ = ["MAX_YEARS", "HorizonResult", "horizon"]
