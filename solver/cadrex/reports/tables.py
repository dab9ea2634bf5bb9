"""The output tables of a plan (SPEC §7): assignments with reasons in words, posts with the 以岗选人 short
list, team structure before/after."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadrex.i18n import Join, Msg, Text
from cadrex.model import STRUCTURE_RULES, Model, PlanValues
from cadrex.rules.context import Context
from cadrex.rules.eligibility import has_eligible_post, stay_block
from cadrex.rules.why import KIND_ZH, must_move_msg


def post_names(ctx: Context) -> dict[str, Text | str]:
    """Per post id, the post as an analyst reads it: "P000056 (浙江第1市委 组织部长)", with its team's name and its
    title (the id alone where the case gives neither; both columns are optional)."""
    posts, teams = ctx.case.posts, ctx.case.teams
    title = posts["title"] if "title" in posts.columns else pd.Series("", index=posts.index)
    tname = teams["name"] if "name" in teams.columns else pd.Series("", index=teams.index)
    team = tname.reindex(posts["team_id"]).to_numpy() if "team_id" in posts.columns else [""] * len(posts)
    out = {}
    for pid, tn, ti in zip(posts.index, team, title.to_numpy(), strict=True):
        words = " ".join(str(w).strip() for w in (tn, ti) if isinstance(w, str) and w.strip())
        out[pid] = Msg("reason.post", id=pid, words=words) if words else str(pid)
    return out


def _reason(ctx: Context, c: int, own: str | None, dest: str | None, terms: dict, stay_possible: bool,
            pinned: str | None, any_post: bool = True, names: dict | None = None, block: str = "") -> Text:
    """The ``reasons`` cell: what happens to the cadre and the rules and terms behind it (English as a string,
    either language by ``text(lang)``)."""
    bits: list[Text] = []
    kind = ctx.c_kind[c]
    if dest is None:  # no post open to it at all (E1–E10), or none worth filling with it
        return Msg("reason.unassigned" if any_post else "reason.unassigned_none", c=ctx.cad_ids[c])
    if dest == own:
        bits.append(Msg("reason.stays"))
    else:
        name = (names or {}).get
        bits.append(Msg("reason.moves", own=name(own, own), dest=name(dest, dest)) if own else
                    Msg("reason.moves_in", dest=name(dest, dest)))
    if ctx.c_must[c]:
        bits.append(Msg("reason.must", why=must_move_msg(ctx, c, threshold=True)))
    elif own and dest != own and not stay_possible:  # H4 or E8 (stay_block), else closed to it by the model
        bits.append(Msg({"H4": "reason.no_stay_h4", "E8": "reason.no_stay_e8"}.get(block, "reason.no_stay")))
    if pinned:
        bits.append(Msg("reason.pin", post=pinned))
    if kind and not ctx.c_must[c]:
        bits.append(Msg("reason.kind", kind=kind, label=KIND_ZH[kind]))
    main = [Msg("reason.term", name=Msg(f"term.{k}"), value=f"{terms[k]:+d}")
            for k in ("fit", "hard", "care", "pref", "assess") if terms.get(k)]
    if main:
        bits.append(Msg("reason.terms", terms=Join(main, "reason.list")))
    return Join(bits)


def assignments_table(ctx: Context, model: Model, plan: dict, pv: PlanValues, chosen_c, chosen_p, chosen_stay) -> pd.DataFrame:
    """One row per cadre in play; the pair terms are the model side's (:func:`cadrex.model.plan_values`)."""
    stay_c = set(model.pair_c[model.pair_stay & (model.ub[: model.n_pairs] > 0)].tolist())
    # a cadre left without a post: could it have taken any post? (explained apart when no rule allows one)
    left = np.asarray([c for c in ctx.I if plan.get(ctx.cad_ids[c]) is None], np.int64)
    some_post = dict(zip(left.tolist(), has_eligible_post(ctx, left).tolist(), strict=True))
    req = {ctx.cad_ids[c]: ctx.post_ids[p] for c, p, r in zip(ctx.pin_c, ctx.pin_p, ctx.pin_require, strict=True) if r}
    names = post_names(ctx)
    blocks = dict(zip(ctx.I.tolist(), stay_block(ctx).tolist(), strict=True))
    rows = []
    for c in ctx.I:
        cid = ctx.cad_ids[c]
        own = ctx.post_ids[ctx.c_post[c]] if ctx.c_post[c] >= 0 else None
        dest = plan.get(cid)
        t = pv.cadre_terms.get(cid, {})
        action = "unassigned" if dest is None else ("stay" if dest == own else "move")
        to_prov = ctx.prov_ids[ctx.p_prov[ctx.pix[dest]]] if dest else ""
        rows.append({
            "cadre_id": cid, "name": ctx.case.cadres.at[cid, "name"], "action": action, "from_post": own or "",
            "to_post": dest or "", "from_province": ctx.prov_ids[ctx.c_prov[c]], "to_province": to_prov,
            "kind": ctx.c_kind[c], "fit": t.get("fit", 0), "hard": t.get("hard", 0), "care": t.get("care", 0),
            "pref": t.get("pref", 0), "assess": t.get("assess", 0), "score": t.get("score", 0),
            "reasons": _reason(ctx, c, own, dest, t, int(c) in stay_c, req.get(cid), some_post.get(int(c), True), names,
                               blocks[int(c)]),
        })
    return pd.DataFrame(rows)


def posts_table(ctx: Context, model: Model, plan: dict, short: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """One row per post in play; ``short``: the short list when the model does not hold every eligible pair."""
    after = {p: c for c, p in plan.items() if p}
    cand = model.short_list() if short is None else short
    J = ctx.J
    before = [ctx.cad_ids[h] if h >= 0 else "" for h in ctx.p_holder[J]]
    pid = ctx.post_ids[J]
    ha = [after.get(p, "") for p in pid]
    return pd.DataFrame({"post_id": pid, "team_id": ctx.team_ids[ctx.p_team[J]], "holder_before": before,
                         "holder_after": ha, "changed": [a != b for a, b in zip(ha, before, strict=True)],
                         "candidates": [";".join(cand.get(p, [])) for p in pid]})


def teams_table(ctx: Context, pv: PlanValues) -> pd.DataFrame:
    """Structure shortfalls before/after per team in play, the model side's (:func:`cadrex.model.plan_values`)."""
    teams = np.unique(ctx.p_team[ctx.J])
    rows = []
    for t in teams:
        tid = ctx.team_ids[t]
        r = {"team_id": tid, "name": ctx.case.teams.at[tid, "name"], "structure_model": ctx.t_model[t]}
        b, a = pv.shortfall_before.get(tid, {}), pv.shortfall_after.get(tid, {})
        for k in STRUCTURE_RULES:
            r[f"{k}_before"] = b.get(k, "")
            r[f"{k}_after"] = a.get(k, "")
        rows.append(r)
    return pd.DataFrame(rows)
