"""``cadrex.replan``: re-plan with minimum change (SPEC §10). The events change the case
(:func:`cadrex.io.events.apply_events`); the changed case is solved by :func:`cadrex.jobs.solve.solve` with the change
terms added to the one model (:class:`cadrex.model.Change`); every change is then counted from the plan itself and
traced back to the event it follows (``changes.csv``)."""

from __future__ import annotations

import logging
import os
import time
from collections import deque

import numpy as np
import pandas as pd

from cadrex.i18n import Join, Msg
from cadrex.io import Case
from cadrex.io.events import Baseline, Events, apply_events, load_events, read_baseline
from cadrex.io.tomlfiles import effective_policy
from cadrex.jobs.solve import check_closure_cap, solve
from cadrex.model import Change, build_model, fewest_changes_model
from cadrex.reports.result import Result
from cadrex.rules import Context
from cadrex.solvers import Status, get_backend

log = logging.getLogger(__name__)

#: event -> how a change that follows it reads (English, Chinese)


def baseline_posts(ctx: Context, baseline: Baseline) -> np.ndarray:
    """b(c) per cadre of ``ctx`` (global index): its post in the baseline plan (−1: none). A cadre the plan does not
    list keeps the post it holds (it was not in play, so the baseline left it there)."""
    b = ctx.c_post.astype(np.int64).copy()
    for cid, post in baseline.plan.items():
        c = ctx.cix.get(cid)
        if c is not None:
            b[c] = ctx.pix[post] if post is not None else -1
    return b


def count_changes(ctx: Context, b: np.ndarray, plan: dict[str, str | None]) -> list[str]:
    """The cadres in play whose post in ``plan`` differs from b(c) (none counts as a value), counted from the plan."""
    out = []
    for c in ctx.I:
        cid = ctx.cad_ids[c]
        was = ctx.post_ids[b[c]] if b[c] >= 0 else None
        if plan.get(cid) != was:
            out.append(cid)
    return out


def _touched(events: Events, case: Case, baseline: Baseline) -> list[tuple]:
    """Per event: (event, cadres it names, posts it touches). A withdrawal or a vacancy also touches the cadre's own
    post (before the plan) and its baseline post: that cadre will not take it."""
    own = {h: p for p, h in case.posts["holder_id"].items() if h}
    out = []
    for e in events.items:
        posts = {e.post}
        if e.event in ("withdraw", "vacate"):
            posts |= {own.get(e.cadre), baseline.plan.get(e.cadre)}
        out.append((e, {e.cadre} - {""}, posts - {"", None}))
    return out


def changes_table(ctx: Context, b: np.ndarray, plan: dict[str, str | None], changed: list[str], events: Events,
                  case: Case, baseline: Baseline) -> pd.DataFrame:
    """``changes.csv``: per changed cadre its baseline and new post and the cause — ``event`` when the cadre, its
    baseline post or its new post is named by an event (:func:`_touched`), else ``chain`` — with the chain of changes
    from that event (a change follows another when it takes the other's baseline post or gives up the post the other
    takes); a change that follows no event is a ``chain`` that pays for itself in the objective."""
    base = {cid: (ctx.post_ids[b[ctx.cix[cid]]] if b[ctx.cix[cid]] >= 0 else None) for cid in changed}
    touched = _touched(events, case, baseline)
    root: dict[str, object] = {}
    prev: dict[str, str] = {}
    named: set[str] = set()  # SPEC §10 `event`: the cadre, its baseline post or its new post named by an event
    q: deque[str] = deque()
    for cid in changed:
        own = [e for e, cads, posts in touched if cid in cads or base[cid] in posts or (plan.get(cid) or "") in posts]
        if own:
            root[cid] = min(own, key=lambda e: e.line)
            q.append(cid)
            e = root[cid]
            if cid == e.cadre or e.post in (base[cid], plan.get(cid)):
                named.add(cid)
    took = {plan[c]: c for c in changed if plan.get(c)}  # post -> changed cadre that takes it
    gave = {base[c]: c for c in changed if base[c]}  # post -> changed cadre whose baseline post it was
    while q:  # breadth first: each change follows its nearest event
        c = q.popleft()
        for d in (gave.get(plan.get(c) or ""), took.get(base[c] or "")):
            if d and d not in root:
                root[d], prev[d] = root[c], c
                q.append(d)
    rows = []
    for cid in changed:
        e = root.get(cid)
        via = ""
        if e is None:
            cause, why = "chain", Msg("replan.paid")
        else:
            path, c = [cid], cid
            while c in prev:
                c = prev[c]
                path.append(c)
            via = " → ".join(reversed(path))
            what = Msg(f"replan.{e.event}", c=e.cadre, p=e.post)
            if len(path) == 1 and cid in named:
                cause, why = "event", Msg("replan.follows", what=what, line=e.line)
            elif len(path) == 1:  # touched, not named: the post it was to take stays with the withdrawn/vacated cadre
                cause, why = "chain", Msg("replan.follows_blocked", what=what, line=e.line)
            else:
                cause, why = "chain", Msg("replan.follows_via", what=what, line=e.line, chain=" → ".join(reversed(path)))
        rows.append({"cadre_id": cid, "name": ctx.case.cadres.loc[cid, "name"], "baseline_post": base[cid] or "",
                     "new_post": plan.get(cid) or "", "cause": cause, "why": why.text("en"), "why_zh": why.text("zh"),
                     "event_line": e.line if e is not None else "", "via": via})
    cols = ["cadre_id", "name", "baseline_post", "new_post", "cause", "why", "why_zh", "event_line", "via"]
    return pd.DataFrame(rows, columns=cols)


