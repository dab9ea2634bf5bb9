"""The LP phase of the national-scale solve alone: rounds, seconds, LP value and bound on one case.

    python benchmarks/cg_lp.py CASE [--k-init K] [--add-per-cadre 10] [--resolve-strategy 2]

Use it to compare settings of the column generation on the same case in one sitting (machines are noisy: run the
settings back to back, more than once). Generate a case with ``cadrex generate --cadres 2000 --seed 1 OUT``.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--k-init", type=int, default=None, help="best pairs per cadre and post in the first master (default: cadrex's)")
    ap.add_argument("--add-per-cadre", type=int, default=10)
    ap.add_argument("--resolve-strategy", type=int, default=2, help="HiGHS simplex_strategy for re-solves (1 serial dual, 2 PAMI)")
    a = ap.parse_args()
    import cadrex
    from cadrex.rules import Context
    from cadrex.solvers.cg import ColumnGeneration

    ctx = Context(cadrex.load_case(a.case))
    t0 = time.perf_counter()
    cg = ColumnGeneration(ctx, k_init=a.k_init, add_per_cadre=a.add_per_cadre)
    cg.resolve_strategy = a.resolve_strategy
    t1 = time.perf_counter()
    lp = cg.solve_lp(time.perf_counter() + 3600)
    z, bound = lp.z, lp.bound
    t2 = time.perf_counter()
    secs = ", ".join(f"{r['secs']:.1f}" for r in cg.rounds)
    print(f"setup {t1 - t0:.1f}s; LP {t2 - t1:.1f}s in {len(cg.rounds)} rounds ({secs}); LP {z:.2f}, bound {bound:.2f}; "
          f"{int(cg.in_R.sum())} of {len(cg.pairs)} pairs in the master")


if __name__ == "__main__":
    main()
