"""Where the integrality gap of a case's master sits: each rule's rows left out in turn.

    python benchmarks/relax_rows.py CASE [--gap 0.0005] [--cap 120] [--rules min_female,min_young]

Runs the LP phase of column generation as ``cadrex solve`` does (the gap rule, the age cuts), then takes the master
MIP at its end (the master pairs, the age cuts as rows) and, for all rows and then without each rule's rows, solves
its LP relaxation and its root node in HiGHS (``mip_max_nodes`` 1, at most ``--cap`` seconds). ``LP - root`` is the
part of the LP's integrality gap that HiGHS's root cuts close: a rule whose rows carry the gap brings it near 0 when
left out (the age rows did at 2,000 in play, ``vacancies`` s2, 170 -> 1.5: benchmarks/README.md, session 28). The
bounds are the master's, not the full model's; they rank the rules, they certify nothing.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--gap", type=float, default=0.0005, help="the solve's gap goal (the LP phase stops at a quarter)")
    ap.add_argument("--cap", type=float, default=120.0, help="seconds per root node")
    ap.add_argument("--rules", default="", help="comma-separated rules to leave out (default: every rule but the "
                                                "assignment rows H1-H3 and flow)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import highspy
    import numpy as np

    import cadrex
    from cadrex.rules import Context
    from cadrex.solvers.cg import ColumnGeneration
    from cadrex.solvers.highs.translate import pass_model

    ctx = Context(cadrex.load_case(a.case))
    cg = ColumnGeneration(ctx)
    t0 = time.perf_counter()
    lp = cg.solve_lp(t0 + 3600, stop_gap=a.gap / 4, cuts=cg.first_phase_cuts())
    m = cg.cut_model(cg.model())
    rule = np.array([lab.split()[0] if r == "structure" else r for lab, r in zip(m.row_label, m.row_rule, strict=True)],
                    dtype=object)
    print(f"LP phase {time.perf_counter() - t0:.1f} s, {len(cg.rounds)} rounds; LP {lp.z:.1f}, Lagrangian bound "
          f"{lp.bound:.1f}; master {m.n_vars} columns, {len(rule)} rows ({len(cg.cut_team)} age cuts)", flush=True)
    names = [r for r in a.rules.split(",") if r] or [r for r in np.unique(rule) if r not in ("H1", "H2", "H3", "flow")]

    def run(name: str, keep: np.ndarray, ref: float | None) -> float:
        rows = np.flatnonzero(keep)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        pass_model(h, m, rows=rows, integer=False)
        h.run()
        z = h.getInfo().objective_function_value
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        pass_model(h, m, rows=rows)
        for k, v in {"mip_max_nodes": 1, "time_limit": a.cap, "random_seed": a.seed, "mip_rel_gap": 0.0}.items():
            h.setOptionValue(k, v)
        t = time.perf_counter()
        h.run()
        info = h.getInfo()
        d = z - info.mip_dual_bound
        share = "  1.00" if ref is None else f"{d / ref:6.2f}" if ref > 1e-6 else "   n/a"  # n/a: no gap at all
        print(f"{name:30s} {len(keep) - len(rows):6d} {z:12.1f} {info.mip_dual_bound:12.1f} {d:8.1f} {share} "
              f"{info.objective_function_value:12.0f} {time.perf_counter() - t:6.1f}", flush=True)
        return d

    print(f"{'rows left out':30s} {'rows':>6s} {'LP':>12s} {'root bound':>12s} {'LP-root':>8s} {'× all':>6s} "
          f"{'plan':>12s} {'secs':>6s}")
    ref = run("none", np.ones(len(rule), bool), None)
    for r in names:
        run(r, rule != r, ref)


if __name__ == "__main__":
    main()
