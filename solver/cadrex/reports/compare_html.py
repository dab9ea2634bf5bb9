"""The compare report (``cadrex compare --html``) in the reader's language: the scenario table first, who goes
where differently, charts drawn by the browser (inline SVG), then per plan the leadership teams that change as cards
(班子: posts before → after, who arrives and leaves, structure shortfalls) and the vacancy chains drawn as chains."""

from __future__ import annotations

import html
import json
import os

import pandas as pd

from cadrex.i18n import catalogue, say
from cadrex.io.plan import escape_cell
from cadrex.reports import svg
from cadrex.reports.page import page, table

#: cards and chains shown per plan (the rest are counted; the CSV files hold them all)
MAX_CARDS, MAX_CHAINS = 120, 100

__all__ = ["report_html", "vacancy_chains"]


def _e(v) -> str:
    """A cell's text for the page: escaped for HTML, and formula-like text kept as text (as in the tables)."""
    return html.escape(str(escape_cell(v)))


def _read(d: str, name: str) -> pd.DataFrame | None:
    p = os.path.join(d, name)
    if not os.path.isfile(p):
        return None
    from cadrex.io.plan import unescape_cell

    return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig").map(unescape_cell)


def vacancy_chains(posts: pd.DataFrame, assign: pd.DataFrame) -> list[list[tuple[str, str]]]:
    """Every move as part of one chain: [("post", id), ("cadre", id), ("post", id), …, ("end", why)], ``why`` one
    of ``vacant`` (the last cadre's post is left empty), ``outside`` (the last cadre held no post) or ``cycle`` (a
    rotation back to the first post). Chains start at the vacancies filled, then the rotations; ordered by post."""
    new_holder = {r.post_id: r.holder_after for r in posts.itertuples() if r.holder_after and r.holder_after != r.holder_before}
    from_post = {r.cadre_id: r.from_post for r in assign.itertuples() if r.action == "move"}
    before = dict(zip(posts["post_id"], posts["holder_before"], strict=True))
    to_post = dict(zip(assign["cadre_id"], assign["to_post"], strict=True))
    starts = sorted(p for p in new_holder if not before.get(p))
    seen: set[str] = set()
    out = []

    def follow(p0: str) -> list[tuple[str, str]]:
        chain, p = [], p0
        while True:
            c = new_holder.get(p)
            chain.append(("post", p))
            if c is None:
                chain.append(("end", "vacant"))
                return chain
            seen.add(c)
            chain.append(("cadre", c))
            f = from_post.get(c, "")
            if not f:
                chain.append(("end", "outside"))
                return chain
            if f == p0:
                chain.append(("end", "cycle"))
                return chain
            p = f

    for p in starts:
        out.append(follow(p))
    for c in sorted(set(from_post) - seen):
        if c not in seen:  # a rotation: no vacancy starts it
            out.append(follow(to_post[c]))
    return out


def _chain_html(chain: list[tuple[str, str]], names: dict[str, str], titles: dict[str, str], lang: str) -> str:
    bits = []
    for kind, v in chain:
        if kind == "post":
            t = titles.get(v, "")
            bits.append(f"<span class='post' title='{_e(v)}'>{_e(t or v)} <small>{_e(v)}</small></span>")
        elif kind == "cadre":
            bits.append(f"<span class='cadre' title='{_e(v)}'>{_e(names.get(v, v))}</span>")
        else:
            bits.append(f"<span class='end'>{html.escape(say(f'report.chain_{v}', lang))}</span>")
    return "<div class='chain'>" + " ← ".join(bits) + "</div>"