def _fewest_changes(ctx: Context, change: Change, backend: str, time_limit: float, seed: int) -> int | None:
    """k_min: the fewest changes of any feasible plan of the changed case (None when not proven in time)."""
    m = fewest_changes_model(build_model(ctx, (Change(change.baseline, 0),)), change)
    if m.infeasible:
        return None
    br = get_backend(backend)(m, time_limit=time_limit, seed=seed)
    if br.status != Status.OPTIMAL or br.x is None:
        return None
    return int(round(-(m.obj @ br.x + m.offset)))


def _annotate(diagnosis: list[dict], events: Events, k_min: int | None = None) -> list[dict]:
    """Each conflict of a diagnosis names the events that touch its cadres or posts. A conflict with the
    ``--max-changes`` cap names every event (together they force the changes) and the fewest changes possible."""
    out = []
    for d in diagnosis:
        named = {e.line: e for c in d.get("cadres", []) for e in events.naming(cadre=c)}
        named |= {e.line: e for p in d.get("posts", []) for e in events.naming(post=p)}
        if "max_changes" in d.get("rules", []):
            named |= {e.line: e for e in events.items}
            if k_min is not None:
                m = Msg("replan.fewest", k=k_min)
                d = dict(d, k_min=k_min, message=d.get("message", "") + m.text("en"))
                if "message_zh" in d:
                    d["message_zh"] += m.text("zh")
        evs = [named[k] for k in sorted(named)]
        d = dict(d, events=[{"line": e.line, "event": e.event, "cadre_id": e.cadre, "post_id": e.post, "note": e.note}
                            for e in evs])
        if evs:
            m = Msg("replan.events", items=Join([Msg("replan.event_line", line=e.line, what=e.describe()) for e in evs]))
            d["message"] = d.get("message", "") + m.text("en")
            if "message_zh" in d:
                d["message_zh"] += m.text("zh")
        out.append(d)
    return out


