"""Shared fixtures: paths to the worked example, the sample case, and a small case writer."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# test this tree, whatever an editable install elsewhere points at (also for subprocesses the tests start)
sys.path.insert(0, str(ROOT / "solver"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "solver"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
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
