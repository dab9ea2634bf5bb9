"""The model side's reading of a plan (SPEC §6–§7): given a 0/1 vector over a :class:`Model`'s pairs, the objective
with every auxiliary at its best value for those pairs, the unweighted objective terms, the per-cadre pair terms and
the per-team structure shortfalls before (status quo) and after — all from the model's own arrays.

These are the values the outputs report; :mod:`cadrex.analysis.verify` stays the independent second reading and
``cadrex.jobs.solve`` compares the two (a difference is an internal error). The terms follow the verifier's
definitions: pair terms over every chosen pair (stays included), ``fill`` once per filled post, ``move`` the move cost
per holder who moves without having to, ``structure`` the penalty per shortfall unit plus the age penalty per excess
year, ``flow`` the penalty per unit of |arrivals − departures| per province (whatever the weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cadrex.io.tomlfiles import COUNT_RULES
from cadrex.model.columns import pair_columns
from cadrex.model.core import Model
from cadrex.model.pairs import Pairs
from cadrex.rules.scores import TERMS, fill_value

#: structure rules of SPEC §3, in the order of ``teams.csv``
STRUCTURE_RULES = ("min_female", "min_young", "min_non_cpc", "min_minority", "min_grassroots", "max_same_specialty",
                   "required_specialties", "max_avg_age")
#: the unweighted terms of ``summary.terms``, in order
TERM_NAMES = ("fit", "hard", "care", "pref", "assess", "fill", "move", "structure", "flow")


@dataclass
class PlanValues:
    """The model side's values of one plan (see the module docstring)."""

    objective: int
    terms: dict[str, int]
    cadre_terms: dict[str, dict[str, int]] = field(default_factory=dict)
    shortfall_before: dict[str, dict[str, int]] = field(default_factory=dict)
    shortfall_after: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the auxiliaries at their best value for the plan (one per auxiliary of the model)
    aux: np.ndarray | None = None


def best_aux(model: Model, activity: np.ndarray) -> np.ndarray:
    """Each auxiliary at its smallest value that satisfies its defining row (the structure or flow row it was made
    for) given the pairs' row ``activity``: ``max(0, lo − act)`` for a shortfall (+1 on a ≥ row), ``max(0, act − hi)``
    for an excess (−1 on a ≤ row); on a flow balance f⁺ = max(0, act), f⁻ = max(0, −act). All auxiliaries carry a
    penalty, so this is their best value for the plan."""
    n = model.n_pairs
    A = model.A[:, n:].tocoo()
    defining = np.isin(model.row_rule[A.row], ("structure", "flow"))
    r, a, v = A.row[defining], A.col[defining], A.data[defining]
    na = model.n_vars - n
    if len(np.unique(a)) != len(a) or len(a) != na:
        raise ValueError("plan_values: an auxiliary without exactly one structure or flow row (an extension's?)")
    act = activity[r]
    with np.errstate(invalid="ignore"):
        val = np.where(v > 0, (model.row_lo[r] - act) / v, (act - model.row_hi[r]) / -v)
    out = np.zeros(na)
    out[a] = np.maximum(0.0, np.nan_to_num(val, nan=0.0, posinf=0.0, neginf=0.0))
    return np.round(out)


