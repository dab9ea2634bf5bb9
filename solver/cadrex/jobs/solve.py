"""``cadrex.solve``: case -> model -> backend -> verified plan."""

from __future__ import annotations

import logging
import math
import numbers
import os
import time

import numpy as np
import pandas as pd

from cadrex.analysis.verify import evaluate
from cadrex.i18n import Msg
from cadrex.io import Case
from cadrex.io.tomlfiles import effective_policy, layer_keys, resolve_policy_path
from cadrex.model import Model, build_model, plan_values
from cadrex.reports.result import Result
from cadrex.rules import Context
from cadrex.solvers import OptionError, SolveOptions, Status, get_backend
from cadrex.version import __version__

log = logging.getLogger(__name__)


def _with_policy_file(case: Case, policy) -> Case:
    """A copy of ``case`` whose ``input_sha256`` and ``input_files`` also cover the policy file ``policy``."""
    import dataclasses
    import hashlib

    from cadrex.io.case import input_digest
    from cadrex.io.tomlfiles import resolve_policy_path

    sha, files = input_digest([resolve_policy_path(str(policy))], case.path)
    both = hashlib.sha256(f"{case.input_sha256}\0{sha}".encode()).hexdigest()
    return dataclasses.replace(case, input_sha256=both, input_files=[*case.input_files, *files])


#: above this many cadre × post combinations in play, ``method="auto"`` uses column generation (HiGHS only)
CG_ABOVE = 250_000
#: the gap a column-generation solve stops at when none is given (0.05 %): it proves the plan within that of the
#: optimum; ``gap=0`` asks for a proof of optimality
CG_GAP = 0.0005
#: the time limit of a column-generation solve that ``auto`` chose (a national case) when no time limit was chosen:
#: none given, none set by a policy layer above the shipped default (SPEC §4: 60 s, sized for the full model).
#: Measured with 600 s (benchmarks/README.md, session 10): at 5,000 in play six of seven case families end within a
#: 0.1 % gap goal in 178-312 s, and the base case within the default 0.05 % in 280 s, where 60 s gave no plan at all;
#: at 2,000 the solves stop at their gap goal after 30-70 s either way
CG_TIME_LIMIT = 600.0
#: the most pairs a column-generation closure MIP may hold (the closure of the first plan at its target, see
#: :func:`cadrex.solvers.cg.solve_scaled`). Past it the LP's bound stands and the solve ends early, often short of
#: its gap goal; the result line then names the cap that closure needs. Measured for larger caps (session 17): a
#: closure of 423k pairs (1,500 in play) took 43 s and 1.7 GB, one of 1.3M (2,000, `tight`) 405 s and 4.3 GB
CLOSURE_CAP = 300_000


def check_closure_cap(closure_cap, method: str = "auto") -> None:
    """A closure cap is a whole number ≥ 1 (not a bool), and only for column generation: refused, never ignored."""
    if closure_cap is not None and (isinstance(closure_cap, bool) or not isinstance(closure_cap, numbers.Integral)
                                    or closure_cap < 1):
        raise OptionError("closure_cap", Msg("option.closure_cap", v=repr(closure_cap)))
    if closure_cap is not None and method == "full":  # auto may still choose the full model (then it is moot)
        raise OptionError("closure_cap", Msg("option.closure_cap_full"))


