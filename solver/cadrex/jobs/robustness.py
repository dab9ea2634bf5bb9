"""``cadrex.robustness`` (SPEC §11): how much of a plan survives refusals. Sample k: every cadre whom the plan moves
declines its new post with its probability, drawn from ``numpy.random.default_rng([seed, k])`` (so that any sample
can be reproduced alone); the declines are re-planned as SPEC §10 with the plan as baseline (column generation warm-
started from the plan's pairs, on the highs backend). Samples run on Dask like ``batch`` (a local cluster, an
existing scheduler, or ``workers=0``: in this process), in chunks; a failed sample is recorded, not fatal.
Aggregates: :mod:`cadrex.reports.robustness`."""

from __future__ import annotations

import hashlib
import logging
import os
import time

import numpy as np

from cadrex.analysis.verify import evaluate
from cadrex.io import Case, load_case
from cadrex.io.events import Baseline, Event, Events, read_baseline
from cadrex.io.tomlfiles import effective_policy
from cadrex.reports.robustness import RobustnessReport, aggregate

log = logging.getLogger(__name__)

#: largest certified gap of a sample's re-plan: the report is statistics over random samples, and proving each
#: optimum exactly cost 6–15 s of closure MIP a sample at 2,000 in play (2–3× the rest of the re-plan). The default
#: gap is also kept below half a change (change_cost / 2 of the plan's objective), so that no sample carries a change
#: that does not pay for itself
SAMPLE_GAP = 0.0005


def movers(case: Case, baseline: Baseline) -> list[str]:
    """The cadres the plan moves (its post differs from the one it holds, or it is placed), sorted by id."""
    own = {h: p for p, h in case.posts["holder_id"].items() if h}
    return sorted(c for c, p in baseline.plan.items() if p is not None and p != own.get(c))


def draw(movers_: list[str], probs: np.ndarray, seed: int, k: int) -> list[str]:
    """The cadres who decline in sample ``k``: one uniform draw per mover, in id order, from the (seed, k) stream."""
    u = np.random.default_rng([int(seed), int(k)]).random(len(movers_))
    return [c for c, x, q in zip(movers_, u, probs, strict=True) if x < q]


def sample_events(declines: list[str], baseline: Baseline, k: int) -> Events:
    """The decline events of one sample (lines numbered as in its ``events.csv``, header = line 1)."""
    items = tuple(Event(i + 2, "decline", c, baseline.plan[c] or "", f"sample {k}") for i, c in enumerate(declines))
    return Events("", items, hashlib.sha256(repr(items).encode()).hexdigest())


