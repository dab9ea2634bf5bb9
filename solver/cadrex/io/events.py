"""Re-plan inputs (SPEC §10): the events file (validated like a case file, every problem at ``file:line:column``),
the baseline plan (read as ``verify`` reads a plan, checked against the case) and the changed case — the events
applied to the case in file order.

The changed case is an ordinary :class:`Case` with two extra columns that the rules read: ``cadres.withdrawn``
(``withdraw``: not in play whatever its kind or tenure) and ``posts.closed`` (``close``: no cadre may move in, E8).
A ``vacate`` removes the holder from the case with its relations, preferences, pins and scores; pins replace any
pin on the same pair.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass

import pandas as pd

from cadrex.i18n import Msg
from cadrex.io.case import Case
from cadrex.io.errors import Collector
from cadrex.io.parse import parse_table
from cadrex.io.plan import unescape_cell
from cadrex.io.schema import DECLINES_FILE, EVENTS_FILE
from cadrex.io.tables import read_table

#: which ids each event needs: c = cadre_id, p = post_id
NEEDS = {"decline": "cp", "require": "cp", "forbid": "cp", "withdraw": "c", "vacate": "p", "close": "p"}
#: event -> Chinese name, for messages
EVENT_ZH = {"decline": "不同意", "withdraw": "撤回", "vacate": "出缺", "close": "关闭岗位", "require": "必须（钉定）",
            "forbid": "禁止（钉定）"}


@dataclass(frozen=True)
class Event:
    """One event; ``cadre``/``post`` are '' when the event names none (a ``vacate`` gets its holder filled in)."""

    line: int
    event: str
    cadre: str
    post: str
    note: str = ""

    def describe(self) -> str:
        """``decline C123 → P45`` style text naming the event and its ids (English and Chinese event name)."""
        ids = " → ".join(x for x in (self.cadre, self.post) if x)
        return f"{self.event} ({EVENT_ZH[self.event]}) {ids}".strip()


@dataclass(frozen=True)
class Events:
    """The events of a re-plan, in file order, and the file they came from."""

    path: str
    items: tuple[Event, ...]
    sha256: str

    def naming(self, cadre: str = "", post: str = "") -> list[Event]:
        """The events that name ``cadre`` or ``post``."""
        return [e for e in self.items if (cadre and e.cadre == cadre) or (post and e.post == post)]


def _sha(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _table(path: str, spec, missing: Msg):
    """A file read and parsed against ``spec`` like a case file (raw table and typed frame), or CaseError."""
    out = Collector()
    if not os.path.isfile(path):
        out.add(path, 1, 1, missing)
        out.raise_if_any()
    raw = read_table(path, out)
    df = parse_table(raw, spec, out) if raw is not None else None
    out.raise_if_any()
    assert raw is not None and df is not None
    return raw, df


def load_events(path: str | os.PathLike, case: Case) -> Events:
    """Read and validate an events file against ``case``; raise :class:`~cadrex.io.errors.CaseError` listing every
    problem (unknown event or id, a missing id, a ``vacate`` of a vacant post, ``require`` and ``decline`` on one
    pair, an id that an earlier ``vacate`` removed)."""
    path = os.fspath(path)
    raw, df = _table(path, EVENTS_FILE, Msg("events.no_events"))
    out = Collector()
    col = {k: raw.col(k) or 1 for k in ("event", "cadre_id", "post_id")}
    holder = {p: h for p, h in case.posts["holder_id"].items() if h}
    left: dict[str, int] = {}  # cadre -> line of the vacate that removed it
    pairs: dict[tuple[str, str], tuple[str, int]] = {}  # (cadre, post) -> (require|decline, line)
    items: list[Event] = []
    for r in df.to_dict("records"):
        line, ev, c, p = int(r["_line"]), r["event"], r["cadre_id"], r["post_id"]
        if not ev:
            continue
        need = NEEDS[ev]
        bad = False
        for key, name, known in (("c", "cadre_id", case.cadres.index), ("p", "post_id", case.posts.index)):
            v = c if key == "c" else p
            if key in need and not v:
                out.add(path, line, col[name], Msg("events.needs", name=name, ev=ev))
                bad = True
            elif v and v not in known:
                what = Msg("ref.cadre" if key == "c" else "ref.post")
                out.add(path, line, col[name], Msg("events.unknown", name=name, what=what, v=repr(v)))
                bad = True
        if bad:
            continue
        if ev == "withdraw" and p:
            out.add(path, line, col["post_id"], Msg("events.withdraw_cadre_only", p=p))
            continue
        if ev == "close" and c:
            out.add(path, line, col["cadre_id"], Msg("events.close_post_only", c=c))
            continue
        if c and c in left:
            out.add(path, line, col["cadre_id"], Msg("events.left_case", c=c, line=left[c]))
            continue
        if ev == "vacate":
            h = holder.get(p, "")
            if not h:
                out.add(path, line, col["post_id"], Msg("events.already_vacant", p=p))
                continue
            if c and c != h:
                out.add(path, line, col["cadre_id"], Msg("events.held_by", p=p, h=h, c=c))
                continue
            c = h
            left[h] = line
            holder[p] = ""
        if ev in ("require", "decline"):
            other = "decline" if ev == "require" else "require"
            prev = pairs.get((c, p))
            if prev and prev[0] == other:
                out.add(path, line, col["event"], Msg("events.conflict", ev=ev, other=other, c=c, p=p, line=prev[1]))
                continue
            pairs[(c, p)] = (ev, line)
        items.append(Event(line, ev, c, p, str(r.get("note", "") or "")))
    out.raise_if_any()
    return Events(path, tuple(items), _sha(path))


def apply_events(case: Case, events: Events) -> Case:
    """The changed case: ``events`` applied to ``case`` in file order (SPEC §10)."""
    cad = case.cadres.copy()
    posts = case.posts.copy()
    cad["withdrawn"] = cad["withdrawn"] if "withdrawn" in cad else False
    posts["closed"] = posts["closed"] if "closed" in posts else False
    pins, rel, pref, scores = case.pins.copy(), case.relations.copy(), case.preferences.copy(), case.scores.copy()
    for e in events.items:
        if e.event in ("decline", "require", "forbid"):
            pins = pins[~((pins["cadre_id"] == e.cadre) & (pins["post_id"] == e.post))]
            mode = "require" if e.event == "require" else "forbid"
            add = pd.DataFrame([{"cadre_id": e.cadre, "post_id": e.post, "mode": mode, "_line": 0}])
            pins = pd.concat([pins, add.astype({"_line": "int64"})], ignore_index=True)
        elif e.event == "withdraw":
            cad.loc[e.cadre, "withdrawn"] = True
            pins = pins[pins["cadre_id"] != e.cadre]
        elif e.event == "vacate":
            posts.loc[e.post, "holder_id"] = ""
            cad = cad.drop(index=e.cadre)
            rel = rel[(rel["cadre_a"] != e.cadre) & (rel["cadre_b"] != e.cadre)]
            pref, pins, scores = (f[f["cadre_id"] != e.cadre] for f in (pref, pins, scores))
        elif e.event == "close":
            posts.loc[e.post, "closed"] = True
            posts.loc[e.post, "must_fill"] = False
    cad["withdrawn"] = cad["withdrawn"].astype(bool)
    posts["closed"] = posts["closed"].astype(bool)
    return dataclasses.replace(case, cadres=cad, posts=posts, pins=pins.reset_index(drop=True),
                               relations=rel.reset_index(drop=True), preferences=pref.reset_index(drop=True),
                               scores=scores.reset_index(drop=True))


@dataclass(frozen=True)
class Baseline:
    """A baseline plan: cadre id -> post id (None: unassigned), as its ``assignments.csv`` says."""

    path: str
    plan: dict[str, str | None]
    sha256: str


def read_baseline(plan_dir: str | os.PathLike, case: Case) -> Baseline:
    """Read ``plan_dir/assignments.csv`` and check that it is a plan of ``case``: known cadres and posts, each
    cadre once, no post given twice. Raises :class:`~cadrex.io.errors.CaseError` listing every problem."""
    path = os.path.join(os.fspath(plan_dir), "assignments.csv")
    out = Collector()
    if not os.path.isfile(path):
        out.add(path, 1, 1, Msg("events.no_baseline"))
        out.raise_if_any()
    raw = read_table(path, out)
    out.raise_if_any()
    assert raw is not None
    for k in ("cadre_id", "to_post"):
        if k not in raw.header:
            out.add(path, 1, 1, Msg("input.missing_column", name=k))
    out.raise_if_any()
    ci, pi = raw.col("cadre_id") - 1, raw.col("to_post") - 1
    plan: dict[str, str | None] = {}
    seen: dict[str, int] = {}
    given: dict[str, tuple[str, int]] = {}
    for row, line in zip(raw.rows, raw.lines, strict=True):
        row = row + [""] * (len(raw.header) - len(row))
        c, p = unescape_cell(row[ci].strip()), unescape_cell(row[pi].strip())
        if c not in case.cadres.index:
            out.add(path, line, ci + 1, Msg("events.not_a_cadre", c=repr(c)))
            continue
        if c in seen:
            out.add(path, line, ci + 1, Msg("events.twice", c=c, line=seen[c]))
            continue
        seen[c] = line
        if p and p not in case.posts.index:
            out.add(path, line, pi + 1, Msg("events.not_a_post", p=repr(p)))
            continue
        if p and p in given:
            out.add(path, line, pi + 1, Msg("events.given_twice", p=p, a=given[p][0], line=given[p][1], c=c))
            continue
        if p:
            given[p] = (c, line)
        plan[c] = p or None
    out.raise_if_any()
    return Baseline(os.fspath(plan_dir), plan, _sha(path))


def load_decline_rates(path: str | os.PathLike, case: Case) -> dict[str, float]:
    """``cadre_id,probability`` (SPEC §11 ``--declines``), validated like a case file: known cadres, each once,
    probabilities within 0..1; raises :class:`~cadrex.io.errors.CaseError` listing every problem."""
    path = os.fspath(path)
    raw, df = _table(path, DECLINES_FILE, Msg("events.no_declines"))
    out = Collector()
    col = raw.col("cadre_id") or 1
    for line, c in zip(df["_line"], df["cadre_id"], strict=True):
        if c and c not in case.cadres.index:
            out.add(path, int(line), col, Msg("events.unknown_cadre", c=repr(c)))
    out.raise_if_any()
    return {c: float(q) for c, q in zip(df["cadre_id"], df["probability"], strict=True)}


__all__ = ["Baseline", "Event", "Events", "apply_events", "load_decline_rates", "load_events", "read_baseline"]
