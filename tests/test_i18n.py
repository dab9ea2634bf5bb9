"""Chinese first (issue 16): one message catalogue with both languages for every id, the language chosen by
``--lang`` / ``CADREX_LANG`` / the locale, and with ``--lang zh`` no English sentence reaching the user on the
sample's solve, explain, verify, diagnosis, compare and batch."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import pandas as pd
import pytest
from conftest import ROOT, SAMPLE

from cadrex.cli import main
from cadrex.i18n import Join, Msg, catalogue, placeholders, resolve_lang, rule_name, say, structure_name

#: three or more English words in a row: what a user would read as an English sentence
ENGLISH = re.compile(r"[A-Za-z][a-z]+(?:[ ,;:()'-]+[A-Za-z][a-z]+){2,}")
SRC = ROOT / "solver" / "cadrex"


#: identifiers, not words: the test's scenario names, backend and method names (printed as table values)
IDS = re.compile(r"\b(base|promote|strict|highs|cpsat|pyomo|full|cg)\b")


def english(text: str) -> list[str]:
    """English sentences in ``text`` (file paths and identifiers left out: they are names, not sentences)."""
    return ENGLISH.findall(IDS.sub(" ", re.sub(r"\S*[/\\]\S*", " ", text)))


#: fields the Chinese text leaves out on purpose (the English word of an exchange kind the Chinese label replaces)
ZH_DROPS = {"reason.kind": {"kind"}, "why.kind": {"kind"}}


def test_every_message_has_both_languages_and_the_same_fields():
    """Both languages, and the same fields: a Chinese text that drops a field drops information (a newcomer found
    the blocked posts missing from the Chinese H1 diagnosis)."""
    bad = []
    for mid, m in catalogue().items():
        if set(m) != {"en", "zh"} or not m["en"].strip() or not m["zh"].strip():
            bad.append(f"{mid}: languages {sorted(m)}")
        elif placeholders(m["zh"]) != placeholders(m["en"]) - ZH_DROPS.get(mid, set()):
            bad.append(f"{mid}: zh fields {placeholders(m['zh'])} differ from en's {placeholders(m['en'])}")
    assert not bad, bad


def test_zh_messages_quote_with_chinese_quotation_marks():
    """A quoted word in a Chinese message uses “…”, as the rest of the catalogue does (a newcomer found '..' and
    'index.csv' in ASCII quotes); a message that shows the ASCII quote character itself is the exception."""
    shows_the_character = {"input.unclosed_quote"}
    bad = [f"{mid}: {m['zh']}" for mid, m in catalogue().items()
           if mid not in shows_the_character and re.search(r"'[^']*'|\"[^\"]*\"", m["zh"])]
    assert not bad, bad


def test_every_message_id_the_code_uses_is_in_the_catalogue():
    used = set()
    for p in SRC.rglob("*.py"):
        used |= set(re.findall(r"""(?:Msg|say)\(\s*["']([a-z_]+\.[A-Za-z0-9_]+)["']""", p.read_text(encoding="utf-8")))
    assert len(used) > 100
    missing = sorted(used - set(catalogue()))
    assert not missing, missing


def test_every_shipped_structure_model_has_a_name_and_validate_shows_it(tmp_path, capsys):
    """``validate`` counts teams by structure model with the model's name in the language (a newcomer read bare ids);
    every model shipped in models/structures/ has one, and its file's heading comment gives the same zh name; a
    case's own model keeps its id."""
    shipped = sorted(ROOT.glob("models/structures/*.toml"))
    assert len(shipped) >= 5
    for p in shipped:
        zh = structure_name(p.stem, "zh")
        assert zh != p.stem and zh.split(" ", 1)[1] in p.read_text(encoding="utf-8").splitlines()[0], p
        assert re.fullmatch(rf"{p.stem} \([a-z ,]+\)", structure_name(p.stem, "en")), p
    assert structure_name("my_own_model", "zh") == "my_own_model"
    for lang, want in (("en", "city_gov (city government team) "), ("zh", "city_gov 市（州、盟、区）政府班子 ")):
        assert main(["validate", str(SAMPLE), "--lang", lang]) == 0
        assert want in capsys.readouterr().out


def test_rule_names_match_docs():
    """docs/rules.md's name table and the catalogue give every rule id the same Chinese and English names."""
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8").split("## Rule names", 1)[1].split("\n\n")[2]
    rows = re.findall(r"^\| (E\d+|H\d+) \| ([^|]+) \| ([^|]+) \|$", text, flags=re.M)
    assert len(rows) == 18
    for rid, zh, en in rows:
        assert rule_name(rid, "zh") == f"{rid} {zh.strip()}"
        assert rule_name(rid, "en") == f"{rid} {en.strip()}"


def test_msg_renders_in_both_languages_and_survives_pickling():
    import pickle

    m = Msg("verify.h5", loc="L01", who="P1, P2")
    assert m.startswith("H5: locality L01") and m.text("zh").startswith("H5 党政正职不同时易地交流")
    j = Join([Msg("reason.stays"), Msg("reason.pin", post="P9")])
    assert pickle.loads(pickle.dumps(j)).text("zh") == "留任现职；H7 指定安排至 P9"
    assert say("cli.none", "zh") == "暂无"


@pytest.mark.parametrize("env,want", [({"CADREX_LANG": "zh"}, "zh"), ({"CADREX_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
                                      ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN"}, "en"),
                                      ({}, "en")])
def test_language_from_env_then_locale(monkeypatch, env, want):
    for k in ("CADREX_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert resolve_lang(None) == want
    assert resolve_lang("en") == "en"
    with pytest.raises(ValueError):
        resolve_lang("fr")


def test_bad_lang_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["validate", str(SAMPLE), "--lang", "fr"])
    assert e.value.code == 2


class _Text(HTMLParser):
    """The text a reader sees: everything outside <script> and <style>."""

    def __init__(self):
        super().__init__()
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def _run(*args: str) -> tuple[int, str]:
    r = subprocess.run([sys.executable, "-m", "cadrex.cli", *args, "--lang", "zh"], capture_output=True, text=True,
                       timeout=600)
    return r.returncode, r.stdout + r.stderr


def test_zh_no_english_sentence_reaches_the_user(tmp_path):
    """Sample: solve, explain (a cadre, a post), verify, the strict policy's diagnosis, batch and compare (console,
    the reasons column, the HTML report's visible text) with --lang zh."""
    seen: dict[str, str] = {}
    out = tmp_path / "plan"
    code, seen["solve"] = _run("solve", str(SAMPLE), "--out", str(out))
    assert code == 0 and "最优" in seen["solve"]
    # the console's log lines name their level in Chinese (信息, not INFO)
    assert re.search(r"^\d\d:\d\d:\d\d 信息 ", seen["solve"], flags=re.M) and " INFO " not in seen["solve"]
    seen["reasons"] = "\n".join(pd.read_csv(out / "assignments.csv", encoding="utf-8-sig")["reasons"].astype(str))
    assert re.search(r"在\w+[省市区]任职\d+年", seen["reasons"])  # the province by its name, not its code
    code, seen["verify"] = _run("verify", str(SAMPLE), str(out))
    assert code == 0 and "校验通过" in seen["verify"]
    code, seen["explain cadre"] = _run("explain", str(SAMPLE), "--plan", str(out), "--cadre", "C000004")
    assert code == 0 and "不合格" in seen["explain cadre"]
    code, seen["explain post"] = _run("explain", str(SAMPLE), "--plan", str(out), "--post", "P000056")
    assert code == 0
    code, seen["diagnosis"] = _run("solve", str(SAMPLE), "--out", str(tmp_path / "strict"), "--policy", "strict")
    assert code == 3 and "H1 必须交流" in seen["diagnosis"]
    code, seen["validate"] = _run("validate", str(SAMPLE))
    assert code == 0
    sc = tmp_path / "scenarios.toml"
    sc.write_text(f'[defaults]\ncase = "{SAMPLE.as_posix()}"\ntime_limit = 30\n\n[[scenario]]\nname = "base"\n\n'
                  '[[scenario]]\nname = "promote"\npolicy = "promote"\n\n[[scenario]]\nname = "strict"\npolicy = "strict"\n',
                  encoding="utf-8")
    code, seen["batch"] = _run("batch", str(sc), "--out", str(tmp_path / "runs"), "--workers", "1")
    assert code == 0 and "批量运行" in seen["batch"]
    html = tmp_path / "report.html"
    code, seen["compare"] = _run("compare", str(tmp_path / "runs"), "--html", str(html))
    assert code == 0
    p = _Text()
    p.feed(html.read_text(encoding="utf-8"))
    seen["report.html"] = "\n".join(p.out)
    assert "空缺链" in seen["report.html"] and "有变动的领导班子" in seen["report.html"]
    found = {k: english(v) for k, v in seen.items() if english(v)}
    assert not found, found


def test_en_stays_english(tmp_path):
    r = subprocess.run([sys.executable, "-m", "cadrex.cli", "solve", str(SAMPLE), "--out", str(tmp_path / "p"),
                        "--lang", "en"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("optimal: objective")
    reasons = pd.read_csv(tmp_path / "p" / "assignments.csv", encoding="utf-8-sig")["reasons"]
    assert reasons.str.contains("pair terms").any() and not reasons.str.contains("配对得分").any()



def test_argparse_texts_keep_their_fields():
    for mid, m in catalogue().items():
        if mid.startswith("argparse."):
            assert re.findall(r"%\(?\w*\)?[sr]", m["en"]) == re.findall(r"%\(?\w*\)?[sr]", m["zh"]), mid


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_option_of_every_command_has_a_help_line_in_the_language(lang):
    import argparse

    from cadrex.cli import build_parser

    p = build_parser(lang)
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for ch in sub._choices_actions:
        assert ch.help and bool(cjk.search(ch.help)) == (lang == "zh"), ch.dest
    for name, sp in sub.choices.items():
        for a in sp._actions:
            assert a.help, f"{name} {a.dest}"
            if lang == "zh":
                assert cjk.search(a.help), f"{name} {a.dest}: {a.help}"
            else:  # English help may quote a Chinese term (方案表) but is not Chinese text
                assert len(cjk.findall(a.help)) <= 3, f"{name} {a.dest}: {a.help}"
    build_parser("en")  # leave argparse in English for the other tests


def test_usage_errors_in_chinese(capsys):
    with pytest.raises(SystemExit) as e:
        main(["horizon", str(SAMPLE), "--years", "0", "--out", "x", "--lang", "zh"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "错误" in err and "整数年数" in err and not english(err.replace("horizon", ""))
    with pytest.raises(SystemExit):
        main(["horizon", str(SAMPLE), "--years", "0", "--out", "x"])
    assert "whole number of years" in capsys.readouterr().err


def test_zh_help_headings_end_in_a_full_width_colon(capsys):
    """Chinese help reads "用法：", "位置参数：", "选项：" (argparse appends an ASCII colon to its headings itself);
    the English help keeps argparse's own "options:"."""
    import pytest

    from cadrex.cli import main

    for lang, heads in (("zh", ("用法：", "\n位置参数：\n", "\n选项：\n")), ("en", ("usage: ", "\npositional arguments:\n", "\noptions:\n"))):
        with pytest.raises(SystemExit):
            main(["--lang", lang, "solve", "--help"])
        out = capsys.readouterr().out
        assert all(h in out for h in heads), (lang, out[:300])
        if lang == "zh":
            assert "位置参数:" not in out and "选项:" not in out
