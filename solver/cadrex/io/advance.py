"""The case of the next round (SPEC §12): ``advance(apply_plan(case, plan))`` — a plan applied to its case, then one
year passed. Written once here, for the multi-year plan (``cadrex horizon``, issue 15) and its myopic reference.

- :func:`apply_plan`: holders as in the plan. A cadre who changed post gets its new team's province,
  ``years_in_post`` = ``years_in_province`` = 0, its new post's grade (``years_in_grade`` = 0 if that changed it) and
  an empty ``exchange_kind``; everyone else is unchanged. Pins apply to round 1 only: the result has none.
  Preferences, scores and relations carry on.
- :func:`advance`: ``as_of`` + 1 year (29 Feb → 28 Feb; ages follow); every cadre ``years_in_grade`` + 1; every
  holder ``years_in_post`` + 1, ``years_in_province`` + 1 and ``hardship_years`` + 1 if its team's hardship ≥ 1. A
  holder who reaches the 10-year deadline (H1) gets the kind ``mandatory`` (unless it has another forced kind) (规定性交流; the one
  reading cadrex adds to §12, so that E5 cannot make a deadline unmeetable). A
  cadre whose age at the new ``as_of`` is ≥ ``retirement_age`` retires: it leaves the case with its relations,
  preferences, pins and scores, and its post becomes vacant.
- :func:`mark_deadlines`: the deadlines within reach of round t (``movable`` = true, kept); :func:`next_round` is
  the three together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from cadrex.io.case import Case, _age
from cadrex.io.schema import FORCED_KINDS


def apply_plan(case: Case, plan: dict[str, str | None]) -> Case:
    """``case`` after ``plan`` (cadre id -> post id or None, for cadres in play; cadres not listed keep their post)."""
    posts = case.posts.copy()
    cad = case.cadres.copy()
    own = {h: p for p, h in posts["holder_id"].items() if h}
    moved = {c: p for c, p in plan.items() if p is not None and p != own.get(c)}
    left = {c for c, p in plan.items() if p is None and c in own}  # a holder left without a post (not in a valid plan)
    for c in sorted((set(moved) | left) & set(own)):  # their old posts empty first, then filled by the plan
        posts.loc[own[c], "holder_id"] = ""
    for c, p in moved.items():
        posts.loc[p, "holder_id"] = c
    if moved:
        ids = list(moved)
        new_posts = posts.loc[[moved[c] for c in ids]]
        new_grade = new_posts["grade"].to_numpy()
        promoted = new_grade != cad.loc[ids, "grade"].to_numpy()
        cad.loc[ids, "province_id"] = case.teams.loc[new_posts["team_id"], "province_id"].to_numpy()
        cad.loc[ids, "years_in_post"] = 0.0
        cad.loc[ids, "years_in_province"] = 0.0
        cad.loc[ids, "grade"] = new_grade
        cad.loc[np.array(ids, dtype=object)[promoted], "years_in_grade"] = 0.0
        cad.loc[ids, "exchange_kind"] = ""
    return dataclasses.replace(case, posts=posts, cadres=cad, pins=case.pins.iloc[0:0].copy())


def _next_year(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28)


def advance(case: Case, policy: dict | None = None) -> Case:
    """``case`` one year later (see the module docstring); ``policy``: for ``retirement_age`` (default the case's)."""
    pol = policy or case.policy
    as_of = _next_year(case.as_of)
    cad = case.cadres.copy()
    posts = case.posts.copy()
    holder_team = {h: t for h, t in zip(posts["holder_id"], posts["team_id"], strict=True) if h}
    held = cad.index.isin(list(holder_team))
    cad["age"] = _age(cad["birth_date"], as_of)
    cad["years_in_grade"] = cad["years_in_grade"] + 1
    for col in ("years_in_post", "years_in_province"):
        cad.loc[held, col] = cad.loc[held, col] + 1
    team_of = pd.Series(cad.index.map(holder_team), index=cad.index)  # NaN for a cadre without a post
    hard = (team_of.map(case.teams["hardship"]).fillna(0).to_numpy(float) >= 1)
    cad.loc[hard, "hardship_years"] = cad.loc[hard, "hardship_years"] + 1
    # a holder whose 10-year deadline (H1) arrives this year is due a 规定性交流 (seed 001: "任职年限到期后实行交流",
    # 规定性 = exchanges the rules require): its kind becomes mandatory, so that E5 (任满一届) does not make the rule
    # unmeetable for a cadre who changed post inside its province recently (a reading of SPEC §12; docs/guide.md)
    due = held & (cad["years_in_province"] >= float(pol["mandatory_rotation_years"])) & ~cad["exchange_kind"].isin(FORCED_KINDS) & (
        cad["age"] < int(pol["retirement_age"]) - int(pol["retirement_buffer"]))
    cad.loc[due, "exchange_kind"] = "mandatory"
    retired = set(cad.index[cad["age"] >= int(pol["retirement_age"])])
    if retired:
        cad = cad.drop(index=sorted(retired))
        posts.loc[posts["holder_id"].isin(retired), "holder_id"] = ""
    rel, pref, pins, scores = case.relations, case.preferences, case.pins, case.scores
    rel = rel[~rel["cadre_a"].isin(retired) & ~rel["cadre_b"].isin(retired)]
    pref, pins, scores = (f[~f["cadre_id"].isin(retired)] for f in (pref, pins, scores))
    return dataclasses.replace(case, as_of=as_of, cadres=cad, posts=posts, relations=rel.reset_index(drop=True),
                               preferences=pref.reset_index(drop=True), pins=pins.reset_index(drop=True),
                               scores=scores.reset_index(drop=True))


def mark_deadlines(case: Case, years: int, t: int, policy: dict | None = None) -> Case:
    """Deadlines within reach (SPEC §12): in round ``t`` of ``years``, every holder with ``years_in_province`` +
    (``years`` − ``t``) ≥ ``mandatory_rotation_years`` gets ``movable`` = true (and keeps it: the flag is never
    cleared), so that a 10-year deadline falling inside the horizon (H1) can be met early."""
    pol = policy or case.policy
    cad = case.cadres.copy()
    held = cad.index.isin(list(case.posts.loc[case.posts["holder_id"] != "", "holder_id"]))
    due = held & (cad["years_in_province"].to_numpy() + (years - t) >= float(pol["mandatory_rotation_years"]))
    cad.loc[due, "movable"] = True
    return dataclasses.replace(case, cadres=cad)


def next_round(case: Case, plan: dict[str, str | None], years: int, t: int, policy: dict | None = None) -> Case:
    """case_{t+1} = advance(apply(plan_t, case_t)), its deadlines within reach marked for round t + 1."""
    return mark_deadlines(advance(apply_plan(case, plan), policy), years, t + 1, policy)


def retiring(case: Case, policy: dict | None = None) -> pd.Index:
    """The cadres who will have retired by the next round (age at ``as_of`` + 1 year ≥ ``retirement_age``)."""
    pol = policy or case.policy
    age = _age(case.cadres["birth_date"], _next_year(case.as_of))
    return case.cadres.index[age >= int(pol["retirement_age"])]


__all__ = ["advance", "apply_plan", "mark_deadlines", "next_round", "retiring"]
