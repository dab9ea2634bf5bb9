"""National-scale benchmark (issues 7 and 17): per size, cadrex (auto: column generation) on several case families
and seeds (cases it was not tuned on: ``cadrex generate --family``), against references measured in the same run on
the same case:

  (a) scipy ``linear_sum_assignment`` on the pure assignment part (the dense cadre x post pair objective, every side
      rule ignored): a floor on time;
  (b) the straightforward full model (every eligible pair, one HiGHS MIP) with the same time limit, up to
      ``--full-up-to`` cadres in play (by default only for the base family).

    python benchmarks/scale.py --sizes 2000,5000 --families all --seeds 1,2          # issue 17's table
    python benchmarks/scale.py --sizes 2000 --families base,vacancies --repeat 3      # spread of repeated runs

The gap tolerance is, per size, the issue 17 target (override with --gap); the time limit is 600 s. Each case's line
is printed as it finishes; per size, the median and the worst over the cases (time, gap, peak memory, x LSA floor),
the spread of repeated runs, whether every repeat gave the same plan and bound, whether every plan passed
``cadrex verify``, and which targets hold.

Each solve runs in a fresh process (peak memory is that process tree's). Results: benchmarks/results/scale.csv (one
row per solve) and scale.png.
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


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants now, from /proc (Linux), in MB."""
    total, todo = 0.0, [pid]
    while todo:
        q = todo.pop()
        try:
            with open(f"/proc/{q}/status", encoding="ascii") as fh:
                total += next(int(x.split()[1]) for x in fh if x.startswith("VmRSS:")) / 1024
            for t in os.listdir(f"/proc/{q}/task"):
                with open(f"/proc/{q}/task/{t}/children", encoding="ascii") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


class _Sampler:
    """Samples the memory of this process tree every 0.2 s: the solve's real concurrent peak, the guarded HiGHS
    child included."""

    def __init__(self):
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, _tree_rss_mb(os.getpid()))

    def stop(self) -> float:
        self._stop.set()
        self._t.join()
        return self.peak


def _peak_mb(sampler: _Sampler | None = None) -> float:
    """The largest of: this process's peak RSS, its largest finished child's, and the sampled sum over the tree."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(own, child, sampler.stop() if sampler else 0.0)


def run_cadrex(case_dir, time_limit, method, gap, q):
    import cadrex

    sampler = _Sampler()
    t0 = time.perf_counter()  # reading the case, solving and writing the plan: what a user waits for
    res = cadrex.solve(cadrex.load_case(case_dir), time_limit=time_limit, method=method, gap=gap)
    out = os.path.join(tempfile.mkdtemp(), "plan")
    res.write(out)
    secs = time.perf_counter() - t0
    peak = _peak_mb(sampler)
    import contextlib
    import io

    from cadrex.cli import main

    with contextlib.redirect_stdout(io.StringIO()):  # the verifier's one-line report would break the table
        ok = main(["verify", case_dir, out]) == 0 if res.status in ("optimal", "feasible") else False
    q.put({"status": res.status, "objective": res.objective, "bound": res.best_bound, "gap": res.gap,
           "secs": secs, "peak_mb": peak, "verified": ok,
           "pairs": res.summary.get("model", {}).get("pairs_total") or res.summary.get("model", {}).get("pairs")})


def run_lsa(case_dir, q):
    """linear_sum_assignment over cadres in play × (posts in play + one 'no post' column each): side rules ignored."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    import cadrex
    from cadrex.model import all_pairs, pair_objective
    from cadrex.rules import Context

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


def in_process(target, *args):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    r = q.get()
    p.join()
    return r


RUN = time.strftime("%Y-%m-%d %H:%M")
#: issue 17 targets per size: (seconds, relative gap, peak MB, x LSA floor); a median over the families, the worst
#: case within 1.5x of the time target; 1,000 uses 2,000's gap
TARGETS = {1000: (None, 0.0005, None, None), 2000: (15, 0.0005, 600, 50), 5000: (90, 0.001, 2048, 30),
           10000: (300, 0.002, 5120, 15)}


def _target(n: int) -> tuple:
    return TARGETS.get(n) or TARGETS[min(TARGETS, key=lambda k: abs(k - n))]


def _median(v: list[float]) -> float:
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def _summary(n: int, rows: list[dict]) -> str:
    """Median and worst over the cases of one size (each case's time: the median of its repeats), with targets."""
    t_s, t_gap, t_mb, t_x = _target(n)
    by_case: dict[tuple, list[dict]] = {}
    for r in rows:
        by_case.setdefault((r["family"], r["seed"]), []).append(r)
    secs = [_median([x["cadrex_s"] for x in v]) for v in by_case.values()]
    gaps = [max(x["gap"] if x["gap"] is not None else float("inf") for x in v) for v in by_case.values()]
    mbs = [max(x["peak_mb"] for x in v) for v in by_case.values()]
    xs = [_median([x["cadrex_s"] for x in v]) / v[0]["lsa_s"] for v in by_case.values()]
    spread = [max(x["cadrex_s"] for x in v) / max(1e-9, min(x["cadrex_s"] for x in v)) for v in by_case.values()]
    stable = all(len({(x["objective"], x["bound"]) for x in v}) == 1 for v in by_case.values())
    verified = all(x["verified"] for x in rows)
    out = [f"  {n} in play, {len(by_case)} cases: time median {_median(secs):.1f} s, worst {max(secs):.1f} s; gap median "
           f"{_median(gaps):.3%}, worst {max(gaps):.3%}; peak MB median {_median(mbs):.0f}, worst {max(mbs):.0f}; "
           f"x LSA median {_median(xs):.0f}, worst {max(xs):.0f}; repeat spread (max/min time) worst {max(spread):.2f}; "
           f"same plan and bound on every repeat: {'yes' if stable else 'NO'}; every plan verified: "
           f"{'yes' if verified else 'NO'}"]
    if t_s:
        out.append(f"  targets: median <= {t_s}s {'yes' if _median(secs) <= t_s else 'NO'}, worst <= {1.5 * t_s:.0f}s "
                   f"{'yes' if max(secs) <= 1.5 * t_s else 'NO'}; median gap <= {t_gap:.2%} "
                   f"{'yes' if _median(gaps) <= t_gap + 1e-12 else 'NO'}; median <= {t_mb} MB "
                   f"{'yes' if _median(mbs) <= t_mb else 'NO'}; median <= {t_x}x LSA {'yes' if _median(xs) <= t_x else 'NO'}")
    return "\n".join(out)


