"""The row index: every row and auxiliary variable of a case, independent of which pairs are present, and the
cheap summary of the pair set the rows need (which (team, specialty) combinations and kin rows exist)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cadrex.model.pairs import Pairs
from cadrex.rules.context import Context


@dataclass
class Summary:
    """What the rows need to know of the full pair set: (team, specialty) combos, kin rows."""

    spec_keys: np.ndarray
    kin_rows: list[tuple[int, int, int]]  # (cadre a, cadre b, team)


def summarize(ctx: Context, pairs: Pairs) -> Summary:
    NS = max(1, len(ctx.spec_ids))
    T = ctx.n_team
    pt = ctx.p_team[pairs.p]
    cs = ctx.c_spec[pairs.c]
    keys = np.unique(pt[cs >= 0].astype(np.int64) * NS + cs[cs >= 0])
    kin: list[tuple[int, int, int]] = []
    rel = ctx.c_inplay[ctx.rel_a] & ctx.c_inplay[ctx.rel_b] & (ctx.rel_a < ctx.rel_b)
    if rel.any():
        kin_c = np.unique(np.concatenate([ctx.rel_a[rel], ctx.rel_b[rel]]))
        sel = np.isin(pairs.c, kin_c)
        ct = np.unique(pairs.c[sel].astype(np.int64) * T + pt[sel])
        def teams_of(c: int) -> np.ndarray:  # ct is sorted: cadre c's teams are one contiguous run
            return ct[np.searchsorted(ct, c * T):np.searchsorted(ct, (c + 1) * T)] % T

        for a, b in zip(ctx.rel_a[rel], ctx.rel_b[rel], strict=True):  # one step per relation (H4), not per pair
            kin += [(int(a), int(b), int(t)) for t in np.intersect1d(teams_of(int(a)), teams_of(int(b)))]
    return Summary(keys, kin)


@dataclass
class RowIndex:
    """All rows and auxiliary variables of a case, independent of which pairs are present. Rows come in the order
    the builder adds them (H1/H2, H3, H4, H5, structure and H6, flow, then each extension's); auxiliaries likewise."""

    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    rule: list[str] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    ent: list[tuple] = field(default_factory=list)
    aux_obj: list[float] = field(default_factory=list)
    aux_ub: list[float] = field(default_factory=list)
    aux_label: list[str] = field(default_factory=list)
    aux_r: list[np.ndarray] = field(default_factory=list)  # aux entries: row, aux index (0-based), value
    aux_a: list[np.ndarray] = field(default_factory=list)
    aux_v: list[np.ndarray] = field(default_factory=list)
    h6_caps: list[tuple[int, int, str, float, float]] = field(default_factory=list)  # aux index based
    # maps used by pair_columns
    h2_row: np.ndarray | None = None  # per cadre (global), -1
    h3_row: np.ndarray | None = None  # per post (global), -1
    kin_key: np.ndarray | None = None  # cadre*T+team, sorted, with kin_rowid
    kin_rowid: np.ndarray | None = None
    h5_row: np.ndarray | None = None  # per post, -1
    count_rows: dict = field(default_factory=dict)  # rule -> per team row (-1)
    young_age: np.ndarray | None = None
    spec_keys: np.ndarray | None = None
    spec_rowid: np.ndarray | None = None
    req_keys: np.ndarray | None = None
    req_rowid: np.ndarray | None = None
    age_row: np.ndarray | None = None
    age_k: np.ndarray | None = None
    flow_row: np.ndarray | None = None  # per province
    h8_move_row: int = -1  # H8 max_moves row (−1: no cap)
    h8_dep_row: np.ndarray | None = None  # H8 departures row per province (−1: no cap)
    #: auxiliaries (0-based) whose upper bound is a constraint, not a natural bound (extensions' by default)
    aux_bounded: list[int] = field(default_factory=list)
    #: (extension, what its ``add_rows`` returned) per extension whose rows were added here, in order:
    #: :func:`~cadrex.model.columns.pair_columns` asks each for its pairs' entries
    extensions: tuple = ()
    #: constant added to the objective by the extensions (e.g. −W per cadre with a baseline post, SPEC §10)
    offset: float = 0.0

    @property
    def n(self) -> int:
        return len(self.lo)

    def add(self, k: int, lo, hi, rule: str, labels: list[str], ents: list[tuple] | None = None) -> np.ndarray:
        base = self.n
        self.lo.extend(np.broadcast_to(np.asarray(lo, float), (k,)).tolist())
        self.hi.extend(np.broadcast_to(np.asarray(hi, float), (k,)).tolist())
        self.rule.extend([rule] * k)
        self.label.extend(labels)
        self.ent.extend(ents if ents is not None else [((), (), ())] * k)
        return np.arange(base, base + k)

    def aux(self, k: int, obj, ub, labels: list[str], rows: np.ndarray, vals, bounded: bool = False) -> np.ndarray:
        """``k`` auxiliaries, auxiliary i entering row ``rows[i]`` with ``vals[i]``. ``bounded``: their upper bound
        is a constraint (column generation keeps it in the master LP; natural bounds it drops there)."""
        base = len(self.aux_obj)
        ids = np.arange(base, base + k)
        self.aux_obj.extend(np.broadcast_to(np.asarray(obj, float), (k,)).tolist())
        self.aux_ub.extend(np.asarray(ub, float).tolist())
        self.aux_label.extend(labels)
        self.aux_r.append(np.asarray(rows, np.int64))
        self.aux_a.append(ids)
        self.aux_v.append(np.broadcast_to(np.asarray(vals, float), (k,)).copy())
        if bounded:
            self.aux_bounded.extend(ids.tolist())
        return ids

    def aux_entries(self, ids: np.ndarray, rows: np.ndarray, vals) -> None:
        self.aux_r.append(np.asarray(rows, np.int64))
        self.aux_a.append(np.asarray(ids, np.int64))
        self.aux_v.append(np.broadcast_to(np.asarray(vals, float), (len(ids),)).copy())