def solve(case: Case, policy=None, backend: str | None = None, time_limit: float | None = None,
          seed: int | None = None, num_workers: int | None = None, progress=None, method: str = "auto",
          gap: float | None = None, extensions: tuple = (), extra=None, closure_cap: int | None = None,
          announce: bool = True) -> Result:
    """Best plan for ``case`` under ``policy`` (dict of overrides, a policy file or scenario name, or None for the
    case's own). ``method``: ``full`` (every eligible pair in one model), ``cg`` (price-and-branch, see
    :mod:`cadrex.solvers.cg`; HiGHS only) or ``auto``. ``gap``: stop once the certified relative gap is at most this
    (default None: 0, prove optimality, for the full model; :data:`CG_GAP` for column generation, whose last
    fraction of a per cent costs most of the time at national scale; a plan stopped early is reported ``feasible``,
    never ``optimal``). ``closure_cap`` (column generation only; default :data:`CLOSURE_CAP`): the most pairs a
    closure MIP may hold; a larger closure leaves the LP's bound standing (docs/guide.md, "An unclosed closure").
    Never raises for an infeasible case: the result says so. ``announce=False``: no start line and no busy-machine
    hint, for a job's inner solves (a re-plan's frontier points, robustness samples, batch scenarios, the horizon's
    yearly solves, the column-generation → full-model fallback), whose job says once what it does.

    ``extensions`` (:class:`cadrex.model.Extension`) add terms and rows to the model (a re-plan's change terms);
    ``extra(plan)`` then gives their value for a plan (cadre id -> post id or None), counted independently of the
    model: the model's objective must equal the verifier's §6 objective plus it, and ``best_bound``, ``gap`` and
    ``status`` refer to that sum (SPEC §10), while ``objective`` stays the §6 value."""
    t0 = time.perf_counter()
    check_closure_cap(closure_cap, method)
    pol = effective_policy(case.policy, policy)
    if policy is not None and not isinstance(policy, dict):  # a policy file given here shapes the result too
        case = _with_policy_file(case, policy)
    backend = backend or pol["backend"]
    # a time limit chosen: given here, or set by a policy layer above the shipped default (case, file, overrides)
    chosen = time_limit is not None or "time_limit" in case.policy_keys or (
        "time_limit" in policy if isinstance(policy, dict) else
        policy is not None and "time_limit" in layer_keys([resolve_policy_path(str(policy))]))
    time_limit = float(time_limit if time_limit is not None else pol["time_limit"])
    seed = int(seed if seed is not None else pol["seed"])
    ctx = Context(case, pol)
    if method not in ("auto", "full", "cg"):
        raise ValueError(f"unknown method {method!r} (auto, full, cg)")
    if method == "cg" and backend != "highs":
        raise ValueError("method 'cg' (column generation) runs on the highs backend")
    use_cg = method == "cg" or (method == "auto" and backend == "highs" and len(ctx.I) * len(ctx.J) > CG_ABOVE)
    if use_cg and method == "auto" and not chosen:
        time_limit = max(time_limit, CG_TIME_LIMIT)
    gap = gap if gap is not None else (CG_GAP if use_cg else 0.0)
    if closure_cap is not None and not use_cg:  # auto's full model is exact: it has no closure to cap
        log.info("closure_cap %s: the full model has no closure MIP, the cap does not apply", closure_cap)
    # every option honoured or rejected before any work (OptionError / UnsupportedOption, a ValueError)
    opts = SolveOptions(time_limit=time_limit, seed=seed, num_workers=num_workers, gap=gap, progress=progress)
    if announce:
        log.info(Msg("plan.announce", cadres=len(ctx.I), posts=len(ctx.J), method=Msg("plan.cg" if use_cg else "plan.full"),
                     limit=f"{time_limit:g}", goal=f"{gap:.4%}" if gap > 0 else Msg("plan.prove")), extra={"user": True})
        if use_cg:
            _busy_hint(num_workers)
    if use_cg:
        return _solve_cg(case, ctx, pol, backend, time_limit, seed, progress, t0, gap, extensions, extra, num_workers,
                         closure_cap)
    solve_fn = get_backend(backend)
    check = getattr(solve_fn, "check", None)  # a stand-in backend (tests) may be a bare function
    if check is not None:
        check(opts)
    model = build_model(ctx, extensions)
    t_build = time.perf_counter() - t0
    base, sq = _base_summary(case, ctx, pol, backend, seed, time_limit, "full", gap)
    base["model"] = model.stats()
    timings = {"build": round(t_build, 3)} | {f"build_{k}": round(v, 3) for k, v in model.timings.items()}
    deadline = t0 + time_limit  # solve and diagnosis share the time limit
    if model.infeasible:
        from cadrex.analysis.diagnose import diagnose_full

        return _empty(case, Status.INFEASIBLE, base | {"timings": timings}, sq, diagnose_full(model, deadline))
    remaining = max(0.1, time_limit - t_build)
    br = solve_fn(model, time_limit=remaining, seed=seed, num_workers=num_workers, progress=progress, gap=gap)
    timings["solve"] = round(br.runtime, 3)
    if br.status == Status.INFEASIBLE:
        from cadrex.analysis.diagnose import diagnose_full

        t3 = time.perf_counter()
        diag = diagnose_full(model, deadline)
        timings["diagnose"] = round(time.perf_counter() - t3, 3)
        return _empty(case, Status.INFEASIBLE, base | {"timings": timings}, sq, diag)
    if br.x is None:
        return _empty(case, Status.NO_SOLUTION, base | {"timings": timings, "message": br.message}, sq, [])
    t2 = time.perf_counter()
    res = _assemble(case, ctx, model, br, base, timings, sq, pol, extra=extra)
    res.summary["timings"]["assemble"] = round(time.perf_counter() - t2, 3)
    res.summary["timings"]["total"] = round(time.perf_counter() - t0, 3)
    return res


