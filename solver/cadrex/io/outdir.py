"""Output folders and files: cadrex replaces only what it wrote itself.

Every folder cadrex writes (a plan by ``solve``/``batch``, a case by ``generate``, a batch root by ``batch``) holds a
marker file :data:`MARKER` (``.cadrex-output``), a small JSON object ``{"kind": ..., "tool": "cadrex", "version":
...}``. Before a folder is replaced, :func:`check_out_dir` refuses (raises :class:`OutDirError`, nothing touched)
when the target

- is, or contains, the current working folder;
- is, or contains, a case folder or an input file of the run;
- exists and is not a folder;
- is a non-empty folder without cadrex's marker (a plan folder written by an earlier cadrex is recognised by a
  ``summary.json`` carrying ``version`` and ``input_sha256`` when the folder holds nothing but plan outputs; a
  batch root by an ``index.csv`` with cadrex's columns);
- carries the marker of another kind (a plan never replaces a case or a batch root, and so on).

An empty existing folder and a missing one are fine. A folder *inside* the case folder is allowed (``case/out``).
:func:`replace_dir` moves a finished temporary folder into place and puts the previous output back if that fails.
Report files (``compare --html/--xlsx``) follow :func:`check_out_file`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable

from cadrex.i18n import Msg, Said

log = logging.getLogger(__name__)

MARKER = ".cadrex-output"
KINDS = ("plan", "case", "batch", "robustness", "horizon")  # their names: the catalogue's outkind.*
PLAN_FILES = {"assignments.csv", "posts.csv", "teams.csv", "summary.json", "diagnosis.json", "plan.xlsx", "duals.json",
              # a re-plan's (SPEC §10)
              "changes.csv", "events.csv", "events.xlsx", "frontier.csv", "frontier.svg"}
INDEX_HEADER = "scenario,status,objective,best_bound,gap"
CASE_FILES = {"case.toml", "policy.toml", "structures", "cadres.csv", "posts.csv", "teams.csv", "provinces.csv", "relations.csv",
              "preferences.csv", "pins.csv", "scores.csv", "specialties.csv"}
#: what cadrex writes in a folder it replaces whole: anything else there is the user's, and the folder is kept
ROBUSTNESS_FILES = {"samples.csv", "posts.csv", "cadres.csv", "chains.csv", "summary.json", "report.html", "samples"}
HORIZON_FILES = {"timeline.csv", "summary.json", "diagnosis.json", "report.html", "myopic"} | {f"year-{t}" for t in range(1, 11)}
OWN_FILES = {"plan": PLAN_FILES | {MARKER}, "case": CASE_FILES | {MARKER}, "robustness": ROBUSTNESS_FILES | {MARKER},
             "horizon": HORIZON_FILES | {MARKER}}


class OutDirError(Said, ValueError):
    """An output path cadrex refuses to write: ``message`` (a catalogue message; ``en``/``zh`` its two texts,
    ``str()`` the English one)."""

    def __init__(self, path: str, message: Msg):
        self.path, self.message = path, message
        super().__init__(str(message))


def marker_text(kind: str) -> str:
    """The marker's content (deterministic: no time stamp, so generated cases stay byte-identical)."""
    from cadrex.version import __version__

    return json.dumps({"kind": kind, "tool": "cadrex", "version": __version__}, sort_keys=True) + "\n"


def write_marker(folder: str | os.PathLike, kind: str) -> None:
    """Mark ``folder`` as written by cadrex (kind ``plan``, ``case`` or ``batch``)."""
    with open(os.path.join(os.fspath(folder), MARKER), "w", encoding="utf-8") as fh:
        fh.write(marker_text(kind))


def written_by_cadrex(folder: str | os.PathLike) -> str | None:
    """The kind of a folder cadrex wrote (``plan``, ``case``, ``batch``), or None when cadrex did not write it."""
    folder = os.fspath(folder)
    try:
        with open(os.path.join(folder, MARKER), encoding="utf-8") as fh:
            m = json.load(fh)
        if isinstance(m, dict) and m.get("tool") == "cadrex" and m.get("kind") in KINDS:
            return str(m["kind"])
    except (OSError, ValueError):
        pass
    return _legacy_kind(folder)


def _legacy_kind(folder: str) -> str | None:
    """Outputs written before the marker existed: a plan folder holding only plan files with a cadrex summary, or a
    batch root with cadrex's ``index.csv``."""
    try:
        names = set(os.listdir(folder))
    except OSError:
        return None
    if "summary.json" in names and names <= PLAN_FILES:
        try:
            with open(os.path.join(folder, "summary.json"), encoding="utf-8") as fh:
                s = json.load(fh)
        except (OSError, ValueError):
            return None
        if isinstance(s, dict) and "version" in s and "input_sha256" in s:
            return "plan"
    if "index.csv" in names:
        try:
            with open(os.path.join(folder, "index.csv"), encoding="utf-8-sig") as fh:
                head = fh.readline().strip()
        except (OSError, ValueError):
            return None
        if head.startswith(INDEX_HEADER):
            return "batch"
    return None


def _real(p: str | os.PathLike) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(p)))