def replan(case: Case, baseline: Baseline | str | os.PathLike, events: Events | str | os.PathLike, policy=None,
           backend: str | None = None, time_limit: float | None = None, seed: int | None = None,
           num_workers: int | None = None, progress=None, method: str = "auto", gap: float | None = None,
           max_changes: int | None = None, frontier: int = 0, fewest: bool = True,
           closure_cap: int | None = None, announce: bool = True) -> Result:
    """The best plan of the changed case (``events`` applied to ``case``) that keeps as much of ``baseline`` (a plan
    folder of ``case`` or a :class:`Baseline`) as is worth keeping: §6 objective − change_cost · changes. Options as
    :func:`cadrex.solve`; ``max_changes`` caps the changes, ``frontier`` = N asks for the best §6 objective with at
    most k changes for k = k_min … k_min + N − 1; ``fewest=False`` skips k_min unless the frontier needs it. Never raises for an infeasible case: the result says so, and its
    diagnosis names the events involved. ``announce=False``: no start line and no busy-machine hint (robustness samples)."""
    t0 = time.perf_counter()
    check_closure_cap(closure_cap, method)  # before the baseline and events are read (slow at national scale)
    if not isinstance(baseline, Baseline):
        baseline = read_baseline(baseline, case)
    if not isinstance(events, Events):
        events = load_events(events, case)
    if max_changes is not None and int(max_changes) < 0:
        raise ValueError(f"max_changes must be ≥ 0, got {max_changes}")
    if int(frontier) < 0:
        raise ValueError(f"frontier must be ≥ 0, got {frontier}")
    changed_case = apply_events(case, events)
    pol = effective_policy(case.policy, policy)
    ctx = Context(changed_case, pol)
    b = baseline_posts(ctx, baseline)
    cost = int(pol["change_cost"])
    change = Change(b, cost, max_changes)

    def extra(plan: dict) -> int:
        return -cost * len(count_changes(ctx, b, plan))

    kw = {"backend": backend, "time_limit": time_limit, "seed": seed, "num_workers": num_workers, "progress": progress,
          "method": method, "gap": gap, "closure_cap": closure_cap}
    res = solve(changed_case, policy=policy, extensions=(change,), extra=extra, announce=announce, **kw)
    backend_name = res.summary.get("backend") or pol["backend"]
    info = {"baseline": os.path.abspath(baseline.path), "baseline_sha256": baseline.sha256,
            "events": os.path.abspath(events.path), "events_sha256": events.sha256, "change_cost": cost,
            "max_changes": max_changes, "changes": None, "objective": None, "best_bound": res.best_bound,
            "gap": res.gap, "k_min": None}
    if res.status in (Status.OPTIMAL, Status.FEASIBLE, Status.REJECTED) and len(res.assignments):
        plan = res.placements
        changed = count_changes(ctx, b, plan)
        info |= {"changes": len(changed), "objective": int(res.objective) - cost * len(changed)}
        res.tables["changes.csv"] = changes_table(ctx, b, plan, changed, events, case, baseline)
    else:
        k_min = None
        if any("max_changes" in d.get("rules", []) for d in res.diagnosis):  # how far the cap is from feasible
            k_min = _fewest_changes(ctx, change, pol["backend"] if backend is None else backend,
                                    float(res.summary.get("time_limit", pol["time_limit"])),
                                    int(seed if seed is not None else pol["seed"]))
        res.diagnosis = _annotate(res.diagnosis, events, k_min)
    # the limit the re-plan's solve ran under (a national case may get column generation's, jobs.solve.CG_TIME_LIMIT)
    tl = float(res.summary.get("time_limit", pol["time_limit"]))
    sd = int(seed if seed is not None else pol["seed"])
    small = res.summary.get("method") != "cg"
    if res.status in (Status.OPTIMAL, Status.FEASIBLE) and ((small and fewest) or frontier):
        info["k_min"] = _fewest_changes(ctx, change, backend_name, tl, sd)
    if frontier and info["k_min"] is None and res.status in (Status.OPTIMAL, Status.FEASIBLE):
        info["frontier_note"] = ("no frontier: the fewest changes (k_min) were not proven within the time limit / "
                                 "未能在时限内求得最少变动人数，未计算前沿")
        log.warning("frontier skipped: k_min not proven within the time limit")
    if frontier and info["k_min"] is not None:
        rows = []
        for k in range(info["k_min"], info["k_min"] + int(frontier)):
            r = solve(changed_case, policy=policy, extensions=(Change(b, 0, k),), extra=lambda plan: 0, announce=False,
                      **kw)
            n = None
            if r.objective is not None:
                n = len(count_changes(ctx, b, r.placements))
            rows.append({"k": k, "objective": r.objective, "status": r.status.value, "best_bound": r.best_bound, "changes": n})
        fr = pd.DataFrame(rows, columns=["k", "objective", "status", "best_bound", "changes"])
        res.tables["frontier.csv"] = fr
        info["frontier"] = fr.to_dict("records")
        from cadrex.reports.plots.frontier import frontier_svg

        res.texts["frontier.svg"] = frontier_svg(fr)
    if events.path.lower().endswith(".csv") and os.path.isfile(events.path):
        res.copies["events.csv"] = events.path  # SPEC §10: a copy
    elif events.items:  # an .xlsx (or in-memory) events file: written as events.csv
        res.tables["events.csv"] = pd.DataFrame([{"event": e.event, "cadre_id": e.cadre, "post_id": e.post, "note": e.note}
                                                 for e in events.items], columns=["event", "cadre_id", "post_id", "note"])
    res.summary["replan"] = info
    res.summary.setdefault("timings", {})["replan_total"] = round(time.perf_counter() - t0, 3)
    return res


__all__ = ["baseline_posts", "changes_table", "count_changes", "replan"]