def plan_result(case: Case, plan: dict[str, str | None], policy=None, backend: str = "highs", seed: int = 0,
                time_limit: float = 0.0) -> Result:
    """The result (tables, summary, the verifier's objective) of a given ``plan`` (cadre id -> post id or None, for
    the cadres in play) in ``case``: the plan is read on the one-round model exactly as a backend's would be, so
    every check of :func:`solve` applies (a plan the verifier rejects, or a pair the model lacks, gives status
    ``rejected``). It has no bound of its own (a multi-year plan reports one on its total)."""
    from cadrex.solvers import BackendResult

    pol = effective_policy(case.policy, policy)
    ctx = Context(case, pol)
    model = build_model(ctx)
    base, sq = _base_summary(case, ctx, pol, backend, seed, time_limit, "fixed")
    key = model.pair_c.astype(np.int64) * ctx.n_post + model.pair_p  # sorted: pairs come by cadre, then post
    want = [(c, p) for c, p in plan.items() if p is not None and c in ctx.cix]
    wc = np.array([ctx.cix[c] for c, _ in want], np.int64)
    wp = np.array([ctx.pix[p] for _, p in want], np.int64)
    q = wc * ctx.n_post + wp
    i = np.minimum(np.searchsorted(key, q), max(0, len(key) - 1))
    hit = (key[i] == q) & (model.ub[i] > 0) if len(key) else np.zeros(len(q), bool)
    x = np.zeros(model.n_vars)
    x[i[hit]] = 1.0
    missing = [f"E: {ctx.cad_ids[c]} -> {ctx.post_ids[p]} is not an option of this round's model (internal error)"
               f" / {ctx.cad_ids[c]} -> {ctx.post_ids[p]} 不是本轮模型的选项（内部错误）" for c, p in zip(wc[~hit], wp[~hit], strict=True)]
    br = BackendResult(Status.FEASIBLE, x, None, None, 0.0)
    res = _assemble(case, ctx, model, br, base, {}, sq, pol)
    if missing:
        res.summary["violations"] = list(res.summary["violations"]) + missing
        res.status = Status.REJECTED
        res.summary["status"] = res.status.value
    return res


def _base_summary(case: Case, ctx: Context, pol: dict, backend: str, seed: int, time_limit: float, method: str,
                  gap_goal: float | None = None) -> tuple[dict, int]:
    own = {ctx.cad_ids[c]: (ctx.post_ids[ctx.c_post[c]] if ctx.c_post[c] >= 0 else None) for c in ctx.I}
    sq = evaluate(case, own, pol).objective
    return {"backend": backend, "method": method, "seed": seed, "time_limit": time_limit, "gap_goal": gap_goal,
            "input_sha256": case.input_sha256,
            "policy_sha256": _sha(pol), "version": __version__, "policy": pol, "status_quo_objective": sq,
            "counts": {"cadres_in_play": int(len(ctx.I)), "posts_in_play": int(len(ctx.J)),
                       "must_move": int(ctx.c_must[ctx.I].sum()), "vacancies": int((ctx.p_holder[ctx.J] < 0).sum())}}, sq


#: what summary.json's column_generation block holds, in this order (docs/guide.md describes each)
CG_SUMMARY_KEYS = ("lp_value", "lagrangian_bound", "bound_round", "lp_converged", "lp_rounds", "lp_partial_rounds",
                   "lp_rounds_after_dive", "lp_iterations", "pairs_total", "pairs_priced", "pairs_master", "first_plan", "closure_pairs",
                   "closed", "closure_fixed", "master_mip", "age_cuts")