def main() -> None:
    from cadrex.jobs.families import FAMILIES

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,5000")
    ap.add_argument("--families", default="base",
                    help=f"comma-separated case families, or 'all' ({', '.join(FAMILIES)})")
    ap.add_argument("--seeds", default=None,
                    help="comma-separated generator seeds (each family, each seed; default 1,2 for several families "
                         "as issue 17 asks, 1 for one)")
    ap.add_argument("--repeat", type=int, default=1, help="solves per case (the spread and stability are reported)")
    ap.add_argument("--time-limit", type=float, default=600, help="for cadrex and the full model alike")
    ap.add_argument("--full-up-to", type=int, default=None,
                    help="also solve the full model up to this many in play (default 2000 for the base family only)")
    ap.add_argument("--gap", type=float, default=None,
                    help="relative gap tolerance (default: the issue 17 target of the size)")
    a = ap.parse_args()
    from cadrex.jobs.generate import generate_case

    families = list(FAMILIES) if a.families == "all" else a.families.split(",")
    seeds = [int(x) for x in (a.seeds or ("1" if len(families) == 1 else "1,2")).split(",")]
    full_up_to = a.full_up_to if a.full_up_to is not None else (2000 if families == ["base"] else 0)
    rows: list[dict] = []
    print(f"{'in play':>7} {'family':>13} {'seed':>4} {'rep':>3} {'pairs':>9} {'cadrex s':>9} {'status':>8} {'objective':>10} "
          f"{'bound':>10} {'gap':>8} {'MB':>6} {'lsa s':>7} {'x lsa':>6} {'full s':>8} {'verified':>8}", flush=True)
    for n in map(int, a.sizes.split(",")):
        t_gap = _target(n)[1]
        gap = t_gap if a.gap is None else a.gap
        size_rows = []
        for fam in families:
            for seed in seeds:
                d = os.path.join(tempfile.mkdtemp(), f"g{n}-{fam}-{seed}")
                generate_case(d, n, seed, family=fam)
                lsa = in_process(run_lsa, d)
                full = in_process(run_cadrex, d, a.time_limit, "full", gap) if n <= full_up_to else None
                for rep in range(a.repeat):
                    r = in_process(run_cadrex, d, a.time_limit, "auto", gap)
                    row = {"in_play": n, "family": fam, "seed": seed, "repeat": rep, "run": RUN,
                           "time_limit": a.time_limit, "pairs": r["pairs"], "gap_tolerance": gap, "cadrex_s": r["secs"],
                           "status": r["status"], "objective": r["objective"], "bound": r["bound"], "gap": r["gap"],
                           "peak_mb": r["peak_mb"], "verified": r["verified"], "lsa_s": lsa["secs"],
                           "lsa_objective": lsa["objective"], "full_s": full["secs"] if full else None,
                           "full_status": full["status"] if full else None,
                           "full_objective": full["objective"] if full else None}
                    size_rows.append(row)
                    gtxt = f"{r['gap']:.3%}" if r["gap"] is not None else "n/a"
                    print(f"{n:>7} {fam:>13} {seed:>4} {rep:>3} {r['pairs']!s:>9} {r['secs']:>9.1f} {r['status']:>8} "
                          f"{r['objective']!s:>10} {r['bound']!s:>10} {gtxt:>8} {r['peak_mb']:>6.0f} {lsa['secs']:>7.2f} "
                          f"{r['secs'] / lsa['secs']:>6.0f} {(full['secs'] if full else float('nan')):>8.1f} "
                          f"{r['verified']!s:>8}", flush=True)
        print(_summary(n, size_rows), flush=True)
        rows += size_rows
        _write(rows)


def _write(rows: list[dict]) -> None:
    """results/scale.csv: one row per solve (size, family, seed, repeat); this run's rows replace earlier rows of the
    same size (each row's ratios come from references measured in its own run, named in its ``run`` column)."""
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", "scale.csv")
    old = []
    if os.path.exists(path):
        with open(path, newline="", encoding="utf-8") as fh:
            old = [r for r in csv.DictReader(fh) if int(r["in_play"]) not in {x["in_play"] for x in rows}
                   and "family" in r]
    allr = sorted(old + rows, key=lambda r: int(r["in_play"]))
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=sorted({k for r in allr for k in r}))
        w.writeheader()
        w.writerows(allr)
    os.replace(tmp, path)
    from plot_scale import plot_scale

    plot_scale([{k: _num(v) for k, v in r.items()} for r in allr], os.path.join(HERE, "results", "scale.png"))


def _num(v):
    """CSV text back to a number where it is one ('' is None)."""
    if v is None or isinstance(v, (int, float)):
        return v
    if v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return v


if __name__ == "__main__":
    main()
