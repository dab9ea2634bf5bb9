"""Integer-coded arrays of a case: the shared vocabulary of eligibility, scoring and the model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadrex.io import Case
from cadrex.io.schema import FORCED_KINDS, KEY_ROLES


def _codes(values, vocab: dict[str, int]) -> np.ndarray:
    return np.array([vocab.get(v, -1) if v else -1 for v in values], dtype=np.int32)


class Context:
    """Arrays over all cadres (``c_*``), posts (``p_*``), teams (``t_*``) and provinces of a case, plus the
    in-play sets of SPEC §5: ``I`` (cadres in play) and ``J`` (posts in play), as global indices."""

    def __init__(self, case: Case, policy: dict | None = None):
        self.case = case
        pol = self.policy = policy if policy is not None else case.policy
        cad, posts, teams, prov = case.cadres, case.posts, case.teams, case.provinces
        self.cad_ids = cad.index.to_numpy(dtype=object)
        self.post_ids = posts.index.to_numpy(dtype=object)
        self.team_ids = teams.index.to_numpy(dtype=object)
        self.prov_ids = prov.index.to_numpy(dtype=object)
        cix = {c: i for i, c in enumerate(self.cad_ids)}
        pix = {p: i for i, p in enumerate(self.post_ids)}
        tix = {t: i for i, t in enumerate(self.team_ids)}
        qix = {q: i for i, q in enumerate(self.prov_ids)}
        self.cix, self.pix, self.tix, self.qix = cix, pix, tix, qix
        # specialties: every id seen anywhere gets a code
        spec_names = set(case.specialties.index) | set(cad["specialty"]) | set(posts["specialty"])
        for tup in cad["other_specialties"]:
            spec_names |= set(tup)
        for m in case.structures.values():
            spec_names |= set(m.get("required_specialties", []))
        spec_names.discard("")
        self.spec_ids = np.array(sorted(spec_names), dtype=object)
        six = {s: i for i, s in enumerate(self.spec_ids)}
        self.six = six
        fam = case.specialties["family"] if "family" in case.specialties else pd.Series(dtype=object)
        fam_names = sorted({f for f in fam if f})
        fix = {f: i for i, f in enumerate(fam_names)}
        spec_family = np.full(len(self.spec_ids), -1, dtype=np.int32)
        for s, f in fam.items():
            if f and s in six:
                spec_family[six[s]] = fix[f]
        self.spec_family = spec_family
        # ---- cadres
        self.n_cad = len(cad)
        self.c_grade = cad["grade"].to_numpy(np.int32)
        self.c_edu = cad["education"].to_numpy(np.int32)
        self.c_spec = _codes(cad["specialty"], six)
        self.c_family = np.where(self.c_spec >= 0, spec_family[np.maximum(self.c_spec, 0)], -1).astype(np.int32)
        self.c_prov = _codes(cad["province_id"], qix)
        self.c_native = _codes(cad["native_province"], qix)
        self.c_home = _codes(cad["home_province"], qix)
        self.c_kind = cad["exchange_kind"].fillna("").astype(str).to_numpy(dtype=object)
        self.c_age = cad["age"].to_numpy(np.int32)
        self.c_female = (cad["gender"] == "F").to_numpy()
        self.c_minority = cad["minority"].to_numpy(bool)
        self.c_noncpc = (cad["party"] == "non_cpc").to_numpy()
        self.c_grassroots = (cad["grassroots_years"] >= pol["grassroots_min_years"]).to_numpy()
        self.c_years_grade = cad["years_in_grade"].to_numpy(float)
        self.c_years_post = cad["years_in_post"].to_numpy(float)
        self.c_years_prov = cad["years_in_province"].to_numpy(float)
        self.c_hardship_years = cad["hardship_years"].to_numpy(float)
        self.c_movable = cad["movable"].to_numpy(bool)
        # a re-plan's withdraw event (SPEC §10): not in play whatever its kind or tenure
        self.c_withdrawn = cad["withdrawn"].to_numpy(bool) if "withdrawn" in cad else np.zeros(len(cad), bool)
        self.c_forced_kind = np.isin(self.c_kind, FORCED_KINDS)
        self.c_disc = self.c_kind == "disciplinary"
        # (cadre, specialty) pairs of other specialties, (cadre, sector) pairs
        oc, os_ = [], []
        for i, tup in enumerate(cad["other_specialties"]):
            for s in tup:
                if s in six:
                    oc.append(i)
                    os_.append(six[s])
        self.other_keys = np.unique(np.array(oc, np.int64) * max(1, len(self.spec_ids)) + np.array(os_, np.int64))
        sector_names = sorted({s for tup in cad["sectors"] for s in tup} | {s for s in teams["sector"] if s})
        self.sector_ids = sector_names
        secix = {s: i for i, s in enumerate(sector_names)}
        sc, ss = [], []
        for i, tup in enumerate(cad["sectors"]):
            for s in tup:
                sc.append(i)
                ss.append(secix[s])
        self.n_sector = max(1, len(sector_names))
        self.sector_keys = np.unique(np.array(sc, np.int64) * self.n_sector + np.array(ss, np.int64))
        # ---- teams
        self.n_team = len(teams)
        self.t_prov = _codes(teams["province_id"], qix)
        self.t_hard = teams["hardship"].to_numpy(np.int32)
        self.t_sector = _codes(teams["sector"], secix)
        self.t_locality = teams["locality_id"].fillna("").astype(str).to_numpy(dtype=object)
        self.t_model = teams["structure_model"].to_numpy(dtype=object)
        self.t_ethnic = teams["ethnic_autonomous"].to_numpy(bool)
        # ---- posts
        self.n_post = len(posts)
        self.p_team = _codes(posts["team_id"], tix)
        self.p_grade = posts["grade"].to_numpy(np.int32)
        self.p_role = posts["role"].to_numpy(dtype=object)
        self.p_key = np.isin(self.p_role, KEY_ROLES)
        self.p_head = np.isin(self.p_role, ("party_secretary", "government_head"))
        self.p_avoid = np.isin(self.p_role, list(pol["native_avoidance_roles"]))
        self.p_spec = _codes(posts["specialty"], six)
        self.p_family = np.where(self.p_spec >= 0, spec_family[np.maximum(self.p_spec, 0)], -1).astype(np.int32)
        self.p_min_edu = posts["min_education"].to_numpy(np.int32)
        self.p_strict = posts["specialty_strict"].to_numpy(bool)
        self.p_must = posts["must_fill"].to_numpy(bool)
        # a re-plan's close event (SPEC §10): no cadre may move into the post (E8), its holder may stay
        self.p_closed = posts["closed"].to_numpy(bool) if "closed" in posts else np.zeros(len(posts), bool)
        self.p_holder = _codes(posts["holder_id"], cix)
        self.p_prov = self.t_prov[self.p_team]
        self.c_post = np.full(self.n_cad, -1, dtype=np.int32)
        held = self.p_holder >= 0
        self.c_post[self.p_holder[held]] = np.flatnonzero(held).astype(np.int32)
        # ---- provinces
        self.q_lat = prov["lat"].to_numpy(float)
        self.q_lon = prov["lon"].to_numpy(float)
        # ---- H1 must move, in play, posts in play (SPEC §5)
        ret_limit = pol["retirement_age"] - pol["retirement_buffer"]
        self.c_must = self.c_forced_kind | (
            (self.c_years_prov >= pol["mandatory_rotation_years"]) & (self.c_age < ret_limit)) & ~self.c_withdrawn  # H1
        self.c_inplay = self.c_movable & ~self.c_withdrawn | self.c_must
        self.I = np.flatnonzero(self.c_inplay).astype(np.int32)
        self.p_inplay = (self.p_holder < 0) | self.c_inplay[np.maximum(self.p_holder, 0)]
        self.J = np.flatnonzero(self.p_inplay).astype(np.int32)
        # fixed members: holders not in play
        self.p_fixed = (self.p_holder >= 0) & ~self.p_inplay
        self.c_fixed_team = np.full(self.n_cad, -1, dtype=np.int32)
        fp = np.flatnonzero(self.p_fixed)
        self.c_fixed_team[self.p_holder[fp]] = self.p_team[fp]
        # relations as symmetric global index pairs
        rel = case.relations
        a = _codes(rel["cadre_a"], cix)
        b = _codes(rel["cadre_b"], cix)
        self.rel_a = np.concatenate([a, b]).astype(np.int32)
        self.rel_b = np.concatenate([b, a]).astype(np.int32)
        self.rel_label = np.concatenate([rel["relation"].astype(str).to_numpy(), rel["relation"].astype(str).to_numpy()]) \
            if "relation" in rel else np.array([""] * len(self.rel_a), dtype=object)
        # pins
        pins = case.pins
        self.pin_c = _codes(pins["cadre_id"], cix)
        self.pin_p = _codes(pins["post_id"], pix)
        self.pin_require = (pins["mode"] == "require").to_numpy(bool)
        # E4 kinship with the fixed: (cadre, team) keys a cadre may not join
        ft = self.c_fixed_team[self.rel_b]
        ok = ft >= 0
        self.kin_fixed_keys = np.unique(self.rel_a[ok].astype(np.int64) * self.n_team + ft[ok])

    # helpers ---------------------------------------------------------------------------
    def distance_km(self, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
        """Great-circle distance (R = 6371 km) between province indices."""
        la1, lo1 = np.radians(self.q_lat[qa]), np.radians(self.q_lon[qa])
        la2, lo2 = np.radians(self.q_lat[qb]), np.radians(self.q_lon[qb])
        h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
        return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
