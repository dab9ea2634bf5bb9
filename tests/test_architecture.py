"""The package's shape (docs/architecture.md): imports run one way only, down the layers
io → rules → model → solvers → analysis → reports → jobs → api/cli; no two modules import each other; every
module opens with a docstring that says its one job; no module is much above 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import cadrex

PKG = Path(cadrex.__file__).parent

#: rank of each top-level part of the package; a module may import only from its own part or a lower rank
LAYERS = {"version": 0, "i18n": 0, "io": 0, "rules": 1, "model": 2, "solvers": 3, "analysis": 4, "reports": 5, "jobs": 6,
          "__init__": 7, "api": 7, "cli": 8}
MAX_LINES = 420
#: modules still being split (issue 12), each capped at its size when the layout landed: the list only shrinks
SPLITTING: dict[str, int] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out["cadrex." + ".".join(parts) if parts != ["__init__"] else "cadrex"] = p
    return out


def _imports(name: str, path: Path) -> set[str]:
    """cadrex modules imported by ``path`` (module-level and inside functions alike)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("cadrex")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.rsplit(".", node.level - 1)[0] if node.level > 1 else pkg
                mod = base + ("." + node.module if node.module else "")
            else:
                mod = node.module or ""
            if mod.startswith("cadrex"):
                mods = _modules()
                for a in node.names:  # "from cadrex.x import y" may name the module cadrex.x.y
                    out.add(f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod)
    return out


def _part(mod: str) -> str:
    parts = mod.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_imports_run_down_the_layers_only():
    mods = _modules()
    bad = []
    for name, path in mods.items():
        here = LAYERS.get(_part(name))
        assert here is not None, f"{name}: its part {_part(name)!r} has no layer in docs/architecture.md"
        for dep in _imports(name, path):
            there = LAYERS.get(_part(dep))
            assert there is not None, f"{name} imports {dep}, which has no layer"
            if there > here:
                bad.append(f"{name} (layer {here}) imports {dep} (layer {there})")
    assert not bad, "\n".join(bad)


def test_no_two_modules_import_each_other():
    mods = _modules()
    deps = {n: {d for d in _imports(n, p) if d in mods and d != n} for n, p in mods.items()}
    pairs = sorted({tuple(sorted((a, b))) for a, ds in deps.items() for b in ds if a in deps.get(b, set())})
    # a package's __init__ re-exporting its own modules is not a cycle between two jobs
    pairs = [(a, b) for a, b in pairs if not (b.startswith(a + ".") or a.startswith(b + "."))]
    assert not pairs, pairs


def test_every_module_says_its_job_and_stays_small():
    long, bare = [], []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if ast.get_docstring(ast.parse(text)) is None:
            bare.append(name)
        if text.count("\n") > SPLITTING.get(name, MAX_LINES):
            long.append(f"{name}: {text.count(chr(10))} lines")
    assert not bare, f"modules without a docstring: {bare}"
    assert not long, f"modules above {MAX_LINES} lines: {long}"
