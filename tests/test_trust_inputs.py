"""Issue 11, input side: what input_sha256 covers, signs and duplicates in policy and structure files, and
undecodable bytes located at their own file:line:column without follow-on errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import cadrex
from cadrex.cli import main
from cadrex.io import CaseError, load_case
from cadrex.io.errors import Collector
from cadrex.io.tomlfiles import check_policy, models_dir

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _copy(tmp: Path, name: str = "case") -> Path:
    d = tmp / name
    shutil.copytree(SAMPLE, d)
    return d


def _problems(case: Path, capsys) -> list[str]:
    assert main(["validate", str(case)]) == 2
    return [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("cadrex:")]


def _local_model(case: Path, name: str = "city_gov") -> Path:
    (case / "structures").mkdir(exist_ok=True)
    p = case / "structures" / f"{name}.toml"
    shutil.copy(models_dir() / "structures" / f"{name}.toml", p)
    return p


# ---------------------------------------------------------------- 1. input_sha256


def test_hash_covers_case_local_structure_model(tmp_path):
    case = _copy(tmp_path)
    p = _local_model(case)
    before = load_case(case)
    assert "structures/city_gov.toml" in before.input_files
    p.write_text(p.read_text(encoding="utf-8").replace("min_female = 1", "min_female = 2"), encoding="utf-8")
    after = load_case(case)
    assert after.structures["city_gov"]["min_female"] == 2
    assert after.input_sha256 != before.input_sha256


def test_hash_covers_shipped_models_and_default_policy(tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(models_dir(), models)
    monkeypatch.setenv("CADREX_MODELS", str(models))
    case = _copy(tmp_path)
    h0 = load_case(case)
    assert {"models/policies/default.toml", "models/structures/city_gov.toml"} <= set(h0.input_files)
    st = models / "structures" / "city_gov.toml"
    st.write_text(st.read_text(encoding="utf-8").replace("max_avg_age = 52", "max_avg_age = 50"), encoding="utf-8")
    h1 = load_case(case).input_sha256
    assert h1 != h0.input_sha256
    pol = models / "policies" / "default.toml"
    pol.write_text(pol.read_text(encoding="utf-8").replace("flow_penalty = 20", "flow_penalty = 21"), encoding="utf-8")
    assert load_case(case).input_sha256 not in (h0.input_sha256, h1)


def test_hash_covers_policy_file(tmp_path):
    case = _copy(tmp_path)
    plain = load_case(case)
    strict = load_case(case, policy_file="strict")
    assert "models/policies/strict.toml" in strict.input_files
    assert strict.input_sha256 != plain.input_sha256
    own = tmp_path / "mine.toml"
    own.write_text("move_cost = 10\n", encoding="utf-8")
    h1 = load_case(case, policy_file=str(own))
    own.write_text("move_cost = 11\n", encoding="utf-8")
    h2 = load_case(case, policy_file=str(own))
    assert "policy:mine.toml" in h2.input_files
    assert len({plain.input_sha256, h1.input_sha256, h2.input_sha256}) == 3
    # the case's own policy.toml is covered too
    (case / "policy.toml").write_text("strict_education = false\n", encoding="utf-8")
    assert load_case(case).input_sha256 != plain.input_sha256


def test_hash_independent_of_folder(tmp_path):
    a = _copy(tmp_path / "one", "case")
    b = _copy(tmp_path / "two" / "deeper", "other_name")
    _local_model(a)
    _local_model(b)
    ca, cb = load_case(a), load_case(b)
    assert ca.input_sha256 == cb.input_sha256
    assert ca.input_files == cb.input_files
    assert not any(str(tmp_path) in f or f.startswith("/") for f in ca.input_files), ca.input_files
    assert {"case.toml", "cadres.csv", "policy.toml", "structures/city_gov.toml"} <= set(ca.input_files)


# ---------------------------------------------------------------- 2. policy signs and duplicates


@pytest.mark.parametrize("text,line,col,key", [
    ("[weights]\nfit = 1\nstructure = -1\n", 3, 1, "weights.structure"),
    ("[weights]\n  flow = -3\n", 2, 3, "weights.flow"),
    ("strict_education = true\nmove_cost = -30\n", 2, 1, "move_cost"),
    ("structure_penalty = -60\n", 1, 1, "structure_penalty"),
    ("age_penalty_per_year = -1\n", 1, 1, "age_penalty_per_year"),
    ("flow_penalty = -20\n", 1, 1, "flow_penalty"),
    ("fill_base = -100\n", 1, 1, "fill_base"),
    ("key_post_bonus = -1\n", 1, 1, "key_post_bonus"),
])
def test_negative_weight_or_penalty_rejected(tmp_path, capsys, text, line, col, key):
    case = _copy(tmp_path)
    p = case / "policy.toml"
    p.write_text(text, encoding="utf-8")
    probs = _problems(case, capsys)
    assert any(x.startswith(f"{p}:{line}:{col}: {key}:") and ">= 0" in x for x in probs), probs


def test_negative_weight_in_policy_file_and_overrides(tmp_path, capsys):
    case = _copy(tmp_path)
    pf = tmp_path / "scenario.toml"
    pf.write_text("# scenario\n[weights]\nmove = -2\n", encoding="utf-8")
    assert main(["validate", str(case), "--policy", str(pf)]) == 2
    assert f"{pf}:3:1: weights.move:" in capsys.readouterr().err
    out = Collector()
    check_policy({"weights": {"care": -1}, "flow_penalty": -5}, {}, "<policy overrides>", out)
    msgs = [str(p) for p in out.problems]
    assert any(m.startswith("<policy overrides>:1:1: weights.care:") for m in msgs), msgs
    assert any(m.startswith("<policy overrides>:1:1: flow_penalty:") for m in msgs), msgs
    with pytest.raises(CaseError, match="weights.structure"):
        cadrex.solve(load_case(case), policy={"weights": {"structure": -1}})


def test_zero_weight_still_allowed(tmp_path):
    case = _copy(tmp_path)
    (case / "policy.toml").write_text("move_cost = 0\n[weights]\nstructure = 0\nflow = 0\n", encoding="utf-8")
    c = load_case(case)
    assert c.policy["weights"]["structure"] == 0 and c.policy["move_cost"] == 0
    (case / "policy.toml").write_text("[weights]\nstructure = -1\n", encoding="utf-8")
    with pytest.raises(CaseError):
        load_case(case)


def test_duplicate_required_specialty_rejected(tmp_path, capsys):
    case = _copy(tmp_path)
    p = _local_model(case)
    text = p.read_text(encoding="utf-8")
    assert 'required_specialties = ["economics", "finance"]' in text
    p.write_text(text.replace('required_specialties = ["economics", "finance"]',
                              'required_specialties = [\n  "economics",\n  "finance",\n  "economics",\n]'),
                 encoding="utf-8")
    line = max(i for i, ln in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if ln == '  "economics",')
    probs = _problems(case, capsys)
    assert any(x.startswith(f"{p}:{line}:3: required_specialties:") and "twice" in x for x in probs), probs
    assert len(probs) == 1, probs


def test_duplicate_hard_rule_and_role_rejected(tmp_path, capsys):
    case = _copy(tmp_path)
    p = _local_model(case, "judicial")
    text = p.read_text(encoding="utf-8").replace('hard = ["required_specialties"]',
                                                 'hard = ["required_specialties", "min_female", "required_specialties"]')
    p.write_text(text, encoding="utf-8")
    hl = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("hard"))
    pol = case / "policy.toml"
    pol.write_text('native_avoidance_roles = ["party_secretary", "government_head", "党委书记"]\n', encoding="utf-8")
    probs = _problems(case, capsys)
    col = text.splitlines()[hl - 1].rindex('"required_specialties"') + 1
    assert any(x.startswith(f"{p}:{hl}:{col}: hard:") and "twice" in x for x in probs), probs
    assert any(x.startswith(f"{pol}:1:65: native_avoidance_roles:") and "'party_secretary'" in x for x in probs), probs


# ---------------------------------------------------------------- 3. verify counts a required specialty once


def test_verify_counts_required_specialty_once():
    from cadrex.analysis.verify import _shortfalls

    cad = {"a": {"specialty": "economics"}}
    got = _shortfalls({"required_specialties": ["law", "law"]}, ["a"], cad, {"a": 50}, {"ethnic_autonomous": False}, {})
    assert got["required_specialties"] == 1


# ---------------------------------------------------------------- 4. decoding


def _break_line(data: bytes, line: int, after: bytes, bad: bytes) -> bytes:
    """Replace the first byte after ``after`` on 1-based ``line`` by ``bad``."""
    lines = data.split(b"\n")
    i = lines[line - 1].index(after) + len(after)
    lines[line - 1] = lines[line - 1][:i] + bad + lines[line - 1][i + 1:]
    return b"\n".join(lines)


def test_gb18030_broken_byte_located_without_cascade(tmp_path, capsys):
    case = _copy(tmp_path)
    p = case / "cadres.csv"
    text = p.read_text(encoding="utf-8")
    assert text.splitlines()[47].startswith("C000047,")
    p.write_bytes(_break_line(text.encode("gb18030"), 48, b"C000047,", b"\x80"))
    probs = _problems(case, capsys)
    assert len(probs) == 1, probs
    assert probs[0].startswith(f"{p}:48:9: encoding:") and "0x80" in probs[0] and "GB18030" in probs[0], probs


@pytest.mark.parametrize("bom", [False, True])
def test_utf8_broken_byte_located(tmp_path, capsys, bom):
    case = _copy(tmp_path)
    p = case / "cadres.csv"
    data = _break_line(p.read_bytes(), 48, b"C000047,", b"\xff")
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    probs = _problems(case, capsys)
    assert len(probs) == 1, probs
    assert probs[0].startswith(f"{p}:48:9: encoding:") and "0xff" in probs[0] and "UTF-8" in probs[0], probs


def test_unreadable_table_skips_dependent_references(tmp_path, capsys):
    case = _copy(tmp_path)
    (case / "teams.csv").write_bytes(b"team_id,name\nT1,\x81\x20\n")  # GB18030 lead byte + space: undecodable
    probs = _problems(case, capsys)
    assert len(probs) == 1 and probs[0].startswith(f"{case / 'teams.csv'}:2:4: encoding:"), probs


@pytest.mark.parametrize("which", ["case.toml", "policy.toml", "structures/local_gov.toml"])
def test_toml_with_undecodable_byte_located(tmp_path, capsys, which):
    case = _copy(tmp_path)
    if which.startswith("structures"):  # a case-local model that the teams use instead of city_gov
        shutil.copy(_local_model(case), case / which)
        teams = case / "teams.csv"
        teams.write_text(teams.read_text(encoding="utf-8").replace(",city_gov,", ",local_gov,"), encoding="utf-8")
    p = case / which
    lines = p.read_bytes().split(b"\n")
    lines.insert(1, '  title = "交流"'.encode("gb18030"))  # one line saved as GB18030 in a UTF-8 file
    p.write_bytes(b"\n".join(lines))
    probs = _problems(case, capsys)
    assert len(probs) == 1, probs  # teams naming local_gov are not reported as unknown structure model
    assert probs[0].startswith(f"{p}:2:12: encoding:") and "not UTF-8" in probs[0], probs


@pytest.mark.parametrize("tail, said", [("\noops = [\n\n", "end of document"), ("\nas_of = \n", "at line")])
def test_toml_error_is_located_once(tmp_path, capsys, tail, said):
    """A TOML syntax error reads "case.toml:L:C: TOML syntax error: …" with its position once: tomllib's own "(at
    line L, column C)" is not repeated after it. At the end of the document ("oops = [" left open) tomllib gives no
    line: the error names the end of the file's last line, not 1:1."""
    case = _copy(tmp_path)
    p = case / "case.toml"
    text = p.read_text(encoding="utf-8").rstrip("\n") + tail
    p.write_text(text, encoding="utf-8")
    n = len(text.rstrip("\n").split("\n"))
    probs = _problems(case, capsys)
    assert len(probs) == 1 and probs[0].startswith(f"{p}:{n}:9: TOML"), probs
    assert said not in probs[0] and "column" not in probs[0], probs


def _quote_opened(case: Path) -> tuple[Path, list[str]]:
    """cadres.csv of ``case`` and its lines, with a quote opened before field 3 of line 7 (not yet written back)."""
    p = case / "cadres.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    parts = lines[6].split(",")
    parts[2] = '"' + parts[2]
    lines[6] = ",".join(parts)
    return p, lines


def test_unclosed_quote_is_one_error_at_its_field(tmp_path, capsys):
    """A quote opened in a cadres.csv field and never closed swallowed the rest of the file into one cell: one
    problem at that line and field (not a 177 KB message and 1,500 follow-on errors)."""
    case = _copy(tmp_path)
    p, lines = _quote_opened(case)
    p.write_text("\n".join(lines), encoding="utf-8")
    probs = _problems(case, capsys)
    assert len(probs) == 1, probs
    assert probs[0].startswith(f"{p}:7:3: ") and "never closed" in probs[0] and len(probs[0]) < 300, probs


def test_unclosed_quote_on_the_last_line_is_reported(tmp_path, capsys):
    case = _copy(tmp_path)
    p = case / "cadres.csv"
    lines = p.read_text(encoding="utf-8").rstrip("\n").split("\n")
    parts = lines[-1].split(",")
    parts[1] = '"' + parts[1]
    lines[-1] = ",".join(parts)
    p.write_text("\n".join(lines), encoding="utf-8")  # no newline at the end
    probs = _problems(case, capsys)
    assert len(probs) == 1 and f":{len(lines)}:2: " in probs[0] and "never closed" in probs[0], probs


def test_a_closed_quote_over_two_lines_is_not_an_unclosed_one(tmp_path, capsys):
    """A quoted field that spans lines and is closed is a field like any other (here a name with a line break)."""
    case = _copy(tmp_path)
    p = case / "cadres.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    parts = lines[-2].split(",") if lines[-1] == "" else lines[-1].split(",")
    parts[1] = '"' + parts[1] + '\n甲"'
    if lines[-1] == "":
        lines[-2] = ",".join(parts)
    else:
        lines[-1] = ",".join(parts)
    p.write_text("\n".join(lines), encoding="utf-8")
    assert main(["validate", str(case)]) == 0, capsys.readouterr().err


def test_unclosed_quote_before_a_long_rest_of_the_file_is_one_error_at_its_field(tmp_path, capsys):
    """Python's csv stops at a field over 128k characters: an unclosed quote far from the end of a large file
    (every national case) is still reported at its own line and field, not as a field-size error further down."""
    case = _copy(tmp_path)
    p, lines = _quote_opened(case)
    last = -2 if lines[-1] == "" else -1
    parts = lines[last].split(",")
    parts[1] += "x" * 140_000  # the rest of the file is longer than csv's field limit
    lines[last] = ",".join(parts)
    p.write_text("\n".join(lines), encoding="utf-8")
    probs = _problems(case, capsys)
    assert len(probs) == 1, [x[:200] for x in probs]
    assert probs[0].startswith(f"{p}:7:3: ") and "never closed" in probs[0] and len(probs[0]) < 300, probs[0][:300]


def test_a_long_bad_value_is_cut_in_its_message(tmp_path, capsys):
    case = _copy(tmp_path)
    p = case / "cadres.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    header = lines[0].lstrip("\ufeff").split(",")
    col = header.index("birth_date")
    parts = lines[5].split(",")
    parts[col] = "9" * 500
    lines[5] = ",".join(parts)
    p.write_text("\n".join(lines), encoding="utf-8")
    probs = _problems(case, capsys)
    assert len(probs) == 1 and f":6:{col + 1}: birth_date" in probs[0] and "9" * 77 + "'…" in probs[0], probs
    assert len(probs[0]) < 300
