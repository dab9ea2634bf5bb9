"""Policy files (SPEC §4) and structure models (SPEC §3): TOML with key-level line numbers for messages."""

from __future__ import annotations

import copy
import glob
import math
import os
import re
import tomllib
from pathlib import Path

from cadrex.i18n import Msg
from cadrex.io.errors import Collector
from cadrex.io.schema import ROLE_MAP
from cadrex.io.tables import decode_failure

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


def _skip_string(lines: list[str], i: int, c: int) -> tuple[int, int]:
    """Position just after the TOML string that opens at ``lines[i][c]`` (basic, literal, or multi-line)."""
    q = lines[i][c]
    if lines[i][c:c + 3] == q * 3:
        c += 3
        while i < len(lines):
            k = lines[i].find(q * 3, c)
            while q == '"' and k > 0 and lines[i][k - 1] == "\\":
                k = lines[i].find(q * 3, k + 1)
            if k >= 0:
                return i, k + 3
            i, c = i + 1, 0
        return i, 0
    c += 1
    line = lines[i]
    while c < len(line):
        if q == '"' and line[c] == "\\":
            c += 2
            continue
        if line[c] == q:
            return i, c + 1
        c += 1
    return i, c


def _array_items(lines: list[str], i: int, c: int) -> list[tuple[int, int]]:
    """1-based (line, column) of each top-level item of the TOML array whose ``[`` is at ``lines[i][c]``."""
    items: list[tuple[int, int]] = []
    depth, expect = 0, False
    while i < len(lines):
        line = lines[i]
        while c < len(line):
            ch = line[c]
            if ch == "#":
                break
            if depth == 1 and expect and ch not in " \t,]":
                items.append((i + 1, c + 1))
                expect = False
            if ch in "\"'":
                ni, c = _skip_string(lines, i, c)
                if ni != i:
                    i, line = ni, lines[ni] if ni < len(lines) else ""
                continue
            if ch in "[{":
                depth += 1
                expect = expect or depth == 1
            elif ch in "]}":
                depth -= 1
                if depth == 0:
                    return items
            elif ch == "," and depth == 1:
                expect = True
            c += 1
        i, c = i + 1, 0
    return items


def key_positions(text: str) -> dict[str, tuple[int, int]]:
    """Map dotted key path -> (line, column) of its definition in a TOML text; the items of an array value are
    also located, as ``key[0]``, ``key[1]``, ..."""
    pos: dict[str, tuple[int, int]] = {}
    table = ""
    lines = text.splitlines()
    for i, line in enumerate(lines, start=1):
        m = _HEADER.match(line)
        if m:
            table = m.group(1).replace(" ", "").replace('"', "")
            pos.setdefault(table, (i, 1))
            continue
        m = _KEY.match(line)
        if m:
            key = m.group(2).strip().replace('"', "").replace("'", "").replace(" ", "")
            full = f"{table}.{key}" if table else key
            if full in pos:
                continue
            pos[full] = (i, len(m.group(1)) + 1)
            rest = line[m.end():]
            if rest.lstrip().startswith("["):
                start = m.end() + len(rest) - len(rest.lstrip())
                for n, at in enumerate(_array_items(lines, i - 1, start)):
                    pos[f"{full}[{n}]"] = at
    return pos


