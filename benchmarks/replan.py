"""Re-plan time as a ratio to the baseline solve (SPEC §10), in one run, on generated national-scale cases.

    python benchmarks/replan.py [--sizes 1000 2000] [--seeds 1] [--declines 5] [--gap 0.0005] [--time-limit 600]

Per case: solve it (the baseline, timed), then 5 cadres whom the baseline moves decline their new posts (drawn with
an explicit seed), then re-plan from the baseline at the same gap (timed). Prints both times, their ratio (the
target is ≤ 0.20 at 2,000 in play), the change counts and the statuses; the median and worst ratio over the cases.
Absolute seconds mean little on a shared machine: the ratio is measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import pandas as pd


def one(n: int, seed: int, declines: int, gap: float, time_limit: float, work: str) -> dict:
    import cadrex
    from cadrex.jobs.generate import generate_case

    case_dir = os.path.join(work, f"case{n}_{seed}")
    generate_case(case_dir, n, seed=seed)
    case = cadrex.load_case(case_dir)
    t0 = time.perf_counter()
    base = cadrex.solve(case, gap=gap, time_limit=time_limit, seed=0)
    t_base = time.perf_counter() - t0
    base_dir = os.path.join(work, f"base{n}_{seed}")
    base.write(base_dir)
    a = base.assignments
    moves = a[a["action"] == "move"].sort_values("cadre_id")
    rng = np.random.default_rng([seed, n])
    pick = moves.iloc[np.sort(rng.choice(len(moves), size=min(declines, len(moves)), replace=False))]
    ev = os.path.join(work, f"events{n}_{seed}.csv")
    pd.DataFrame({"event": "decline", "cadre_id": pick["cadre_id"], "post_id": pick["to_post"], "note": ""}).to_csv(ev, index=False)
    t1 = time.perf_counter()
    re = cadrex.replan(case, base_dir, ev, gap=gap, time_limit=time_limit, seed=0)
    t_re = time.perf_counter() - t1
    rp = re.summary["replan"]
    return {"n": n, "seed": seed, "base_s": t_base, "base_status": base.status.value, "base_gap": base.gap,
            "replan_s": t_re, "replan_status": re.status.value, "replan_gap": re.gap, "ratio": t_re / t_base,
            "declines": len(pick), "changes": rp["changes"], "k_min": rp["k_min"],
            "method": re.summary.get("method")}


def main() -> None:
    import logging

    if os.environ.get("CADREX_BENCH_LOG"):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", filename=os.environ["CADREX_BENCH_LOG"])
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--declines", type=int, default=5)
    ap.add_argument("--gap", type=float, default=0.0005)
    ap.add_argument("--time-limit", type=float, default=600)
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for n in a.sizes:
            for seed in a.seeds:
                r = one(n, seed, a.declines, a.gap, a.time_limit, work)
                rows.append(r)
                print(f"{n:>6} in play, seed {seed}: baseline {r['base_s']:.1f}s ({r['base_status']}, gap "
                      f"{r['base_gap']}), re-plan {r['replan_s']:.1f}s ({r['replan_status']}, gap {r['replan_gap']}, "
                      f"{r['method']}), ratio {r['ratio']:.3f}; {r['declines']} declines -> {r['changes']} changes "
                      f"(fewest possible {r['k_min']})", flush=True)
    ratios = [r["ratio"] for r in rows]
    print(f"re-plan / baseline time: median {statistics.median(ratios):.3f}, worst {max(ratios):.3f} over {len(rows)} cases")


if __name__ == "__main__":
    main()