def run_sample(case: Case, baseline: Baseline, policy, declines: list[str], k: int, options: dict) -> dict:
    """One sample's re-plan, reduced to what the report needs; never raises (a failure is recorded)."""
    from cadrex.jobs.replan import replan

    rec = {"sample": k, "declines": declines, "status": "", "error": ""}
    if not declines:  # nothing declined: the plan stands as it is (no re-plan)
        return rec | {"status": "unchanged", "plan": dict(baseline.plan), "changes": [], "chains": []}
    try:
        res = replan(case, baseline, sample_events(declines, baseline, k), policy=policy, fewest=False, announce=False,
                     **options)
    except Exception as exc:  # recorded, the other samples go on
        return rec | {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    rec["status"] = res.status.value
    if res.status.value not in ("optimal", "feasible"):
        rec["error"] = "; ".join(d.get("message", "") for d in res.diagnosis)[:500] or res.summary.get("message", "")
        return rec
    plan = res.placements
    ch = res.tables["changes.csv"]
    line_of = {e.line: e.cadre for e in sample_events(declines, baseline, k).items}
    chains = []
    for line, d in sorted(line_of.items()):
        f = ch[(ch["event_line"] == line) & (ch["cadre_id"] != d)].copy()
        f["depth"] = f["via"].str.count("→")
        chains.append((d, list(f.sort_values(["depth", "cadre_id"])["cadre_id"])))
    return rec | {"plan": plan, "changes": list(ch["cadre_id"]), "chains": chains, "objective": int(res.objective),
                  "replan_objective": int(res.summary["replan"]["objective"])}


def run_chunk(case_path: str, policy_file: str | None, plan_dir: str, policy, jobs: list[tuple[int, list[str]]],
              options: dict) -> list[dict]:
    """A worker's share: the case and the plan read once, then each (k, declines) re-planned. The worker's LP
    re-solves are serial: the samples already share the cores between the workers."""
    from cadrex.solvers.cg import serial_resolves

    serial_resolves()
    case = load_case(case_path, policy_file=policy_file)
    baseline = read_baseline(plan_dir, case)
    return [run_sample(case, baseline, policy, d, k, options) for k, d in jobs]


def robustness(case: Case, plan_dir: str | os.PathLike, samples: int = 200, seed: int | None = None,
               decline_rate: float | None = None, declines: dict[str, float] | None = None, policy=None,
               policy_file: str | None = None, scheduler: str | None = None, workers: int | None = None,
               time_limit: float | None = None, keep_samples: bool = False, progress=None,
               gap: float | None = None) -> RobustnessReport:
    """The robustness report of the plan in ``plan_dir`` (a plan of ``case``): ``samples`` re-plans after random
    declines, at ``decline_rate`` (default: the policy's) or per cadre from ``declines`` (cadre id -> probability;
    movers not listed use the rate). ``seed`` (default: the policy's) seeds sample k with (seed, k). ``workers=0``
    runs in this process; else Dask (``scheduler`` address, or a local cluster of ``workers`` processes).
    ``policy_file``: the ``--policy`` file the case was loaded with (workers load the case again). ``gap``: each
    sample's re-plan stops at this certified relative gap (default: :data:`SAMPLE_GAP`, or less so that the slack
    stays below half a change; 0 proves every optimum)."""
    t0 = time.perf_counter()
    plan_dir = os.fspath(plan_dir)
    baseline = read_baseline(plan_dir, case)
    pol = effective_policy(case.policy, policy)
    seed = int(seed if seed is not None else pol["seed"])
    rate = float(decline_rate if decline_rate is not None else pol["decline_rate"])
    if not 0 <= rate <= 1:
        raise ValueError(f"decline_rate must be within 0..1, got {rate}")
    if samples < 1:
        raise ValueError(f"samples must be ≥ 1, got {samples}")
    mv = movers(case, baseline)
    probs = np.array([float((declines or {}).get(c, rate)) for c in mv])
    jobs = [(k, draw(mv, probs, seed, k)) for k in range(1, samples + 1)]
    backend = pol["backend"]
    plan_obj = evaluate(case, baseline.plan, pol).objective
    if gap is None:
        gap = min(SAMPLE_GAP, 0.5 * int(pol["change_cost"]) / max(1, abs(plan_obj))) if pol["change_cost"] else SAMPLE_GAP
    options = {"time_limit": time_limit, "seed": 0, "method": "cg" if backend == "highs" else "auto", "gap": float(gap)}
    recs = _run(case, plan_dir, policy, policy_file, jobs, options, scheduler, workers, progress)
    recs.sort(key=lambda r: r["sample"])
    log.info("robustness: %d samples in %.1fs", samples, time.perf_counter() - t0)
    info = {"samples": samples, "seed": seed, "decline_rate": rate, "per_cadre_rates": bool(declines),
            "movers": len(mv), "plan_objective": int(plan_obj), "plan": os.path.abspath(plan_dir),
            "input_sha256": case.input_sha256, "plan_sha256": baseline.sha256, "backend": backend,
            "method": options["method"], "gap": float(gap), "policy": pol}
    return aggregate(case, baseline, recs, info, keep_samples)


def _run(case: Case, plan_dir: str, policy, policy_file, jobs: list, options: dict, scheduler, workers, progress) -> list[dict]:
    """Every job, in this process (``workers=0``) or on Dask in chunks (a few per worker, for progress)."""
    t0 = time.perf_counter()
    done: list[dict] = []

    def tick() -> None:
        if progress is not None:
            progress(len(done), len(jobs), time.perf_counter() - t0)

    if workers == 0 and not scheduler:  # serial LP re-solves as in the workers: the same plans either way
        from cadrex.solvers.cg import serial_resolves

        baseline = read_baseline(plan_dir, case)
        before = serial_resolves(True)
        try:
            for k, d in jobs:
                done.append(run_sample(case, baseline, policy, d, k, options))
                tick()
        finally:
            serial_resolves(before)
        return done
    from dask.distributed import Client, LocalCluster, as_completed

    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker", "distributed.core"):
        logging.getLogger(name).setLevel(logging.WARNING)
    cluster = None
    if scheduler:
        client = Client(scheduler)
        n = max(1, len(client.scheduler_info().get("workers", {})))
    else:
        n = workers or max(1, os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    size = max(1, len(jobs) // (4 * n))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    try:
        futures = {client.submit(run_chunk, case.path, policy_file, plan_dir, policy, ch, options, pure=False): ch
                   for ch in chunks}
        for fut in as_completed(futures):
            try:
                done += fut.result()
            except Exception as exc:  # a worker died: its samples are recorded as failed
                done += [{"sample": k, "declines": d, "status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
                         for k, d in futures[fut]]
            tick()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return done


__all__ = ["draw", "movers", "robustness", "run_sample", "sample_events"]
