"""``cadrex batch``: solve every scenario of a scenarios file on Dask (an embedded LocalCluster, one worker process
per core, or an existing scheduler), one output folder per scenario plus ``index.csv``.

Scenarios file (TOML; paths relative to it)::

    [defaults]            # optional: applied to every scenario
    case = "../data/sample"
    time_limit = 60

    [[scenario]]
    name = "base"
    policy = "default"     # a name in models/policies/ or a path; optional
    [scenario.overrides]   # optional policy keys
    move_cost = 10

A failed scenario (bad input, infeasible, time-out) is recorded with its reason and does not stop the others; its
earlier output, if cadrex wrote it, is removed so that it cannot be mistaken for the result. A plan the verifier
rejects is recorded as ``rejected`` and writes nothing: the earlier output stays (as for ``cadrex solve``), and
``compare`` reads only scenarios that ``index.csv`` lists as solved. A scenario whose inputs (case files, effective policy, backend, time limit, seed) hash as in its existing
``summary.json`` is skipped.

Output folders (see :mod:`cadrex.io.outdir`): scenario names are plain folder names (no path separators, no ``..``,
not empty, not starting with ``.``), reported at ``scenarios.toml:line:column``. The root folder ``--out`` is
marked as a batch root; it may be missing, empty, or a batch root cadrex wrote (it may then hold other files, such
as a compare report); it must not be or contain the working folder, a case folder or an input file. Each scenario
folder is replaced only when cadrex wrote it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time

import pandas as pd

from cadrex.i18n import LANGS, Msg, catalogue, resolve_lang, say

log = logging.getLogger(__name__)
#: the keys a [[scenario]] (or [defaults]) block may have
SCENARIO_KEYS = ("name", "case", "policy", "overrides", "backend", "time_limit", "seed", "lang")
INDEX_COLUMNS = ["scenario", "status", "objective", "best_bound", "gap", "moves", "runtime_s", "skipped", "error", "out_dir"]


_HEADER = re.compile(r"^\s*\[(\[)?\s*([^\]\[]+?)\s*\]\]?\s*(#.*)?$")
_NAME = re.compile(r"^\s*(?:name|\"name\"|'name')\s*=\s*")


def _name_positions(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int] | None], tuple[int, int] | None]:
    """Per ``[[scenario]]`` block of a scenarios file: the header's (line, col) and the (line, col) of its ``name``
    value (None when the block has none); and the position of a ``name`` in ``[defaults]``."""
    heads: list[tuple[int, int]] = []
    names: list[tuple[int, int] | None] = []
    default_name = None
    where = ""
    for i, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            where = m.group(2).replace(" ", "")
            if m.group(1) and where == "scenario":
                heads.append((i, len(line) - len(line.lstrip()) + 1))
                names.append(None)
            continue
        m = _NAME.match(line)
        if not m:
            continue
        if where == "scenario" and names and names[-1] is None:
            names[-1] = (i, len(m.group(0)) + 1)
        elif where == "defaults" and default_name is None:
            default_name = (i, len(m.group(0)) + 1)
    return heads, names, default_name


def read_scenarios(path: str) -> list[dict]:
    """The scenarios of a file, each with absolute ``case`` and resolved ``policy``; every problem (syntax, a
    missing ``name``/``case``, a name that is not a plain folder name, a repeated name) at ``path:line:column``."""
    from cadrex.io.errors import CaseError, Collector
    from cadrex.io.outdir import plain_name_problem
    from cadrex.io.tomlfiles import check_policy, read_toml

    out = Collector()
    if not os.path.isfile(path):
        out.add(path, 1, 1, Msg("batch.no_file"))
        raise CaseError(out.problems)
    got = read_toml(path, out)
    out.raise_if_any()
    data, pos = got
    with open(path, encoding="utf-8-sig") as fh:
        heads, name_pos, default_name = _name_positions(fh.read())
    for k in data:
        if k not in ("defaults", "scenario"):
            line, col = pos.get(k, (1, 1))
            out.add(path, line, col, Msg("batch.unknown_key", k=k))
    base = os.path.dirname(os.path.abspath(path))
    defaults = data.get("defaults", {})
    for k in defaults if isinstance(defaults, dict) else ():
        if k not in SCENARIO_KEYS:  # a misspelt key would silently leave its setting at the default
            out.add(path, *pos.get(f"defaults.{k}", (1, 1)), Msg("batch.unknown_scenario_key", k=k,
                                                                allowed=", ".join(SCENARIO_KEYS)))
    raw = data.get("scenario", [])
    if not isinstance(raw, list):
        raw = []
    blocks_known = len(heads) == len(raw)
    scen: list[dict] = []
    seen: dict[str, int] = {}
    for i, sc in enumerate(raw):
        head = heads[i] if blocks_known else (1, 1)
        unknown = [k for k in sc if k not in SCENARIO_KEYS]
        for k in unknown:
            out.add(path, *head, Msg("batch.unknown_scenario_key", k=k, allowed=", ".join(SCENARIO_KEYS)))
        if unknown:
            continue
        s = defaults | sc
        if "name" not in s or "case" not in s:
            out.add(path, *head, Msg("batch.needs", i=i + 1))
            continue
        at = (name_pos[i] if blocks_known else None) or ("name" not in sc and default_name) or head
        why = plain_name_problem(s["name"])
        if why:
            out.add(path, *at, Msg("batch.bad_name", why=why))
            continue
        if s["name"] in seen:
            out.add(path, *at, Msg("batch.repeats", name=repr(s["name"]), i=seen[s["name"]]))
            continue
        seen[s["name"]] = i + 1
        if s.get("lang") is not None and s["lang"] not in LANGS:
            out.add(path, *at, Msg("batch.bad_lang", v=repr(s["lang"])))
            continue
        ov = sc.get("overrides")
        if ov is not None:  # checked like a policy file and located in this file; the scenario alone fails on it
            bad = Collector()
            if not isinstance(ov, dict):
                bad.add(path, *head, Msg("batch.overrides_table"))
            else:
                opos = {k[len("scenario.overrides."):]: v for k, v in pos.items() if k.startswith("scenario.overrides.")}
                check_policy(ov, opos | {k: opos.get(k, head) for k in ov}, path, bad)
            s["override_problems"] = list(bad.problems)
        s["case"] = os.path.normpath(os.path.join(base, s["case"]))
        pol = s.get("policy")
        if pol and (os.sep in pol or pol.endswith(".toml")):
            s["policy"] = os.path.normpath(os.path.join(base, pol))
        scen.append(s)
    out.raise_if_any()
    return scen


def scenario_hash(sc: dict) -> str:
    """Hash of everything a scenario's result depends on (case files, policy, settings, cadrex version)."""
    from cadrex.io import load_case
    from cadrex.io.tomlfiles import effective_policy
    from cadrex.jobs.solve import CG_TIME_LIMIT
    from cadrex.version import __version__

    case = load_case(sc["case"], policy_file=sc.get("policy") if sc.get("policy") not in (None, "default") else None)
    pol = effective_policy(case.policy, sc.get("overrides") or None)
    key = {"input": case.input_sha256, "policy": pol, "backend": sc.get("backend"), "time_limit": sc.get("time_limit"),
           "seed": sc.get("seed"), "version": __version__, "lang": sc.get("lang"),
           # the limit a national case gets when none is chosen: a result solved under another is not up to date
           "cg_time_limit": CG_TIME_LIMIT if sc.get("time_limit") is None else None}
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def run_scenario(sc: dict, out_root: str) -> dict:
    """Solve one scenario and write its folder; never raises (a failure is a record)."""
    from cadrex.io import CaseError, load_case
    from cadrex.io.outdir import OutDirError, check_out_dir
    from cadrex.jobs.solve import solve
    from cadrex.reports.result import PlanRejected

    t0 = time.perf_counter()
    out_dir = os.path.join(out_root, sc["name"])
    rec = {"scenario": sc["name"], "status": "", "objective": None, "best_bound": None, "gap": None, "moves": None,
           "runtime_s": None, "skipped": False, "error": "", "out_dir": out_dir}
    pol_file = sc.get("policy") if sc.get("policy") not in (None, "default") else None
    pol_path = pol_file if pol_file and os.path.isfile(pol_file) else None
    lang = resolve_lang(sc.get("lang"))
    msg_key = "message_zh" if lang == "zh" else "message"
    try:
        check_out_dir(out_dir, "plan", case_dirs=[sc["case"]], input_files=[pol_path])
        if sc.get("override_problems"):
            raise CaseError(sc["override_problems"])
        h = scenario_hash(sc)
        spath = os.path.join(out_dir, "summary.json")
        if os.path.isfile(spath):
            with open(spath, encoding="utf-8") as fh:
                old = json.load(fh)
            if old.get("scenario_hash") == h:
                dpath = os.path.join(out_dir, "diagnosis.json")
                if os.path.isfile(dpath):
                    with open(dpath, encoding="utf-8") as fh:
                        rec["error"] = "; ".join(d[msg_key] for d in json.load(fh))[:500]
                return rec | {"status": old["status"], "objective": old.get("objective"), "best_bound": old.get("best_bound"),
                              "gap": old.get("gap"), "moves": old.get("counts", {}).get("moves"), "skipped": True,
                              "runtime_s": 0.0}
        case = load_case(sc["case"], policy_file=pol_file)
        res = solve(case, policy=sc.get("overrides") or None, backend=sc.get("backend"),
                           time_limit=sc.get("time_limit"), seed=sc.get("seed"),
                           announce=False)  # the batch's own lines say what runs; the load is its own workers'
        res.summary["scenario"] = sc["name"]
        res.summary["scenario_hash"] = h
        res.write(out_dir, inputs=[pol_path] if pol_path else (), lang=lang)
        rec |= {"status": res.status, "objective": res.objective, "best_bound": res.best_bound, "gap": res.gap,
                "moves": res.summary.get("counts", {}).get("moves")}
        if res.status == "infeasible":
            rec["error"] = "; ".join(d[msg_key] for d in res.diagnosis)[:500]
        elif res.status == "no_solution":
            rec["error"] = say("cli.no_plan", lang, limit=res.summary.get("time_limit"), out=out_dir)
    except OutDirError as exc:  # a folder cadrex did not write: left as it is
        rec |= {"status": "invalid", "error": str(exc)[:1000]}
    except CaseError as exc:
        rec |= {"status": "invalid", "error": " | ".join(p.text(lang) for p in exc.problems)[:1000]}
        _remove_stale(out_dir)
    except PlanRejected as exc:  # nothing was written: the previous output stays (index.csv says rejected)
        rec |= {"status": "rejected", "error": f"{exc}: " + "; ".join(exc.violations)[:900]}
    except Exception as exc:  # recorded, the batch goes on
        rec |= {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:1000]}
        _remove_stale(out_dir)
    rec["runtime_s"] = round(time.perf_counter() - t0, 3)
    return rec


