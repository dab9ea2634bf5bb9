"""Explain at national scale (issue 17): ``cadrex explain`` of a few cadres and a post on generated cases of several
families, each query in a fresh process (time and peak memory of that process), against references measured in
the same run on the same case and plan:

  (a) ``cadrex verify`` of the plan (reads the case and re-checks every rule: the floor of any question about it);
  (b) the full-model path explain used before (``LOCAL_ABOVE`` raised above the case), for the first query of each
      case only (it takes half a minute and gigabytes at 2,000 in play).

    python benchmarks/explain.py --cadres 2000 --families base,tight,vacancies --queries 3

Per query: seconds, peak MB, x verify, and its forced pairs: how many got an interval with both ends, how many are
exact, and the median width (high - low). Then the median and the worst over all queries, against the issue 17
target (5 s, 1 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FULL = "import sys; import cadrex.analysis.explain as e; e.LOCAL_ABOVE = 10**12; from cadrex.cli import main; sys.exit(main(sys.argv[1:]))"
CLI = "import sys; from cadrex.cli import main; sys.exit(main(sys.argv[1:]))"


def run(code: str, args: list[str]) -> tuple[float, float, str]:
    """Seconds, peak MB of that one process, and its stdout."""
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{args}: exit {os.waitstatus_to_exitcode(status)}")
    return secs, ru.ru_maxrss / 1024, out


def _median(v: list[float]) -> float:
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def _forced(d: dict) -> str:
    f = [r["forced"] for r in d["eligible"] if r.get("forced")]
    both = [x for x in f if x["low"] is not None and x["high"] is not None]
    exact = sum(1 for x in f if x["exact"])
    width = _median([x["high"] - x["low"] for x in both]) if both else float("nan")
    return f"{len(f)} forced, {len(both)} with both ends, {exact} exact, median width {width:.0f}"


def main() -> None:
    from cadrex.jobs.families import FAMILIES

    ap = argparse.ArgumentParser()
    ap.add_argument("--cadres", type=int, default=2000)
    ap.add_argument("--families", default="base,tight,vacancies", help=f"comma-separated, or 'all' ({', '.join(FAMILIES)})")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=3, help="cadres explained per case (plus one post)")
    ap.add_argument("--gap", default=None, help="the solve's --gap (default: cadrex's default)")
    a = ap.parse_args()
    families = list(FAMILIES) if a.families == "all" else a.families.split(",")
    secs, mbs = [], []
    print(f"{'family':>13} {'query':>16} {'s':>6} {'MB':>6} {'x verify':>8}  forced pairs")
    for fam in families:
        root = tempfile.mkdtemp(prefix=f"cadrex-explain-{fam}-")
        case, plan = os.path.join(root, "case"), os.path.join(root, "plan")
        run(CLI, ["generate", "--cadres", str(a.cadres), "--seed", str(a.seed), "--family", fam, case])
        run(CLI, ["solve", case, "--out", plan, "--time-limit", "600", *(["--gap", a.gap] if a.gap else [])])
        v_s, v_mb, _ = run(CLI, ["verify", case, plan])
        import pandas as pd

        assign = pd.read_csv(os.path.join(plan, "assignments.csv"), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        moves = assign[assign["action"] == "move"]
        queries = [["--cadre", c] for c in moves["cadre_id"].iloc[:: max(1, len(moves) // a.queries)][: a.queries]]
        queries.append(["--post", moves["to_post"].iloc[0]])
        print(f"{fam:>13} {'verify':>16} {v_s:6.1f} {v_mb:6.0f} {1.0:8.1f}")
        for i, q in enumerate(queries):
            s, mb, out = run(CLI, ["explain", case, "--plan", plan, *q, "--json"])
            secs.append(s)
            mbs.append(mb)
            print(f"{fam:>13} {' '.join(q):>16} {s:6.1f} {mb:6.0f} {s / v_s:8.1f}  {_forced(json.loads(out))}", flush=True)
            if i == 0:
                s2, mb2, out2 = run(FULL, ["explain", case, "--plan", plan, *q, "--json"])
                print(f"{fam:>13} {'(full model)':>16} {s2:6.1f} {mb2:6.0f} {s2 / v_s:8.1f}  {_forced(json.loads(out2))}",
                      flush=True)
    print(f"explain, {len(secs)} queries: median {_median(secs):.1f} s, worst {max(secs):.1f} s; peak MB median "
          f"{_median(mbs):.0f}, worst {max(mbs):.0f}; target <= 5 s: {'yes' if _median(secs) <= 5 else 'NO'} (median), "
          f"<= 1 GB: {'yes' if max(mbs) <= 1024 else 'NO'} (worst)")


if __name__ == "__main__":
    main()
