"""Infeasibility diagnosis (SPEC §7 ``diagnosis.json``): irreducible sets of rule instances, in words.

Rule instances that can be relaxed: H1 (a must-move cadre's stay option, or a non-holder's "gets a post"), H3
must-fill, H4 (kin rows, and a stay beside a fixed relative), H5 (one row per locality), H6 (hard structure rows and
caps), H7 (require pins), E8 (a forbid pin on one's own post). A chunked deletion filter over those instances, each
check a HiGHS feasibility solve with the others relaxed, leaves a set in which dropping any one instance makes the
case feasible. Up to ``max_conflicts`` disjoint conflicts are reported.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from cadrex.rules.context import Context
from cadrex.rules.eligibility import E_RULES, rule_masks
from cadrex.rules.model import Model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Instance:
    """One relaxable rule instance: ``kind`` row-lo / row-hi / col-ub / col-lb on index ``idx``."""

    rule: str
    kind: str
    idx: int
    relaxed: float
    cadres: tuple = ()
    posts: tuple = ()
    teams: tuple = ()
    label: str = ""


def instances(model: Model) -> list[Instance]:
    """Every relaxable rule instance of ``model``."""
    ctx = model.ctx
    out: list[Instance] = []
    for r, (rule, ent) in enumerate(zip(model.row_rule, model.row_ent, strict=True)):
        if rule == "H1" or (rule == "H3" and model.row_lo[r] > 0):
            out.append(Instance(rule, "row-lo", r, 0.0, *ent, label=model.row_label[r]))
        elif rule in ("H4", "H5", "H6"):
            out.append(Instance(rule, "row-hi", r, np.inf, *ent, label=model.row_label[r]))
    blocked = np.flatnonzero(model.pair_block != "")
    for j in blocked:
        c, p = int(model.pair_c[j]), int(model.pair_p[j])
        out.append(Instance(str(model.pair_block[j]), "col-ub", int(j), 1.0, (c,), (p,), (int(ctx.p_team[p]),)))
    for v, t, name, cap, nat in model.h6_caps:
        out.append(Instance("H6", "col-ub", v, nat, (), (), (t,), label=f"{name} shortfall at most {cap:g} (today)"))
    for j, c, p in model.h7_pins:
        if j >= 0:
            out.append(Instance("H7", "col-lb", j, 0.0, (c,), (p,), (int(ctx.p_team[p]),)))
    return out


class _Checker:
    """One HiGHS model (objective zero) whose instance bounds are switched between enforced and relaxed."""

    def __init__(self, model: Model, inst: list[Instance], time_cap: float):
        import highspy

        from cadrex.backends.highs import new_highs, pass_model

        self.h = h = new_highs()
        self.hs = highspy
        h.setOptionValue("time_limit", float(time_cap))
        h.setOptionValue("mip_rel_gap", 1.0)
        self.lo, self.hi = model.row_lo.copy(), model.row_hi.copy()
        self.lb, self.ub = model.lb.copy(), model.ub.copy()
        pass_model(h, model, obj=np.zeros(model.n_vars), minimize=True)
        self.inst = inst
        self.solves = 0

    def infeasible(self, enforced: set[int]) -> bool | None:
        """Is the model infeasible with only ``enforced`` instances enforced? None when a check hit its cap.
        Bounds are combined per row and column: two instances may act on the same one (an H7 pin on a stay that
        H4 blocks)."""
        inf = self.hs.kHighsInf
        rows: dict[int, list[float]] = {}
        cols: dict[int, list[float]] = {}
        for k, i in enumerate(self.inst):
            relax = k not in enforced
            if i.kind.startswith("row"):
                b = rows.setdefault(i.idx, [self.lo[i.idx], self.hi[i.idx]])
                if relax:
                    b[0 if i.kind == "row-lo" else 1] = -inf if i.kind == "row-lo" else inf
            else:
                b = cols.setdefault(i.idx, [self.lb[i.idx], self.ub[i.idx]])
                if relax and i.kind == "col-ub":
                    b[1] = i.relaxed
                elif relax:
                    b[0] = 0.0
        for r, (lo, hi) in rows.items():
            self.h.changeRowBounds(r, lo, hi)
        for c, (lb, ub) in cols.items():
            self.h.changeColBounds(c, lb, ub)
        self.h.clearSolver()
        self.h.run()
        self.solves += 1
        st = self.h.getModelStatus()
        if st == self.hs.HighsModelStatus.kInfeasible:
            return True
        if st in (self.hs.HighsModelStatus.kOptimal,) or self.h.getInfo().primal_solution_status == 2:
            return False
        return None


def _deletion_filter(chk: _Checker, S: list[int], deadline: float) -> list[int]:
    chunk = max(1, len(S) // 2)
    while True:
        i = 0
        while i < len(S):
            if time.perf_counter() > deadline:
                return S
            T = S[:i] + S[i + chunk:]
            if chk.infeasible(set(T)):
                S = T
            else:
                i += chunk
        if chunk == 1:
            return S
        chunk = max(1, chunk // 2)


def diagnose(model: Model, max_conflicts: int = 5, time_limit: float = 60.0) -> list[dict]:
    """Conflicts of an infeasible model: trivial ones found while building, else irreducible sets of instances."""
    ctx = model.ctx
    if model.infeasible:
        return [_trivial(ctx, model, rule, label) for rule, label in model.infeasible]
    inst = instances(model)
    deadline = time.perf_counter() + time_limit
    chk = _Checker(model, inst, time_cap=max(1.0, time_limit / 10))
    alive = set(range(len(inst)))
    conflicts: list[dict] = []
    if not chk.infeasible(alive):
        return [_generic()]
    while alive and len(conflicts) < max_conflicts and time.perf_counter() < deadline:
        iis = _deletion_filter(chk, sorted(alive), deadline)
        conflicts.append(_describe(ctx, [inst[k] for k in iis], irreducible=time.perf_counter() <= deadline))
        alive -= set(iis)
        if not chk.infeasible(alive):
            break
    log.info("diagnosis: %d conflict(s) from %d instances in %d feasibility solves", len(conflicts), len(inst), chk.solves)
    return conflicts or [_generic()]


def diagnose_full(model: Model, deadline: float) -> list[dict]:
    """Diagnosis of an infeasible full model within the solve's own deadline (``time.perf_counter()`` clock)."""
    return diagnose(model, time_limit=max(10.0, deadline - time.perf_counter()))


