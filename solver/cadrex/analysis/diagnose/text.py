"""Diagnosis in words: each conflict (and each instance in it) as English and Chinese messages, the trivial
conflicts found while building, the entries for "no conflict isolated", and the order conflicts are listed in."""

from __future__ import annotations

import numpy as np

from cadrex.analysis.diagnose.checker import Instance
from cadrex.model import Model
from cadrex.rules.context import Context
from cadrex.rules.eligibility import E_RULES, rule_masks
from cadrex.rules.why import must_move

#: instances named in a conflict's message; the rest are counted
MESSAGE_ITEMS = 10
#: the rule a conflict is headed by: the first of these in it (pins first: what the user asked for cannot be met)
HEAD_ORDER = ("max_changes", "H8", "H7", "E8", "H5", "H6", "H3", "H4", "H1")


def _more(conflicts: list[dict], why: tuple[str, str] | None) -> list[dict]:
    """Mark ``conflicts`` (in place) with ``more_conflicts_possible``: False when ``why`` is None (relaxing every
    instance they name was proven to leave a plan possible: no conflict lies outside them), else True, and the last
    one's message then ends with "Other conflicts may exist (why)" (English, Chinese)."""
    for d in conflicts:
        d["more_conflicts_possible"] = why is not None
    if why is not None and conflicts:
        conflicts[-1]["message"] += f" Other conflicts may exist ({why[0]})."
        conflicts[-1]["message_zh"] += f"可能还存在其他冲突（{why[1]}）。"
    return conflicts


def _ordered(conflicts: list[dict]) -> list[dict]:
    """Smallest conflicts first, then by the posts and cadres they name (the same order on every path)."""
    return sorted(conflicts, key=lambda d: (len(d["rules"]), d["posts"], d["cadres"], d["rules"]))


def _generic() -> dict:
    return {"rule": "", "rules": [], "cadres": [], "posts": [], "teams": [], "irreducible": False, "minimal": False,
            "more_conflicts_possible": True, "reason": "no rule instance explains it / 无法归结到具体规则实例",
            "message": "The rules together admit no plan, and no single group of hard-rule instances explains it "
                       "(the conflict lies in the eligibility rules E1–E10 or the one-post-per-cadre rule H2).",
            "message_zh": "现有规则下不存在可行方案, 冲突源于资格条件 (E1–E10) 或一人一岗 (H2)。"}


def _unproven(why: tuple[str, str] | None) -> dict:
    en, zh = why or ("no certificate named the rules involved", "未找到指明相关规则的证书")
    return {"rule": "", "rules": [], "cadres": [], "posts": [], "teams": [], "irreducible": False, "minimal": False,
            "more_conflicts_possible": True, "reason": f"{en} / {zh}",
            "message": f"No conflict among the hard rules (H1–H8, E8) was isolated ({en}). Run again with a longer "
                       "--time-limit to get one.",
            "message_zh": f"未能找出硬性规则 (H1–H8、E8) 之间的冲突（{zh}）。请加大 --time-limit 后重新运行。"}


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


def _trivial(ctx: Context, model: Model, rule: str, label: str) -> dict:
    """A conflict of one instance found while building (an empty row or an ineligible require pin)."""
    d = {"rule": rule, "rules": [rule], "cadres": [], "posts": [], "teams": [], "irreducible": True, "minimal": True,
         "reason": ""}
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
    w_en, w_zh = must_move(ctx, c)
    d |= {"cadres": [ctx.cad_ids[c]],
          "message": f"H1: {_who(ctx, c)} must move ({w_en}) but every post in play is excluded: {en}.",
          "message_zh": f"H1: {_who(ctx, c)} 必须交流（{w_zh}）, 但所有在列职位均不符合条件: {zh}。"}
    return d


def _describe(ctx: Context, iis: list[Instance], why: tuple[str, str] | None) -> dict:
    """A conflict in words: the rule it is headed by, its instances (the first :data:`MESSAGE_ITEMS` in full, the
    rest counted), and whether it is minimal (then dropping any one of them resolves this conflict; other conflicts
    may remain, see :func:`_more`) or why not."""
    rank = {r: k for k, r in enumerate(HEAD_ORDER)}
    iis = sorted(iis, key=lambda i: (rank.get(i.rule, len(rank)), i.key))
    cads = sorted({ctx.cad_ids[c] for i in iis for c in i.cadres})
    posts = sorted({ctx.post_ids[p] for i in iis for p in i.posts})
    teams = sorted({ctx.team_ids[t] for i in iis for t in i.teams})
    rules = [i.rule for i in iis]
    main = rules[0] if rules else ""
    parts = [_phrase(ctx, i) for i in iis[:MESSAGE_ITEMS]]
    en = "; ".join(e for e, _ in parts)
    zh = "；".join(z for _, z in parts)
    if len(iis) > MESSAGE_ITEMS:
        en += f"; … and {len(iis) - MESSAGE_ITEMS} more"
        zh += f"；…等{len(iis)}项"
    minimal = why is None
    one = len(iis) == 1
    head_en = "This rule instance cannot hold: " if one else f"These {len(iis)} rule instances cannot all hold: "
    head_zh = "以下规则无法满足：" if one else f"以下{len(iis)}条规则无法同时满足："
    if minimal:  # proven: the set less any one instance is feasible (other instances relaxed), not that a plan exists
        tail_en = " Dropping it resolves this conflict." if one else " Dropping any one of them resolves this conflict."
        tail_zh = "去掉该条即可消除此冲突。" if one else "去掉其中任意一条即可消除此冲突。"
    else:
        tail_en = f" Not shown to be minimal ({why[0]}): some of them may not be needed."
        tail_zh = f"未证明为最小冲突（{why[1]}），其中部分规则可能并非必要。"
    return {"rule": main, "rules": rules, "cadres": cads, "posts": posts, "teams": teams, "irreducible": minimal,
            "minimal": minimal, "reason": "" if minimal else f"{why[0]} / {why[1]}",
            "message": head_en + en + "." + tail_en, "message_zh": head_zh + zh + "。" + tail_zh}


