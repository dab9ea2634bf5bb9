"""CP-SAT as a portfolio member of the national-scale solve (issue 17): the dive MIPs of column generation (the MIP
near the LP, then the MIP over every master pair, the pairs the LP sets to 1 fixed), each solved by HiGHS as cadrex
solves it and by CP-SAT (by default 1 worker with no hint, 1 and 2 workers with the LP solution rounded as its
hint; ``--cpsat``), with the same
time cap and the same gap goal, in the same run.

    python benchmarks/cpsat_dive.py --cadres 2000 --families base,vacancies,strict,tight --cap 30

The LP phase runs as in ``cadrex solve`` (gap goal: issue 17's target for the size). CP-SAT runs in a spawned child
process that never imports highspy (the ortools and highspy wheels each ship a libhighs). Per MIP and solver: its
seconds, its plan (the full plan's objective), the plan's gap to the LP bound, and its seconds and plan against
HiGHS's on the same MIP. Results: benchmarks/results/cpsat_dive.csv.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import statistics
import tempfile
import time

import numpy as np

from cadrex.model.core import MipArrays

HERE = os.path.dirname(os.path.abspath(__file__))
GAPS = {2000: 0.0005, 5000: 0.001, 10000: 0.002}  # issue 17's gap targets


class Mip(MipArrays):
    """A reduced dive MIP as plain arrays (what the CP-SAT backend reads), picklable without cadrex's solvers."""

    def __init__(self, sub):
        for k in ("A", "obj", "lb", "ub", "row_lo", "row_hi", "integer", "offset"):
            setattr(self, k, getattr(sub, k))


def _cpsat_child(mip: Mip, cap: float, gap: float, seed: int, workers: int, hint, out) -> None:
    import sys

    from cadrex.solvers.cpsat.translate import solve_model

    t = time.perf_counter()
    r = solve_model(mip, time_limit=cap, seed=seed, num_workers=workers, hint=hint, gap=gap)
    out.put((r.status, r.objective, time.perf_counter() - t, "highspy" in sys.modules))


