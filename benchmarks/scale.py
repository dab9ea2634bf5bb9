"""National-scale benchmark (issue 7): per size, cadrex (auto: column generation) against references measured in
the same run on the same case:

  (a) scipy ``linear_sum_assignment`` on the pure assignment part (pair objective only, every side rule ignored:
      a floor on time, and an upper bound on the objective only up to the structure and flow terms);
  (b) the straightforward full model (every eligible pair, one HiGHS MIP) with the same time limit, up to
      ``--full-up-to`` cadres in play.

    python benchmarks/scale.py --sizes 1000,2000,5000 --time-limit 600

Each solve runs in a fresh process (peak RSS is that process's). Results: benchmarks/results/scale.csv and
scale.png. At 1000 the script also solves the full LP relaxation and checks cadrex's bound is not below it.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import resource
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _peak_mb() -> float:
    """Peak RSS of this process plus the largest of its finished children (the guarded HiGHS MIP runs in one): a
    conservative figure for the memory the solve needed at once."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def run_cadrex(case_dir, time_limit, method, gap, q):
    import cadrex

    t0 = time.perf_counter()
    res = cadrex.solve(cadrex.load_case(case_dir), time_limit=time_limit, method=method, gap=gap)
    out = os.path.join(tempfile.mkdtemp(), "plan")
    res.write(out)
    from cadrex.cli import main

    ok = main(["verify", case_dir, out]) == 0 if res.status in ("optimal", "feasible") else False
    q.put({"status": res.status, "objective": res.objective, "bound": res.best_bound, "gap": res.gap,
           "secs": time.perf_counter() - t0, "peak_mb": _peak_mb(), "verified": ok,
           "pairs": res.summary.get("model", {}).get("pairs_total") or res.summary.get("model", {}).get("pairs")})


def run_lsa(case_dir, q):
    """linear_sum_assignment over cadres in play × (posts in play + one 'no post' column each): side rules ignored."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    import cadrex
    from cadrex.rules import Context
    from cadrex.rules.model import all_pairs, pair_objective

    ctx = Context(cadrex.load_case(case_dir))
    t0 = time.perf_counter()
    pairs = all_pairs(ctx)
    _, _, obj = pair_objective(ctx, pairs)
    ok = pairs.ok
    ci = np.searchsorted(ctx.I, pairs.c[ok])
    pj = np.searchsorted(ctx.J, pairs.p[ok])
    nI, nJ = len(ctx.I), len(ctx.J)
    cost = np.full((nI, nJ + nI), 1e9)
    cost[ci, pj] = -obj[ok]
    cost[np.arange(nI), nJ + np.arange(nI)] = 0.0  # not assigned (holders would violate H2: a floor, not a plan)
    r, c = linear_sum_assignment(cost)
    val = float(-cost[r, c][cost[r, c] < 1e8].sum())
    q.put({"status": "lsa", "objective": val, "secs": time.perf_counter() - t0, "peak_mb": _peak_mb()})


def run_full_lp(case_dir, q):
    import highspy
    import numpy as np

    import cadrex
    from cadrex.backends.highs import new_highs
    from cadrex.rules import Context, build_model

    m = build_model(Context(cadrex.load_case(case_dir)))
    h = new_highs()
    inf = highspy.kHighsInf
    h.passModel(m.n_vars, m.n_rows, int(m.A.nnz), int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMaximize), 0.0,
                m.obj, m.lb, m.ub, np.where(np.isinf(m.row_lo), -inf, m.row_lo), np.where(np.isinf(m.row_hi), inf, m.row_hi),
                m.A.indptr[:-1].astype(np.int32), m.A.indices.astype(np.int32), m.A.data, np.zeros(m.n_vars, np.int32))
    h.run()
    q.put({"lp": h.getInfo().objective_function_value})


def in_process(target, *args):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    r = q.get()
    p.join()
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,5000")
    ap.add_argument("--time-limit", type=float, default=600)
    ap.add_argument("--full-up-to", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gap", type=float, default=0.0, help="relative gap tolerance for cadrex and the full model alike")
    a = ap.parse_args()
    from cadrex.generate import generate_case

    rows = []
    print(f"{'in play':>7} {'pairs':>9} {'cadrex s':>9} {'status':>8} {'objective':>10} {'bound':>10} {'gap':>8} {'MB':>6} "
          f"{'lsa s':>7} {'x lsa':>6} {'full s':>8} {'full gap':>8} {'full/cadrex':>11} {'verified':>8}", flush=True)
    for n in map(int, a.sizes.split(",")):
        d = os.path.join(tempfile.mkdtemp(), f"g{n}")
        generate_case(d, n, a.seed)
        r = in_process(run_cadrex, d, a.time_limit, "auto", a.gap)
        lsa = in_process(run_lsa, d)
        full = in_process(run_cadrex, d, a.time_limit, "full", a.gap) if n <= a.full_up_to else None
        row = {"in_play": n, "pairs": r["pairs"], "cadrex_s": r["secs"], "status": r["status"], "objective": r["objective"],
               "bound": r["bound"], "gap": r["gap"], "peak_mb": r["peak_mb"], "verified": r["verified"], "lsa_s": lsa["secs"],
               "lsa_objective": lsa["objective"], "full_s": full["secs"] if full else None,
               "full_status": full["status"] if full else None, "full_gap": full["gap"] if full else None}
        if n == 1000:
            # a valid bound is not below the true optimum (the full model's, when it proves one) and, being at least
            # as tight as the LP relaxation, not above floor(LP)
            row["full_lp"] = in_process(run_full_lp, d)["lp"]
            opt = full["objective"] if full and full["status"] == "optimal" else None
            row["bound_valid"] = r["bound"] is not None and r["bound"] <= int(row["full_lp"] + 1e-6) and (
                opt is None or r["bound"] >= opt)
        rows.append(row)
        gap = f"{r['gap']:.3%}" if r["gap"] is not None else "n/a"
        fgap = f"{full['gap']:.3%}" if full and full["gap"] is not None else "n/a"
        print(f"{n:>7} {r['pairs']!s:>9} {r['secs']:>9.1f} {r['status']:>8} {r['objective']!s:>10} {r['bound']!s:>10} {gap:>8} "
              f"{r['peak_mb']:>6.0f} {lsa['secs']:>7.1f} {r['secs'] / lsa['secs']:>6.1f} "
              f"{(full['secs'] if full else float('nan')):>8.1f} {fgap:>8} "
              f"{((full['secs'] / r['secs']) if full else float('nan')):>11.2f} {r['verified']!s:>8}", flush=True)
        if "full_lp" in row:
            print(f"        full LP relaxation {row['full_lp']:.2f}; cadrex bound {r['bound']}; full-model optimum "
                  f"{full['objective'] if full else 'n/a'} ({full['status'] if full else ''}): bound "
                  f"{'VALID' if row['bound_valid'] else 'INVALID'} (optimum <= bound <= floor(LP))", flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "scale.csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=sorted({k for r in rows for k in r}))
        w.writeheader()
        w.writerows(rows)
    from plot_scale import plot_scale

    plot_scale(rows, os.path.join(HERE, "results", "scale.png"))


if __name__ == "__main__":
    main()