def _busy_hint(num_workers: int | None) -> None:
    """A hint, not a decision (the path must not depend on the machine's load): when other work holds about a core
    or more — the 1-minute load average at least the cores less 1.1, which one busy process on 2 cores reaches within
    a few minutes (this solve's own few seconds so far add ~0.1) — and both cores are asked for, say that
    ``--num-workers 1`` may be several times faster (a newcomer's 1,200 in play with another job running: 162 s on
    both cores, 57 s on one; round 1 at 2,000 in play: 2.4 s idle, 6.7 s beside one busy process, 2.9 s serial)."""
    cores = os.cpu_count() or 1
    if num_workers == 1 or cores < 2 or not hasattr(os, "getloadavg"):
        return
    load = os.getloadavg()[0]
    if load >= cores - 1.1:
        log.warning(Msg("plan.busy", load=f"{load:.1f}", cores=cores), extra={"user": True})


def _solve_cg(case: Case, ctx: Context, pol: dict, backend: str, time_limit: float, seed: int, progress, t0: float,
              gap: float = 0.0, extensions: tuple = (), extra=None, num_workers: int | None = None,
              closure_cap: int | None = None) -> Result:
    from cadrex.solvers.cg import serial_resolves, solve_scaled

    base, sq = _base_summary(case, ctx, pol, backend, seed, time_limit, "cg", gap)
    # num_workers 1: one core (the serial dual simplex, pricing on one thread), for a machine busy with other work,
    # where the parallel dual's threads wait on each other (round 1 at 2,000 in play: 2.4 s idle, 6.7 s beside one
    # busy process, serial 2.9 s both ways); 2 or more: both cores (the default)
    before = serial_resolves(True) if num_workers == 1 else None
    cap = CLOSURE_CAP if closure_cap is None else int(closure_cap)
    try:
        br, model, info = solve_scaled(ctx, max(1.0, time_limit - (time.perf_counter() - t0)), seed=seed,
                                       progress=progress, gap=gap, extensions=extensions,
                                       closure_cap=cap)
    finally:
        if before is not None:
            serial_resolves(before)
    # the phases of column generation: setup (pool), lp, first_plan (the dive), closure_mip
    timings = {"solve": round(br.runtime, 3)}
    timings |= {f"cg_{k}": round(v, 3) for k, v in info.get("timings", {}).items() if k != "total"}
    base["model"] = model.stats() | {"pairs_total": info.get("pairs_total")}
    base["column_generation"] = {k: info[k] for k in CG_SUMMARY_KEYS if k in info} | {"closure_cap": cap}
    if br.status in (Status.INFEASIBLE, Status.RESTRICTED_INFEASIBLE) or (br.x is None and model.infeasible):
        from cadrex.analysis.diagnose import conflict_found, diagnose_cg

        t3 = time.perf_counter()
        diag = diagnose_cg(ctx, model, info, t0 + time_limit)
        timings["diagnose"] = round(time.perf_counter() - t3, 3)
        if br.status == Status.RESTRICTED_INFEASIBLE and not conflict_found(diag):
            # the master lacks pairs the MIP needs and no conflict is proven: solve the full model
            log.info("restricted master infeasible, no conflict proven; solving the full model")
            return solve(case, policy=pol, backend=backend, time_limit=max(1.0, time_limit - (time.perf_counter() - t0)),
                         seed=seed, progress=progress, method="full", gap=gap, extensions=extensions, extra=extra,
                         num_workers=num_workers, announce=False)
        return _empty(case, Status.INFEASIBLE, base | {"timings": timings}, sq, diag)
    if br.x is None:
        return _empty(case, Status.NO_SOLUTION, base | {"timings": timings, "message": br.message}, sq, [])
    res = _assemble(case, ctx, model, br, base, timings, sq, pol, info, extra=extra)
    if "duals" in info and not extensions and res.status in (Status.OPTIMAL, Status.FEASIBLE):
        import json

        from cadrex.io.case import case_fingerprint

        # the bound's row duals, for ``cadrex explain`` at this scale (see docs/guide.md, "Explain at scale")
        res.texts["duals.json"] = json.dumps({"case_fingerprint": case_fingerprint(case), "policy_sha256": base["policy_sha256"],
                                              "version": __version__} | info["duals"], sort_keys=True, allow_nan=False)
    res.summary["timings"]["total"] = round(time.perf_counter() - t0, 3)
    return res