def _cards(posts: pd.DataFrame, assign: pd.DataFrame, teams: pd.DataFrame, names: dict, titles: dict,
           lang: str, provs: dict | None = None) -> str:
    changed = posts[posts["changed"].isin(["True", "true", "1"])]
    tids = sorted(set(changed["team_id"]))
    if not tids:
        return f"<p>{say('report.no_teams', lang)}</p>"
    tinfo = teams.set_index("team_id") if teams is not None else None
    team_of = dict(zip(posts["post_id"], posts["team_id"], strict=True))
    arrivals: dict[str, list] = {}
    departures: dict[str, list] = {}
    for r in assign[assign["action"] == "move"].itertuples():  # one pass: who joins and who leaves each team
        a, b = team_of.get(r.to_post), team_of.get(r.from_post)
        if a != b:
            arrivals.setdefault(a, []).append(r)
            departures.setdefault(b, []).append(r)
    cat = catalogue()
    cards = []
    for tid in tids[:MAX_CARDS]:
        tp = changed[changed["team_id"] == tid]
        title = tinfo.at[tid, "name"] if tinfo is not None and tid in tinfo.index else tid
        rows = "".join(f"<li>{_e(titles.get(r.post_id, r.post_id))}: "
                       f"{_e(names.get(r.holder_before, r.holder_before) or say('report.vacant', lang))} → "
                       f"<b>{_e(names.get(r.holder_after, r.holder_after) or say('report.vacant', lang))}</b></li>"
                       for r in tp.itertuples())
        arrive, leave = arrivals.get(tid, []), departures.get(tid, [])
        sep, op, cp = ("、", "（", "）") if lang == "zh" else (", ", " (", ")")
        pv = provs or {}
        who_in = sep.join(f"{_e(r.name)}{op}{_e(pv.get(r.from_province, r.from_province))}{cp}" for r in arrive) or "—"
        who_out = sep.join(f"{_e(r.name)}{op}→ {_e(pv.get(r.to_province, r.to_province))}{cp}" for r in leave) or "—"
        sf = []
        if tinfo is not None and tid in tinfo.index:
            row = tinfo.loc[tid]
            for k in [c[: -len("_before")] for c in tinfo.columns if c.endswith("_before")]:
                b, a = row.get(f"{k}_before", ""), row.get(f"{k}_after", "")
                if b in ("", "0") and a in ("", "0"):
                    continue
                cls = "worse" if float(a or 0) > float(b or 0) else "better" if float(a or 0) < float(b or 0) else ""
                label = say(f"structure.{k}", lang) if f"structure.{k}" in cat else k
                sf.append(f"<li class='{cls}'>{html.escape(label)}: {html.escape(b or '0')} → {html.escape(a or '0')}</li>")
        cards.append(f"<div class='card'><h3>{_e(title)} <small>{_e(tid)}</small></h3>"
                     f"<b>{say('report.card_posts', lang)}</b><ul>{rows}</ul>"
                     f"<div class='in'>{say('report.arrive', lang)}{who_in}</div>"
                     f"<div class='out'>{say('report.leave', lang)}{who_out}</div>"
                     f"<b>{say('report.shortfalls', lang)}</b><ul>{''.join(sf) or '<li>' + say('report.no_shortfall', lang) + '</li>'}</ul></div>")
    more = f"<p class='note'>{say('report.more', lang, n=len(tids) - MAX_CARDS)}</p>" if len(tids) > MAX_CARDS else ""
    return f"<h3>{say('report.teams', lang, shown=min(len(tids), MAX_CARDS), n=len(tids))}</h3><div class='cards'>{''.join(cards)}</div>{more}"


