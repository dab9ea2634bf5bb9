"""``cadrex generate``: a realistic synthetic case with N cadres in play plus fixed incumbents.

Real provinces with coordinates; hardship higher in western and remote provinces; party and government teams
sharing a locality; teams of 5–9 members; preferences on both sides; some kin relations; a mix of exchange
kinds. Same N and seed give byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date

import numpy as np
import pandas as pd

from cadrex.io.schema import FORCED_KINDS
from cadrex.jobs.names import head_titles, team_names

# id, name, lat, lon, base hardship (0 none … 3 most remote)
PROVINCES = [
    ("BJ", "北京市", 39.9042, 116.4074, 0), ("TJ", "天津市", 39.0842, 117.2009, 0), ("HE", "河北省", 38.0428, 114.5149, 0),
    ("SX", "山西省", 37.8706, 112.5489, 1), ("NM", "内蒙古自治区", 40.8414, 111.7519, 2), ("LN", "辽宁省", 41.8057, 123.4315, 0),
    ("JL", "吉林省", 43.8171, 125.3235, 1), ("HL", "黑龙江省", 45.8038, 126.5349, 1), ("SH", "上海市", 31.2304, 121.4737, 0),
    ("JS", "江苏省", 32.0603, 118.7969, 0), ("ZJ", "浙江省", 30.2741, 120.1551, 0), ("AH", "安徽省", 31.8206, 117.2272, 0),
    ("FJ", "福建省", 26.0745, 119.2965, 0), ("JX", "江西省", 28.6820, 115.8579, 1), ("SD", "山东省", 36.6512, 117.1201, 0),
    ("HA", "河南省", 34.7466, 113.6254, 0), ("HB", "湖北省", 30.5928, 114.3055, 0), ("HN", "湖南省", 28.2282, 112.9388, 0),
    ("GD", "广东省", 23.1291, 113.2644, 0), ("GX", "广西壮族自治区", 22.8170, 108.3665, 1), ("HI", "海南省", 20.0440, 110.1999, 1),
    ("CQ", "重庆市", 29.5630, 106.5516, 1), ("SC", "四川省", 30.5728, 104.0668, 1), ("GZ", "贵州省", 26.6470, 106.6302, 2),
    ("YN", "云南省", 25.0389, 102.7183, 2), ("XZ", "西藏自治区", 29.6520, 91.1721, 3), ("SN", "陕西省", 34.3416, 108.9398, 1),
    ("GS", "甘肃省", 36.0611, 103.8343, 2), ("QH", "青海省", 36.6171, 101.7782, 3), ("NX", "宁夏回族自治区", 38.4872, 106.2309, 2),
    ("XJ", "新疆维吾尔自治区", 43.8256, 87.6168, 3),
]
ETHNIC = {"NM", "GX", "XZ", "NX", "XJ", "YN", "GZ", "QH"}
SPECIALTIES = [
    ("economics", "经济管理", "economy"), ("finance", "财政金融", "economy"), ("industry", "工业和信息化", "economy"),
    ("construction", "城乡建设", "economy"), ("law", "法律", "rule_of_law"), ("discipline", "纪检监察", "rule_of_law"),
    ("public_security", "公安", "rule_of_law"), ("education", "教育", "social"), ("health", "卫生健康", "social"),
    ("culture", "文化旅游", "social"), ("social_security", "社会保障", "social"), ("agriculture", "农业农村", "rural_ecology"),
    ("environment", "生态环境", "rural_ecology"), ("water", "水利", "rural_ecology"), ("party_affairs", "党务", "party_building"),
    ("organization", "组织人事", "party_building"), ("propaganda", "宣传", "party_building"),
]
SECTORS = ["party", "government", "economy", "legal", "social", "rural", "enterprise"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华民国建文辉力成志海鹏宏亮红玲春林斌德忠兵峰")
KINDS = ["", "structural", "training", "care", "mandatory", "avoidance", "disciplinary"]
KIND_P = [0.42, 0.2, 0.15, 0.1, 0.08, 0.03, 0.02]
GRADES = ["vice_section", "section", "vice_division", "division", "vice_bureau", "bureau"]
EDU = ["college", "bachelor", "master", "doctor"]
#: the reference date of a generated case (``as_of`` in its case.toml; ages count back from its year) unless given
AS_OF = date(2026, 6, 30)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    s = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = rng.choice(GIVEN + [""] * 20, n)
    return [a + b + c for a, b, c in zip(s, g1, g2, strict=True)]


def generate_frames(n_cadres: int, seed: int, as_of: date = AS_OF, family: str = "base") -> dict[str, pd.DataFrame]:
    """The tables of a synthetic case with ``n_cadres`` cadres in play (requires n_cadres >= 5), birth dates counted
    back from the year of ``as_of``, shaped as ``family`` (:mod:`cadrex.jobs.families`; text files such as a
    ``policy.toml`` come as str entries)."""
    if n_cadres < 5:
        raise ValueError("--cadres must be at least 5")
    rng = np.random.default_rng(seed)
    n_non_holder = max(1, int(round(0.12 * n_cadres)))
    n_inplay_holders = n_cadres - n_non_holder
    total_posts = int(round(n_inplay_holders / 0.42 / 0.9)) + 8
    prov = pd.DataFrame(PROVINCES, columns=["province_id", "name", "lat", "lon", "hardship"])
    nq = len(prov)
    # ---- teams: localities (party + government team) and provincial departments
    sizes = []
    kinds = []
    while sum(sizes) < total_posts:
        if rng.random() < 0.7:
            sizes += [int(rng.integers(6, 10)), int(rng.integers(5, 9))]
            kinds += ["party", "government"]
        else:
            sizes.append(int(rng.integers(5, 9)))
            kinds.append("dept")
    T = len(sizes)
    sizes = np.array(sizes)
    kinds = np.array(kinds)
    team_prov = np.empty(T, dtype=np.int64)
    loc = np.full(T, "", dtype=object)
    li = 0
    t = 0
    while t < T:
        q = int(rng.integers(nq))
        team_prov[t] = q
        if kinds[t] == "party" and t + 1 < T and kinds[t + 1] == "government":
            team_prov[t + 1] = q
            li += 1
            loc[t] = loc[t + 1] = f"L{li:05d}"
            t += 2
        else:
            t += 1
    base_h = prov["hardship"].to_numpy()[team_prov]
    t_hard = np.clip(base_h + rng.integers(-1, 2, T) * (rng.random(T) < 0.4), 0, 3)
    pid = prov["province_id"].to_numpy()
    ethnic = np.isin(pid[team_prov], list(ETHNIC)) & (rng.random(T) < 0.5)
    model = np.where(kinds == "party", "city_party", np.where(kinds == "government", "city_gov", "dept"))
    sector = np.where(kinds == "party", "party", np.where(kinds == "government", "government",
                      rng.choice(["economy", "legal", "social", "rural", "enterprise"], T)))
    team_ids = np.array([f"T{i + 1:05d}" for i in range(T)], dtype=object)
    teams = pd.DataFrame({"team_id": team_ids, "name": "", "province_id": pid[team_prov], "locality_id": loc,
                          "sector": sector, "structure_model": model, "hardship": t_hard,
                          "ethnic_autonomous": np.where(ethnic, "是", "否")})
    teams["name"] = team_names(teams, prov)
    # ---- posts
    p_team = np.repeat(np.arange(T), sizes)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    rank_in_team = np.arange(len(p_team)) - np.repeat(first, sizes)
    P = len(p_team)
    pk = kinds[p_team]
    role = np.full(P, "member", dtype=object)
    role[(rank_in_team == 0) & (pk == "party")] = "party_secretary"
    role[(rank_in_team == 0) & (pk == "government")] = "government_head"
    role[(rank_in_team == 1) & (pk == "party")] = "discipline_secretary"
    role[(rank_in_team == 2) & (pk == "party")] = "organization_head"
    role[(rank_in_team == 2) & (pk == "government")] = "public_security_head"
    grade = np.where(rank_in_team == 0, 5, 4)
    spec_ids = np.array([s[0] for s in SPECIALTIES], dtype=object)
    p_spec = rng.choice(spec_ids, P)
    p_spec[role == "discipline_secretary"] = "discipline"
    p_spec[role == "organization_head"] = "organization"
    p_spec[role == "public_security_head"] = "public_security"
    p_spec[(rank_in_team == 0)] = ""
    p_spec[(rank_in_team == 1) & (pk == "government")] = "economics"
    strict = np.isin(role, ["public_security_head", "discipline_secretary"]) & (rng.random(P) < 0.5)
    min_edu = rng.choice(np.array(["", "本科", "硕士"], dtype=object), P, p=[0.4, 0.45, 0.15])
    titles = np.where(role == "party_secretary", "书记", np.where(role == "government_head", "市长", np.where(
        role == "discipline_secretary", "纪委书记", np.where(role == "organization_head", "组织部长", np.where(
            role == "public_security_head", "公安局长", np.where(rank_in_team == 0, "厅长", "副职"))))))
    post_ids = np.array([f"P{i + 1:06d}" for i in range(P)], dtype=object)
    # vacancies and in-play holders
    n_vac = max(2, int(round(0.09 * n_cadres)))
    order = rng.permutation(P)
    vacant = np.zeros(P, bool)
    vacant[order[:n_vac]] = True
    held = np.flatnonzero(~vacant)
    inplay_post = np.zeros(P, bool)
    inplay_post[rng.choice(held, size=min(n_inplay_holders, len(held)), replace=False)] = True
    must_fill = vacant & (grade == 4) & (rng.random(P) < 0.05)
    # ---- cadres: one per held post, then in-play cadres without a post
    nh = len(held)
    N = nh + n_non_holder
    c_prov = np.concatenate([team_prov[p_team[held]], rng.integers(nq, size=n_non_holder)])
    c_grade = np.concatenate([grade[held], rng.choice([3, 4], n_non_holder, p=[0.6, 0.4])])
    c_inplay = np.concatenate([inplay_post[held], np.ones(n_non_holder, bool)])
    age = rng.integers(38, 61, N)
    age[~c_inplay] = rng.integers(38, 62, int((~c_inplay).sum()))
    ypost = np.minimum(rng.integers(0, 10, N), age - 30)
    kind = np.where(c_inplay, rng.choice(np.array(KINDS, dtype=object), N, p=KIND_P), "")
    yprov = rng.integers(1, 10, N)
    long_stay = c_inplay & (rng.random(N) < 0.08)
    yprov[long_stay] = rng.integers(10, 16, int(long_stay.sum()))
    # both heads of a locality may not both be forced to move
    head_c = {}
    for k, p in enumerate(held):
        if role[p] in ("party_secretary", "government_head") and loc[p_team[p]]:
            head_c.setdefault(loc[p_team[p]], []).append(k)
    for ks in head_c.values():
        for k in ks[1:]:
            kind[k] = "" if kind[k] in FORCED_KINDS else kind[k]
            yprov[k] = min(yprov[k], 9)
    # heads are not disciplinary or must-move often: keep them feasible
    birth_year = as_of.year - age
    bdate = [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(birth_year - (rng.random(N) < 0.5), rng.integers(1, 13, N),
                                                           rng.integers(1, 29, N), strict=True)]
    native = np.where(rng.random(N) < 0.7, c_prov, rng.integers(nq, size=N))
    home = np.where(rng.random(N) < 0.8, c_prov, native)
    minority = rng.random(N) < np.where(np.isin(pid[c_prov], list(ETHNIC)), 0.3, 0.05)
    gender = np.where(rng.random(N) < 0.22, "女", "男")
    party = np.where(rng.random(N) < 0.06, "non_cpc", "cpc")
    edu = rng.choice(np.array(["本科", "硕士", "博士", "大专"], dtype=object), N, p=[0.35, 0.45, 0.15, 0.05])
    c_spec = np.concatenate([np.where(p_spec[held] != "", p_spec[held], rng.choice(spec_ids, nh)),
                             rng.choice(spec_ids, n_non_holder)])
    others = [";".join(sorted(set(rng.choice(spec_ids, int(k))) - {s})) for k, s in zip(rng.integers(0, 3, N), c_spec, strict=True)]
    sectors = [";".join(sorted(set(rng.choice(SECTORS, int(k))))) for k in rng.integers(1, 4, N)]
    cadre_ids = np.array([f"C{i + 1:06d}" for i in range(N)], dtype=object)
    cadres = pd.DataFrame({
        "cadre_id": cadre_ids, "name": _names(rng, N), "gender": gender, "birth_date": bdate,
        "minority": np.where(minority, "是", "否"), "party": party, "education": edu, "specialty": c_spec,
        "other_specialties": others, "sectors": sectors, "grade": np.array(GRADES, dtype=object)[c_grade],
        "years_in_grade": rng.integers(0, 12, N), "years_in_post": ypost, "years_in_province": yprov,
        "grassroots_years": rng.integers(0, 10, N), "hardship_years": rng.integers(0, 7, N), "province_id": pid[c_prov],
        "native_province": pid[native], "home_province": pid[home], "exchange_kind": kind,
        "movable": np.where(c_inplay, "是", "否"),
    })
    holder = np.full(P, "", dtype=object)
    holder[held] = cadre_ids[:nh]
    posts = pd.DataFrame({"post_id": post_ids, "team_id": team_ids[p_team], "title": titles, "grade": np.array(GRADES, dtype=object)[grade],
                          "role": role, "specialty": p_spec, "min_education": min_edu,
                          "specialty_strict": np.where(strict, "是", "否"), "must_fill": np.where(must_fill, "是", "否"),
                          "holder_id": holder})
    posts["title"] = head_titles(posts["title"], teams.set_index("team_id")["name"].reindex(posts["team_id"]).to_numpy())
    # ---- relations: a few kin pairs, across provinces
    nr = max(1, N // 200)
    ra, rb = rng.integers(N, size=nr), rng.integers(N, size=nr)
    ok = ra != rb
    rel = pd.DataFrame({"cadre_a": cadre_ids[ra[ok]], "cadre_b": cadre_ids[rb[ok]],
                        "relation": rng.choice(np.array(["配偶", "兄弟姐妹", "父母子女"], dtype=object), int(ok.sum()))})
    rel = rel.drop_duplicates(["cadre_a", "cadre_b"])
    # ---- preferences on both sides (same grade, other province: plausible pairs)
    inplay_idx = np.flatnonzero(c_inplay)
    p_inplay = vacant | inplay_post
    pj = np.flatnonzero(p_inplay)
    pref_rows = []
    pc = rng.choice(inplay_idx, size=len(inplay_idx) // 2, replace=False)
    for k in range(3):
        cand = pj[rng.integers(len(pj), size=len(pc))]
        pref_rows.append(pd.DataFrame({"side": "cadre", "cadre_id": cadre_ids[pc], "post_id": post_ids[cand], "rank": k + 1}))
    pp = rng.choice(pj, size=len(pj) // 3, replace=False)
    for k in range(3):
        cand = inplay_idx[rng.integers(len(inplay_idx), size=len(pp))]
        pref_rows.append(pd.DataFrame({"side": "post", "cadre_id": cadre_ids[cand], "post_id": post_ids[pp], "rank": k + 1}))
    prefs = pd.concat(pref_rows).drop_duplicates(["side", "cadre_id", "post_id"]).sort_values(["side", "cadre_id", "post_id"])
    # ---- pins: some forbids; scores for some pairs
    npins = max(1, n_cadres // 50)
    pins = pd.DataFrame({"cadre_id": cadre_ids[rng.choice(inplay_idx, npins)], "post_id": post_ids[rng.choice(pj, npins)],
                         "mode": "forbid"}).drop_duplicates(["cadre_id", "post_id"])
    ns = max(1, n_cadres // 4)
    scores = pd.DataFrame({"cadre_id": cadre_ids[rng.choice(inplay_idx, ns)], "post_id": post_ids[rng.choice(pj, ns)],
                           "score": rng.integers(-10, 21, ns)}).drop_duplicates(["cadre_id", "post_id"])
    specialties = pd.DataFrame(SPECIALTIES, columns=["specialty_id", "name", "family"])
    from cadrex.jobs.families import apply_family

    return apply_family({"provinces": prov[["province_id", "name", "lat", "lon"]], "specialties": specialties,
                         "teams": teams, "posts": posts, "cadres": cadres, "relations": rel, "preferences": prefs,
                         "pins": pins, "scores": scores}, family, seed)


def write_frames(frames: dict[str, pd.DataFrame], out: str, case_toml: str) -> None:
    """Write the tables and ``case.toml`` atomically into folder ``out``, marked as a case cadrex wrote.

    Raises :class:`cadrex.io.outdir.OutDirError` (nothing touched) unless ``out`` is missing, empty or a case folder
    cadrex generated (see :func:`cadrex.io.outdir.check_out_dir`)."""
    from cadrex.io.outdir import check_out_dir, replace_dir, write_marker

    out = check_out_dir(out, "case", option="OUT")
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".gen-", dir=parent)
    try:
        for name, df in frames.items():
            if isinstance(df, str):  # a text file of the case (a family's policy.toml, structures/NAME.toml)
                os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as fh:
                    fh.write(df)
                continue
            df.to_csv(os.path.join(tmp, f"{name}.csv"), index=False, encoding="utf-8", lineterminator="\n")
        with open(os.path.join(tmp, "case.toml"), "w", encoding="utf-8") as fh:
            fh.write(case_toml)
        write_marker(tmp, "case")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _repair(frames: dict[str, pd.DataFrame], out: str, toml: str) -> bool:
    """Drop must-move reasons (H1) and must-fill flags (H3) that no eligible option can satisfy, as an analyst
    would before a real run. Returns True when something changed."""
    from cadrex.io import load_case
    from cadrex.rules import Context
    from cadrex.rules.eligibility import eligible_moves, stay_allowed

    write_frames(frames, out, toml)
    ctx = Context(load_case(out))
    mc, mp = eligible_moves(ctx)
    n_moves = np.bincount(mc, minlength=ctx.n_cad)
    stay = np.zeros(ctx.n_cad, bool)
    stay[ctx.I] = stay_allowed(ctx)
    stuck = ctx.I[(n_moves[ctx.I] == 0) & ~stay[ctx.I] & ((ctx.c_post[ctx.I] >= 0) | ctx.c_must[ctx.I])]
    n_cands = np.bincount(mp, minlength=ctx.n_post)
    lonely = ctx.J[ctx.p_must[ctx.J] & (n_cands[ctx.J] == 0) & (ctx.p_holder[ctx.J] < 0)]
    cad, posts = frames["cadres"], frames["posts"]
    ids = set(ctx.cad_ids[stuck])
    sel = cad["cadre_id"].isin(ids)
    cad.loc[sel, "exchange_kind"] = ""
    cad.loc[sel, "years_in_province"] = np.minimum(cad.loc[sel, "years_in_province"], 9)
    posts.loc[posts["post_id"].isin(set(ctx.post_ids[lonely])), "must_fill"] = "否"
    # a holder in play that may not stay (fixed relative in team) and cannot move: drop that relation
    rel = frames["relations"]
    frames["relations"] = rel[~(rel["cadre_a"].isin(ids) | rel["cadre_b"].isin(ids))]
    return bool(len(stuck) or len(lonely))


def generate_case(out: str, n_cadres: int, seed: int, as_of: date = AS_OF, family: str = "base") -> None:
    """Write a synthetic case with ``n_cadres`` cadres in play to folder ``out`` (checked before any work: see
    :func:`write_frames`), dated ``as_of`` (its case.toml's ``as_of``; the ages count back from it), shaped as
    ``family`` (:mod:`cadrex.jobs.families`)."""
    from cadrex.io.outdir import check_out_dir

    check_out_dir(out, "case", option="OUT")
    frames = generate_frames(n_cadres, seed, as_of, family)
    fam = "" if family == "base" else f" --family {family}"
    zh_fam, en_fam = ("", "") if family == "base" else (f"，类型 {family}", f", family {family}")
    toml = (f'# generated by cadrex generate --cadres {n_cadres} --seed {seed}{fam}\nas_of = {as_of.isoformat()}\n'
            f'name = "模拟案例：交流人选 {n_cadres} 人，种子 {seed}{zh_fam} / synthetic, {n_cadres} in play, seed {seed}{en_fam}"\n'
            f'description = "干部 {len(frames["cadres"])} 人，职位 {len(frames["posts"])} 个，班子 {len(frames["teams"])} 个 / '
            f'{len(frames["cadres"])} cadres, {len(frames["posts"])} posts, {len(frames["teams"])} teams"\n')
    for _ in range(3):
        if not _repair(frames, out, toml):
            break
    write_frames(frames, out, toml)
