"""Reading and validating a whole case folder (SPEC §2)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cadrex.i18n import Msg
from cadrex.io.errors import CaseError, Collector, shown
from cadrex.io.parse import parse_table
from cadrex.io.schema import FILES, GRADES
from cadrex.io.tables import find_table, read_table
from cadrex.io.tomlfiles import layer_keys, load_policy, load_structures, models_dir, policy_layers, read_toml


@dataclass
class Case:
    """A validated case: typed frames indexed by id, the effective policy and the structure models."""

    path: str
    as_of: dt.date
    name: str
    description: str
    provinces: pd.DataFrame
    specialties: pd.DataFrame
    teams: pd.DataFrame
    posts: pd.DataFrame
    cadres: pd.DataFrame
    relations: pd.DataFrame
    preferences: pd.DataFrame
    pins: pd.DataFrame
    scores: pd.DataFrame
    policy: dict
    structures: dict[str, dict]
    input_sha256: str = ""
    files: dict[str, str] = field(default_factory=dict)
    #: what ``input_sha256`` covers, in hashing order: case files relative to the case folder (``cadres.csv``,
    #: ``structures/x.toml``), shipped files as ``models/...``, a policy file elsewhere as ``policy:NAME``
    input_files: list[str] = field(default_factory=list)
    #: the policy keys set above the shipped default (the case's ``policy.toml``, a ``--policy`` file,
    #: :meth:`with_policy`): a setting the user chose, e.g. ``time_limit``
    policy_keys: frozenset[str] = frozenset()
    #: warnings from reading it that did not stop it (a column ignored whose name is close to a known one's)
    notes: tuple = ()

    @property
    def policy_sha256(self) -> str:
        return policy_sha256(self.policy)

    def with_policy(self, overrides: dict) -> Case:
        """A copy of this case with policy keys replaced (``weights`` merged)."""
        from cadrex.io.tomlfiles import merge_policy

        new = Case(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        new.policy = merge_policy(self.policy, overrides)
        new.policy_keys = self.policy_keys | frozenset(overrides)
        return new


def _as_of(case_dir: str, out: Collector) -> tuple[dt.date | None, str, str]:
    path = os.path.join(case_dir, "case.toml")
    if not os.path.isfile(path):
        out.add(path, 1, 1, Msg("input.no_case_toml"))
        return None, "", ""
    got = read_toml(path, out)
    if got is None:
        return None, "", ""
    data, pos = got
    v = data.get("as_of")
    line, col = pos.get("as_of", (1, 1))
    as_of = None
    if v is None:
        out.add(path, 1, 1, Msg("input.no_as_of"))
    elif isinstance(v, dt.datetime):
        as_of = v.date()
    elif isinstance(v, dt.date):
        as_of = v
    elif isinstance(v, str):
        try:
            as_of = dt.date.fromisoformat(v.strip())
        except ValueError:
            out.add(path, line, col, Msg("input.bad_as_of", v=repr(v)))
    else:
        out.add(path, line, col, Msg("input.bad_as_of", v=repr(v)))
    for k in data:
        if k not in ("as_of", "name", "description"):
            kl, kc = pos.get(k, (1, 1))
            out.add(path, kl, kc, Msg("input.unknown_case_key", k=k))
    return as_of, str(data.get("name", "")), str(data.get("description", ""))


def _label(path: str, case_dir: str) -> str:
    """Name of an input file independent of where the case lives (see :attr:`Case.input_files`)."""
    ap = os.path.abspath(path)
    for root, prefix in ((case_dir, ""), (str(models_dir()), "models/")):
        try:
            rel = os.path.relpath(ap, os.path.abspath(root))
        except ValueError:  # another drive
            continue
        if rel != ".." and not rel.startswith(".." + os.sep):
            return prefix + rel.replace(os.sep, "/")
    return "policy:" + os.path.basename(ap)


def policy_sha256(policy: dict) -> str:
    """SHA-256 of a policy dict (its JSON with sorted keys): what ``summary.json`` records as ``policy_sha256``."""
    return hashlib.sha256(json.dumps(policy, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def case_fingerprint(case: Case) -> str:
    """SHA-256 of the case as held in memory (every table, the structures, the as-of date; not the policy): what
    a solve's saved duals are valid for. Unlike ``input_sha256`` it follows a case changed in memory (events, a
    horizon year)."""
    from pandas.util import hash_pandas_object

    sha = hashlib.sha256(f"{case.as_of}\0".encode())
    for name in ("provinces", "specialties", "teams", "posts", "cadres", "relations", "preferences", "pins", "scores"):
        df = getattr(case, name)
        df = df.drop(columns=[c for c in ("_line",) if c in df.columns])
        sha.update(name.encode() + b"\0" + ",".join(map(str, df.columns)).encode() + b"\0")
        sha.update(hash_pandas_object(df, index=True).to_numpy().tobytes())
    sha.update(json.dumps(case.structures, sort_keys=True, ensure_ascii=False, default=str).encode())
    return sha.hexdigest()


def input_digest(paths: list[str], case_dir: str) -> tuple[str, list[str]]:
    """SHA-256 over (name, size, bytes) of each file, sorted by name; also the names. Names, not absolute paths,
    so that two copies of a case hash alike."""
    named = {_label(p, case_dir): p for p in paths if os.path.isfile(p)}
    sha = hashlib.sha256()
    for name in sorted(named):
        with open(named[name], "rb") as fh:
            data = fh.read()
        sha.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return sha.hexdigest(), sorted(named)


def _dangling(out: Collector, df: pd.DataFrame, path: str, header: list[str], col: str, known: pd.Index | None,
              what: str, allow_empty: bool = False) -> None:
    """Report values of ``col`` not in ``known``; ``known`` None = the referenced table could not be read, so
    nothing is reported (those errors would only follow from that one)."""
    if df is None or known is None or col not in df.columns or len(df) == 0:
        return
    vals = df[col].astype(str)
    bad = ~vals.isin(known)
    if allow_empty:
        bad &= vals != ""
    else:
        bad &= vals != ""  # empty required values are reported by the parser already
    c = header.index(col) + 1 if col in header else 1
    for line, v in zip(df.loc[bad, "_line"], vals[bad], strict=True):
        out.add(path, int(line), c, Msg("input.unknown_ref", col=col, what=Msg(f"ref.{what}"), val=shown(v)))


def _age(birth: pd.Series, as_of: dt.date) -> np.ndarray:
    b = pd.DatetimeIndex(birth)
    y = as_of.year - b.year.to_numpy()
    before = (b.month.to_numpy() > as_of.month) | ((b.month.to_numpy() == as_of.month) & (b.day.to_numpy() > as_of.day))
    return (y - before.astype(int)).astype(np.int64)


def load_case(path: str | os.PathLike, policy_file: str | None = None) -> Case:
    """Read and validate the case folder at ``path``; raise :class:`CaseError` listing every problem."""
    case_dir = os.fspath(path)
    out = Collector()
    if not os.path.isdir(case_dir):
        out.add(case_dir, 1, 1, Msg("input.no_case_folder"))
        out.raise_if_any()
    as_of, name, description = _as_of(case_dir, out)
    frames: dict[str, pd.DataFrame | None] = {}
    headers: dict[str, list[str]] = {}
    fpaths: dict[str, str] = {}
    inputs: list[str] = [os.path.join(case_dir, "case.toml")]
    for spec in FILES:
        p = find_table(case_dir, spec.stem)
        folder = next((q for e in (".csv", ".xlsx") if os.path.isdir(q := os.path.join(case_dir, spec.stem + e))), None)
        if p is None and folder is not None:  # a folder where the table should be: said so, not "missing"
            out.add(folder, 1, 1, Msg("input.table_is_folder", stem=spec.stem))
            frames[spec.stem] = None
            continue
        if p is None:
            if spec.required_file:
                out.add(os.path.join(case_dir, spec.stem + ".csv"), 1, 1, Msg("input.missing_file", stem=spec.stem))
            frames[spec.stem] = None
            continue
        raw = read_table(p, out)
        inputs.append(p)
        if raw is None:
            frames[spec.stem] = None
            continue
        fpaths[spec.stem] = p
        headers[spec.stem] = raw.header
        frames[spec.stem] = parse_table(raw, spec, out)
    policy = load_policy(case_dir, out, policy_file)
    structures, struct_paths = load_structures(case_dir, out)
    inputs += policy_layers(case_dir, policy_file) + list(struct_paths.values())

    def fp(stem: str) -> str:
        return fpaths.get(stem, os.path.join(case_dir, stem + ".csv"))

    prov, teams, posts, cadres = (frames[k] for k in ("provinces", "teams", "posts", "cadres"))
    # ids of each table; None when the table could not be read (missing, undecodable, a required column missing):
    # references into it are then not checked, as every one would be reported as unknown
    prov_ids = pd.Index(prov["province_id"]) if prov is not None else None
    if teams is not None:
        _dangling(out, teams, fp("teams"), headers["teams"], "province_id", prov_ids, "province")
        _dangling(out, teams, fp("teams"), headers["teams"], "structure_model", pd.Index(sorted(struct_paths)),
                  "structure_model")
    team_ids = pd.Index(teams["team_id"]) if teams is not None else None
    cadre_ids = pd.Index(cadres["cadre_id"]) if cadres is not None else None
    post_ids = pd.Index(posts["post_id"]) if posts is not None else None
    if cadres is not None:
        for col in ("province_id", "native_province", "home_province"):
            _dangling(out, cadres, fp("cadres"), headers["cadres"], col, prov_ids, "province")
        cadres.loc[cadres["native_province"] == "", "native_province"] = cadres["province_id"]
        cadres.loc[cadres["home_province"] == "", "home_province"] = cadres["province_id"]
    if posts is not None:
        h = headers["posts"]
        _dangling(out, posts, fp("posts"), h, "team_id", team_ids, "team")
        _dangling(out, posts, fp("posts"), h, "holder_id", cadre_ids, "cadre", allow_empty=True)
        held = posts[posts["holder_id"] != ""]
        dup = held.duplicated(subset=["holder_id"], keep="first")
        hc = h.index("holder_id") + 1 if "holder_id" in h else 1
        if dup.any():
            first = held.drop_duplicates("holder_id").set_index("holder_id")["post_id"]
            for _, r in held[dup].iterrows():
                out.add(fp("posts"), int(r["_line"]), hc,
                        Msg("input.holds_two", c=r["holder_id"], post=first[r["holder_id"]]))
        if cadres is not None and teams is not None:
            cg = cadres.set_index("cadre_id")
            tp = teams.set_index("team_id")["province_id"]
            ok = held[held["holder_id"].isin(cg.index)]
            # vectorized over every held post; a message only for the rows that break a rule
            cgrade = pd.to_numeric(cg["grade"], errors="coerce").astype(float).reindex(ok["holder_id"]).to_numpy()
            pgrade = pd.to_numeric(ok["grade"], errors="coerce").astype(float).to_numpy()
            gbad = ~np.isnan(cgrade) & ~np.isnan(pgrade) & (cgrade != pgrade)
            cprov = cg["province_id"].reindex(ok["holder_id"]).to_numpy(dtype=object)
            tprov = tp.reindex(ok["team_id"]).to_numpy(dtype=object)
            pbad = ok["team_id"].isin(tp.index).to_numpy() & (cprov != tprov)
            for i in np.flatnonzero(gbad | pbad):
                r = ok.iloc[i]
                if gbad[i]:
                    out.add(fp("posts"), int(r["_line"]), hc,
                            Msg("input.holder_grade", c=r["holder_id"], g=GRADES[int(cgrade[i])], post=r["post_id"],
                                pg=GRADES[int(pgrade[i])]))
                if pbad[i]:
                    out.add(fp("posts"), int(r["_line"]), hc,
                            Msg("input.holder_province", c=r["holder_id"], prov=cprov[i], team=r["team_id"],
                                tprov=tprov[i]))
    rel = frames["relations"]
    if rel is not None:
        h = headers["relations"]
        _dangling(out, rel, fp("relations"), h, "cadre_a", cadre_ids, "cadre")
        _dangling(out, rel, fp("relations"), h, "cadre_b", cadre_ids, "cadre")
        selfrel = rel["cadre_a"] == rel["cadre_b"]
        for line, a in zip(rel.loc[selfrel, "_line"], rel.loc[selfrel, "cadre_a"], strict=True):
            out.add(fp("relations"), int(line), h.index("cadre_b") + 1, Msg("input.self_related", c=a))
    for stem in ("preferences", "pins", "scores"):
        f = frames[stem]
        if f is not None:
            _dangling(out, f, fp(stem), headers[stem], "cadre_id", cadre_ids, "cadre")
            _dangling(out, f, fp(stem), headers[stem], "post_id", post_ids, "post")
    out.raise_if_any()
    input_sha256, input_files = input_digest(inputs, case_dir)
    assert as_of is not None and cadres is not None and posts is not None and teams is not None and prov is not None

    def empty(stem: str) -> pd.DataFrame:
        spec = next(s for s in FILES if s.stem == stem)
        return pd.DataFrame({c.name: pd.Series(dtype=object) for c in spec.cols} | {"_line": pd.Series(dtype=np.int64)})

    cadres = cadres.copy()
    cadres["age"] = _age(cadres["birth_date"], as_of)
    for col in ("grade", "education"):
        cadres[col] = cadres[col].astype(np.int64)
    posts = posts.copy()
    posts["grade"] = posts["grade"].astype(np.int64)
    posts["min_education"] = posts["min_education"].astype(np.int64)
    for f, col in ((cadres, "minority"), (cadres, "movable"), (posts, "specialty_strict"), (posts, "must_fill"),
                   (teams, "ethnic_autonomous")):
        f[col] = f[col].astype(bool)
    spec_df = frames["specialties"] if frames["specialties"] is not None else empty("specialties")
    return Case(
        path=case_dir, as_of=as_of, name=name, description=description,
        provinces=prov.set_index("province_id", drop=False),
        specialties=spec_df.set_index("specialty_id", drop=False),
        teams=teams.set_index("team_id", drop=False),
        posts=posts.set_index("post_id", drop=False),
        cadres=cadres.set_index("cadre_id", drop=False),
        relations=frames["relations"] if frames["relations"] is not None else empty("relations"),
        preferences=frames["preferences"] if frames["preferences"] is not None else empty("preferences"),
        pins=frames["pins"] if frames["pins"] is not None else empty("pins"),
        scores=frames["scores"] if frames["scores"] is not None else empty("scores"),
        policy=policy, structures=structures, input_sha256=input_sha256, files=fpaths, input_files=input_files,
        policy_keys=layer_keys(policy_layers(case_dir, policy_file)[1:]), notes=tuple(out.notes),
    )


__all__ = ["Case", "CaseError", "load_case"]
