"""Diagnosis in words: each conflict (and each instance in it) as English and Chinese messages, the trivial
conflicts found while building, the entries for "no conflict isolated", and the order conflicts are listed in."""

from __future__ import annotations

import re

import numpy as np

from cadrex.analysis.diagnose.checker import Instance
from cadrex.i18n import Join, Msg, Text, catalogue
from cadrex.model import Model
from cadrex.rules.context import Context
from cadrex.rules.eligibility import rule_masks
from cadrex.rules.why import must_move_msg

#: instances named in a conflict's message; the rest are counted
MESSAGE_ITEMS = 10
#: the rule a conflict is headed by: the first of these in it (pins first: what the user asked for cannot be met)
HEAD_ORDER = ("max_changes", "H8", "H7", "E8", "H5", "H6", "H3", "H4", "H1")


def _words(d: dict, m) -> dict:
    """``d`` with ``message`` and ``message_zh``: the catalogue message ``m`` in English and Chinese."""
    return d | {"message": m.text("en"), "message_zh": m.text("zh")}


def _more(conflicts: list[dict], why: Msg | None) -> list[dict]:
    """Mark ``conflicts`` (in place) with ``more_conflicts_possible``: False when ``why`` is None (relaxing every
    instance they name was proven to leave a plan possible: no conflict lies outside them), else True, and the last
    one's message then ends with "Other conflicts may exist (why)"."""
    for d in conflicts:
        d["more_conflicts_possible"] = why is not None
    if why is not None and conflicts:
        more = Msg("diag.more", why=why)
        conflicts[-1]["message"] += more.text("en")
        conflicts[-1]["message_zh"] += more.text("zh")
    return conflicts


def _ordered(conflicts: list[dict]) -> list[dict]:
    """Smallest conflicts first, then by the posts and cadres they name (the same order on every path)."""
    return sorted(conflicts, key=lambda d: (len(d["rules"]), d["posts"], d["cadres"], d["rules"]))


def _generic() -> dict:
    r = Msg("diag.generic_reason")
    return _words({"rule": "", "rules": [], "cadres": [], "posts": [], "teams": [], "irreducible": False,
                   "minimal": False, "more_conflicts_possible": True, "reason": f"{r.text('en')} / {r.text('zh')}"},
                  Msg("diag.generic"))


def _unproven(why: Msg | None) -> dict:
    why = why or Msg("diag.no_certificate")
    return _words({"rule": "", "rules": [], "cadres": [], "posts": [], "teams": [], "irreducible": False,
                   "minimal": False, "more_conflicts_possible": True, "reason": f"{why.text('en')} / {why.text('zh')}"},
                  Msg("diag.unproven", why=why))


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


def _excl_text(ctx: Context, c: int, limit: int = 6) -> Text:
    """The posts in play that exclude cadre ``c``, each with the E rules that do (the first ``limit``)."""
    J = ctx.J
    ex = exclusions(ctx, c, J)
    items = [(ctx.post_ids[p], r) for p, r in zip(J, ex, strict=True) if r and r != ["own post"]]
    parts: list = [Msg("diag.excl_item", post=p, rules=Join([Msg("diag.excl_rule", id=k, name=Msg(f"rule.{k}")) for k in r],
                                                              "reason.list")) for p, r in items[:limit]]
    out = Join(parts, "reason.list")
    more = len(items) - limit
    return Msg("diag.and_more", items=out, more=more) if more > 0 else out


def _who(ctx: Context, c: int) -> Msg:
    """A cadre by name and id: 魏国（C000074） in zh, 魏国 (C000074) in en."""
    return Msg("diag.named", name=ctx.case.cadres.at[ctx.cad_ids[c], "name"], id=ctx.cad_ids[c])


def _team(ctx: Context, t: int) -> Msg | str:
    """A team by name and id (its id alone where the case names none)."""
    tid = ctx.team_ids[t]
    name = ctx.case.teams.at[tid, "name"] if "name" in ctx.case.teams.columns else ""
    return Msg("diag.named", name=name.strip(), id=tid) if isinstance(name, str) and name.strip() else tid