def diagnose_cg(ctx: Context, model: Model, info: dict, deadline: float) -> list[dict]:
    """Diagnosis of a case that column generation found infeasible. ``model`` is the restricted master,
    ``info["cg"]`` the :class:`cadrex.scale.ColumnGeneration` state (pool, rows, last duals)."""
    from cadrex.rules.model import build_model

    return diagnose(build_model(ctx), time_limit=max(10.0, deadline - time.perf_counter()))


def _generic() -> dict:
    return {"rule": "", "rules": [], "cadres": [], "posts": [], "teams": [], "irreducible": False,
            "message": "The rules together admit no plan, and no single group of hard-rule instances explains it "
                       "(the conflict lies in the eligibility rules E1–E10 or the one-post-per-cadre rule H2).",
            "message_zh": "现有规则下不存在可行方案, 冲突源于资格条件 (E1–E10) 或一人一岗 (H2)。"}


def exclusions(ctx: Context, c: int, posts: np.ndarray) -> list[list[str]]:
    """For cadre ``c`` and each post: every E rule that excludes the move (empty = eligible)."""
    if len(posts) == 0:
        return []
    m = rule_masks(ctx, np.array([c], np.int32), posts.astype(np.int32))
    own = ctx.c_post[c]
    out = []
    for j, p in enumerate(posts):
        r = [k for k, v in m.items() if not v[0, j]]
        if p == own:
            r = ["own post"]
        out.append(r)
    return out


