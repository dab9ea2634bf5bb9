"""benchmarks/relax_rows.py (where a master's integrality gap sits) on a small `tight` case: what it prints obeys
the relations every relaxation must (an LP without rows is at least the LP with them; HiGHS's root bound lies
between its plan and the LP), and the rules it leaves out are disjoint parts of the master's rows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cadrex.jobs.generate import generate_case

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "relax_rows.py"


@pytest.mark.parametrize("seed", [3])
def test_relax_rows_table_obeys_relaxation_order(tmp_path, seed):
    case = tmp_path / "case"
    generate_case(str(case), 150, seed, family="tight")
    out = subprocess.run([sys.executable, str(SCRIPT), str(case), "--cap", "10"], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("rows left out"))
    table = {}
    for ln in lines[start + 1:]:
        f = ln.split()
        table[f[0]] = (int(f[1]), float(f[2]), float(f[3]), float(f[6]))
    assert "none" in table and {"min_female", "min_young", "max_avg_age"} <= set(table), out
    n0, lp0, _, _ = table["none"]
    assert n0 == 0
    total = int(re.search(r"columns, (\d+) rows", out).group(1))
    assert sum(n for n, *_ in table.values()) < total, out  # each rule's own rows, each row of one rule
    for rule, (n, lp, root, plan) in table.items():
        assert plan <= root + 1e-6 <= lp + 1e-3, (rule, out)  # a plan, the root bound, the LP: in that order
        if rule != "none":
            assert n > 0, (rule, out)
            assert lp >= lp0 - 1e-6, (rule, out)  # fewer rows: a larger LP (a maximization)