def _plan_section(name: str, s: dict, d: str, lang: str) -> str:
    parts = [f"<h2>{html.escape(say('report.plan', lang, name=name))}</h2>"]
    c = s.get("counts", {})
    st = str(s.get("status"))
    st = say(f"status.{st}", lang) if f"status.{st}" in catalogue() else st
    parts.append(f"<p>{html.escape(say('report.plan_line', lang, status=st, objective=s.get('objective'), moves=c.get('moves'), filled=c.get('vacancies_filled')))}</p>")
    diag = os.path.join(d, "diagnosis.json")
    if os.path.isfile(diag):
        with open(diag, encoding="utf-8") as fh:
            conflicts = json.load(fh)
        key = "message_zh" if lang == "zh" else "message"
        parts.append(f"<p>{say('report.infeasible', lang)}</p><ul>"
                     + "".join(f"<li>{html.escape(x.get(key, ''))}</li>" for x in conflicts) + "</ul>")
    assign, posts, teams = _read(d, "assignments.csv"), _read(d, "posts.csv"), _read(d, "teams.csv")
    if assign is None or posts is None:
        return "".join(parts)
    names = dict(zip(assign["cadre_id"], assign["name"], strict=True))
    titles: dict[str, str] = {}
    provs: dict[str, str] = {}
    cp = s.get("case_path")
    if cp and os.path.isdir(cp):
        try:
            from cadrex.io import load_case

            case = load_case(cp)
            titles = case.posts["title"].astype(str).to_dict()
            names = case.cadres["name"].astype(str).to_dict() | names
            if lang == "zh" and "name" in case.provinces.columns:  # a Chinese reader gets province names
                provs = case.provinces["name"].astype(str).to_dict()
        except Exception:  # a case changed since: ids instead of titles
            titles = {}
    flows = s.get("metrics", {}).get("flows") or []
    if flows:
        parts.append(svg.flow_matrix(say("report.flows", lang, name=name), flows, say("report.flow_from", lang),
                                     say("report.flow_to", lang)))
    parts.append(_cards(posts, assign, teams, names, titles, lang, provs))
    chains = vacancy_chains(posts, assign)
    parts.append(f"<h3>{say('report.chains', lang, n=len(chains))}</h3><p class='note'>{say('report.chains_note', lang)}</p>")
    parts += [_chain_html(ch, names, titles, lang) for ch in chains[:MAX_CHAINS]]
    if not chains:
        parts.append(f"<p>{say('report.no_chains', lang)}</p>")
    if len(chains) > MAX_CHAINS:
        parts.append(f"<p class='note'>{say('report.more', lang, n=len(chains) - MAX_CHAINS)}</p>")
    return "".join(parts)


def report_html(loaded: list, dirs: list[str], lang: str, meta: str, tab: pd.DataFrame, diff: pd.DataFrame | None) -> str:
    """The report page; ``tab``/``diff``: the scenario table and the differences of the first two, already in
    ``lang``'s column names."""
    from cadrex.version import __version__

    body = [f"<h1>{say('report.title', lang)}</h1>",
            f"<p class='note'>{html.escape(say('report.generated', lang, version=__version__, n=len(loaded)))}</p>",
            f"<h2>{say('report.scenarios', lang)}</h2>", table(tab)]
    if diff is not None:
        body.append(f"<h2>{html.escape(say('report.differences', lang, a=str(loaded[0][0]), b=str(loaded[1][0])))}</h2>")
        body.append(table(diff) if len(diff) else f"<p>{say('report.identical', lang)}</p>")
    with_m = [(n, s) for n, s, _ in loaded if s.get("metrics")]
    if with_m:
        body.append(f"<h2>{say('report.charts', lang)}</h2>")
        cat = catalogue()
        rules = sorted({k for _, s in with_m for k in s["metrics"].get("structure_after", {})})
        labels = [say(f"structure.{r}", lang) if f"structure.{r}" in cat else r for r in rules]
        series = {say("report.before", lang): [with_m[0][1]["metrics"].get("structure_before", {}).get(r, 0) for r in rules]}
        series |= {say("report.after", lang, name=n): [s["metrics"]["structure_after"].get(r, 0) for r in rules]
                   for n, s in with_m}
        body.append(svg.bars(say("report.structure", lang), labels, series, width=max(640, 90 * len(rules))))
        levels = ["0", "1", "2", "3"]
        body.append(svg.bars(say("report.hardship", lang), [say("report.hardship_level", lang, k=k) if k != "0" else say("report.hardship_none", lang) for k in levels],
                             {n: [s["metrics"].get("vacancies_filled_by_hardship", {}).get(k, 0) for k in levels]
                              for n, s in with_m}))
    scores = {n: [float(v) for v in a.loc[a["action"] != "unassigned", "score"]] for n, _, a in loaded if a is not None}
    if scores:
        body.append(svg.histogram(say("report.scores", lang), scores))
    for (name, s, _), d in zip(loaded, dirs, strict=True):
        body.append(_plan_section(str(name), s, d, lang))
    return page(say("report.title", lang), "".join(body), lang, meta)
