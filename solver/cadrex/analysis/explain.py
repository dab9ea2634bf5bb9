"""``cadrex explain``: why this post, why not that one (SPEC §8), from the cadre's or the post's side.

Every post (or cadre) in play falls in one group: chosen; eligible but not chosen, with the objective change if the
pair were forced (a re-solve with the pair pinned, for the best ``top`` pairs by pair score, each with a time cap;
a capped re-solve gives an interval, never a number it has not proved); ineligible, with every rule that excludes it.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from cadrex.analysis.explain_scale import Forced
from cadrex.i18n import Msg, catalogue, rule_name, say, text
from cadrex.io import Case
from cadrex.model import Model, build_model
from cadrex.rules import Context
from cadrex.rules.eligibility import E_RULES, rule_masks, stay_block
from cadrex.rules.scores import TERMS

LOCAL_ABOVE = 50_000  # pairs: above this, forced costs come from a neighbourhood re-solve plus the plan's bound


def forced_change(model: Model, j: int, optimum: int, time_cap: float, seed: int = 0, plan_x: np.ndarray | None = None,
                  bound: float | None = None) -> Forced:
    """Objective change if pair ``j`` is pinned, relative to the plan's ``optimum``.

    Small models: an exact re-solve with the pin (HiGHS). Large ones (or a capped re-solve): an interval, whose
    upper end is the plan's proven bound minus its objective (forcing cannot beat the bound) and whose lower end is
    a feasible forced plan from a neighbourhood re-solve (everyone far from the change fixed to the plan)."""
    from cadrex.solvers.highs import solve_model

    lb, ub = model.lb.copy(), model.ub.copy()
    high = None if bound is None else float(np.floor(bound + 1e-6)) - optimum
    try:
        model.lb[j] = model.ub[j] = 1.0
        if model.n_pairs <= LOCAL_ABOVE or plan_x is None:
            r = solve_model(model, time_limit=time_cap, seed=seed, quiet=True)
            if r.status == "infeasible":
                return Forced(None, None, False, "infeasible")
            if r.status == "optimal":
                lo = r.objective - optimum
                return Forced(lo, lo, True, "optimal")
            hi = None if r.bound is None else float(np.floor(r.bound + 1e-6)) - optimum
            hi = hi if high is None or hi is None else min(hi, high)
            return Forced(None if r.objective is None else r.objective - optimum, hi, False, r.status)
        free = _neighbourhood(model, j, plan_x)
        fix = np.zeros(model.n_vars, bool)
        fix[: model.n_pairs] = ~free
        fix[j] = False
        model.lb[fix] = model.ub[fix] = np.round(plan_x[fix])
        model.lb[j] = model.ub[j] = 1.0
        r = solve_model(model, time_limit=time_cap, seed=seed, quiet=True)
        lo = None if r.objective is None else r.objective - optimum
        return Forced(lo, high, False, "local")
    finally:
        model.lb, model.ub = lb, ub


def _neighbourhood(model: Model, j: int, plan_x: np.ndarray) -> np.ndarray:
    """Pairs free in a local forced re-solve: every pair of the cadres touched by forcing pair ``j`` (the cadre,
    the post's planned holder, the planned members of both teams) and of the best candidates for the posts they
    leave."""
    ctx = model.ctx
    n = model.n_pairs
    chosen = np.flatnonzero(np.round(plan_x[:n]) > 0)
    c, p = int(model.pair_c[j]), int(model.pair_p[j])
    team = ctx.p_team
    own_now = model.pair_p[chosen[model.pair_c[chosen] == c]]
    teams = {int(team[p])} | {int(team[q]) for q in own_now}
    touched = set(model.pair_c[chosen[np.isin(team[model.pair_p[chosen]], list(teams))]].tolist()) | {c}
    posts_left = set(model.pair_p[chosen[np.isin(model.pair_c[chosen], list(touched))]].tolist())
    ok = model.ub[:n] > 0
    for q in posts_left:
        cand = np.flatnonzero((model.pair_p == q) & ok)
        best = cand[np.argsort(-model.pair_score[cand], kind="stable")[:20]]
        touched |= set(model.pair_c[best].tolist())
    return np.isin(model.pair_c, list(touched))


def _plan_from(case: Case, plan_dir: str, policy: dict) -> tuple[dict, int, dict, float | None]:
    """A written plan, its objective (recomputed) and the policy and bound its summary records."""
    import json
    import os

    from cadrex.analysis.verify import evaluate
    from cadrex.io.plan import read_plan

    plan = read_plan(plan_dir)
    spath = os.path.join(plan_dir, "summary.json")
    bound = None
    if os.path.isfile(spath):
        with open(spath, encoding="utf-8") as fh:
            s = json.load(fh)
        policy, bound = s.get("policy", policy), s.get("best_bound")
    return plan, evaluate(case, plan, policy).objective, policy, bound


def _solve_full(case: Case, model: Model, policy: dict, time_limit: float) -> tuple[dict, int, float | None]:
    """With no plan folder: the full model solved here (explain needs every pair anyway)."""
    from cadrex.analysis.verify import evaluate
    from cadrex.solvers import get_backend

    r = get_backend(policy["backend"])(model, time_limit=time_limit, seed=int(policy["seed"]))
    if r.x is None:
        raise ValueError(Msg("explain_error.case_has_no_plan", status=str(r.status)))
    ctx = model.ctx
    x = np.round(r.x[: model.n_pairs]).astype(bool)
    dest = dict(zip(ctx.cad_ids[model.pair_c[x]], ctx.post_ids[model.pair_p[x]], strict=True))
    plan = {ctx.cad_ids[c]: dest.get(ctx.cad_ids[c]) for c in ctx.I}
    bound = float(np.floor(r.bound + 1e-6)) if r.bound is not None and np.isfinite(r.bound) else None
    return plan, evaluate(case, plan, policy).objective, bound


def explain(case: Case, cadre: str | None = None, post: str | None = None, plan_dir: str | None = None,
            top: int = 5, time_cap: float = 4.0, solve_time_limit: float = 60.0) -> dict:
    """The explanation as a dict (``--json``); :func:`render` makes the terminal text. Without ``plan_dir`` the full
    model is solved first (``solve_time_limit``)."""
    if (cadre is None) == (post is None):
        raise ValueError(Msg("explain_error.one_of"))
    policy = case.policy
    changes = None
    if plan_dir:
        import os

        if not os.path.isfile(os.path.join(plan_dir, "assignments.csv")):
            raise ValueError(Msg("explain_error.no_plan", dir=plan_dir))
        case, changes = _replan_case(case, plan_dir)
        plan, optimum, policy, bound = _plan_from(case, plan_dir, policy)
        if changes is not None:
            bound = None  # a re-plan's bound is on the re-plan objective, not on the §6 objective explained here
    ctx = Context(case, policy)
    scope = None
    if plan_dir:
        from cadrex.analysis.explain_scale import Scope, load_duals

        scope = Scope(ctx, plan)
        if len(scope.pairs) <= LOCAL_ABOVE:
            scope = None
        elif changes is None:
            from cadrex.io.case import policy_sha256

            scope.use(load_duals(plan_dir, case, policy_sha256(policy)))
    if scope is None:
        model = build_model(ctx)
        if not plan_dir:
            plan, optimum, bound = _solve_full(case, model, policy, solve_time_limit)
        plan_x = _plan_vector(model, plan)

        def force(m: Model, j: int, cap: float) -> dict:
            return forced_change(m, j, optimum, cap, plan_x=plan_x, bound=bound).as_dict()
    else:
        def force(m: Model, j: int, cap: float) -> dict:
            rc = scope.reduced_costs(m)
            g = int(m.pair_index[j])
            return scope.forced(g, optimum, cap, bound, None if rc is None else float(rc[j])).as_dict()
    if cadre is not None:
        if cadre not in ctx.cix:
            raise KeyError(Msg("explain_error.unknown_cadre", id=cadre))
        c = ctx.cix[cadre]
        if scope is not None:
            model = scope.model(scope.of_cadre(c))
        d = _explain_cadre(ctx, model, c, plan, optimum, top, time_cap, force)
        keys = ("cadre_id",)
    else:
        if post not in ctx.pix:
            raise KeyError(Msg("explain_error.unknown_post", id=post))
        p = ctx.pix[post]
        if scope is not None:
            model = scope.model(np.flatnonzero(scope.pairs.p == p))
        d = _explain_post(ctx, model, p, plan, optimum, top, time_cap, force)
        keys = ("baseline_post", "new_post")
    if changes is not None:
        d["changes"] = [r for r in changes if (cadre or post) in {r[k] for k in keys}]
    k = int(policy.get("max_moves", 0))
    if k > 0:  # H8: a cap on the whole plan, not on a pair: the forced changes above respect it
        moved = sum(1 for c, p in plan.items() if p and p != (ctx.post_ids[ctx.c_post[ctx.cix[c]]] if ctx.c_post[ctx.cix[c]] >= 0 else None))
        d["h8"] = {"max_moves": k, "moves": moved}
    return d


def _replan_case(case: Case, plan_dir: str) -> tuple[Case, list[dict] | None]:
    """For a re-plan folder (SPEC §10: ``summary.json`` has ``replan``): the changed case, from the copy of the events
    the folder keeps, and its ``changes.csv`` rows; else ``case`` and None."""
    import json
    import os

    import pandas as pd

    from cadrex.io.events import apply_events, load_events
    from cadrex.io.tables import find_table

    spath = os.path.join(plan_dir, "summary.json")
    if not os.path.isfile(spath):
        return case, None
    with open(spath, encoding="utf-8") as fh:
        if not json.load(fh).get("replan"):
            return case, None
    ev = find_table(plan_dir, "events")
    if ev is None:
        raise ValueError(Msg("explain_error.no_events", dir=plan_dir))
    case = apply_events(case, load_events(ev, case))
    ch = pd.read_csv(os.path.join(plan_dir, "changes.csv"), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return case, ch.to_dict("records")


def _plan_vector(model: Model, plan: dict) -> np.ndarray:
    """The plan as values of the model's variables (pairs only; auxiliaries 0)."""
    ctx = model.ctx
    x = np.zeros(model.n_vars)
    want = {(ctx.cix[c], ctx.pix[p]) for c, p in plan.items() if p}
    keys = model.pair_c.astype(np.int64) * ctx.n_post + model.pair_p
    x[np.flatnonzero(np.isin(keys, [c * ctx.n_post + p for c, p in want]))] = 1.0
    return x


def _place(out: dict, model: Model, row: dict, rules: list[str], j: int | None, chosen: bool) -> tuple[dict, int] | None:
    """File ``row`` as ineligible (with every excluding rule) or eligible (with its terms; chosen if so)."""
    if rules:
        out["ineligible"].append(row | {"rules": rules})
        return None
    if j is None:
        return None
    row |= _terms(model, j)
    if chosen:
        out["chosen"] = row
    return row, j


def _terms(model: Model, j: int) -> dict:
    return {t: int(model.terms[t][j]) for t in TERMS} | {"score": int(model.pair_score[j])}


def _explain_cadre(ctx: Context, model: Model, c: int, plan: dict, optimum: int, top: int, cap: float, force) -> dict:
    cid = ctx.cad_ids[c]
    out = {"cadre": cid, "name": ctx.case.cadres.at[cid, "name"], "in_play": bool(ctx.c_inplay[c]),
           "must_move": bool(ctx.c_must[c]), "objective": optimum, "chosen": None, "eligible": [], "ineligible": []}
    if not ctx.c_inplay[c]:
        out["note"] = Msg("explain.not_in_play_cadre")
        return out
    dest = plan.get(cid)
    team_names = _team_names(ctx)  # once, not per post below
    own_p = int(ctx.c_post[c])
    if own_p >= 0:  # the header names the post held today (a must-move cadre's appears only as ineligible below)
        pid = ctx.post_ids[own_p]
        out["now"] = {"post": pid, "title": ctx.case.posts.at[pid, "title"], "team_name": team_names[ctx.p_team[own_p]]}
    out["plan_post"] = dest or ""
    J = ctx.J
    masks = rule_masks(ctx, np.array([c], np.int32), J)
    mine = np.flatnonzero((model.pair_c == c) & (model.ub[: model.n_pairs] > 0))
    by_post = {int(model.pair_p[j]): int(j) for j in mine}
    own = ctx.c_post[c]
    blk = stay_block(ctx)[np.searchsorted(ctx.I, c)]
    cand = []
    for k, p in enumerate(J):
        pid = ctx.post_ids[p]
        tid = ctx.team_ids[ctx.p_team[p]]
        row = {"post": pid, "team": tid, "province": ctx.prov_ids[ctx.p_prov[p]],
               "title": ctx.case.posts.at[pid, "title"], "team_name": team_names[ctx.p_team[p]]}
        if p == own:
            row["stay"] = True
            rules = [blk] if blk else []
        else:
            rules = [r for r, m in masks.items() if not m[0, k]]
        placed = _place(out, model, row, rules, by_post.get(int(p)), chosen=pid == dest)
        if placed and pid != dest:
            cand.append(placed)
    cand.sort(key=lambda x: (-x[0]["score"], x[0]["post"]))
    deadline = time.perf_counter() + 25.0
    for i, (row, j) in enumerate(cand):
        if i < top and time.perf_counter() < deadline:
            row["forced"] = force(model, j, min(cap, max(0.5, deadline - time.perf_counter())))
        out["eligible"].append(row)
    return out


def _explain_post(ctx: Context, model: Model, p: int, plan: dict, optimum: int, top: int, cap: float, force) -> dict:
    pid = ctx.post_ids[p]
    holder = ctx.cad_ids[ctx.p_holder[p]] if ctx.p_holder[p] >= 0 else ""
    after = next((c for c, d in plan.items() if d == pid), "")
    out = {"post": pid, "title": ctx.case.posts.at[pid, "title"], "team": ctx.team_ids[ctx.p_team[p]],
           "team_name": _team_names(ctx)[ctx.p_team[p]],
           "in_play": bool(ctx.p_inplay[p]), "holder_before": holder, "holder_after": after, "objective": optimum,
           "chosen": None, "eligible": [], "ineligible": [], "short_list": []}
    if not ctx.p_inplay[p]:
        out["note"] = Msg("explain.not_in_play_post")
        return out
    I = ctx.I
    masks = rule_masks(ctx, I, np.array([p], np.int32))
    blocks = stay_block(ctx)
    mine = np.flatnonzero((model.pair_p == p) & (model.ub[: model.n_pairs] > 0))
    by_cad = {int(model.pair_c[j]): int(j) for j in mine}
    cand = []
    for i, c in enumerate(I):
        cid = ctx.cad_ids[c]
        row = {"cadre": cid, "name": ctx.case.cadres.at[cid, "name"], "province": ctx.prov_ids[ctx.c_prov[c]]}
        if ctx.c_post[c] == p:
            row["stay"] = True
            rules = [blocks[i]] if blocks[i] else []
        else:
            rules = [r for r, m in masks.items() if not m[i, 0]]
        placed = _place(out, model, row, rules, by_cad.get(int(c)), chosen=cid == after)
        if placed:
            cand.append(placed)
    cand.sort(key=lambda x: (-x[0]["score"], x[0]["cadre"]))
    out["short_list"] = model.short_list(k=max(3, top)).get(pid, [])  # the same code as posts.csv
    deadline = time.perf_counter() + 25.0
    k = 0
    for row, j in cand:
        if row["cadre"] != after and k < top and time.perf_counter() < deadline:
            row["forced"] = force(model, j, min(cap, max(0.5, deadline - time.perf_counter())))
            k += 1
        out["eligible"].append(row)
    return out


def _team_names(ctx: Context) -> list[str]:
    """Per team index, its name and id ("上海第1区委 T00001"), or its id where the case gives no name (optional)."""
    teams = ctx.case.teams
    names = teams["name"].reindex(ctx.team_ids) if "name" in teams.columns else None
    return [f"{str(n).strip()} {t}" if names is not None and isinstance(n, str) and n.strip() else t
            for t, n in zip(ctx.team_ids, names if names is not None else ctx.team_ids, strict=True)]


def _label(r: dict, key: str, lang: str) -> str:
    """A pair's other side as an analyst reads it: the post's id, title and team, or the cadre's id and name (the
    id alone where the case gives no title or name)."""
    if key == "post":
        team = r.get("team_name", r.get("team", ""))
        title = str(r.get("title") or "").strip()
        return say("explain.post_label", lang, id=r["post"], title=title, team=team) if title else \
            say("explain.post_label_untitled", lang, id=r["post"], team=team)
    name = str(r.get("name") or "").strip()
    return say("explain.cadre_label", lang, id=r["cadre"], name=name) if name else r["cadre"]


def render(d: dict, lang: str = "en") -> str:
    """Plain-text tables for a terminal, in ``lang``."""
    lines = []
    if "cadre" in d:
        lines.append(say("explain.cadre", lang, id=d["cadre"], name=d["name"], objective=d["objective"]))
        if "now" in d or d.get("plan_post"):
            lines.append(say("explain.now_in", lang, post=_label(d["now"], "post", lang) if "now" in d else
                             say("explain.no_post", lang), plan=d.get("plan_post") or say("explain.no_post", lang)))
        if d.get("must_move"):
            lines.append("  " + say("explain.must_move", lang))
    else:
        lines.append(say("explain.post", lang, id=d["post"], title=d["title"], team=d.get("team_name", d["team"]),
                         objective=d["objective"]))
    if d.get("h8"):
        lines.append(say("explain.h8", lang, cap=d["h8"]["max_moves"], moves=d["h8"]["moves"]))
    if d.get("note"):
        lines.append("  " + text(d["note"], lang))
        return "\n".join(lines)
    vacant, none = say("explain.vacant", lang), say("explain.empty", lang)
    if "post" in d:
        lines.append(say("explain.holders", lang, before=d["holder_before"] or vacant, after=d["holder_after"] or vacant))
        lines.append(say("explain.short_list", lang, ids=", ".join(d["short_list"]) or say("explain.none_eligible", lang)))
    key = "post" if "cadre" in d else "cadre"
    c = d["chosen"]
    lines.append(say("explain.chosen", lang))
    if c:
        lines.append(say("explain.pair", lang, id=_label(c, key, lang), stay=say("explain.stay", lang) if c.get("stay") else "",
                         **{k: c[k] for k in ("score", "fit", "hard", "care", "pref", "assess")}))
    else:
        lines.append(say("explain.none", lang))
    lines.append(say("explain.eligible", lang))
    rows = [r for r in d["eligible"] if not c or r[key] != c[key]]
    # a national case: every row whose forced change was computed, and the best others up to ELIGIBLE_SHOWN in all
    shown = [r for i, r in enumerate(rows) if r.get("forced") or i < ELIGIBLE_SHOWN]
    for r in shown:
        f = r.get("forced")
        ftxt = say("explain.not_computed", lang) if not f else Forced(f["low"], f["high"], f["exact"], f["status"]).text(lang)
        lines.append(say("explain.row", lang, id=_label(r, key, lang), forced=ftxt,
                         **{k: r[k] for k in ("score", "fit", "hard", "care", "pref", "assess")}))
    if len(shown) < len(rows):
        lines.append(say("explain.more", lang, n=len(rows) - len(shown)))
    if not rows:
        lines.append(say("explain.none", lang))
    if "changes" in d:  # a re-plan: why this cadre (or the holders of this post) changed from the baseline plan
        lines.append(say("explain.changes", lang))
        for r in d["changes"]:
            lines.append(say("explain.change", lang, id=r["cadre_id"], name=r["name"], base=r["baseline_post"] or none,
                             new=r["new_post"] or none, cause=r["cause"],
                             why=r["why_zh"] if lang == "zh" else r["why"]))
        if not d["changes"]:
            lines.append(say("explain.no_changes", lang))
    lines.append(say("explain.ineligible", lang))
    bad = d["ineligible"]
    if len(bad) > INELIGIBLE_SHOWN:  # a national case: how many each rule excludes, then the first ones
        by_rule = Counter(x for r in bad for x in r["rules"])
        lines.append(say("explain.ineligible_count", lang, n=len(bad), rules=say("reason.list", lang).join(
            f"{_rule_text(x, lang)} {k}" for x, k in by_rule.most_common())))
    for r in bad[:INELIGIBLE_SHOWN]:
        rules = say("reason.list", lang).join(_rule_text(x, lang) for x in r["rules"])
        lines.append(say("explain.excluded", lang, id=_label(r, key, lang), rules=rules))
    if len(bad) > INELIGIBLE_SHOWN:
        lines.append(say("explain.more", lang, n=len(bad) - INELIGIBLE_SHOWN))
    if not bad:
        lines.append(say("explain.none", lang))
    return "\n".join(lines)


#: ineligible pairs listed one per line in the text (all of them in --json); past that, a count per rule first
INELIGIBLE_SHOWN = 100
#: eligible pairs listed in the text (those with a computed forced change always; all of them in --json)
ELIGIBLE_SHOWN = 30


def _rule_text(x: str, lang: str) -> str:
    return rule_name(x, lang) if x in E_RULES else say(f"explain.stay_{x}", lang) if f"explain.stay_{x}" in catalogue() else x