def cpsat(mip: Mip, cap: float, gap: float, seed: int, workers: int, hint) -> tuple[str, float | None, float]:
    """CP-SAT on ``mip`` in a spawned child: status, objective (with the fixed part), seconds (model building in)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_cpsat_child, args=(mip, cap, gap, seed, workers, hint, q))
    p.start()
    try:
        status, obj, secs, highs_loaded = q.get(timeout=cap + 120)  # the child stops itself at the cap
    except Exception:  # the child died (or hung): no plan from CP-SAT
        p.kill()
        p.join()
        return "died", None, float("nan")
    p.join()
    assert not highs_loaded, "the CP-SAT child imported highspy"
    return status, obj, secs


def dive_mips(case_dir: str, gap: float, seed: int, cap: float) -> tuple[float, list[dict]]:
    """The LP phase of ``cadrex solve`` on the case, then its two dives with HiGHS (as the solve runs them, each with
    ``cap`` seconds), recording every MIP they solve: the LP bound and, per MIP, its arrays, the LP hint, and
    HiGHS's status, plan and seconds."""
    import cadrex
    from cadrex.rules import Context
    from cadrex.solvers.cg import ColumnGeneration
    from cadrex.solvers.cg import dive as dive_mod

    cg = ColumnGeneration(Context(cadrex.load_case(case_dir)))
    lp = cg.solve_lp(time.perf_counter() + 600, stop_gap=gap / 4)
    m = cg.model()
    x_lp = np.concatenate([cg.x_lp[m.pair_index], np.zeros(m.n_vars - m.n_pairs)])
    real, seen = dive_mod.solve_mip, []

    def record(sub, **kw):
        t = time.perf_counter()
        r = real(sub, **kw)
        seen.append({"mip": Mip(sub),
                     "hint": np.round(x_lp[sub.cols]), "gap": kw["gap"], "highs": (r.status, r.objective,
                                                                                   time.perf_counter() - t)})
        return r

    dive_mod.solve_mip = record
    try:
        for near in (True, False):
            n0 = len(seen)
            dive_mod.dive(cg, m, seed, 2 * cap if near else cap, gap, near=near)  # the near MIP gets half its cap
            for s in seen[n0:]:
                s["mip_kind"] = "near the LP" if near and s is seen[n0] else "every master pair"
    finally:
        dive_mod.solve_mip = real
    return float(np.floor(lp.bound + 1e-6)), seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cadres", type=int, default=2000)
    ap.add_argument("--families", default="base,tight,vacancies", help="comma-separated, or 'all'")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--cap", type=float, default=60.0, help="seconds per dive MIP, for every solver")
    ap.add_argument("--seed", type=int, default=0, help="solver seed")
    ap.add_argument("--cpsat", default="1,1h,2h", help="CP-SAT settings: workers, with 'h' the LP solution as hint")
    a = ap.parse_args()
    from cadrex.jobs.families import FAMILIES
    from cadrex.jobs.generate import generate_case

    fams = FAMILIES if a.families == "all" else tuple(a.families.split(","))
    gap = GAPS.get(a.cadres, 0.001)
    rows = []
    print(f"{'family':>13} {'seed':>4} {'MIP':>17} {'cols':>6} {'solver':>14} {'secs':>6} {'status':>9} {'plan':>9} "
          f"{'gap to B':>8} {'x HiGHS s':>9} {'- HiGHS plan':>12}")
    for fam in fams:
        for seed in (int(s) for s in a.seeds.split(",")):
            d = os.path.join(tempfile.mkdtemp(), f"g{a.cadres}-{fam}-{seed}")
            generate_case(d, a.cadres, seed, family=fam)
            B, seen = dive_mips(d, gap, a.seed, a.cap)
            for s in seen:
                hs, ho, ht = s["highs"]
                runs = [("highs", hs, ho, ht)]
                for conf in a.cpsat.split(","):  # workers, "h": the LP solution rounded as the hint
                    workers, hint = int(conf.rstrip("h")), s["hint"] if conf.endswith("h") else None
                    st, ob, secs = cpsat(s["mip"], a.cap, s["gap"], a.seed, workers, hint)
                    runs.append((f"cpsat w{workers}{' hint' if hint is not None else ''}", st, ob, secs))
                for name, st, ob, secs in runs:
                    row = {"family": fam, "seed": seed, "mip": s["mip_kind"], "cols": s["mip"].n_vars, "solver": name,
                           "secs": secs, "status": st, "plan": ob, "bound": B,
                           "gap": (B - ob) / B if ob is not None else None, "x_highs": secs / ht,
                           "vs_highs": (ob - ho) if ob is not None and ho is not None else None}
                    rows.append(row)
                    gap_s = "-" if row["gap"] is None else f"{100 * row['gap']:.3f}%"
                    vs_s = "-" if row["vs_highs"] is None else f"{row['vs_highs']:+.0f}"
                    print(f"{fam:>13} {seed:>4} {row['mip']:>17} {row['cols']:>6} {name:>14} {secs:>6.1f} {st:>9} "
                          f"{ob if ob is not None else '-':>9} {gap_s:>8} {row['x_highs']:>9.2f} {vs_s:>12}")
    if not rows:
        print("no dive MIP was solved (every case certified or infeasible before its dive)")
        return
    for name in dict.fromkeys(r["solver"] for r in rows):
        mine = [r for r in rows if r["solver"] == name]
        ratio = [r["x_highs"] for r in mine]
        worse = sum(1 for r in mine if r["vs_highs"] is None or r["vs_highs"] < 0)
        better = sum(1 for r in mine if r["vs_highs"] is not None and r["vs_highs"] > 0)
        print(f"{name:>14}: seconds x HiGHS median {statistics.median(ratio):.2f}, worst {max(ratio):.2f}; plan better "
              f"than HiGHS's on {better} of {len(mine)} MIPs, worse (or none) on {worse}")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "cpsat_dive.csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