def _excl_text(ctx: Context, c: int, limit: int = 6) -> tuple[str, str]:
    J = ctx.J
    ex = exclusions(ctx, c, J)
    items = [(ctx.post_ids[p], r) for p, r in zip(J, ex, strict=True) if r and r != ["own post"]]
    en = ", ".join(f"{p} ({', '.join(f'{k} {E_RULES[k]}' for k in r)})" for p, r in items[:limit])
    zh = "、".join(f"{p}（{'、'.join(r)}）" for p, r in items[:limit])
    more = len(items) - limit
    if more > 0:
        en += f" … and {more} more"
        zh += f" 等{len(items)}个"
    return en, zh


def _who(ctx: Context, c: int) -> str:
    return f"{ctx.case.cadres.at[ctx.cad_ids[c], 'name']} ({ctx.cad_ids[c]})"


def _why_must(ctx: Context, c: int) -> tuple[str, str]:
    k = ctx.c_kind[c]
    if k in ("mandatory", "avoidance", "disciplinary"):
        return f"exchange kind {k}", f"交流类型为{k}"
    return (f"{ctx.c_years_prov[c]:g} years in {ctx.prov_ids[ctx.c_prov[c]]}",
            f"在{ctx.prov_ids[ctx.c_prov[c]]}任职{ctx.c_years_prov[c]:g}年")


def _trivial(ctx: Context, model: Model, rule: str, label: str) -> dict:
    """A conflict of one instance found while building (an empty row or an ineligible require pin)."""
    d = {"rule": rule, "rules": [rule], "cadres": [], "posts": [], "teams": [], "irreducible": True}
    if rule == "H7":
        c, p = next((c, p) for j, c, p in model.h7_pins if j < 0 and f"{ctx.cad_ids[c]} -> {ctx.post_ids[p]}" in label)
        ex = exclusions(ctx, c, np.array([p]))[0]
        why = ", ".join(f"{k} {E_RULES[k]}" for k in ex) or ("cadre not in play" if not ctx.c_inplay[c] else
                                                               "post not in play (held by a fixed cadre)")
        d |= {"cadres": [ctx.cad_ids[c]], "posts": [ctx.post_ids[p]], "teams": [ctx.team_ids[ctx.p_team[p]]],
              "message": f"H7: {_who(ctx, c)} is pinned to {ctx.post_ids[p]}, but that pair is excluded: {why}.",
              "message_zh": f"H7: {_who(ctx, c)} 被指定到 {ctx.post_ids[p]}, 但该配对不符合条件: {why}。"}
        return d
    r = model.row_label.index(label.replace(" — no eligible option", ""))
    cads, posts, teams = model.row_ent[r]
    if rule == "H3":
        p = posts[0]
        I = ctx.I
        m = rule_masks(ctx, I, np.array([p], np.int32))
        items = [(ctx.cad_ids[c], [k for k, v in m.items() if not v[i, 0]]) for i, c in enumerate(I)]
        items = [x for x in items if x[1]][:6]
        en = ", ".join(f"{c} ({', '.join(r_)})" for c, r_ in items)
        d |= {"posts": [ctx.post_ids[p]], "teams": [ctx.team_ids[ctx.p_team[p]]],
              "message": f"H3: post {ctx.post_ids[p]} must be filled but no cadre in play is eligible: {en}.",
              "message_zh": f"H3: 职位 {ctx.post_ids[p]} 必须配备, 但没有符合条件的交流人选: {en}。"}
        return d
    c = cads[0]
    en, zh = _excl_text(ctx, c)
    w_en, w_zh = _why_must(ctx, c)
    d |= {"cadres": [ctx.cad_ids[c]],
          "message": f"H1: {_who(ctx, c)} must move ({w_en}) but every post in play is excluded: {en}.",
          "message_zh": f"H1: {_who(ctx, c)} 必须交流（{w_zh}）, 但所有在列职位均不符合条件: {zh}。"}
    return d


