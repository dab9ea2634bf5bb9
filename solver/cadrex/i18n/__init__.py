"""Every text a user reads, in Chinese and English: one catalogue (``messages.toml``: id → ``en``/``zh`` templates),
the language in force (``--lang``, ``CADREX_LANG``, the locale), and :class:`Msg`, a message that renders in either.

A :class:`Msg` is a ``str`` whose value is its English text, so code that treats messages as strings keeps working;
``Msg.text(lang)`` gives the chosen language. Rule ids (E1 … H8) keep their id in both languages, with their names
(:func:`rule_name`: ``E3 地域回避`` / ``E3 native avoidance``)."""

from __future__ import annotations

import os
import string
import tomllib
from functools import cache
from pathlib import Path

LANGS = ("zh", "en")

__all__ = ["LANGS", "Join", "Local", "Msg", "Said", "Text", "catalogue", "column_label", "placeholders", "resolve_lang", "rule_name", "say", "structure_name", "text"]


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """The message catalogue: id → {"en": template, "zh": template} (templates use ``str.format`` fields)."""
    with open(Path(__file__).with_name("messages.toml"), "rb") as fh:
        raw = tomllib.load(fh)
    out: dict[str, dict[str, str]] = {}

    def walk(prefix: str, d: dict) -> None:
        if any(k in d for k in LANGS):
            out[prefix] = d
            return
        for k, v in d.items():
            walk(f"{prefix}.{k}" if prefix else k, v)

    walk("", raw)
    return out


def placeholders(template: str) -> set[str]:
    """The named fields of a template."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def resolve_lang(lang: str | None = None) -> str:
    """The language in force: ``lang`` if given, else ``CADREX_LANG``, else the locale (``zh_*`` ⇒ zh), else en."""
    if lang:
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r} / 语言须为 zh 或 en")
        return lang
    env = os.environ.get("CADREX_LANG", "").strip().lower()
    if env:
        return "zh" if env.startswith("zh") else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var, "")
        if v:
            return "zh" if v.lower().startswith("zh") else "en"
    return "en"


def say(mid: str, lang: str = "en", **kw) -> str:
    """Message ``mid`` in ``lang`` with its fields filled (a field that is itself a :class:`Msg` renders in
    ``lang`` too)."""
    tpl = catalogue()[mid][lang]
    return tpl.format(**{k: (v.text(lang) if isinstance(v, Text) else v) for k, v in kw.items()})


def text(value, lang: str) -> str:
    """``value`` in ``lang`` when it is a :class:`Text`, else as it is."""
    return value.text(lang) if isinstance(value, Text) else str(value)


class Text(str):
    """A text that renders in either language; its ``str`` value is the English text."""

    def text(self, lang: str) -> str:  # pragma: no cover - overridden
        return str(self)


class Join(Text):
    """Texts joined by the separator message ``sep`` (``reason.join``: "; " / "；")."""

    parts: tuple
    sep: str

    def __new__(cls, parts, sep: str = "reason.join") -> Join:
        parts = tuple(parts)
        self = super().__new__(cls, say(sep, "en").join(text(p, "en") for p in parts))
        self.parts, self.sep = parts, sep
        return self

    def text(self, lang: str) -> str:
        return say(self.sep, lang).join(text(p, lang) for p in self.parts)

    def __reduce__(self):
        return (Join, (self.parts, self.sep))


class Local(Text):
    """A name from the case itself in each language: ``en`` (an id, e.g. ``HA``) and ``zh`` (its name, 河南省)."""

    en_text: str
    zh_text: str

    def __new__(cls, en: str, zh: str) -> Local:
        self = super().__new__(cls, en)
        self.en_text, self.zh_text = en, zh or en
        return self

    def text(self, lang: str) -> str:
        return self.zh_text if lang == "zh" else self.en_text

    def __reduce__(self):
        return (Local, (self.en_text, self.zh_text))


class Msg(Text):
    """A catalogue message with its fields: its ``str`` value is the English text; ``text(lang)`` renders it."""

    mid: str
    kw: dict

    def __new__(cls, mid: str, **kw) -> Msg:
        self = super().__new__(cls, say(mid, "en", **kw))
        self.mid, self.kw = mid, kw
        return self

    def text(self, lang: str) -> str:
        return say(self.mid, lang, **self.kw)

    @property
    def zh(self) -> str:
        return self.text("zh")

    def __reduce__(self):
        return (_remake, (self.mid, self.kw))


def _remake(mid: str, kw: dict) -> Msg:
    return Msg(mid, **kw)


class Said:
    """Mixin for an exception whose ``message`` is a catalogue message: ``en`` and ``zh`` are its two texts."""

    message: Msg

    @property
    def en(self) -> str:
        return self.message.text("en")

    @property
    def zh(self) -> str:
        return self.message.text("zh")


def rule_name(rid: str, lang: str) -> str:
    """A rule id with its name: ``E3 地域回避`` (zh) or ``E3 native avoidance`` (en); unknown ids as they are."""
    m = catalogue().get(f"rule.{rid}")
    return f"{rid} {m[lang]}" if m else rid


def structure_name(model_id: str, lang: str) -> str:
    """A structure model's id with its name for people: ``city_gov 市（州、盟、区）政府班子`` (zh) or ``city_gov (city
    government team)`` (en); a model the catalogue does not know (a case's own) by its id alone."""
    m = catalogue().get(f"structure_model.{model_id}")
    if not m:
        return model_id
    return f"{model_id} {m[lang]}" if lang == "zh" else f"{model_id} ({m[lang]})"


def column_label(col: str, lang: str) -> str:
    """A table column's heading for people (``col.*``; ``to_post_X``; ``RULE_before``/``RULE_after``); in English
    the SPEC's column names stay as they are."""
    cat = catalogue()
    if lang == "en":
        return col
    if col.startswith("to_post_"):
        return say("col.to_post", lang, scenario=col[len("to_post_"):])
    if col == "to_post":
        return say("col.to_post_plain", lang)
    for side in ("before", "after"):
        rule = col[: -len(side) - 1]
        if col.endswith("_" + side) and f"structure.{rule}" in cat:
            return say(f"col.rule_{side}", lang, rule=say(f"structure.{rule}", lang))
    return say(f"col.{col}", lang) if f"col.{col}" in cat else col
