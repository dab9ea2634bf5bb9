"""pytest settings for the notebooks (executed by nbmake): each notebook writes its plans into
``tempfile.mkdtemp(prefix='cadrex-nb-')``. Under pytest that folder is made inside one scratch folder this session
creates and removes at its end, so a test run leaves nothing in the system's temporary folder (before, every run
left six ``cadrex-nb-*`` folders there). Run by hand, a notebook keeps its folder for the analyst to look at."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_SCRATCH: list[str] = []  # the session's scratch folder, made on first use


def _scratch() -> str:
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="cadrex-nb-run-"))
    return _SCRATCH[0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """The notebook's kernel (a child process) inherits TMPDIR, so its mkdtemp lands in the scratch folder."""
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = _scratch()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before


def pytest_sessionfinish(session, exitstatus):
    """Remove the scratch folder: this session made it, and only notebooks wrote into it."""
    if _SCRATCH:
        shutil.rmtree(_SCRATCH.pop(), ignore_errors=True)
