"""Shared fixtures: paths to the worked example, the sample case, and a small case writer."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# test this tree, whatever an editable install elsewhere points at (also for subprocesses the tests start)
sys.path.insert(0, str(ROOT / "solver"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "solver"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
# the tests read English unless they ask for Chinese with --lang zh, whatever the machine's locale
os.environ["CADREX_LANG"] = "en"
SHARED = ROOT.parent / "shared"
TINY = SHARED / "examples" / "tiny"
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture
def tiny_path() -> Path:
    if not TINY.is_dir():
        pytest.skip("../shared/examples/tiny not present")
    return TINY


@pytest.fixture(autouse=True)
def _no_cwd_leak(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield
    os.chdir(ROOT)


def set_cell(case: Path, stem: str, key: str, col: str, value: str) -> None:
    """Set ``col`` of the row whose first column is ``key`` in ``case/stem.csv``."""
    import pandas as pd

    p = case / f"{stem}.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[df.iloc[:, 0] == key, col] = value
    df.to_csv(p, index=False, encoding="utf-8-sig")


@pytest.fixture
def h5_case(tiny_path, tmp_path) -> Path:
    """A copy of the tiny case with one conflict (H1 + H3 + H5): in locality L0002 the government head C000012 must
    move (and can: BJ's party secretary C000021 can leave for SD) while the party secretary's post P000016 is a
    must-fill vacancy, so both heads' posts would change."""
    case = tmp_path / "h5case"
    shutil.copytree(tiny_path, case)
    set_cell(case, "cadres", "C000012", "exchange_kind", "规定性")
    set_cell(case, "cadres", "C000012", "native_province", "GZ")
    set_cell(case, "cadres", "C000021", "years_in_post", "5")
    set_cell(case, "posts", "P000016", "holder_id", "")
    set_cell(case, "posts", "P000016", "must_fill", "是")
    p = case / "structures" / "city_gov.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('hard = ["required_specialties"]', "hard = []"), encoding="utf-8")
    return case


@pytest.fixture
def check_pricing():
    """``check(ctx, cg, seed)``: column generation's reduced costs, cached and uncached, equal c − Aᵀy with the full
    columns of every pair, for random duals y."""
    import numpy as np

    from cadrex.model import pair_columns

    def check(ctx, cg, seed: int) -> None:
        y = np.random.default_rng(seed).normal(0, 50, cg.rows.n)
        r, c, v = pair_columns(ctx, cg.rows, cg.pairs)
        want = cg.obj - np.bincount(c, weights=v * y[r], minlength=len(cg.pairs))
        want[~cg.pairs.ok] = -np.inf
        cached, _ = cg.price(y)
        cg.AT = None
        uncached, _ = cg.price(y)
        assert np.allclose(cached, want) and np.allclose(uncached, want)

    return check


@pytest.fixture
def inject_violation(monkeypatch):
    """After this, the verifier as ``cadrex.jobs.solve`` sees it reports an H3 violation in every plan."""
    import cadrex.jobs.solve as api

    real = api.evaluate

    def broken(case, plan, pol):
        ev = real(case, plan, pol)
        ev.violations.append("H3: post P000001 has two holders (injected)")
        return ev

    monkeypatch.setattr(api, "evaluate", broken)


def said_in_zh(main, argv: list[str], code: int, capsys) -> str:
    """Run the command line again with ``--lang zh``: its exit code must be ``code``; returns what it wrote."""
    assert main([*argv, "--lang", "zh"]) == code
    got = capsys.readouterr()
    return got.out + got.err


# The notebooks (executed by nbmake) write their plans into tempfile.mkdtemp(prefix='cadrex-nb-'). Under pytest that
# folder is made inside one scratch folder this session creates and removes at its end, so a test run leaves nothing
# in the system's temporary folder (every CI run left six cadrex-nb-* folders there). This holds when tests/ is
# collected too (the README's test command, CI): `pytest notebooks/` alone does not load this file. Run by hand, a
# notebook keeps its folder for the analyst to look at. Done here, not in notebooks/conftest.py: a second conftest module would
# shadow this one for the tests' `from conftest import …`.
_NB_SCRATCH: list[str] = []


def pytest_collection_modifyitems(session, config, items):
    """Each notebook's run gets TMPDIR = the session's scratch folder (its kernel, a child process, inherits it)."""
    for item in items:
        if getattr(item, "path", None) is not None and item.path.suffix == ".ipynb":
            item.runtest = _in_scratch(item.runtest)


def _in_scratch(run):
    def runtest():
        if not _NB_SCRATCH:
            _NB_SCRATCH.append(tempfile.mkdtemp(prefix="cadrex-nb-run-"))
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = _NB_SCRATCH[0]
        try:
            return run()
        finally:
            if before is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = before
    return runtest


def pytest_sessionfinish(session, exitstatus):
    """Remove the scratch folder: this session made it, and only the notebooks wrote into it."""
    if _NB_SCRATCH:
        shutil.rmtree(_NB_SCRATCH.pop(), ignore_errors=True)
