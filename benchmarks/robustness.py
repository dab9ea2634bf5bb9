"""Robustness report speed (SPEC §11): S samples of an N-in-play generated case, each a warm re-plan, on a local
Dask cluster, against the plan's own solve measured in the same run.

    python benchmarks/robustness.py [--sizes 300 2000] [--samples 200 50] [--seed 1] [--workers 2] [--gap 0.0005]

Targets (issue 14, this 2-core machine): 200 samples at 300 in play ≤ 2 minutes; 50 samples at 2,000 ≤ 10 minutes.
Prints per size: the plan's solve time, the report's time, seconds per sample, samples per plan-solve time, and the
median and worst sample share of failures.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 2000])
    ap.add_argument("--samples", type=int, nargs="+", default=[200, 50])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gap", type=float, default=0.0005)
    a = ap.parse_args()
    import cadrex
    from cadrex.jobs.generate import generate_case
    from cadrex.jobs.robustness import robustness

    with tempfile.TemporaryDirectory() as work:
        for n, s in zip(a.sizes, a.samples, strict=True):
            case_dir = os.path.join(work, f"case{n}")
            generate_case(case_dir, n, seed=a.seed)
            case = cadrex.load_case(case_dir)
            t0 = time.perf_counter()
            res = cadrex.solve(case, gap=a.gap, time_limit=600, seed=0)
            t_plan = time.perf_counter() - t0
            plan = os.path.join(work, f"plan{n}")
            res.write(plan)
            t1 = time.perf_counter()
            rep = robustness(case, plan, samples=s, seed=a.seed, workers=a.workers)
            t_rob = time.perf_counter() - t1
            sm = rep.summary
            print(f"{n:>6} in play: plan {t_plan:.1f}s ({res.status.value}); {s} samples in {t_rob:.1f}s "
                  f"({t_rob / s:.2f}s a sample, {a.workers} workers; {t_rob / t_plan:.2f}× the plan's solve); "
                  f"{sm['failed']} failed; loss mean {sm['loss']['mean']}, changes mean {sm['changes']['mean']}",
                  flush=True)
            bad = rep.samples[~rep.samples["status"].isin(["optimal", "feasible", "unchanged"])]
            for r in bad.to_dict("records"):
                print(f"    sample {r['sample']}: {r['status']} {r['error'][:200]}")


if __name__ == "__main__":
    main()
