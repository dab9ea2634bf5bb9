"""Regenerate data/sample: a small generated case (seed 11) with hand-placed instances of rules that a random
case of this size may miss (E4 kin with a fixed member, E7 strict education, E9 disciplinary, H3 must-fill,
H4 kin in play, H7 require pin). Run: python data/make_sample.py

The case is built in a temporary folder; only then are its files copied over the ones of the same name in
data/sample (README.md and anything else there is kept: cadrex never replaces a folder it did not write)."""

from __future__ import annotations

import os
import shutil
import tempfile

from cadrex.jobs.generate import _repair, generate_frames, write_frames

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample")
HERE = os.path.join(tempfile.mkdtemp(prefix="cadrex-sample-"), "sample")
TOML = ('# 样例案例：厅局级干部跨省交流（cadrex sample）\nas_of = 2026-06-30\nname = "样例：七省交流测算"\n'
        'description = "小规模手工可读案例，覆盖 E1–E10 与 H1–H7 各规则，见 README.md"\n')


def save(f) -> None:
    write_frames(f, HERE, TOML)
    with open(os.path.join(HERE, "policy.toml"), "w", encoding="utf-8") as fh:
        fh.write("# 样例政策: 学历要求为硬约束 (E7), 其余取默认值\nstrict_education = true\n")


def _fix(f) -> bool:
    changed = _repair(f, HERE, TOML)
    save(f)
    return changed


def main() -> None:
    f = generate_frames(36, seed=11)
    cad, posts, teams = f["cadres"], f["posts"], f["teams"]
    keep = set(teams["province_id"].value_counts().index[:8])
    print("provinces used:", sorted(set(teams["province_id"])))
    inplay = cad[cad["movable"] == "是"]
    fixed = cad[(cad["movable"] == "否") & cad["cadre_id"].isin(posts["holder_id"])]
    # E9: one disciplinary cadre among the in-play holders of grade vice_bureau
    d = inplay[(inplay["grade"] == "vice_bureau") & inplay["cadre_id"].isin(posts["holder_id"])].index[0]
    cad.loc[d, "exchange_kind"] = "disciplinary"
    # E4 / H4: kin relations (in play with fixed; two in play)
    a, b = inplay.index[1], fixed.index[0]
    c1, c2 = inplay.index[2], inplay.index[3]
    f["relations"] = f["relations"].iloc[0:0]
    import pandas as pd

    f["relations"] = pd.DataFrame({"cadre_a": [cad.at[a, "cadre_id"], cad.at[c1, "cadre_id"]],
                                   "cadre_b": [cad.at[b, "cadre_id"], cad.at[c2, "cadre_id"]],
                                   "relation": ["配偶", "兄弟姐妹"]})
    # H3: one vacancy must be filled
    vac = posts[(posts["holder_id"] == "") & (posts["grade"] == "vice_bureau")].index
    posts.loc[vac[0], "must_fill"] = "是"
    # H7: require pin of a non-holder in play to a vice_bureau vacancy in another province (checked eligible below)
    f["pins"] = f["pins"].iloc[0:0]
    f["scores"] = f["scores"].head(6)
    del keep
    save(f)
    for _ in range(3):
        if not _fix(f):
            break
    save(f)
    from cadrex.io import load_case
    from cadrex.rules import Context
    from cadrex.rules.eligibility import eligible_moves

    ctx = Context(load_case(HERE))
    mc, mp = eligible_moves(ctx)
    vac_pairs = [(c, p) for c, p in zip(mc, mp, strict=True) if ctx.p_holder[p] < 0 and ctx.c_post[c] < 0]
    c_req, p_req = vac_pairs[0]
    c_fb, p_fb = next((c, p) for c, p in zip(mc, mp, strict=True) if c != c_req and ctx.c_post[c] >= 0)
    f["pins"] = pd.DataFrame({"cadre_id": [ctx.cad_ids[c_req], ctx.cad_ids[c_fb]], "post_id": [ctx.post_ids[p_req], ctx.post_ids[p_fb]],
                              "mode": ["require", "forbid"]})
    save(f)
    for name in sorted(os.listdir(HERE)):
        if not name.startswith("."):  # the build folder's own output marker stays behind
            shutil.copyfile(os.path.join(HERE, name), os.path.join(SAMPLE, name))
    shutil.rmtree(os.path.dirname(HERE))


if __name__ == "__main__":
    main()
