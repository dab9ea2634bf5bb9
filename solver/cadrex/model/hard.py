"""Hard-rule rows named by SPEC id: H1/H2 (one post per cadre; a must-move non-holder exactly one), H3 (one cadre
per post), H4 (relatives not in one team), H5 (at most one head post per locality changes holder) and H8 (round
size caps: moves, departures per province). H1 for
holders, H4 stay options and E8 are fixed stay options (:func:`cadrex.rules.eligibility.stay_block`); H6 lives with
the structure rows, H7 pins in the builder."""

from __future__ import annotations

import numpy as np

from cadrex.i18n import Msg
from cadrex.model.rows import RowIndex, Summary
from cadrex.rules.context import Context


def h1_h2_rows(ctx: Context, ri: RowIndex) -> None:
    """H2 one post per cadre in play (holders exactly one; must-move non-holders exactly one: H1)."""
    I, cad = ctx.I, ctx.cad_ids
    holder = ctx.c_post[I] >= 0
    lo = np.where(holder | ctx.c_must[I], 1.0, 0.0)
    r = ri.add(len(I), lo, 1.0, "H2", [f"H2 {cad[c]} gets {'exactly' if x else 'at most'} one post" for c, x in zip(I, lo, strict=True)],
               [((int(c),), (), ()) for c in I])
    for k in np.flatnonzero(ctx.c_must[I] & ~holder):  # holders: H1 is the stay option fixed at 0
        ri.rule[r[k]] = "H1"
        ri.label[r[k]] = f"H1 {cad[I[k]]} must move"
    ri.h2_row = np.full(ctx.n_cad, -1, np.int64)
    ri.h2_row[I] = r


def h3_rows(ctx: Context, ri: RowIndex) -> None:
    """H3 one cadre per post in play (exactly one if must_fill)."""
    J, posts = ctx.J, ctx.post_ids
    r = ri.add(len(J), np.where(ctx.p_must[J], 1.0, 0.0), 1.0, "H3",
               [f"H3 {posts[p]} {'must be filled' if ctx.p_must[p] else 'at most one holder'}" for p in J],
               [((), (int(p),), (int(ctx.p_team[p]),)) for p in J])
    ri.h3_row = np.full(ctx.n_post, -1, np.int64)
    ri.h3_row[J] = r


def h4_rows(ctx: Context, ri: RowIndex, summ: Summary) -> None:
    """H4 kinship among cadres in play: per related pair and team, at most one of them in the team."""
    if not summ.kin_rows:
        return
    cad, tid, T = ctx.cad_ids, ctx.team_ids, ctx.n_team
    r = ri.add(len(summ.kin_rows), -np.inf, 1.0, "H4",
               [f"H4 {cad[a]} and {cad[b]} (relatives) not both in team {tid[t]}" for a, b, t in summ.kin_rows],
               [((a, b), (), (t,)) for a, b, t in summ.kin_rows])
    keys = np.array([k for a, b, t in summ.kin_rows for k in (a * T + t, b * T + t)], np.int64)
    rid = np.repeat(r, 2)
    o = np.argsort(keys, kind="stable")
    ri.kin_key, ri.kin_rowid = keys[o], rid[o]


def h5_rows(ctx: Context, ri: RowIndex) -> None:
    """H5 party-government heads: per locality at most one head post changes holder."""
    J, posts = ctx.J, ctx.post_ids
    ri.h5_row = np.full(ctx.n_post, -1, np.int64)
    head_p = J[ctx.p_head[J] & (ctx.t_locality[ctx.p_team[J]] != "")]
    loc_of = ctx.t_locality[ctx.p_team[head_p]]
    for loc in sorted(set(loc_of)):
        hp = head_p[loc_of == loc]
        if len(hp) < 2:
            continue
        held = hp[ctx.p_holder[hp] >= 0]
        (r,) = ri.add(1, -np.inf, 1.0 - len(held), "H5", [f"H5 locality {loc}: at most one of {', '.join(posts[hp])} changes holder"],
                      [(tuple(int(ctx.p_holder[p]) for p in held), tuple(int(p) for p in hp), tuple(sorted({int(t) for t in ctx.p_team[hp]})))])
        ri.h5_row[hp] = r


def h8_rows(ctx: Context, ri: RowIndex) -> None:
    """H8 round size (小幅度低频率): with ``max_moves`` > 0 at most that many cadres change post (every pair but a
    stay); with ``max_departures_per_province`` > 0 at most that many cadres leave each province (pairs into another
    province, counted at the cadre's). 0 = no cap: no row."""
    pol = ctx.policy
    k, d = int(pol.get("max_moves", 0)), int(pol.get("max_departures_per_province", 0))
    ri.h8_move_row = -1
    ri.h8_dep_row = np.full(len(ctx.prov_ids), -1, np.int64)
    if k > 0:
        (r,) = ri.add(1, -np.inf, float(k), "H8", [Msg("diag.h8_moves", k=k)],
                      [((), (), ())])
        ri.h8_move_row = int(r)
    if d > 0:
        qs = np.unique(ctx.c_prov[ctx.I])
        qs = qs[qs >= 0]
        r = ri.add(len(qs), -np.inf, float(d), "H8",
                   [Msg("diag.h8_departures", k=d, prov=ctx.prov_ids[q]) for q in qs],
                   [((), (), ()) for _ in qs])
        ri.h8_dep_row[qs] = r