def _within(inner: str, outer: str) -> bool:
    """``inner`` is ``outer`` or lies below it (both real paths)."""
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def check_out_dir(out: str | os.PathLike, kind: str, case_dirs: Iterable[str | os.PathLike | None] = (),
                  input_files: Iterable[str | os.PathLike | None] = (), option: str = "--out") -> str:
    """Check that cadrex may (re)place folder ``out`` with a ``kind`` output; return its absolute path.

    Raises :class:`OutDirError` (nothing is touched) for the cases listed in the module docstring."""
    path = os.path.abspath(os.fspath(out))
    real = _real(path)
    show = os.fspath(out)

    def refuse(why: Msg) -> OutDirError:
        return OutDirError(path, Msg("outdir.folder", show=show, why=why, option=option))

    cwd = _real(os.getcwd())
    if cwd == real:
        raise refuse(Msg("outdir.cwd"))
    if _within(cwd, real):
        raise refuse(Msg("outdir.contains_cwd", cwd=cwd))
    inputs = [(c, "outdir.is_case", "outdir.the_case") for c in case_dirs if c]
    inputs += [(f, "outdir.is_input", "outdir.the_input") for f in input_files if f]
    for item, is_id, what_id in inputs:
        ri = _real(item)
        if ri == real:
            raise refuse(Msg(is_id))
        if _within(ri, real):
            raise refuse(Msg("outdir.contains", what=Msg(what_id), item=item))
    if os.path.islink(path):
        raise refuse(Msg("outdir.symlink"))
    if os.path.lexists(path) and not os.path.isdir(path):
        raise refuse(Msg("outdir.not_folder"))
    if os.path.isdir(path) and os.listdir(path):
        got = written_by_cadrex(path)
        if got is None:
            raise refuse(Msg("outdir.foreign", marker=MARKER))
        if got != kind:
            raise refuse(Msg("outdir.other_kind", got=Msg(f"outkind.{got}"), want=Msg(f"outkind.{kind}")))
        foreign = sorted(set(os.listdir(path)) - OWN_FILES[kind]) if kind in OWN_FILES else []
        if foreign:
            names = ", ".join(foreign[:5]) + (f" … ({len(foreign)})" if len(foreign) > 5 else "")
            raise refuse(Msg("outdir.foreign_files", names=names))
    return path


def replace_dir(tmp: str, out: str) -> None:
    """Move the finished folder ``tmp`` to ``out`` (same parent). The previous ``out`` is renamed aside first and
    removed only after the new one is in place; if the final rename fails, it is put back."""
    parent, base = os.path.dirname(out), os.path.basename(out)
    old = None
    if os.path.lexists(out):
        old = tempfile.mkdtemp(prefix=f".{base}.old-", dir=parent)
        os.rmdir(old)
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        if old is not None:
            try:
                os.rename(old, out)
            except OSError:  # pragma: no cover - the previous output is kept under its aside name
                log.error("could not restore %s; the previous output is in %s / 无法恢复 %s，原输出保存在 %s",
                          out, old, out, old)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike, kind: str, case_dirs: Iterable[str | os.PathLike | None] = (),
               input_files: Iterable[str | os.PathLike | None] = ()):
    """Write a ``kind`` output folder atomically: checks ``out`` (:func:`check_out_dir`, nothing touched on
    refusal), yields a fresh temporary folder beside it to fill, then marks it and moves it into place
    (:func:`replace_dir`); on any error the temporary folder is removed and ``out`` is left as it was."""
    from cadrex.io.plan import _umask

    out = check_out_dir(out, kind, case_dirs=case_dirs, input_files=input_files)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; outputs are ordinary folders
    try:
        yield tmp
        write_marker(tmp, kind)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_out_file(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (),
                   case_dirs: Iterable[str | os.PathLike | None] = (),
                   ours: Callable[[str], bool] = lambda p: False, option: str = "--html") -> str:
    """Check that cadrex may write report file ``path``; return its absolute path.

    Refused (:class:`OutDirError`): a folder; one of ``inputs`` (files the command reads); an existing file in a
    case folder; any other existing file for which ``ours(path)`` (cadrex's own marker) is false."""
    p = os.path.abspath(os.fspath(path))
    real = _real(p)
    show = os.fspath(path)

    def refuse(why: Msg) -> OutDirError:
        return OutDirError(p, Msg("outdir.file", show=show, why=why, option=option))

    if os.path.isdir(p):
        raise refuse(Msg("outdir.is_folder"))
    if any(_real(i) == real for i in inputs):
        raise refuse(Msg("outdir.is_input_file"))
    if not os.path.lexists(p):
        return p
    for c in case_dirs:
        if c and _within(real, _real(c)):
            raise refuse(Msg("outdir.in_case", c=c))
    if not os.path.isfile(p) or not ours(p):
        raise refuse(Msg("outdir.not_ours"))
    return p


def plain_name_problem(name: object) -> Msg | None:
    """Why ``name`` is not a plain folder name (a catalogue message), or None when it is one."""
    if not isinstance(name, str) or not name.strip():
        return Msg("name.empty")
    bad = [s for s in ("/", "\\", "\0") if s in name]
    if bad or name in (".", "..") or name.startswith("."):
        return Msg("name.not_plain", name=repr(name))
    if name == "index.csv":
        return Msg("name.reserved")
    if any(not ch.isprintable() for ch in name) or name != name.strip():
        return Msg("name.control", name=repr(name))
    return None


__all__ = ["MARKER", "OutDirError", "check_out_dir", "check_out_file", "plain_name_problem", "replace_dir",
           "write_marker", "written_by_cadrex"]
