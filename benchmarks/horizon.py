"""Multi-year plan benchmark (SPEC §12, issue 15): ``cadrex horizon`` on generated cases, the joint plan against the
myopic (round-by-round) reference computed in the same run.

    python benchmarks/horizon.py --sizes 300 --seeds 1,2,3 --years 3 --time-limit 120 [--gap 0.005]

Per case: cadres in play in round 1 (with the deadlines within reach marked), pair variables of the joint model,
status, joint total, myopic total (None: some round of it infeasible), the gain, the bound and gap on the total,
time, the myopic reference's time and the ratio of the two, peak memory. Every round's plan is re-read on its
derived case by the independent verifier inside the run (a plan it rejects would make the status ``rejected``).
Prints the median and the worst case over the cases that got a plan."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "solver"))


def main() -> None:
    import cadrex
    from cadrex.jobs.generate import generate_case

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="300")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--gap", type=float, default=0.0)
    a = ap.parse_args()
    root = tempfile.mkdtemp(prefix="cadrex-horizon-bench-")
    rows = []
    print("| in play | seed | round-1 in play | pairs | status | joint total | myopic total | gain | bound | gap | "
          "time s | myopic s | time / myopic | peak MB |")
    print("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in map(int, a.sizes.split(",")):
        for seed in map(int, a.seeds.split(",")):
            path = os.path.join(root, f"c{n}-{seed}")
            generate_case(path, n, seed)
            t0 = time.perf_counter()
            h = cadrex.horizon(cadrex.load_case(path), a.years, time_limit=a.time_limit, gap=a.gap, seed=0)
            secs = time.perf_counter() - t0
            s = h.summary
            my_s = s["timings"].get("myopic")
            gain = (f"{(h.total - h.myopic_total) / max(1, abs(h.myopic_total)):+.2%}"
                    if h.total is not None and h.myopic_total is not None else "n/a")
            inplay = len(cadrex.rules.Context(h.cases[0]).I) if h.cases else "n/a"
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            gap = f"{h.gap:.3%}" if h.gap is not None else "n/a"
            print(f"| {n} | {seed} | {inplay} | {s['model']['pairs']:,} | {h.status} | {h.total} | {h.myopic_total} | {gain} | "
                  f"{h.best_bound} | {gap} | {secs:.1f} | {my_s:.1f} | {secs / max(my_s, 1e-9):.1f} | {peak:,} |", flush=True)
            if h.total is not None:
                rows.append((secs, h.gap if h.gap is not None else float("inf")))
    if rows:
        ts = [r[0] for r in rows]
        gs = [r[1] for r in rows]
        print(f"\n{len(rows)} case(s) with a plan: time median {statistics.median(ts):.1f} s, worst {max(ts):.1f} s; "
              f"gap median {statistics.median(gs):.3%}, worst {max(gs):.3%}")


if __name__ == "__main__":
    main()