def _team_shortfalls(model: Model, activity: np.ndarray) -> np.ndarray:
    """Shortfall per team (rows) and structure rule (columns, :data:`STRUCTURE_RULES`) for a row ``activity``; a
    team without a row for a rule has none (its fixed members already satisfy it)."""
    ctx, ri = model.ctx, model.rows
    T, NS = ctx.n_team, max(1, len(ctx.spec_ids))
    out = np.zeros((T, len(STRUCTURE_RULES)), np.int64)
    lo, hi = model.row_lo, model.row_hi
    for i, name in enumerate(STRUCTURE_RULES):
        if name in COUNT_RULES:
            rows = ri.count_rows.get(name)
            if rows is not None:
                t = np.flatnonzero(rows >= 0)
                out[t, i] = np.maximum(0, np.round(lo[rows[t]] - activity[rows[t]])).astype(np.int64)
        elif name == "max_same_specialty" and ri.spec_keys is not None and len(ri.spec_keys):
            r = ri.spec_rowid
            ex = np.maximum(0, np.round(activity[r] - hi[r])).astype(np.int64)
            out[:, i] = np.bincount(ri.spec_keys // NS, weights=ex, minlength=T).astype(np.int64)
        elif name == "required_specialties" and ri.req_keys is not None and len(ri.req_keys):
            r = ri.req_rowid
            sh = np.maximum(0, np.round(lo[r] - activity[r])).astype(np.int64)
            out[:, i] = np.bincount(ri.req_keys // NS, weights=sh, minlength=T).astype(np.int64)
        elif name == "max_avg_age" and ri.age_row is not None:
            t = np.flatnonzero(ri.age_row >= 0)
            r = ri.age_row[t]
            out[t, i] = np.maximum(0, np.round(activity[r] - hi[r])).astype(np.int64)
    return out


def _present(model: Model) -> np.ndarray:
    """Per team and structure rule: does the team's structure model have the rule (min_minority only in ethnic
    autonomous teams)?"""
    ctx = model.ctx
    out = np.zeros((ctx.n_team, len(STRUCTURE_RULES)), bool)
    for t, m in enumerate(ctx.t_model):
        rules = ctx.case.structures[m]
        out[t] = [k in rules and not (k == "min_minority" and not ctx.t_ethnic[t]) for k in STRUCTURE_RULES]
    return out


def _as_dicts(model: Model, sf: np.ndarray, present: np.ndarray) -> dict[str, dict[str, int]]:
    tid = model.ctx.team_ids
    return {str(tid[t]): {k: int(sf[t, i]) for i, k in enumerate(STRUCTURE_RULES) if present[t, i]}
            for t in range(len(tid))}


def status_quo_activity(model: Model) -> np.ndarray:
    """Row activity of the status quo: every holder in play stays (fixed holders are in the rows' bounds)."""
    ctx = model.ctx
    c = ctx.I[ctx.c_post[ctx.I] >= 0].astype(np.int32)
    p = ctx.c_post[c].astype(np.int32)
    pairs = Pairs(c, p, np.ones(len(c), bool), np.zeros(len(c), np.int8))
    r, _, v = pair_columns(ctx, model.rows, pairs)
    return np.bincount(r, weights=v, minlength=model.n_rows)


def plan_values(model: Model, x_pairs: np.ndarray) -> PlanValues:
    """The model side's values of the plan ``x_pairs`` (0/1 over the model's pairs; a longer vector is cut to them):
    objective (auxiliaries at their best, :func:`best_aux`), unweighted terms as ``summary.terms`` reports them,
    per-cadre pair terms (``assignments.csv``) and per-team shortfalls before and after (``teams.csv``)."""
    ctx, pol = model.ctx, model.ctx.policy
    n = model.n_pairs
    x = np.round(np.asarray(x_pairs, float)[:n]).astype(bool)
    xf = x.astype(float)
    activity = model.A[:, :n] @ xf
    aux = best_aux(model, activity)
    objective = float(model.obj[:n] @ xf + model.obj[n:] @ aux + model.offset)
    c, p, stay = model.pair_c[x], model.pair_p[x], model.pair_stay[x]
    terms = {k: int(model.terms[k][x].sum()) for k in TERMS}
    terms["fill"] = int(fill_value(ctx, np.unique(p)).sum())
    moved = (~stay) & (ctx.c_post[c] >= 0) & ~ctx.c_must[c]
    terms["move"] = int(pol["move_cost"]) * int(moved.sum())
    present = _present(model)
    after = _team_shortfalls(model, activity)
    before = _team_shortfalls(model, status_quo_activity(model))
    age = STRUCTURE_RULES.index("max_avg_age")
    units = int(np.where(present, after, 0).sum() - np.where(present[:, age], after[:, age], 0).sum())
    age_units = int(np.where(present[:, age], after[:, age], 0).sum())
    terms["structure"] = int(pol["structure_penalty"]) * units + int(pol["age_penalty_per_year"]) * age_units
    cp, pp = ctx.c_prov[c], ctx.p_prov[p]
    mv = cp != pp
    Q = len(ctx.prov_ids)
    bal = np.bincount(pp[mv], minlength=Q) - np.bincount(cp[mv], minlength=Q)
    terms["flow"] = int(pol["flow_penalty"]) * int(np.abs(bal).sum())
    terms = {k: terms[k] for k in TERM_NAMES} | {"structure_units": units, "age_excess_years": age_units}
    cols = {k: model.terms[k][x] for k in TERMS}
    score = model.pair_score[x]
    cadre_terms = {str(cid): {k: int(cols[k][i]) for k in TERMS} | {"score": int(score[i])}
                   for i, cid in enumerate(ctx.cad_ids[c])}
    return PlanValues(objective=int(round(objective)), terms=terms, cadre_terms=cadre_terms,
                      shortfall_before=_as_dicts(model, before, present), shortfall_after=_as_dicts(model, after, present),
                      aux=aux)
