"""The backend contract (cadrex.solvers.base), run over every backend as PyJobShop does: the same optimum, progress
reported, the gap honoured, a hint passed on, and an option a backend does not honour rejected with a clear error
(exit 2 on the command line), never silently ignored."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import said_in_zh

import cadrex
from cadrex.cli import main
from cadrex.model import build_model
from cadrex.rules import Context
from cadrex.solvers import SolveOptions, Status, UnsupportedOption, get_backend
from cadrex.solvers.base import OptionError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
BACKENDS = ["highs", "cpsat", "pyomo"]


@pytest.fixture(scope="module")
def sample():
    return cadrex.load_case(str(SAMPLE))


@pytest.fixture(scope="module")
def optimum(sample) -> int:
    return cadrex.solve(sample, backend="highs", time_limit=60).objective


@pytest.fixture(scope="module")
def case60(tmp_path_factory):
    from cadrex.jobs.generate import generate_case

    out = tmp_path_factory.mktemp("g") / "case60"
    generate_case(str(out), 60, 1)
    return cadrex.load_case(str(out))


def _model(case):
    return build_model(Context(case, case.policy))


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_optimum_on_the_sample(backend, sample, optimum):
    r = get_backend(backend).solve(_model(sample), SolveOptions(time_limit=60))
    assert r.status is Status.OPTIMAL and round(r.objective) == optimum
    res = cadrex.solve(sample, backend=backend, time_limit=60)
    assert res.objective == optimum and res.status is Status.OPTIMAL
    # typed in the API, the plain string in summary.json
    assert type(res.summary["status"]) is str and json.dumps(res.status) == '"optimal"' and f"{res.status}" == "optimal"


@pytest.mark.parametrize("backend", BACKENDS)
def test_progress_is_reported(backend, case60):
    calls = []
    res = cadrex.solve(case60, backend=backend, time_limit=60, progress=lambda *a: calls.append(a))
    assert res.status in ("optimal", "feasible")
    assert calls, f"{backend}: progress never called"
    for elapsed, obj, bound in calls:
        assert elapsed >= 0
        assert obj is None or math.isfinite(obj)
        assert bound is None or math.isfinite(bound)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gap_is_honoured(backend, case60):
    """A gap of 30 % stops the search early: a plan within the gap, not proven optimal (all three backends are
    deterministic with the default seed and workers)."""
    res = cadrex.solve(case60, backend=backend, time_limit=60, gap=0.3)
    assert res.gap is not None and 0 < res.gap <= 0.3, (backend, res.status, res.gap)
    assert res.status == "feasible" and res.summary["gap"] == res.gap


@pytest.mark.parametrize("backend", BACKENDS)
def test_hint_is_passed_on(backend, sample, optimum, monkeypatch):
    model = _model(sample)
    best = get_backend("highs").solve(model, SolveOptions(time_limit=60))
    seen = []
    if backend == "cpsat":
        from ortools.sat.python import cp_model

        real = cp_model.CpModel.add_hint
        monkeypatch.setattr(cp_model.CpModel, "add_hint", lambda self, v, x: (seen.append(x), real(self, v, x)))
    else:
        import highspy

        real = highspy.Highs.setSolution
        monkeypatch.setattr(highspy.Highs, "setSolution", lambda self, *a: (seen.append(a), real(self, *a))[1])
    r = get_backend(backend).solve(model, SolveOptions(time_limit=60, hint=best.x))
    assert seen, f"{backend}: the hint never reached the solver"
    assert round(r.objective) == optimum


@pytest.mark.parametrize("backend", BACKENDS)
def test_unsupported_option_is_rejected(backend, sample, tmp_path, monkeypatch, capsys):
    """Every option a backend does not declare in SUPPORTS is refused before solving: API, backend and CLI (exit 2,
    English and Chinese, nothing written)."""
    handle = get_backend(backend)
    monkeypatch.setattr(handle.module, "SUPPORTS", handle.module.SUPPORTS - {"gap"})
    with pytest.raises(UnsupportedOption, match=f"--gap is not supported by backend {backend}"):
        get_backend(backend).solve(_model(sample), SolveOptions(gap=0.1))
    with pytest.raises(ValueError, match="--gap is not supported"):
        cadrex.solve(sample, backend=backend, gap=0.1, method="full")
    out = tmp_path / "o"
    assert main(["solve", str(SAMPLE), "--out", str(out), "--backend", backend, "--gap", "10%", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--gap is not supported by backend {backend}" in err
    zh = said_in_zh(main, ["solve", str(SAMPLE), "--out", str(out), "--backend", backend, "--gap", "10%", "--quiet"], 2,
                    capsys)
    assert f"后端 {backend} 不支持 --gap" in zh
    assert not out.exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_stop_bound_only_where_honoured(backend, sample):
    model = _model(sample)
    handle = get_backend(backend)
    if "stop_bound" in handle.supports:
        r = handle.solve(model, SolveOptions(time_limit=60, stop_bound=1e9))
        assert r.x is not None
    else:
        with pytest.raises(UnsupportedOption, match=f"--stop-bound is not supported by backend {backend}"):
            handle.solve(model, SolveOptions(time_limit=60, stop_bound=1e9))


def test_num_workers_1_runs_column_generation_on_one_core(sample, tmp_path, monkeypatch):
    """--num-workers 1 under column generation: every master LP solve by the serial dual simplex and pricing on one
    thread, the default restored afterwards; the default (and 2) on both cores; the same optimum either way."""
    from cadrex.solvers.cg import master, pricing

    seen = []
    real = master.MasterLP.run_master

    def spy(self, end, cap=None):
        seen.append((master.PARALLEL_RESOLVES, pricing.THREADS))
        return real(self, end, cap)
    monkeypatch.setattr(master.MasterLP, "run_master", spy)
    one = cadrex.solve(sample, method="cg", num_workers=1, gap=0)
    assert seen and set(seen) == {(False, 1)}
    assert (master.PARALLEL_RESOLVES, pricing.THREADS) == (True, 2)  # restored
    seen.clear()
    both = cadrex.solve(sample, method="cg", num_workers=2, gap=0)
    assert seen and set(seen) == {(True, 2)}
    assert one.status == both.status == "optimal" and one.objective == both.objective
    out = tmp_path / "o"
    assert main(["solve", str(SAMPLE), "--out", str(out), "--method", "cg", "--num-workers", "1", "--quiet"]) == 0


def test_invalid_option_values_are_rejected():
    with pytest.raises(OptionError, match="--gap must be"):
        SolveOptions(gap=-0.1)
    with pytest.raises(OptionError, match="--num-workers must be at least 1"):
        SolveOptions(num_workers=0)


def test_keyword_entry_points_kept(sample):
    from cadrex.solvers.highs import new_highs, pass_model, silence_stdout, solve_model  # noqa: F401

    r = solve_model(_model(sample), time_limit=30, seed=0, gap=0.0)
    assert r.status == "optimal" and isinstance(r.status, Status)
    r = get_backend("cpsat")(_model(sample), time_limit=30, seed=0)  # the keyword form explain uses
    assert r.status is Status.OPTIMAL


def test_highs_guard_is_not_used_in_a_daemonic_process(tiny_path, monkeypatch):
    """A Dask worker is daemonic and may not start the guarded child: a large MIP there runs in process (robustness
    at 2,000 in play lost a sample to "daemonic processes are not allowed to have children")."""
    import multiprocessing

    import cadrex.solvers.highs.translate as tr
    from cadrex.model import build_model
    from cadrex.rules import Context

    model = build_model(Context(cadrex.load_case(tiny_path)))
    monkeypatch.setattr(tr, "GUARD_ABOVE", 1)  # the tiny model counts as large
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    called = []
    monkeypatch.setattr(tr, "_solve_guarded", lambda *a, **k: called.append(1))
    r = tr.solve_model(model, time_limit=30)
    assert not called and r.status == "optimal"


def test_a_full_model_through_the_backend_contract_is_guarded_from_full_guard_above(tiny_path, monkeypatch):
    """The user's time limit holds for a full model of FULL_GUARD_ABOVE variables or more: it runs in the guarded
    child (killed at the deadline), while a sub-MIP through ``solve_model`` keeps the larger GUARD_ABOVE."""
    import cadrex.solvers.highs.translate as tr
    from cadrex.solvers import BackendResult, SolveOptions

    assert tr.FULL_GUARD_ABOVE <= 125_604 < tr.GUARD_ABOVE  # the newcomer's full model that overran its limit
    model = build_model(Context(cadrex.load_case(tiny_path)))
    called = []
    monkeypatch.setattr(tr, "_solve_guarded", lambda *a, **k: called.append(1) or BackendResult("optimal", None, 0, 0, 0))
    for above, want in ((model.n_vars, [1]), (model.n_vars + 1, [])):
        called.clear()
        monkeypatch.setattr(tr, "FULL_GUARD_ABOVE", above)
        tr.solve(model, SolveOptions(time_limit=30))
        assert called == want
    monkeypatch.setattr(tr, "FULL_GUARD_ABOVE", 1)
    called.clear()
    assert tr.solve_model(model, time_limit=30).status == "optimal" and not called  # GUARD_ABOVE for sub-MIPs


def test_guarded_child_from_a_script_without_main_guard(tmp_path):
    """A user's script that calls a large solve at top level (no ``if __name__ == "__main__":``): the spawned HiGHS
    child must not re-import it (it used to die there and leave the caller blocked for ever)."""
    import subprocess
    import sys

    from conftest import ROOT, SAMPLE

    script = tmp_path / "plain_script.py"
    script.write_text("import cadrex\nfrom cadrex.model import build_model\nfrom cadrex.rules import Context\n"
                      "from cadrex.solvers.highs.translate import solve_model\n"
                      f"m = build_model(Context(cadrex.load_case({str(SAMPLE)!r})))\n"
                      "r = solve_model(m, time_limit=20, guard=True)\nprint('STATUS', r.status)\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "solver")})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "STATUS optimal" in out.stdout


def test_a_highs_option_highs_refuses_is_said_not_hidden(sample, optimum, caplog):
    """An extra HiGHS option HiGHS does not know (as after a rename in another release) is logged as a warning and
    the solve still runs; a known one is taken silently."""
    from cadrex.solvers.highs import solve_model

    m = build_model(Context(sample, sample.policy))
    with caplog.at_level("WARNING"):
        r = solve_model(m, time_limit=60, options={"no_such_option_in_highs": 1, "presolve": "off"})
    assert r.status == "optimal" and r.objective == optimum
    said = [x.getMessage() for x in caplog.records if x.levelname == "WARNING"]
    assert any("no_such_option_in_highs" in x for x in said) and not any("presolve" in x for x in said)


def test_guarded_child_stops_when_its_parent_is_killed(tmp_path):
    """A guarded HiGHS child whose parent dies (SIGKILL: no cleanup in the parent) stops within seconds instead of
    running on both cores to its time limit. The MIP is a market-split instance HiGHS does not solve in minutes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    script = tmp_path / "parent.py"
    pids = tmp_path / "child.pid"
    script.write_text(f"""
import multiprocessing, os, threading, time, types
import numpy as np, scipy.sparse as sp
from cadrex.solvers.highs.translate import solve_model
if __name__ == "__main__":
    rng = np.random.default_rng(0)
    a = rng.integers(0, 100, (5, 40)).astype(float)
    rhs = np.floor(a.sum(1) / 2)
    M = types.SimpleNamespace(A=sp.csr_matrix(a), obj=np.zeros(40), lb=np.zeros(40), ub=np.ones(40), row_lo=rhs,
                              row_hi=rhs, integer=np.ones(40, np.int8), offset=0.0, n_vars=40, n_rows=5)
    M.objective_of = lambda x: 0.0
    def tell():
        while not multiprocessing.active_children():
            time.sleep(0.1)
        time.sleep(3.0)  # the child is solving
        open({str(pids)!r} + ".tmp", "w").write(str(multiprocessing.active_children()[0].pid))
        os.replace({str(pids)!r} + ".tmp", {str(pids)!r})  # whole, or not there yet
    threading.Thread(target=tell, daemon=True).start()
    solve_model(M, time_limit=300, guard=True)
""", encoding="utf-8")

    def running(pid: int) -> bool:  # alive and not a zombie
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    parent = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "solver")})
    try:
        t0 = time.monotonic()
        while not pids.exists() and time.monotonic() - t0 < 120:
            time.sleep(0.2)
        child = int(pids.read_text())
        assert parent.poll() is None and running(child)  # both at work when the parent is killed
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        t1 = time.monotonic()
        while running(child) and time.monotonic() - t1 < 30:
            time.sleep(0.2)
        assert not running(child), "the child still runs 30 s after its parent was killed"
    finally:
        if parent.poll() is None:
            parent.kill()
        if pids.exists() and running(int(pids.read_text())):
            os.kill(int(pids.read_text()), signal.SIGKILL)