def _trivial(ctx: Context, model: Model, rule: str, label: str) -> dict:
    """A conflict of one instance found while building (an empty row or an ineligible require pin)."""
    d = {"rule": rule, "rules": [rule], "cadres": [], "posts": [], "teams": [], "irreducible": True, "minimal": True,
         "reason": ""}
    if rule == "H7":
        c, p = next((c, p) for j, c, p in model.h7_pins if j < 0 and f"{ctx.cad_ids[c]} -> {ctx.post_ids[p]}" in label)
        ex = exclusions(ctx, c, np.array([p]))[0]
        why = Join([Msg("diag.excl_rule", id=k, name=Msg(f"rule.{k}")) for k in ex], "reason.list") if ex else \
            Msg("diag.not_in_play_cadre" if not ctx.c_inplay[c] else "diag.not_in_play_post")
        d |= {"cadres": [ctx.cad_ids[c]], "posts": [ctx.post_ids[p]], "teams": [ctx.team_ids[ctx.p_team[p]]]}
        return _words(d, Msg("diag.h7_excluded", who=_who(ctx, c), post=ctx.post_ids[p], why=why))
    r = model.row_label.index(label.replace(" — no eligible option", ""))
    cads, posts, teams = model.row_ent[r]
    if rule == "H3":
        p = posts[0]
        I = ctx.I
        m = rule_masks(ctx, I, np.array([p], np.int32))
        items = [(ctx.cad_ids[c], [k for k, v in m.items() if not v[i, 0]]) for i, c in enumerate(I)]
        items = [x for x in items if x[1]][:6]
        listed = Join([Msg("diag.excl_item", post=c, rules=", ".join(r_)) for c, r_ in items], "reason.list")
        d |= {"posts": [ctx.post_ids[p]], "teams": [ctx.team_ids[ctx.p_team[p]]]}
        return _words(d, Msg("diag.h3_none", post=ctx.post_ids[p], items=listed))
    c = cads[0]
    d |= {"cadres": [ctx.cad_ids[c]]}
    return _words(d, Msg("diag.h1_none", who=_who(ctx, c), why=must_move_msg(ctx, c), items=_excl_text(ctx, c)))


def _describe(ctx: Context, iis: list[Instance], why: Msg | None) -> dict:
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
    items: Text = Join([_phrase(ctx, i) for i in iis[:MESSAGE_ITEMS]])
    if len(iis) > MESSAGE_ITEMS:
        items = Msg("diag.items_more", items=items, more=len(iis) - MESSAGE_ITEMS)
    minimal = why is None
    one = len(iis) == 1
    head = Msg("diag.head_one") if one else Msg("diag.head_many", n=len(iis))
    if minimal:  # proven: the set less any one instance is feasible (other instances relaxed), not that a plan exists
        tail = Msg("diag.tail_one" if one else "diag.tail_many")
    else:
        tail = Msg("diag.tail_not_minimal", why=why)
    d = {"rule": main, "rules": rules, "cadres": cads, "posts": posts, "teams": teams, "irreducible": minimal,
         "minimal": minimal, "reason": "" if minimal else f"{why.text('en')} / {why.text('zh')}"}
    return _words(d, Msg("diag.conflict", head=head, items=items, tail=tail))


def _phrase(ctx: Context, i: Instance) -> Text:
    """One instance in words."""
    if i.rule == "H1":
        c = i.cadres[0]
        ex = _excl_text(ctx, c, limit=4)
        if i.kind == "col-ub":
            return Msg("diag.h1_leave", who=_who(ctx, c), post=ctx.post_ids[i.posts[0]], why=must_move_msg(ctx, c), items=ex)
        return Msg("diag.h1_get", who=_who(ctx, c), why=must_move_msg(ctx, c), items=ex)
    if i.rule == "H3" and i.kind == "row-hi":
        p = i.posts[0]
        held = Msg("diag.held_by", who=_who(ctx, int(ctx.p_holder[p]))) if ctx.p_holder[p] >= 0 else Msg("diag.vacant")
        return Msg("diag.h3_at_most", post=ctx.post_ids[p], held=held)
    if i.rule == "H3":
        return Msg("diag.h3_fill", post=ctx.post_ids[i.posts[0]])
    if i.rule == "H4" and i.kind == "col-ub":
        return Msg("diag.h4_stay", who=_who(ctx, i.cadres[0]), team=_team(ctx, i.teams[0]))
    if i.rule == "H4":
        a, b = i.cadres
        return Msg("diag.h4_pair", a=_who(ctx, a), b=_who(ctx, b), team=_team(ctx, i.teams[0]))
    if i.rule == "H5":
        return Msg("diag.h5", loc=ctx.t_locality[i.teams[0]], posts=", ".join(ctx.post_ids[p] for p in i.posts))
    if i.rule == "H6":
        # labels: "H6 RULE TEAM not worse than today (n)", "RULE shortfall at most n (today)", or a year's
        cat = catalogue()
        rule = next((w for w in str(i.label).split() if f"structure.{w}" in cat), "?")
        m = re.search(r"today \((\d+)\)|at most (\d+(?:\.\d+)?) \(today\)", str(i.label))
        today = Msg("diag.today", n=m.group(1) or m.group(2)) if m else ""
        return Msg("diag.h6", team=_team(ctx, i.teams[0]), rule=Msg(f"structure.{rule}") if rule != "?" else rule,
                   today=today)
    if i.rule == "H7":
        return Msg("diag.h7", who=_who(ctx, i.cadres[0]), post=ctx.post_ids[i.posts[0]])
    if i.rule == "E8":
        return Msg("diag.e8", who=_who(ctx, i.cadres[0]), post=ctx.post_ids[i.posts[0]])
    if i.rule in ("H8", "max_changes"):  # their row labels are catalogue messages
        label = i.label if isinstance(i.label, Text) else Msg("diag.h8_raw", text=str(i.label))
        return label if i.rule == "H8" else Msg("diag.max_changes", text=label)
    return Msg("diag.h8_raw", text=str(i.label))
