"""Generator: same N and seed give byte-identical files; a generated case always validates and is usually feasible."""

from __future__ import annotations

import filecmp
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cadrex
from cadrex.cli import main
from cadrex.jobs.generate import generate_case


def test_same_seed_byte_identical(tmp_path):
    for k in (1, 2):
        assert main(["generate", "--cadres", "300", "--seed", "7", str(tmp_path / f"g{k}")]) == 0
    names = sorted(p.name for p in (tmp_path / "g1").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "g1", tmp_path / "g2", names, shallow=False)
    assert not mismatch and not errors and len(match) == len(names) >= 9
    assert main(["generate", "--cadres", "300", "--seed", "8", str(tmp_path / "g3")]) == 0
    assert (tmp_path / "g1" / "cadres.csv").read_bytes() != (tmp_path / "g3" / "cadres.csv").read_bytes()
    case = cadrex.load_case(str(tmp_path / "g1"))  # its name and description in zh and en, read back as TOML
    name, desc = case.name, case.description
    assert "模拟案例" in name and "交流人选 300 人" in name and "synthetic, 300 in play, seed 7" in name, name
    n_cad = len(case.cadres)
    assert f"干部 {n_cad} 人" in desc and f"{n_cad} cadres" in desc, desc
    assert main(["generate", "--cadres", "30", "--seed", "7", "--family", "tight", str(tmp_path / "g4")]) == 0
    name = cadrex.load_case(str(tmp_path / "g4")).name  # a family in words, not as an option
    assert "，类型 tight /" in name and name.endswith(", family tight") and "--family" not in name, name


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(n=st.integers(5, 120), seed=st.integers(0, 2**31 - 1))
def test_generated_case_always_validates(tmp_path_factory, n, seed):
    d = tmp_path_factory.mktemp("gen") / "g"
    generate_case(str(d), n, seed)
    case = cadrex.load_case(d)
    assert int(case.cadres["movable"].sum()) == n  # N cadres in play (plus must-move incumbents, none by design)
    sizes = case.posts.groupby("team_id").size()
    assert sizes.between(5, 9).all()


def test_generated_cases_usually_feasible(tmp_path):
    ok = 0
    for seed in range(6):
        d = tmp_path / f"g{seed}"
        generate_case(str(d), 60, seed)
        ok += cadrex.solve(cadrex.load_case(d), time_limit=30).status == "optimal"
    assert ok >= 5


def test_wall_clock_guard(tmp_path):
    """A 1-second limit on a 300-in-play case: the run stops near the limit and reports what it has."""
    d = tmp_path / "g"
    generate_case(str(d), 300, 3)
    t0 = time.perf_counter()
    rc = main(["solve", str(d), "--out", str(tmp_path / "o"), "--time-limit", "1", "--quiet"])
    assert time.perf_counter() - t0 < 15  # load + build + 1 s solve + writing
    import json

    s = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert (rc, s["status"]) in ((0, "feasible"), (0, "optimal"), (4, "no_solution"))
    if rc == 0:
        assert main(["verify", str(d), str(tmp_path / "o")]) == 0
        assert s["best_bound"] >= s["objective"]


def test_generated_team_names_read_as_real_ones(tmp_path):
    """A city's party committee and government share the city's number within the province (a municipality has
    districts), departments carry the province's full name, no two teams share a name, and each head's title is
    its team's (区长 of a district government, 主任 of a commission, 局长 of a 局)."""

    from cadrex.jobs.generate import generate_frames

    for family in ("base", "big_provinces"):
        f = generate_frames(600, 5, family=family)
        t, prov = f["teams"], f["provinces"].set_index("province_id")["name"]
        assert t["name"].is_unique
        full = prov.reindex(t["province_id"]).to_numpy()
        city = t["sector"].isin(["party", "government"]).to_numpy()
        dept = t[~city]
        assert all(n.startswith(p) and n[len(p):] and not n[len(p):][0].isdigit() for n, p in zip(dept["name"], full[~city], strict=True))
        assert not t["name"].str.contains("厅局").any()
        pair = t[city & (t["locality_id"] != "").to_numpy()].groupby("locality_id")["name"]
        for _, names in pair:
            stems = {n.removesuffix("委").removesuffix("政府") for n in names}
            assert len(names) == 2 and len(stems) == 1, list(names)
        muni = t[city & t["province_id"].isin(["BJ", "TJ", "SH", "CQ"]).to_numpy()]
        assert muni["name"].str.contains("区").all() and len(muni) > 0
        posts = f["posts"].assign(team=t.set_index("team_id")["name"].reindex(f["posts"]["team_id"]).to_numpy())
        heads = posts[posts["title"].isin(["市长", "区长", "厅长", "局长", "主任"])]
        want = heads["team"].str.rstrip("0123456789").map(lambda n: "区长" if n.endswith("区政府") else "市长" if
                                                          n.endswith("市政府") else "主任" if n.endswith("委员会") else
                                                          "局长" if n.endswith("局") else "厅长")
        assert (heads["title"] == want).all() and len(heads) >= len(t) // 3