def read_toml(path: str, out: Collector) -> tuple[dict, dict[str, tuple[int, int]]] | None:
    """Parse a TOML file; a syntax error is reported with its line and column."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        out.add(path, 1, 1, Msg("toml.cannot_read", error=str(exc.strerror or exc)))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        out.add(path, *decode_failure(raw, gb18030=False))
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        last = text.rstrip().split("\n")  # tomllib gives no position at the end of the document: its last line's end
        line, col = ((int(m.group(1)), int(m.group(2))) if m else
                     (len(last), len(last[-1]) + 1) if "end of document" in str(exc) else (1, 1))
        # the position leads the line already: tomllib's "(at line 3, column 5)" is not repeated after it
        error = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)\s*$", "", str(exc))
        out.add(path, line, col, Msg("toml.syntax", error=error))
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
    "max_moves": _INT,
    "max_departures_per_province": _INT,
    "change_cost": _INT,
    "decline_rate": "rate",
    "name": "str",
    "description": "str",
}


#: integer policy keys that are magnitudes of objective terms (SPEC §6 fixes their sign)
OBJECTIVE_KEYS = ("fill_base", "fill_hardship_bonus", "key_post_bonus", "move_cost", "structure_penalty",
                  "age_penalty_per_year", "flow_penalty", "change_cost")
#: largest weight and largest objective magnitude: every objective coefficient stays ≤ 1e8 and a plan's total far
#: below 2**53, so that float64 solvers and the integer recomputation agree exactly
MAX_WEIGHT, MAX_MAGNITUDE, MAX_INT = 1_000, 100_000, 2**31 - 1

def _check_value(kind: object, v: object) -> tuple[bool, object, Msg | str]:
    if kind == _BOOL:
        return isinstance(v, bool), v, Msg("toml.v_bool")
    if kind == _INT:
        return isinstance(v, int) and not isinstance(v, bool), v, Msg("toml.v_int")
    if kind == _NUM:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= MAX_INT
        return ok, v, Msg("toml.v_num", top=MAX_INT)
    if kind == "rate":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1
        return ok, v, Msg("toml.v_rate")
    if kind == "str":
        return isinstance(v, str), v, Msg("toml.v_str")
    if kind == "roles":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            return False, v, Msg("toml.v_roles")
        mapped = [_role(x) for x in v]
        if any(m is None for m in mapped):
            return False, v, Msg("toml.v_roles_known")
        return True, sorted(set(mapped)), ""
    if isinstance(kind, tuple):
        return v in kind, v, Msg("toml.v_one_of", values=", ".join(kind))
    raise AssertionError(kind)


def _role(x: str) -> str | None:
    return ROLE_MAP.get(x.strip().lower(), ROLE_MAP.get(x.strip()))


def check_duplicates(values: list, key: str, pos: dict, path: str, out: Collector, norm=None) -> bool:
    """Report every entry of a list-valued key that repeats an earlier one (after ``norm``), each at its own
    position (``key[n]`` in ``pos``, else the key's); True when there was none."""
    seen: dict[object, int] = {}
    ok = True
    at = pos.get(key, (1, 1))
    for n, x in enumerate(values):
        k = norm(x) if norm else x
        if k in seen:
            ok = False
            first = values[seen[k]]
            also = Msg("toml.also", first=repr(first)) if first != x else ""
            line, col = pos.get(f"{key}[{n}]", at)
            out.add(path, line, col, Msg("toml.twice", key=key.rsplit(".", 1)[-1], x=repr(x), n=seen[k] + 1, also=also))
        else:
            seen[k] = n
    return ok


def check_policy(data: dict, pos: dict, path: str, out: Collector) -> dict:
    """Validate policy keys, types and signs (weights and objective coefficients >= 0, no repeated list entry);
    return the normalised overrides."""
    res: dict = {}
    for k, v in data.items():
        line, col = pos.get(k, (1, 1))
        if k == "weights":
            if not isinstance(v, dict):
                out.add(path, line, col, Msg("toml.weights_table"))
                continue
            res["weights"] = {}
            for wk, wv in v.items():
                wl, wc = pos.get(f"weights.{wk}", (line, col))
                if wk not in WEIGHT_KEYS:
                    out.add(path, wl, wc, Msg("toml.unknown_weight", k=wk, allowed=", ".join(WEIGHT_KEYS)))
                elif not isinstance(wv, int) or isinstance(wv, bool):
                    out.add(path, wl, wc, Msg("toml.weight_not_int", k=wk, v=repr(wv)))
                elif wv < 0:
                    out.add(path, wl, wc, Msg("toml.weight_negative", k=wk, v=wv, sign=Msg("toml.sign")))
                elif wv > MAX_WEIGHT:
                    out.add(path, wl, wc, Msg("toml.weight_too_big", k=wk, v=wv, top=MAX_WEIGHT))
                else:
                    res["weights"][wk] = wv
            continue
        if k not in POLICY_KEYS:
            out.add(path, line, col, Msg("toml.unknown_key", k=k, allowed=", ".join([*POLICY_KEYS, "weights"])))
            continue
        ok, norm, what = _check_value(POLICY_KEYS[k], v)
        if not ok:
            out.add(path, line, col, Msg("toml.not_value", k=k, v=repr(v), what=what))
        elif POLICY_KEYS[k] == _INT and v < 0:
            why = Msg("toml.sign") if k in OBJECTIVE_KEYS else Msg("toml.age_years_seed")
            out.add(path, line, col, Msg("toml.negative", k=k, v=v, why=why))
        elif POLICY_KEYS[k] == _INT and v > (MAX_MAGNITUDE if k in OBJECTIVE_KEYS else MAX_INT):
            top = MAX_MAGNITUDE if k in OBJECTIVE_KEYS else MAX_INT
            out.add(path, line, col, Msg("toml.too_big", k=k, v=v, top=top))
        elif POLICY_KEYS[k] == "roles" and not check_duplicates(v, k, pos, path, out, _role):
            continue
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


def policy_layers(case_dir: str, policy_file: str | None = None) -> list[str]:
    """Paths of the policy layers in order: the shipped default, the case's ``policy.toml``, ``policy_file``
    (resolved; included even when missing so that its absence is reported)."""
    layers = [str(models_dir() / "policies" / "default.toml"), os.path.join(case_dir, "policy.toml")]
    if policy_file:
        layers.append(resolve_policy_path(policy_file))
    return layers


def load_policy(case_dir: str, out: Collector, policy_file: str | None = None) -> dict:
    """Default policy, then the case's ``policy.toml``, then ``policy_file`` (SPEC §4 layering)."""
    layers = policy_layers(case_dir, policy_file)
    default_path = layers[0]
    policy: dict = {}
    default_read = False
    for i, p in enumerate(layers):
        if not os.path.isfile(p):
            if i == 0:
                out.add(p, 1, 1, Msg("toml.no_default"))
            elif i == 2:
                out.add(p, 1, 1, Msg("toml.no_policy"))
            continue
        got = read_toml(p, out)
        if got is None:
            continue
        default_read = default_read or i == 0
        policy = merge_policy(policy, check_policy(got[0], got[1], p, out))
    missing = [k for k in POLICY_KEYS if k not in ("name", "description") and k not in policy]
    if missing and default_read:  # an unreadable default is reported by read_toml already
        out.add(default_path, 1, 1, Msg("toml.default_lacks", keys=", ".join(missing)))
    return policy


def effective_policy(base: dict, policy=None) -> dict:
    """The policy a solve runs under: ``base`` (a case's layered policy) with ``policy`` on top, a dict of overrides
    or a policy file / scenario name; either gets the checks of a policy file (the one place a policy is resolved
    after loading)."""
    if policy is None:
        return base
    out = Collector()
    if isinstance(policy, dict):
        over = check_policy(policy, {}, "<policy overrides>", out)
    else:
        path = resolve_policy_path(str(policy))
        got = read_toml(path, out)
        over = check_policy(got[0], got[1], path, out) if got else {}
    out.raise_if_any()
    return merge_policy(base, over)


def layer_keys(paths: list[str]) -> frozenset[str]:
    """The top-level keys the policy files ``paths`` set (those that exist and parse: a broken one is reported when
    it is loaded)."""
    keys: set[str] = set()
    for p in paths:
        try:
            with open(p, "rb") as fh:
                keys |= set(tomllib.load(fh))
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return frozenset(keys)


def resolve_policy_path(name: str) -> str:
    """A path as given, or the name of a scenario in ``models/policies/`` (``strict`` -> strict.toml)."""
    if os.path.isfile(name) or os.sep in name or name.endswith(".toml"):
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
            out.add(path, line, col, Msg("toml.unknown_structure_key", k=k))
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        out.add(path, 1, 1, Msg("toml.rules_table"))
        return {}
    res: dict = {}
    for k, v in rules.items():
        line, col = pos.get(f"rules.{k}", (1, 1))
        if k not in STRUCT_KEYS:
            out.add(path, line, col, Msg("toml.unknown_rule_key", k=k, allowed=", ".join(sorted(STRUCT_KEYS))))
        elif k == "required_specialties":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                out.add(path, line, col, Msg("toml.not_specialties", k=k, v=repr(v)))
            else:
                check_duplicates(v, f"rules.{k}", pos, path, out, str.strip)
                res[k] = list(dict.fromkeys(x.strip() for x in v))
        elif k == "hard":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                out.add(path, line, col, Msg("toml.not_rule_names", v=repr(v)))
                continue
            check_duplicates(v, f"rules.{k}", pos, path, out)
            bad = [x for x in v if x not in RULE_NAMES]
            if bad:
                out.add(path, line, col, Msg("toml.unknown_rule", bad=", ".join(bad), allowed=", ".join(RULE_NAMES)))
            res[k] = [x for x in v if x in RULE_NAMES]
        elif not isinstance(v, int) or isinstance(v, bool) or v < 0:
            out.add(path, line, col, Msg("toml.not_count", k=k, v=repr(v)))
        else:
            res[k] = v
    res.setdefault("young_age", 45)
    res.setdefault("hard", [])
    return res


def load_structures(case_dir: str, out: Collector) -> tuple[dict[str, dict], dict[str, str]]:
    """All structure models by name (the case's ``structures/`` wins); also name -> file path of the model in
    effect, including a file that could not be read (its problem is reported; its name is known)."""
    models: dict[str, dict] = {}
    paths: dict[str, str] = {}
    for folder in (str(models_dir() / "structures"), os.path.join(case_dir, "structures")):
        for p in sorted(glob.glob(os.path.join(folder, "*.toml"))):
            name = os.path.splitext(os.path.basename(p))[0]
            paths[name] = p
            got = read_toml(p, out)
            if got is None:
                continue
            models[name] = check_structure(got[0], got[1], p, out)
    return models, paths
