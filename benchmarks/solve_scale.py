"""Solve generated cases of several sizes on each backend and print build/solve time, objective, gap, peak
memory, with ratios to the HiGHS run on the same case (measured in the same run).

    python benchmarks/solve_scale.py --sizes 200,500 --backends highs,cpsat,pyomo --time-limit 60
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import tempfile
import time


def _run(args):
    case_dir, backend, tl, q = args
    import cadrex

    t0 = time.perf_counter()
    case = cadrex.load_case(case_dir)
    res = cadrex.solve(case, backend=backend, time_limit=tl, seed=0)
    s = res.summary
    q.put({"backend": backend, "status": res.status, "objective": res.objective, "bound": s.get("best_bound"),
           "gap": s.get("gap"), "build": s["timings"].get("build"), "solve": s["timings"].get("solve"),
           "wall": time.perf_counter() - t0, "pairs": s["model"]["pairs"],
           "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200,500,1000,2000")
    ap.add_argument("--backends", default="highs,cpsat,pyomo")
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    from cadrex.jobs.generate import generate_case

    ctx = mp.get_context("spawn")  # one fresh process per run: honest peak memory, no shared solver state
    print(f"{'in play':>8} {'backend':>7} {'pairs':>8} {'status':>9} {'objective':>10} {'gap':>8} {'build s':>8} "
          f"{'solve s':>8} {'peak MB':>8} {'time/highs':>10}")
    for n in map(int, a.sizes.split(",")):
        d = os.path.join(tempfile.mkdtemp(), f"g{n}")
        generate_case(d, n, a.seed)
        ref = None
        for b in a.backends.split(","):
            q = ctx.Queue()
            p = ctx.Process(target=_run, args=((d, b, a.time_limit, q),))
            p.start()
            r = q.get()
            p.join()
            ref = ref or r["wall"]
            gap = f"{r['gap']:.4%}" if r["gap"] is not None else "n/a"
            print(f"{n:>8} {b:>7} {r['pairs']:>8} {r['status']:>9} {r['objective']!s:>10} {gap:>8} {r['build']:>8.2f} "
                  f"{r['solve'] or 0:>8.2f} {r['peak_mb']:>8.0f} {r['wall'] / ref:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