def _describe(ctx: Context, iis: list[Instance], irreducible: bool) -> dict:
    cads = sorted({ctx.cad_ids[c] for i in iis for c in i.cadres})
    posts = sorted({ctx.post_ids[p] for i in iis for p in i.posts})
    teams = sorted({ctx.team_ids[t] for i in iis for t in i.teams})
    rules = [i.rule for i in iis]
    main = next((r for r in ("H5", "H6", "H3", "H4", "H7", "E8", "H1") if r in rules), rules[0] if rules else "")
    en_parts, zh_parts = [], []
    for i in iis:
        if i.rule == "H1" and i.kind == "col-ub":
            c = i.cadres[0]
            w_en, w_zh = _why_must(ctx, c)
            ex_en, ex_zh = _excl_text(ctx, c, limit=4)
            en_parts.append(f"H1: {_who(ctx, c)} must leave {ctx.post_ids[i.posts[0]]} ({w_en}); excluded elsewhere: {ex_en}")
            zh_parts.append(f"H1: {_who(ctx, c)} 必须离开 {ctx.post_ids[i.posts[0]]}（{w_zh}）")
        elif i.rule == "H1":
            c = i.cadres[0]
            en_parts.append(f"H1: {_who(ctx, c)} must get a post ({_why_must(ctx, c)[0]})")
            zh_parts.append(f"H1: {_who(ctx, c)} 必须交流到某一职位")
        elif i.rule == "H3":
            en_parts.append(f"H3: post {ctx.post_ids[i.posts[0]]} must be filled")
            zh_parts.append(f"H3: 职位 {ctx.post_ids[i.posts[0]]} 必须配备")
        elif i.rule == "H4" and i.kind == "col-ub":
            en_parts.append(f"H4: {_who(ctx, i.cadres[0])} may not stay beside a fixed relative in {ctx.team_ids[i.teams[0]]}")
            zh_parts.append(f"H4: {_who(ctx, i.cadres[0])} 与亲属同在 {ctx.team_ids[i.teams[0]]}, 不得留任")
        elif i.rule == "H4":
            a, b = i.cadres
            en_parts.append(f"H4: relatives {_who(ctx, a)} and {_who(ctx, b)} may not both join {ctx.team_ids[i.teams[0]]}")
            zh_parts.append(f"H4: 亲属 {_who(ctx, a)} 与 {_who(ctx, b)} 不得同在 {ctx.team_ids[i.teams[0]]}")
        elif i.rule == "H5":
            ps = ", ".join(ctx.post_ids[p] for p in i.posts)
            en_parts.append(f"H5: in locality {ctx.t_locality[i.teams[0]]} at most one of the heads' posts {ps} may change holder")
            zh_parts.append(f"H5: {ctx.t_locality[i.teams[0]]} 党政正职 {ps} 不得同时易人")
        elif i.rule == "H6":
            what = i.label.replace("H6 ", "").replace(f"{ctx.team_ids[i.teams[0]]} ", "")
            en_parts.append(f"H6: team {ctx.team_ids[i.teams[0]]} may not get worse on hard structure rule {what}")
            zh_parts.append(f"H6: 班子 {ctx.team_ids[i.teams[0]]} 的硬性结构要求（{what}）不得变差")
        elif i.rule == "H7":
            en_parts.append(f"H7: {_who(ctx, i.cadres[0])} is pinned to {ctx.post_ids[i.posts[0]]}")
            zh_parts.append(f"H7: {_who(ctx, i.cadres[0])} 被指定到 {ctx.post_ids[i.posts[0]]}")
        elif i.rule == "E8":
            en_parts.append(f"E8: {_who(ctx, i.cadres[0])} is pinned away from its own post {ctx.post_ids[i.posts[0]]}")
            zh_parts.append(f"E8: {_who(ctx, i.cadres[0])} 被禁止留任 {ctx.post_ids[i.posts[0]]}")
    tail = "" if irreducible else " (search stopped at its time limit: the set may not be minimal)"
    return {"rule": main, "rules": rules, "cadres": cads, "posts": posts, "teams": teams, "irreducible": irreducible,
            "message": "These rules cannot all hold: " + "; ".join(en_parts) + ". Dropping any one of them makes a plan possible." + tail,
            "message_zh": "以下规则无法同时满足: " + "；".join(zh_parts) + "。去掉其中任意一条即可形成方案。"}
