"""Independent re-check of a plan (``cadrex verify``): every hard rule and eligibility from the case files, and
the objective recomputed term by term. Shares no code with the model builder or backends: only ``cadrex.io``.

Written deliberately as plain per-cadre / per-team Python over dictionaries, a second reading of SPEC §5–§6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cadrex.i18n import Msg
from cadrex.io import Case
from cadrex.io.schema import FORCED_KINDS, GRADES, KEY_ROLES

RULE_KEYS = ("min_female", "min_young", "min_non_cpc", "min_minority", "min_grassroots", "max_same_specialty",
             "required_specialties", "max_avg_age")


@dataclass
class Evaluation:
    """Violations (``rule: message``), objective, unweighted term totals and per-cadre detail."""

    violations: list[str] = field(default_factory=list)
    objective: int = 0
    terms: dict[str, int] = field(default_factory=dict)
    cadre_terms: dict[str, dict[str, int]] = field(default_factory=dict)
    shortfall_before: dict[str, dict[str, int]] = field(default_factory=dict)
    shortfall_after: dict[str, dict[str, int]] = field(default_factory=dict)
    in_play: list[str] = field(default_factory=list)
    posts_in_play: list[str] = field(default_factory=list)
    must_move: list[str] = field(default_factory=list)


def _age(birth, as_of) -> int:
    b = birth.date() if hasattr(birth, "date") else birth
    return as_of.year - b.year - ((as_of.month, as_of.day) < (b.month, b.day))


def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def evaluate(case: Case, plan: dict[str, str | None], policy: dict | None = None) -> Evaluation:
    """Check ``plan`` (cadre_id -> post_id or None, for cadres in play) and compute its objective."""
    pol = policy or case.policy
    w = pol["weights"]
    ev = Evaluation()
    V = ev.violations
    cad = {r["cadre_id"]: r for r in case.cadres.to_dict("records")}
    posts = {r["post_id"]: r for r in case.posts.to_dict("records")}
    teams = {r["team_id"]: r for r in case.teams.to_dict("records")}
    prov = {r["province_id"]: r for r in case.provinces.to_dict("records")}
    family = {r["specialty_id"]: r.get("family", "") for r in case.specialties.to_dict("records")}
    age = {c: _age(r["birth_date"], case.as_of) for c, r in cad.items()}
    own = {r["holder_id"]: p for p, r in posts.items() if r["holder_id"]}
    limit = pol["retirement_age"] - pol["retirement_buffer"]

    def must(c: str) -> bool:
        r = cad[c]
        if r.get("withdrawn"):  # a re-plan's withdraw event (SPEC §10): not in play at all
            return False
        return r["exchange_kind"] in FORCED_KINDS or (r["years_in_province"] >= pol["mandatory_rotation_years"] and age[c] < limit)

    in_play = {c for c, r in cad.items() if (r["movable"] and not r.get("withdrawn")) or must(c)}
    ev.in_play = sorted(in_play)
    ev.must_move = sorted(c for c in in_play if must(c))
    P = {p for p, r in posts.items() if not r["holder_id"] or r["holder_id"] in in_play}
    ev.posts_in_play = sorted(P)
    # ---- plan shape
    for c in plan:
        if c not in cad:
            V.append(Msg("verify.h2_unknown", c=c))
        elif c not in in_play and plan[c] not in (None, own.get(c)):
            V.append(Msg("verify.h2_fixed", c=c, post=plan[c]))
    dest = {c: plan.get(c, own.get(c)) for c in in_play}
    for c in in_play:
        if c not in plan:
            V.append(Msg("verify.h2_missing", c=c))
    holder_after = {p: r["holder_id"] for p, r in posts.items() if p not in P}
    for c, d in dest.items():
        if d is None:
            continue
        if d not in posts:
            V.append(Msg("verify.h3_unknown", c=c, post=d))
            continue
        if d not in P:
            V.append(Msg("verify.h3_fixed", c=c, post=d))
            continue
        if d in holder_after and holder_after[d]:
            V.append(Msg("verify.h3_two", post=d, a=holder_after[d], b=c))
        holder_after[d] = c
    for p in P:
        holder_after.setdefault(p, "")
    # ---- per cadre: H1, H2, eligibility
    kin: dict[str, set[str]] = {}
    for r in case.relations.to_dict("records"):
        kin.setdefault(r["cadre_a"], set()).add(r["cadre_b"])
        kin.setdefault(r["cadre_b"], set()).add(r["cadre_a"])
    fixed_member = {r["holder_id"]: r["team_id"] for p, r in posts.items() if r["holder_id"] and p not in P}
    forbid = {(r["cadre_id"], r["post_id"]) for r in case.pins.to_dict("records") if r["mode"] == "forbid"}
    require = [(r["cadre_id"], r["post_id"]) for r in case.pins.to_dict("records") if r["mode"] == "require"]
    stayed_beside: set[frozenset] = set()
    for c in sorted(in_play):
        r, d, o = cad[c], dest[c], own.get(c)
        if o and d is None:
            V.append(Msg("verify.h2_none", c=c, post=o))
        if must(c) and (d is None or d == o):
            V.append(Msg("verify.h1_stays", c=c, post=o) if d == o and o else Msg("verify.h1_unassigned", c=c))
        if d is None or d not in posts:
            continue
        p = posts[d]
        t = teams[p["team_id"]]
        if d == o:
            if (c, d) in forbid:
                V.append(Msg("verify.e8_stay", c=c, post=d))
            for k in kin.get(c, ()):
                if fixed_member.get(k) == t["team_id"]:
                    V.append(Msg("verify.h4_stay", c=c, team=t["team_id"], k=k))
                    stayed_beside.add(frozenset((c, k)))
            continue
        kind = r["exchange_kind"]
        g, pg = int(r["grade"]), int(p["grade"])
        promo_ok = pol["allow_promotion"] and r["years_in_grade"] >= pol["promotion_min_years"]
        if not (pg == g or (pg == g + 1 and promo_ok) or (pg == g - 1 and kind == "disciplinary")):
            V.append(Msg("verify.e1", c=c, g=Msg(f"grade.{GRADES[g]}"), post=d, pg=Msg(f"grade.{GRADES[pg]}")))
        if pol["scope"] == "cross_province" and t["province_id"] == r["province_id"]:
            V.append(Msg("verify.e2", c=c, post=d, prov=r["province_id"]))
        if p["role"] in pol["native_avoidance_roles"] and t["province_id"] == r["native_province"]:
            V.append(Msg("verify.e3", c=c, post=d, role=Msg(f"role.{p['role']}"), prov=r["native_province"]))
        for k in kin.get(c, ()):
            if fixed_member.get(k) == t["team_id"]:
                V.append(Msg("verify.e4", c=c, team=t["team_id"], k=k))
        if o and r["years_in_post"] < pol["min_years_in_post"] and kind not in FORCED_KINDS:
            V.append(Msg("verify.e5", c=c, years=f"{r['years_in_post']:g}", n=pol["min_years_in_post"]))
        if age[c] >= limit and kind not in FORCED_KINDS:
            V.append(Msg("verify.e6", c=c, age=age[c], limit=limit))
        if pol["strict_education"] and int(p["min_education"]) >= 0 and int(r["education"]) < int(p["min_education"]):
            V.append(Msg("verify.e7", c=c, post=d))
        if (c, d) in forbid:
            V.append(Msg("verify.e8_pin", c=c, post=d))
        if p.get("closed"):
            V.append(Msg("verify.e8_closed", c=c, post=d))
        if kind == "disciplinary" and (p["role"] in KEY_ROLES or pg > g):
            V.append(Msg("verify.e9", c=c, post=d))
        if p["specialty_strict"] and p["specialty"] and p["specialty"] != r["specialty"] and \
                p["specialty"] not in r["other_specialties"]:
            V.append(Msg("verify.e10", c=c, spec=p["specialty"], post=d))
    for p in sorted(P):
        if posts[p]["must_fill"] and not holder_after.get(p):
            V.append(Msg("verify.h3_empty", post=p))
    for c, p in require:
        if dest.get(c, own.get(c)) != p:
            V.append(Msg("verify.h7", c=c, post=p))
    # H8 round size: cadres who change post (a holder who moves, a non-holder placed); departures per province
    changed = [c for c in in_play if dest[c] is not None and dest[c] != own.get(c)]
    cap = int(pol.get("max_moves", 0))
    if cap > 0 and len(changed) > cap:
        V.append(Msg("verify.h8_moves", n=len(changed), cap=cap))
    dcap = int(pol.get("max_departures_per_province", 0))
    if dcap > 0:
        left: dict[str, int] = {}
        for c in changed:
            if dest[c] in posts and teams[posts[dest[c]]["team_id"]]["province_id"] != cad[c]["province_id"]:
                left[cad[c]["province_id"]] = left.get(cad[c]["province_id"], 0) + 1
        for q, k in sorted(left.items()):
            if k > dcap:
                V.append(Msg("verify.h8_departures", n=k, prov=q, cap=dcap))
    # ---- members after / before
    members_after: dict[str, list[str]] = {t: [] for t in teams}
    members_before: dict[str, list[str]] = {t: [] for t in teams}
    for p, r in posts.items():
        if r["holder_id"]:
            members_before[r["team_id"]].append(r["holder_id"])
        if holder_after.get(p):
            members_after[r["team_id"]].append(holder_after[p])
    seen = set(stayed_beside)  # a stay beside a fixed relative is one H4 breach, said above (a newcomer saw it twice)
    for a, bs in kin.items():
        for b in bs:
            if frozenset((a, b)) in seen:  # each pair once, whichever way round and however often it is listed
                continue
            seen.add(frozenset((a, b)))
            for t, mem in members_after.items():
                if a in mem and b in mem and (a in in_play or b in in_play):
                    V.append(Msg("verify.h4_pair", a=a, b=b, team=t))
    # H5
    by_loc: dict[str, list[str]] = {}
    for p, r in posts.items():
        loc = teams[r["team_id"]].get("locality_id", "")
        if loc and r["role"] in ("party_secretary", "government_head"):
            by_loc.setdefault(loc, []).append(p)
    for loc, ps in sorted(by_loc.items()):
        changed = [p for p in ps if (holder_after.get(p) or "") != (posts[p]["holder_id"] or "")]
        if len(changed) > 1:
            V.append(Msg("verify.h5", loc=loc, who=", ".join(sorted(changed))))
    # H6 and structure terms
    struct_units = age_units = 0
    for tid, t in teams.items():
        rules = case.structures[t["structure_model"]]
        sb = _shortfalls(rules, members_before[tid], cad, age, t, pol)
        sa = _shortfalls(rules, members_after[tid], cad, age, t, pol)
        ev.shortfall_before[tid], ev.shortfall_after[tid] = sb, sa
        for k in rules.get("hard", []):
            if sa.get(k, 0) > sb.get(k, 0):
                V.append(Msg("verify.h6", team=tid, rule=Msg(f"structure.{k}"), after=sa[k], before=sb[k]))
        struct_units += sum(v for k, v in sa.items() if k != "max_avg_age")
        age_units += sa.get("max_avg_age", 0)
    # ---- objective
    tot = dict.fromkeys(("fit", "hard", "care", "pref", "assess", "fill", "move", "structure", "flow"), 0)
    prefs: dict[tuple[str, str], int] = {}
    for r in case.preferences.to_dict("records"):
        prefs[(r["cadre_id"], r["post_id"])] = prefs.get((r["cadre_id"], r["post_id"]), 0) + 4 * (6 - int(r["rank"]))
    scores = {(r["cadre_id"], r["post_id"]): int(r["score"]) for r in case.scores.to_dict("records")}
    arrivals: dict[str, int] = {}
    departures: dict[str, int] = {}
    pair_value = 0
    for c in sorted(in_play):
        d = dest[c]
        if d is None or d not in posts:
            continue
        r, p = cad[c], posts[d]
        t = teams[p["team_id"]]
        if not p["specialty"]:
            spec = 20
        elif r["specialty"] == p["specialty"]:
            spec = 40
        elif p["specialty"] in r["other_specialties"]:
            spec = 25
        elif family.get(p["specialty"]) and family.get(r["specialty"]) == family.get(p["specialty"]):
            spec = 15
        else:
            spec = 0
        edu = 10 if int(p["min_education"]) < 0 or int(r["education"]) >= int(p["min_education"]) else 0
        sec = 10 if t.get("sector") and t["sector"] in r["sectors"] else 0
        h = int(t["hardship"])
        hard = (10 * h if r["exchange_kind"] == "training" else 0) - (15 * h if r["exchange_kind"] == "care" else 0) \
            - (10 * h if r["hardship_years"] >= pol["hardship_served_years"] else 0)
        care = 0
        if r["exchange_kind"] == "care":
            hp, tp = prov[r["home_province"]], prov[t["province_id"]]
            care = max(0, 30 - int(_km(hp["lat"], hp["lon"], tp["lat"], tp["lon"]) // 100))
        pref = prefs.get((c, d), 0)
        assess = scores.get((c, d), 0)
        terms = {"fit": spec + edu + sec, "hard": hard, "care": care, "pref": pref, "assess": assess}
        terms["score"] = (w["fit"] * terms["fit"] + w["hardship"] * hard + w["care"] * care + w["preference"] * pref
                          + w["assess"] * assess)
        ev.cadre_terms[c] = terms
        pair_value += terms["score"]
        for k in ("fit", "hard", "care", "pref", "assess"):
            tot[k] += terms[k]
        if own.get(c) and d != own[c] and not must(c):
            tot["move"] += pol["move_cost"]
        if t["province_id"] != r["province_id"]:
            arrivals[t["province_id"]] = arrivals.get(t["province_id"], 0) + 1
            departures[r["province_id"]] = departures.get(r["province_id"], 0) + 1
    for p in P:
        if holder_after.get(p):
            t = teams[posts[p]["team_id"]]
            tot["fill"] += pol["fill_base"] + pol["fill_hardship_bonus"] * int(t["hardship"]) + \
                (pol["key_post_bonus"] if posts[p]["role"] in KEY_ROLES else 0)
    tot["structure"] = pol["structure_penalty"] * struct_units + pol["age_penalty_per_year"] * age_units
    tot["flow"] = pol["flow_penalty"] * sum(abs(arrivals.get(q, 0) - departures.get(q, 0)) for q in prov)
    ev.terms = tot | {"structure_units": struct_units, "age_excess_years": age_units}
    ev.objective = int(pair_value + w["fill"] * tot["fill"] - w["move"] * tot["move"] - w["structure"] * tot["structure"]
                       - w["flow"] * tot["flow"])
    return ev


def _shortfalls(rules: dict, members: list[str], cad: dict, age: dict, team: dict, pol: dict) -> dict[str, int]:
    """Shortfall per rule of a structure model for a list of members (SPEC §3)."""
    out: dict[str, int] = {}
    count = {
        "min_female": lambda c: cad[c]["gender"] == "F",
        "min_young": lambda c: age[c] <= rules.get("young_age", 45),
        "min_non_cpc": lambda c: cad[c]["party"] == "non_cpc",
        "min_minority": lambda c: bool(cad[c]["minority"]),
        "min_grassroots": lambda c: cad[c]["grassroots_years"] >= pol["grassroots_min_years"],
    }
    for k, f in count.items():
        if k in rules and not (k == "min_minority" and not team["ethnic_autonomous"]):
            out[k] = max(0, rules[k] - sum(1 for c in members if f(c)))
    if "max_same_specialty" in rules:
        n: dict[str, int] = {}
        for c in members:
            if cad[c]["specialty"]:
                n[cad[c]["specialty"]] = n.get(cad[c]["specialty"], 0) + 1
        out["max_same_specialty"] = sum(max(0, v - rules["max_same_specialty"]) for v in n.values())
    if "required_specialties" in rules:
        have = {cad[c]["specialty"] for c in members}
        # each required specialty once, as in the model (load_case rejects a repeated entry)
        out["required_specialties"] = sum(1 for s in dict.fromkeys(rules["required_specialties"]) if s not in have)
    if "max_avg_age" in rules:
        out["max_avg_age"] = max(0, sum(age[c] for c in members) - rules["max_avg_age"] * len(members))
    return out