def _remove_stale(out_dir: str) -> None:
    """A failed scenario leaves no output from an earlier run that could be mistaken for its result; only a plan
    folder cadrex wrote, holding only files cadrex writes, is removed (anything else is left alone, with a warning).
    A plan the verifier rejects is not a failure of this kind: the previous output stays."""
    import shutil
    import tempfile

    from cadrex.io.outdir import OWN_FILES, written_by_cadrex

    if not os.path.isdir(out_dir) or not os.listdir(out_dir):
        return
    if written_by_cadrex(out_dir) != "plan" or set(os.listdir(out_dir)) - OWN_FILES["plan"]:
        log.warning("%s was not written by cadrex as a plan folder, or holds files cadrex did not write; left as it is"
                    " / %s 不是 cadrex 写出的方案目录或含有其他文件，保持原样", out_dir, out_dir)
        return
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.stale-", dir=os.path.dirname(out_dir))
    os.rmdir(tmp)  # names starting with '.' are never scenario names
    os.replace(out_dir, tmp)
    shutil.rmtree(tmp, ignore_errors=True)


def run_batch(path: str, out_root: str, scheduler: str | None = None, workers: int | None = None,
              lang: str | None = None) -> pd.DataFrame:
    """Run every scenario of ``path`` on Dask; write and return ``index.csv``. Each scenario's files are in its own
    ``lang`` (a scenario or ``[defaults]`` key), else in ``lang``, else :func:`cadrex.i18n.resolve_lang`'s."""
    from dask.distributed import Client, LocalCluster, as_completed

    from cadrex.io.outdir import MARKER, check_out_dir, write_marker

    scenarios = read_scenarios(path)
    lang = resolve_lang(lang)
    for sc in scenarios:
        sc.setdefault("lang", lang)
    pol_files = [sc["policy"] for sc in scenarios if sc.get("policy") and os.path.isfile(sc["policy"])]
    out_root = check_out_dir(out_root, "batch", case_dirs=[sc["case"] for sc in scenarios],
                             input_files=[path, *pol_files])
    os.makedirs(out_root, exist_ok=True)
    if not os.path.isfile(os.path.join(out_root, MARKER)):
        write_marker(out_root, "batch")
    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker", "distributed.core"):
        logging.getLogger(name).setLevel(logging.WARNING)
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        n = workers or max(1, os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    records = []
    t0 = time.perf_counter()
    try:
        futures = {client.submit(run_scenario, sc, out_root, pure=False): sc["name"] for sc in scenarios}
        for k, fut in enumerate(as_completed(futures), start=1):
            try:
                rec = fut.result()
            except Exception as exc:  # a worker died
                rec = {"scenario": futures[fut], "status": "error", "error": f"{type(exc).__name__}: {exc}", "skipped": False}
            records.append(rec)
            st = say(f"status.{rec['status']}", lang) if f"status.{rec['status']}" in catalogue() else rec["status"]
            log.info("[%d/%d] %s: %s%s (%.1fs)", k, len(scenarios), rec["scenario"], st,
                     f" ({say('status.skipped', lang)})" if rec.get("skipped") else "", time.perf_counter() - t0,
                     extra={"user": True})
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    order = {sc["name"]: i for i, sc in enumerate(scenarios)}
    df = pd.DataFrame(records, columns=INDEX_COLUMNS).sort_values("scenario", key=lambda s: s.map(order))
    from cadrex.io.plan import write_csv

    tmp = os.path.join(out_root, ".index.csv.tmp")
    write_csv(df, tmp)
    os.replace(tmp, os.path.join(out_root, "index.csv"))
    return df
