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

log = logging.getLogger(__name__)

MARKER = ".cadrex-output"
KINDS = {"plan": ("plan", "方案"), "case": ("case", "案例"), "batch": ("batch", "批量运行"),
         "robustness": ("robustness report", "稳健性报告"), "horizon": ("multi-year plan", "多年度方案")}
PLAN_FILES = {"assignments.csv", "posts.csv", "teams.csv", "summary.json", "diagnosis.json", "plan.xlsx",
              # a re-plan's (SPEC §10)
              "changes.csv", "events.csv", "events.xlsx", "frontier.csv", "frontier.svg"}
INDEX_HEADER = "scenario,status,objective,best_bound,gap"
CASE_FILES = {"case.toml", "policy.toml", "cadres.csv", "posts.csv", "teams.csv", "provinces.csv", "relations.csv",
              "preferences.csv", "pins.csv", "scores.csv", "specialties.csv"}
#: what cadrex writes in a folder it replaces whole: anything else there is the user's, and the folder is kept
ROBUSTNESS_FILES = {"samples.csv", "posts.csv", "cadres.csv", "chains.csv", "summary.json", "report.html", "samples"}
HORIZON_FILES = {"timeline.csv", "summary.json", "report.html", "myopic"} | {f"year-{t}" for t in range(1, 11)}
OWN_FILES = {"plan": PLAN_FILES | {MARKER}, "case": CASE_FILES | {MARKER}, "robustness": ROBUSTNESS_FILES | {MARKER},
             "horizon": HORIZON_FILES | {MARKER}}


class OutDirError(ValueError):
    """An output path cadrex refuses to write; ``str()`` gives the English and the Chinese message."""

    def __init__(self, path: str, en: str, zh: str):
        self.path, self.en, self.zh = path, en, zh
        super().__init__(f"{en} / {zh}")


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
    what_en, what_zh = KINDS[kind]
    show = os.fspath(out)

    def refuse(en: str, zh: str) -> OutDirError:
        return OutDirError(path, f"output folder {show} {en}; choose another {option}",
                           f"输出目录 {show} {zh}，请另选 {option}")

    cwd = _real(os.getcwd())
    if cwd == real:
        raise refuse("is the current working folder", "就是当前工作目录")
    if _within(cwd, real):
        raise refuse(f"contains the current working folder {cwd}", f"包含当前工作目录 {cwd}")
    inputs = [(c, "is the case folder", "就是案例目录", "the case folder", "案例目录") for c in case_dirs if c]
    inputs += [(f, "is an input file", "是输入文件", "the input file", "输入文件") for f in input_files if f]
    for item, is_en, is_zh, what_en_, what_zh_ in inputs:
        ri = _real(item)
        if ri == real:
            raise refuse(is_en, is_zh)
        if _within(ri, real):
            raise refuse(f"contains {what_en_} {item}", f"包含{what_zh_} {item}")
    if os.path.islink(path):
        raise refuse("is a symbolic link (cadrex replaces real folders only)", "是符号链接（cadrex 只替换真实目录）")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise refuse("exists and is not a folder", "已存在且不是目录")
    if os.path.isdir(path) and os.listdir(path):
        got = written_by_cadrex(path)
        if got is None:
            raise refuse(f"is not empty and was not written by cadrex (no {MARKER} marker)",
                         f"不是空目录，且不是 cadrex 写出的（没有 {MARKER} 标记）")
        if got != kind:
            raise refuse(f"was written by cadrex as a {KINDS[got][0]} folder, not a {what_en} folder",
                         f"是 cadrex 写出的{KINDS[got][1]}目录，不是{what_zh}目录")
        foreign = sorted(set(os.listdir(path)) - OWN_FILES[kind]) if kind in OWN_FILES else []
        if foreign:
            names = ", ".join(foreign[:5]) + (f" … ({len(foreign)} in all)" if len(foreign) > 5 else "")
            raise refuse(f"holds files cadrex did not write ({names}); move them out first",
                         f"含有非 cadrex 写出的文件（{names}），请先移走")
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

    def refuse(en: str, zh: str) -> OutDirError:
        return OutDirError(p, f"output file {show} {en}; choose another {option}", f"输出文件 {show} {zh}，请另选 {option}")

    if os.path.isdir(p):
        raise refuse("is a folder", "是一个目录")
    if any(_real(i) == real for i in inputs):
        raise refuse("is one of the inputs", "是输入文件之一")
    if not os.path.lexists(p):
        return p
    for c in case_dirs:
        if c and _within(real, _real(c)):
            raise refuse(f"is a file of the case folder {c}", f"是案例目录 {c} 中的文件")
    if not os.path.isfile(p) or not ours(p):
        raise refuse("exists and was not written by cadrex", "已存在且不是 cadrex 写出的")
    return p


def plain_name_problem(name: object) -> str | None:
    """Why ``name`` is not a plain folder name (English / Chinese), or None when it is one."""
    if not isinstance(name, str) or not name.strip():
        return "must be a non-empty text / 必须是非空文本"
    bad = [s for s in ("/", "\\", "\0") if s in name]
    if bad or name in (".", "..") or name.startswith("."):
        return (f"{name!r} is not a plain name (no path separators, no '..', not starting with '.') / "
                f"{name!r} 不是简单名称（不得含路径分隔符或 '..'，不得以 '.' 开头）")
    if name == "index.csv":
        return "'index.csv' is reserved for the batch index / 'index.csv' 保留给批量运行索引"
    if any(not ch.isprintable() for ch in name) or name != name.strip():
        return (f"{name!r} has control characters or leading/trailing spaces / "
                f"{name!r} 含控制字符或首尾空格")
    return None


__all__ = ["MARKER", "OutDirError", "check_out_dir", "check_out_file", "plain_name_problem", "replace_dir",
           "write_marker", "written_by_cadrex"]