def _phrase(ctx: Context, i: Instance) -> tuple[str, str]:
    """One instance in words (English, Chinese)."""
    if i.rule == "H1" and i.kind == "col-ub":
        c = i.cadres[0]
        w_en, w_zh = must_move(ctx, c)
        ex_en, ex_zh = _excl_text(ctx, c, limit=4)
        return (f"H1: {_who(ctx, c)} must leave {ctx.post_ids[i.posts[0]]} ({w_en}); excluded elsewhere: {ex_en}",
                f"H1: {_who(ctx, c)} 必须离开 {ctx.post_ids[i.posts[0]]}（{w_zh}）")
    if i.rule == "H1":
        c = i.cadres[0]
        w_en, w_zh = must_move(ctx, c)
        ex_en, ex_zh = _excl_text(ctx, c, limit=4)
        return (f"H1: {_who(ctx, c)} must get a post ({w_en}); excluded: {ex_en}",
                f"H1: {_who(ctx, c)} 必须交流到某一职位（{w_zh}）")
    if i.rule == "H3" and i.kind == "row-hi":
        p = i.posts[0]
        held = f" (held by {_who(ctx, int(ctx.p_holder[p]))})" if ctx.p_holder[p] >= 0 else " (vacant)"
        held_zh = f"（现任 {_who(ctx, int(ctx.p_holder[p]))}）" if ctx.p_holder[p] >= 0 else "（空缺）"
        return (f"H3: post {ctx.post_ids[p]}{held} may have at most one holder",
                f"H3: 职位 {ctx.post_ids[p]}{held_zh}至多一人任职")
    if i.rule == "H3":
        return f"H3: post {ctx.post_ids[i.posts[0]]} must be filled", f"H3: 职位 {ctx.post_ids[i.posts[0]]} 必须配备"
    if i.rule == "H4" and i.kind == "col-ub":
        return (f"H4: {_who(ctx, i.cadres[0])} may not stay beside a fixed relative in {ctx.team_ids[i.teams[0]]}",
                f"H4: {_who(ctx, i.cadres[0])} 与亲属同在 {ctx.team_ids[i.teams[0]]}, 不得留任")
    if i.rule == "H4":
        a, b = i.cadres
        return (f"H4: relatives {_who(ctx, a)} and {_who(ctx, b)} may not both join {ctx.team_ids[i.teams[0]]}",
                f"H4: 亲属 {_who(ctx, a)} 与 {_who(ctx, b)} 不得同在 {ctx.team_ids[i.teams[0]]}")
    if i.rule == "H5":
        ps = ", ".join(ctx.post_ids[p] for p in i.posts)
        return (f"H5: in locality {ctx.t_locality[i.teams[0]]} at most one of the heads' posts {ps} may change holder",
                f"H5: {ctx.t_locality[i.teams[0]]} 党政正职 {ps} 不得同时易人")
    if i.rule == "H6":
        what = i.label.replace("H6 ", "").replace(f"{ctx.team_ids[i.teams[0]]} ", "")
        return (f"H6: team {ctx.team_ids[i.teams[0]]} may not get worse on hard structure rule {what}",
                f"H6: 班子 {ctx.team_ids[i.teams[0]]} 的硬性结构要求（{what}）不得变差")
    if i.rule == "H7":
        return (f"H7: {_who(ctx, i.cadres[0])} is pinned to {ctx.post_ids[i.posts[0]]}",
                f"H7: {_who(ctx, i.cadres[0])} 被指定到 {ctx.post_ids[i.posts[0]]}")
    if i.rule == "E8":
        return (f"E8: {_who(ctx, i.cadres[0])} is pinned away from its own post {ctx.post_ids[i.posts[0]]}",
                f"E8: {_who(ctx, i.cadres[0])} 被禁止留任 {ctx.post_ids[i.posts[0]]}")
    if i.rule in ("H8", "max_changes"):  # labels carry both languages: "English / 中文"
        en, zh = i.label.split(" / ", 1) if " / " in i.label else (i.label, i.label)
        if i.rule == "H8":
            return en, zh
        return f"{en.split(': ', 1)[-1]} (--max-changes)", f"{zh}（--max-changes）"
    return f"{i.rule}: {i.label}", f"{i.rule}: {i.label}"
