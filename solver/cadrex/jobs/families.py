"""Case families for ``cadrex generate --family`` (issue 17): shapes of national cases that differ from the base
generator's, so that speed and certificates are measured on cases cadrex was not tuned on. Each family reshapes the
base generator's tables (same seed, same case), keeping them a valid case:

- ``base``: the generator as it is (9 % vacancies, about 13 % must move).
- ``vacancies``: 30 % of the posts in play are vacant (fixed holders retire from their posts, leaving the case).
- ``must_move``: about a quarter of the cadres in play must move (H1): 30 % are drawn to reach the 10-year
  deadline, at most one head per locality, before the generator drops the must-moves no post can take.
- ``big_provinces``: every team and cadre in 8 provinces instead of 31 (fewer, larger provinces).
- ``preferences``: five ranked preferences for every cadre and every post in play, assessment scores for three pairs
  per cadre.
- ``strict``: 60 % of the posts with a specialty require it (E10), and the education minimum is hard (E7).
- ``tight``: structure models of the case's own with higher minimums and four hard rules (H6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadrex.jobs.names import head_titles, team_names

FAMILIES = ("base", "vacancies", "must_move", "big_provinces", "preferences", "strict", "tight")
#: the provinces the ``big_provinces`` family keeps
BIG = ["BJ", "SH", "GD", "SC", "HB", "SN", "XJ", "HL"]

__all__ = ["BIG", "FAMILIES", "apply_family"]


def _drop_cadres(frames: dict[str, pd.DataFrame], ids: set) -> None:
    for stem, cols in (("relations", ("cadre_a", "cadre_b")), ("preferences", ("cadre_id",)), ("pins", ("cadre_id",)),
                       ("scores", ("cadre_id",))):
        df = frames[stem]
        keep = np.ones(len(df), bool)
        for c in cols:
            keep &= ~df[c].isin(ids).to_numpy()
        frames[stem] = df[keep].reset_index(drop=True)
    frames["cadres"] = frames["cadres"][~frames["cadres"]["cadre_id"].isin(ids)].reset_index(drop=True)


def _vacancies(frames, rng, share: float = 0.30) -> None:
    posts, cad = frames["posts"], frames["cadres"]
    movable = dict(zip(cad["cadre_id"], cad["movable"] == "是", strict=True))
    held = posts["holder_id"] != ""
    in_play = (~held) | posts["holder_id"].map(lambda h: movable.get(h, False))
    n_play, n_vac = int(in_play.sum()), int((~held).sum())
    want = int(round(share * n_play / (1 - share)))  # vacancies v with v / (n_play + new) = share
    fixed = np.flatnonzero((held & ~in_play).to_numpy())
    k = max(0, min(len(fixed), want - n_vac))
    pick = rng.choice(fixed, k, replace=False) if k else np.array([], np.int64)
    gone = set(posts.loc[pick, "holder_id"])
    posts.loc[pick, "holder_id"] = ""
    _drop_cadres(frames, gone)


def _must_move(frames, rng, share: float = 0.30) -> None:
    cad, posts, teams = frames["cadres"], frames["posts"], frames["teams"]
    play = np.flatnonzero((cad["movable"] == "是").to_numpy())
    loc = teams.set_index("team_id")["locality_id"]
    head = posts[posts["role"].isin(["party_secretary", "government_head"])]
    head_loc = dict(zip(head["holder_id"], head["team_id"].map(loc), strict=True))
    forced = cad["exchange_kind"].isin(["mandatory", "avoidance", "disciplinary"]) | (cad["years_in_province"] >= 10)
    # H5: a locality whose head must move already keeps its other head in place
    taken: set = {head_loc[c] for c in cad.loc[forced, "cadre_id"] if head_loc.get(c)}
    cand = []
    for i in rng.permutation(play[~forced.to_numpy()[play]]):
        lc = head_loc.get(cad.at[i, "cadre_id"], "")
        if lc:
            if lc in taken:
                continue
            taken.add(lc)
        cand.append(i)
    sel = np.array(cand[: max(0, int(round(share * len(play))) - int(forced.to_numpy()[play].sum()))], np.int64)
    cad.loc[sel, "years_in_province"] = rng.integers(10, 16, len(sel))


def _big_provinces(frames, rng) -> None:
    big = np.array(BIG, dtype=object)
    allp = frames["provinces"]["province_id"].to_numpy()
    to = dict(zip(allp, big[np.arange(len(allp)) % len(big)], strict=True))
    teams, cad = frames["teams"], frames["cadres"]
    teams["province_id"] = teams["province_id"].map(to)
    teams["name"] = team_names(teams, frames["provinces"])  # the names say the province a team is in now
    frames["posts"]["title"] = head_titles(frames["posts"]["title"], teams.set_index("team_id")["name"].reindex(frames["posts"]["team_id"]).to_numpy())
    for c in ("province_id", "native_province", "home_province"):
        cad[c] = cad[c].map(to)
    # a holder serves where its team is (the case requires it)
    tp = teams.set_index("team_id")["province_id"]
    posts = frames["posts"]
    held = posts[posts["holder_id"] != ""]
    where = dict(zip(held["holder_id"], held["team_id"].map(tp), strict=True))
    cad["province_id"] = [where.get(c, p) for c, p in zip(cad["cadre_id"], cad["province_id"], strict=True)]


def _preferences(frames, rng) -> None:
    cad, posts = frames["cadres"], frames["posts"]
    movable = set(cad.loc[cad["movable"] == "是", "cadre_id"])
    play_c = np.array(sorted(movable), dtype=object)
    play_p = posts.loc[(posts["holder_id"] == "") | posts["holder_id"].isin(movable), "post_id"].to_numpy()
    rows = []
    for k in range(5):
        rows.append(pd.DataFrame({"side": "cadre", "cadre_id": play_c, "post_id": play_p[rng.integers(len(play_p), size=len(play_c))],
                                  "rank": k + 1}))
        rows.append(pd.DataFrame({"side": "post", "cadre_id": play_c[rng.integers(len(play_c), size=len(play_p))],
                                  "post_id": play_p, "rank": k + 1}))
    prefs = pd.concat(rows).drop_duplicates(["side", "cadre_id", "post_id"]).sort_values(["side", "cadre_id", "post_id"])
    frames["preferences"] = prefs.reset_index(drop=True)
    n = 3 * len(play_c)
    sc = pd.DataFrame({"cadre_id": np.repeat(play_c, 3), "post_id": play_p[rng.integers(len(play_p), size=n)],
                       "score": rng.integers(-10, 21, n)})
    frames["scores"] = sc.drop_duplicates(["cadre_id", "post_id"]).reset_index(drop=True)


def _strict(frames, rng) -> None:
    posts = frames["posts"]
    has = (posts["specialty"] != "").to_numpy()
    strict = has & (rng.random(len(posts)) < 0.6)
    posts["specialty_strict"] = np.where(strict | (posts["specialty_strict"] == "是").to_numpy(), "是", "否")
    frames["policy.toml"] = "strict_education = true   # 学历要求为硬约束 (E7), family 'strict'\n"


TIGHT = {
    "city_party": ("市委常委班子（紧）", 2, 1, 1, 1, 2, 2, ["economics", "party_affairs"], 51),
    "city_gov": ("市政府班子（紧）", 1, 2, 1, 0, 2, 2, ["economics", "finance"], 51),
    "dept": ("厅局班子（紧）", 1, 1, 1, 0, 1, 2, [], 52),
}


def _tight(frames, rng) -> None:
    for name, (title, female, young, non_cpc, minority, grassroots, same, req, age) in TIGHT.items():
        reqs = ", ".join(f'"{x}"' for x in req)
        frames[f"structures/{name}.toml"] = (
            f"# {title}: family 'tight' (issue 17)\n[rules]\nmin_female = {female}\nmin_young = {young}\n"
            f"young_age = 45\nmin_non_cpc = {non_cpc}\nmin_minority = {minority}\nmin_grassroots = {grassroots}\n"
            f"max_same_specialty = {same}\nrequired_specialties = [{reqs}]\nmax_avg_age = {age}\n"
            f'hard = ["min_female", "min_young", "max_same_specialty", "required_specialties"]\n')


_APPLY = {"vacancies": _vacancies, "must_move": _must_move, "big_provinces": _big_provinces,
          "preferences": _preferences, "strict": _strict, "tight": _tight}


def apply_family(frames: dict, family: str, seed: int) -> dict:
    """Reshape the base generator's ``frames`` (in place, and returned) into ``family``; text files to write beside
    the tables come as entries whose name has a suffix (``policy.toml``, ``structures/NAME.toml``)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r} (one of {', '.join(FAMILIES)})")
    if family != "base":
        _APPLY[family](frames, np.random.default_rng([seed, FAMILIES.index(family)]))
    return frames
