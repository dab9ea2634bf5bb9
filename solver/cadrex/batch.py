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

A failed scenario (bad input, infeasible, time-out) is recorded with its reason and does not stop the others.
A scenario whose inputs (case files, effective policy, backend, time limit, seed) hash as in its existing
``summary.json`` is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time

import pandas as pd

log = logging.getLogger(__name__)
INDEX_COLUMNS = ["scenario", "status", "objective", "best_bound", "gap", "moves", "runtime_s", "skipped", "error", "out_dir"]


def read_scenarios(path: str) -> list[dict]:
    """The scenarios of a file, each with absolute ``case`` and resolved ``policy``."""
    from cadrex.io.errors import CaseError, Collector
    from cadrex.io.tomlfiles import read_toml

    out = Collector()
    if not os.path.isfile(path):
        out.add(path, 1, 1, "scenarios file not found")
        raise CaseError(out.problems)
    got = read_toml(path, out)
    out.raise_if_any()
    data, pos = got
    for k in data:
        if k not in ("defaults", "scenario"):
            line, col = pos.get(k, (1, 1))
            out.add(path, line, col, f"unknown key '{k}' (allowed: [defaults], [[scenario]])")
    base = os.path.dirname(os.path.abspath(path))
    defaults = data.get("defaults", {})
    scen: list[dict] = []
    for i, sc in enumerate(data.get("scenario", [])):
        s = defaults | sc
        if "name" not in s or "case" not in s:
            out.add(path, 1, 1, f"scenario {i + 1} needs 'name' and 'case'")
            continue
        s["case"] = os.path.normpath(os.path.join(base, s["case"]))
        pol = s.get("policy")
        if pol and (os.sep in pol or pol.endswith(".toml")):
            s["policy"] = os.path.normpath(os.path.join(base, pol))
        scen.append(s)
    names = [s["name"] for s in scen]
    if len(set(names)) != len(names):
        out.add(path, 1, 1, "scenario names must be unique")
    out.raise_if_any()
    return scen


def scenario_hash(sc: dict) -> str:
    """Hash of everything a scenario's result depends on (case files, policy, settings, cadrex version)."""
    from cadrex import __version__
    from cadrex.io import load_case
    from cadrex.solve_api import _policy_for

    case = load_case(sc["case"], policy_file=sc.get("policy") if sc.get("policy") not in (None, "default") else None)
    pol = _policy_for(case, sc.get("overrides") or None)
    key = {"input": case.input_sha256, "policy": pol, "backend": sc.get("backend"), "time_limit": sc.get("time_limit"),
           "seed": sc.get("seed"), "version": __version__}
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def run_scenario(sc: dict, out_root: str) -> dict:
    """Solve one scenario and write its folder; never raises (a failure is a record)."""
    import cadrex
    from cadrex.io import CaseError, load_case

    t0 = time.perf_counter()
    out_dir = os.path.join(out_root, sc["name"])
    rec = {"scenario": sc["name"], "status": "", "objective": None, "best_bound": None, "gap": None, "moves": None,
           "runtime_s": None, "skipped": False, "error": "", "out_dir": out_dir}
    try:
        h = scenario_hash(sc)
        spath = os.path.join(out_dir, "summary.json")
        if os.path.isfile(spath):
            with open(spath, encoding="utf-8") as fh:
                old = json.load(fh)
            if old.get("scenario_hash") == h:
                dpath = os.path.join(out_dir, "diagnosis.json")
                if os.path.isfile(dpath):
                    with open(dpath, encoding="utf-8") as fh:
                        rec["error"] = "; ".join(d["message"] for d in json.load(fh))[:500]
                return rec | {"status": old["status"], "objective": old.get("objective"), "best_bound": old.get("best_bound"),
                              "gap": old.get("gap"), "moves": old.get("counts", {}).get("moves"), "skipped": True,
                              "runtime_s": 0.0}
        pol_file = sc.get("policy") if sc.get("policy") not in (None, "default") else None
        case = load_case(sc["case"], policy_file=pol_file)
        res = cadrex.solve(case, policy=sc.get("overrides") or None, backend=sc.get("backend"),
                           time_limit=sc.get("time_limit"), seed=sc.get("seed"))
        res.summary["scenario"] = sc["name"]
        res.summary["scenario_hash"] = h
        res.write(out_dir)
        rec |= {"status": res.status, "objective": res.objective, "best_bound": res.best_bound, "gap": res.gap,
                "moves": res.summary.get("counts", {}).get("moves")}
        if res.status == "infeasible":
            rec["error"] = "; ".join(d["message"] for d in res.diagnosis)[:500]
        elif res.status == "no_solution":
            rec["error"] = "no plan found within the time limit"
    except CaseError as exc:
        rec |= {"status": "invalid", "error": " | ".join(str(p) for p in exc.problems)[:1000]}
        _remove_stale(out_dir)
    except Exception as exc:  # recorded, the batch goes on
        rec |= {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:1000]}
        _remove_stale(out_dir)
    rec["runtime_s"] = round(time.perf_counter() - t0, 3)
    return rec


def _remove_stale(out_dir: str) -> None:
    """A failed scenario leaves no output from an earlier run that could be mistaken for its result."""
    import shutil

    if os.path.isdir(out_dir):
        tmp = out_dir + ".stale"
        os.replace(out_dir, tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def run_batch(path: str, out_root: str, scheduler: str | None = None, workers: int | None = None) -> pd.DataFrame:
    """Run every scenario of ``path`` on Dask; write and return ``index.csv``."""
    from dask.distributed import Client, LocalCluster, as_completed

    scenarios = read_scenarios(path)
    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker", "distributed.core"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.makedirs(out_root, exist_ok=True)
    out_root = os.path.abspath(out_root)
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
            log.info("[%d/%d] %s: %s%s (%.1fs elapsed)", k, len(scenarios), rec["scenario"], rec["status"],
                     " (unchanged, skipped)" if rec.get("skipped") else "", time.perf_counter() - t0)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    order = {sc["name"]: i for i, sc in enumerate(scenarios)}
    df = pd.DataFrame(records, columns=INDEX_COLUMNS).sort_values("scenario", key=lambda s: s.map(order))
    from cadrex.result import write_csv

    tmp = os.path.join(out_root, ".index.csv.tmp")
    write_csv(df, tmp)
    os.replace(tmp, os.path.join(out_root, "index.csv"))
    return df
