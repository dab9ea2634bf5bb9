"""Policy files (SPEC §4) and structure models (SPEC §3): TOML with key-level line numbers for messages."""

from __future__ import annotations

import copy
import glob
import os
import re
import tomllib
from pathlib import Path

from cadrex.io.errors import Collector
from cadrex.io.schema import ROLE_MAP

_HEADER = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def models_dir() -> Path:
    """The project's ``models/`` folder (``CADREX_MODELS`` overrides)."""
    env = os.environ.get("CADREX_MODELS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "models" / "policies" / "default.toml").is_file():
            return parent / "models"
    raise FileNotFoundError("cannot find models/policies/default.toml; set CADREX_MODELS to the models folder")


def key_positions(text: str) -> dict[str, tuple[int, int]]:
    """Map dotted key path -> (line, column) of its definition in a TOML text."""
    pos: dict[str, tuple[int, int]] = {}
    table = ""
    for i, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            table = m.group(1).replace(" ", "").replace('"', "")
            pos.setdefault(table, (i, 1))
            continue
        m = _KEY.match(line)
        if m:
            key = m.group(2).strip().replace('"', "").replace("'", "").replace(" ", "")
            full = f"{table}.{key}" if table else key
            pos.setdefault(full, (i, len(m.group(1)) + 1))
    return pos


def read_toml(path: str, out: Collector) -> tuple[dict, dict[str, tuple[int, int]]] | None:
    """Parse a TOML file; a syntax error is reported with its line and column."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        out.add(path, 1, 1, "not UTF-8 text")
        return None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        out.add(path, line, col, f"TOML syntax error: {exc}")
        return None
    return data, key_positions(text)


# ---------------------------------------------------------------- policy (SPEC §4)
WEIGHT_KEYS = ("fit", "hardship", "care", "preference", "assess", "fill", "move", "structure", "flow")
_INT = "int"
_NUM = "number"
_BOOL = "bool"
POLICY_KEYS: dict[str, object] = {
    "scope": ("cross_province", "any"),
    "allow_promotion": _BOOL,
    "promotion_min_years": _NUM,
    "min_years_in_post": _NUM,
    "mandatory_rotation_years": _NUM,
    "retirement_age": _INT,
    "retirement_buffer": _INT,
    "native_avoidance_roles": "roles",
    "grassroots_min_years": _NUM,
    "strict_education": _BOOL,
    "fill_base": _INT,
    "fill_hardship_bonus": _INT,
    "key_post_bonus": _INT,
    "move_cost": _INT,
    "structure_penalty": _INT,
    "age_penalty_per_year": _INT,
    "flow_penalty": _INT,
    "hardship_served_years": _NUM,
    "time_limit": _NUM,
    "seed": _INT,
    "backend": ("highs", "cpsat", "pyomo"),
    "name": "str",
    "description": "str",
}


def _check_value(kind: object, v: object) -> tuple[bool, object, str]:
    if kind == _BOOL:
        return isinstance(v, bool), v, "true or false"
    if kind == _INT:
        return isinstance(v, int) and not isinstance(v, bool), v, "an integer"
    if kind == _NUM:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
        return ok, v, "a non-negative number"
    if kind == "str":
        return isinstance(v, str), v, "a string"
    if kind == "roles":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            return False, v, "a list of roles"
        mapped = [ROLE_MAP.get(x.strip().lower(), ROLE_MAP.get(x.strip())) for x in v]
        if any(m is None for m in mapped):
            return False, v, "a list of roles (party_secretary, government_head, ... or 党委书记, ...)"
        return True, sorted(set(mapped)), ""
    if isinstance(kind, tuple):
        return v in kind, v, "one of " + ", ".join(kind)
    raise AssertionError(kind)


def check_policy(data: dict, pos: dict, path: str, out: Collector) -> dict:
    """Validate policy keys and types; return the normalised overrides."""
    res: dict = {}
    for k, v in data.items():
        line, col = pos.get(k, (1, 1))
        if k == "weights":
            if not isinstance(v, dict):
                out.add(path, line, col, "weights: must be a table of integers")
                continue
            res["weights"] = {}
            for wk, wv in v.items():
                wl, wc = pos.get(f"weights.{wk}", (line, col))
                if wk not in WEIGHT_KEYS:
                    out.add(path, wl, wc, f"unknown policy key 'weights.{wk}' (allowed: {', '.join(WEIGHT_KEYS)})")
                elif not isinstance(wv, int) or isinstance(wv, bool):
                    out.add(path, wl, wc, f"weights.{wk}: {wv!r} is not an integer")
                else:
                    res["weights"][wk] = wv
            continue
        if k not in POLICY_KEYS:
            out.add(path, line, col, f"unknown policy key '{k}' (allowed: {', '.join(list(POLICY_KEYS) + ['weights'])})")
            continue
        ok, norm, what = _check_value(POLICY_KEYS[k], v)
        if not ok:
            out.add(path, line, col, f"{k}: {v!r} is not {what}")
        else:
            res[k] = norm
    return res


def merge_policy(base: dict, over: dict) -> dict:
    res = copy.deepcopy(base)
    for k, v in over.items():
        if k == "weights":
            res.setdefault("weights", {}).update(v)
        else:
            res[k] = v
    return res


def load_policy(case_dir: str, out: Collector, policy_file: str | None = None) -> dict:
    """Default policy, then the case's ``policy.toml``, then ``policy_file`` (SPEC §4 layering)."""
    default_path = str(models_dir() / "policies" / "default.toml")
    policy: dict = {}
    layers = [default_path, os.path.join(case_dir, "policy.toml")]
    if policy_file:
        layers.append(resolve_policy_path(policy_file))
    for i, p in enumerate(layers):
        if not os.path.isfile(p):
            if i == 2:
                out.add(p, 1, 1, "policy file not found")
            continue
        got = read_toml(p, out)
        if got is None:
            continue
        policy = merge_policy(policy, check_policy(got[0], got[1], p, out))
    missing = [k for k in POLICY_KEYS if k not in ("name", "description") and k not in policy]
    if missing:
        out.add(default_path, 1, 1, f"default policy lacks keys: {', '.join(missing)}")
    return policy


def resolve_policy_path(name: str) -> str:
    """A path as given, or the name of a scenario in ``models/policies/`` (``strict`` -> strict.toml)."""
    if os.path.exists(name) or os.sep in name or name.endswith(".toml"):
        return name
    return str(models_dir() / "policies" / f"{name}.toml")


# ---------------------------------------------------------------- structure models (SPEC §3)
COUNT_RULES = ("min_female", "min_young", "min_non_cpc", "min_minority", "min_grassroots")
RULE_NAMES = COUNT_RULES + ("max_same_specialty", "required_specialties", "max_avg_age")
STRUCT_KEYS = set(RULE_NAMES) | {"young_age", "hard"}


def check_structure(data: dict, pos: dict, path: str, out: Collector) -> dict:
    """Validate one structure model; return its ``[rules]`` table normalised."""
    for k in data:
        if k not in ("rules", "name", "description"):
            line, col = pos.get(k, (1, 1))
            out.add(path, line, col, f"unknown structure key '{k}' (rules go in a [rules] table)")
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        out.add(path, 1, 1, "[rules] must be a table")
        return {}
    res: dict = {}
    for k, v in rules.items():
        line, col = pos.get(f"rules.{k}", (1, 1))
        if k not in STRUCT_KEYS:
            out.add(path, line, col, f"unknown structure-rule key '{k}' (allowed: {', '.join(sorted(STRUCT_KEYS))})")
        elif k == "required_specialties":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                out.add(path, line, col, f"{k}: {v!r} is not a list of specialty ids")
            else:
                res[k] = [x.strip() for x in v]
        elif k == "hard":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                out.add(path, line, col, f"hard: {v!r} is not a list of rule names")
                continue
            bad = [x for x in v if x not in RULE_NAMES]
            if bad:
                out.add(path, line, col, f"hard: unknown rule {', '.join(bad)} (allowed: {', '.join(RULE_NAMES)})")
            res[k] = [x for x in v if x in RULE_NAMES]
        elif not isinstance(v, int) or isinstance(v, bool) or v < 0:
            out.add(path, line, col, f"{k}: {v!r} is not a non-negative integer")
        else:
            res[k] = v
    res.setdefault("young_age", 45)
    res.setdefault("hard", [])
    return res


def load_structures(case_dir: str, out: Collector) -> tuple[dict[str, dict], dict[str, str]]:
    """All structure models by name (the case's ``structures/`` wins); also name -> file path."""
    models: dict[str, dict] = {}
    paths: dict[str, str] = {}
    for folder in (str(models_dir() / "structures"), os.path.join(case_dir, "structures")):
        for p in sorted(glob.glob(os.path.join(folder, "*.toml"))):
            got = read_toml(p, out)
            if got is None:
                continue
            name = os.path.splitext(os.path.basename(p))[0]
            models[name] = check_structure(got[0], got[1], p, out)
            paths[name] = p
    return models, paths