def _metrics(case: Case, ctx: Context, assign: pd.DataFrame, posts: pd.DataFrame, ev) -> dict:
    """Figures a scenario comparison needs (SPEC §7 summary, extended)."""
    filled = posts[(posts["holder_before"] == "") & (posts["holder_after"] != "")]
    hard = case.teams.loc[filled["team_id"], "hardship"].astype(int) if len(filled) else pd.Series(dtype=int)
    moves = assign[assign["action"] == "move"]
    promo = int((case.posts.loc[moves["to_post"], "grade"].to_numpy() > case.cadres.loc[moves["cadre_id"], "grade"].to_numpy()).sum())
    must = set(ctx.cad_ids[ctx.I[ctx.c_must[ctx.I]]])
    arr = moves[moves["from_province"] != moves["to_province"]]
    flows = arr.groupby(["from_province", "to_province"]).size()
    provs = sorted(set(arr["from_province"]) | set(arr["to_province"]))
    bal = {q: int((arr["to_province"] == q).sum() - (arr["from_province"] == q).sum()) for q in provs}

    def tot(d: dict) -> dict:
        out: dict = {}
        for v in d.values():
            for k, x in v.items():
                out[k] = out.get(k, 0) + int(x)
        return out

    return {"vacancies_filled_by_hardship": {str(h): int((hard == h).sum()) for h in range(4)},
            "must_move_honoured": int(moves["cadre_id"].isin(must).sum()), "must_move": len(must), "promotions": promo,
            "structure_before": tot(ev.shortfall_before), "structure_after": tot(ev.shortfall_after),
            "flow_imbalance": int(sum(abs(v) for v in bal.values())), "province_balance": bal,
            "flows": [[a, b, int(n)] for (a, b), n in flows.items()]}


def _sha(pol: dict) -> str:
    from cadrex.io.case import policy_sha256

    return policy_sha256(pol)


def _empty(case: Case, status: Status, summary: dict, sq: int, diag: list[dict]) -> Result:
    status = Status(status)
    summary = summary | {"status": status.value, "objective": None, "best_bound": None, "gap": None}
    e = pd.DataFrame()
    return Result(status=status, objective=None, best_bound=None, gap=None, status_quo_objective=sq, assignments=e,
                  posts=e, teams=e, summary=summary, diagnosis=diag, case=case)


def _disagreements(mv, ev, extra: int = 0) -> list[str]:
    """The model side's reading of a plan against the independent verifier's: objective (plus ``extra``, the
    extensions' value counted independently), every term, every team's shortfalls before and after. Each difference
    is an internal error, given with both numbers."""
    out: list[str] = []
    if mv.objective != ev.objective + extra:
        out.append(f"objective: the model's objective {mv.objective} differs from the independent verifier's "
                   f"{ev.objective + extra} (internal error) / 模型目标值 {mv.objective} 与独立校验值 {ev.objective + extra} 不一致（内部错误）")
    for k in sorted(set(mv.terms) | set(ev.terms), key=lambda k: (k not in mv.terms, k)):
        a, b = mv.terms.get(k), ev.terms.get(k)
        if a != b:
            out.append(f"terms: term {k}: the model's {a} differs from the independent verifier's {b} (internal error)"
                       f" / 目标项 {k} 模型值 {a} 与独立校验值 {b} 不一致（内部错误）")
    for when, ms, vs in (("before", mv.shortfall_before, ev.shortfall_before),
                         ("after", mv.shortfall_after, ev.shortfall_after)):
        for t in sorted(set(ms) | set(vs)):
            a, b = ms.get(t, {}), vs.get(t, {})
            if a != b:
                out.append(f"teams: team {t} shortfalls {when}: the model's {a} differ from the independent verifier's "
                           f"{b} (internal error) / 班子 {t} {'交流前' if when == 'before' else '交流后'}结构缺口模型值与独立校验值不一致（内部错误）")
    for m in out:
        log.error("model and verifier disagree: %s", m)
    return out


def _assemble(case: Case, ctx: Context, model: Model, br, base: dict, timings: dict, sq: int, pol: dict,
              info: dict | None = None, extra=None) -> Result:
    """The result of a backend's plan. The objective is recomputed from the plan by the independent verifier
    (:func:`evaluate`); the terms, the per-cadre pair terms and the team shortfalls are the model side's
    (:func:`plan_values`, auxiliaries at their best for the plan), and both readings are compared: any difference
    in the objective, a term or a team's shortfall is an internal error (both numbers given). ``best_bound`` is the
    backend's bound floored (the objective is integral), None when there is none or when it is below the plan (a
    disagreement between model and plan, logged and reported in ``summary.warnings``, never hidden); a plan with a
    rule violation or an internal error gets status ``rejected`` and is never written (:meth:`Result.write`)."""
    x = np.round(br.x[: model.n_pairs]).astype(bool)
    short = info.get("short_list") if info else None
    chosen_c, chosen_p, chosen_stay = model.pair_c[x], model.pair_p[x], model.pair_stay[x]
    dest = dict(zip(ctx.cad_ids[chosen_c], ctx.post_ids[chosen_p], strict=True))
    plan = {ctx.cad_ids[c]: dest.get(ctx.cad_ids[c]) for c in ctx.I}
    ev = evaluate(case, plan, pol)
    warnings: list[str] = []
    if ev.violations:
        log.error("plan violates rules: %s", "; ".join(ev.violations[:5]))
    xv = int(extra(plan)) if extra is not None else 0
    obj = ev.objective + xv  # what the model maximizes: the §6 objective plus the extensions' terms
    mv = plan_values(model, x)
    model_obj = mv.objective
    violations = list(ev.violations) + _disagreements(mv, ev, xv)
    bound = br.bound
    if br.status == Status.OPTIMAL and bound is None:
        bound = float(model_obj)
    if bound is not None and not math.isfinite(bound):
        bound = None  # no bound, never an infinite one
    if bound is not None:
        bound = float(math.floor(bound + 1e-6))  # integer objective: floor of a valid bound is valid
        if bound < obj:
            log.error("bound %s is below the plan's objective %s: not reported", bound, obj)
            warnings.append(f"bound {bound:.0f} below the plan's objective {obj}: model and plan disagree, no bound reported")
            bound = None
    gap = (bound - obj) / max(1, abs(obj)) if bound is not None else None
    # optimal only when proven: a zero certified gap; a solver's "optimal" within a gap tolerance is "feasible"
    status = Status.OPTIMAL if gap == 0 else Status.FEASIBLE
    if violations:  # the verifier rejects the plan, or model and verifier disagree: never written as a result
        status = Status.REJECTED
    from cadrex.reports.tables import assignments_table, posts_table, teams_table

    assign = assignments_table(ctx, model, plan, mv, chosen_c, chosen_p, chosen_stay)
    posts = posts_table(ctx, model, plan, short)
    teams = teams_table(ctx, mv)
    moves = int((assign["action"] == "move").sum())
    counts = base["counts"] | {"moves": moves, "stays": int((assign["action"] == "stay").sum()),
                               "unassigned": int((assign["action"] == "unassigned").sum()),
                               "vacancies_filled": int(((posts["holder_before"] == "") & (posts["holder_after"] != "")).sum()),
                               "left_vacant": int(((posts["holder_before"] != "") & (posts["holder_after"] == "")).sum()),
                               "violations": len(violations)}
    summary = base | {"status": status.value, "objective": int(ev.objective), "best_bound": bound, "gap": gap, "counts": counts,
                      "terms": mv.terms, "timings": timings, "violations": violations,
                      "metrics": _metrics(case, ctx, assign, posts, mv), "case_path": os.path.abspath(case.path),
                      "warnings": warnings}
    if extra is not None:
        summary["extended_objective"] = int(obj)
    return Result(status=status, objective=int(ev.objective), best_bound=bound, gap=gap, status_quo_objective=sq,
                  assignments=assign, posts=posts, teams=teams, summary=summary, case=case)
