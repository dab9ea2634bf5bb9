"""The builder: assembles the parts (pairs, rows, columns) into a complete :class:`Model` (SPEC §5–§6), and the
extension points through which later jobs add objective terms, auxiliaries and rows without copying the model.

Variables ``0 .. n_pairs-1`` are the binary pair choices x[c,p] (stays included); the rest are non-negative
auxiliaries (structure shortfalls, province flow imbalance, then the extensions' own) that are integral at every
optimum. Rows do not depend on which pairs are present: :func:`build_rows` makes a :class:`RowIndex` for the whole
case (from a cheap :func:`summarize` of every eligible pair) and :func:`pair_columns` gives the column of any batch
of pairs against it; the full model (:func:`build_model`) and the restricted masters of column generation
(``cadrex.solvers.cg``) both go through :func:`assemble`. A :class:`Model` is complete when built: nothing is
attached to it afterwards (a restricted master records its pool indices in ``pair_index``).

Extension points (re-plan change terms of SPEC §10, per-round copies of §12): pass ``extensions=(e1, e2, ...)`` to
:func:`build_model` (or to :func:`build_rows` and :func:`pair_objective` when assembling by hand, and to
``ColumnGeneration`` / ``solve_scaled``). An extension is any object with the three methods of :class:`Extension`
(subclass it and override what you need)::

    class Change(Extension):                      # −W per pair off the baseline, Σ changed ≤ K
        def pair_objective(self, ctx, pairs):     # (a) a term per pair, a vector over the batch (integers)
            return -W * off_baseline(pairs)
        def add_rows(self, ctx, ri):              # (b) auxiliaries (ri.aux, their objective and upper bound) and
            return ri.add(1, -np.inf, K, "change", ["change cap"])   # (c) rows: lo, hi, rule id, labels, entities
        def pair_entries(self, ctx, pairs, rows): # coefficients of a batch of pairs on those rows, as COO
            j = np.flatnonzero(off_baseline(pairs))
            return np.full(len(j), rows[0]), j, np.ones(len(j))

``add_rows`` runs after the rows of SPEC §5–§6 (so those keep their numbers) and returns a handle — here its row
ids — that :class:`RowIndex` keeps beside the extension and hands back to ``pair_entries``. Coefficients on the
pairs are a function of the batch alone, so every path sees them: the full model, column generation's pricing
(cached or not) and its masters, the diagnosis. A constant term goes in ``offset`` (fourth method). Auxiliaries it adds go after every other auxiliary; their upper
bound is kept in column generation's master LP when added with ``bounded=True`` (the default of natural bounds is to
drop them there). Objective terms must be integral (the bound is floored). Without extensions the model is exactly
the one of SPEC §5–§6.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cadrex.model.columns import pair_columns
from cadrex.model.flow import flow_rows
from cadrex.model.hard import h1_h2_rows, h3_rows, h4_rows, h5_rows, h8_rows
from cadrex.model.pairs import Pairs, all_pairs, pair_objective
from cadrex.model.rows import RowIndex, Summary, summarize
from cadrex.model.structure import structure_rows
from cadrex.rules.context import Context
from cadrex.rules.scores import short_list, top_candidates

log = logging.getLogger(__name__)


class Extension:
    """Adds to the model of SPEC §5–§6 without copying it; the base adds nothing (see the module docstring).
    :meth:`pair_objective` and :meth:`pair_entries` are called on batches of pairs, by column generation from two
    threads at once: they read ``ctx`` and the batch and change nothing shared."""

    def pair_objective(self, ctx: Context, pairs: Pairs) -> np.ndarray | None:
        """Objective coefficient added to each pair of the batch (integers), or None."""
        return None

    def add_rows(self, ctx: Context, ri: RowIndex):
        """Add rows (``ri.add``) and auxiliaries (``ri.aux``); return what :meth:`pair_entries` needs (row ids)."""
        return None

    def pair_entries(self, ctx: Context, pairs: Pairs, handle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """COO entries (row, index into the batch, value) of the batch's pairs on this extension's rows."""
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)

    def offset(self, ctx: Context) -> float:
        """A constant added to the objective (an integer), whatever the plan."""
        return 0.0

    def master_pairs(self, ctx: Context, pairs: Pairs) -> np.ndarray | None:
        """Pairs of the batch that column generation's first master should hold (a warm start), or None."""
        return None


class MipArrays:
    """What a MIP over arrays ``obj``, ``A`` and ``offset`` tells of itself (a :class:`Model`, or the dive's reduced
    MIP in :mod:`cadrex.solvers.cg.fixing`)."""

    obj: np.ndarray
    A: sp.csr_matrix
    offset: float

    @property
    def n_vars(self) -> int:
        return len(self.obj)

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    def objective_of(self, x: np.ndarray) -> float:
        return float(self.obj @ x + self.offset)


@dataclass
class Model(MipArrays):
    """Maximize ``obj @ x + offset`` s.t. ``row_lo <= A x <= row_hi``, ``lb <= x <= ub``, x[:n_pairs] binary."""

    ctx: Context
    pair_c: np.ndarray
    pair_p: np.ndarray
    pair_stay: np.ndarray
    terms: dict[str, np.ndarray]
    pair_score: np.ndarray
    obj: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_rule: np.ndarray
    row_label: list[str]
    aux_label: list[str]
    offset: float = 0.0
    infeasible: list[tuple[str, str]] = field(default_factory=list)
    #: per pair: '' or the rule that fixes this stay option at 0 (H1 must move, H4 fixed relative, E8 pin)
    pair_block: np.ndarray | None = None
    #: H6 caps on count-rule shortfall variables: (var, team index, rule name, capped ub, natural ub)
    h6_caps: list[tuple[int, int, str, float, float]] = field(default_factory=list)
    #: H7 require pins: (pair index or -1, cadre index, post index)
    h7_pins: list[tuple[int, int, int]] = field(default_factory=list)
    #: per row: ids it concerns (cadres, posts, teams) for messages
    row_ent: list[tuple] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rows: RowIndex | None = None
    #: per pair: its index in the column-generation pool (a restricted master), or None (every eligible pair)
    pair_index: np.ndarray | None = None

    @property
    def n_pairs(self) -> int:
        return len(self.pair_c)

    def stats(self) -> dict:
        return {"pairs": self.n_pairs, "vars": self.n_vars, "rows": self.n_rows, "nnz": int(self.A.nnz)}

    def short_list(self, k: int = 3) -> dict[str, list[str]]:
        """Post id -> top ``k`` eligible cadres by weighted pair score, ties by cadre id (以岗选人, seed 003), over
        this model's pairs; for a full model (every eligible pair) that is the short list of SPEC §7. Column
        generation computes the same list over its whole pair set (:func:`cadrex.rules.scores.top_candidates`)."""
        idx = top_candidates(self.ctx, self.pair_c, self.pair_p, self.pair_score, self.ub[: self.n_pairs] > 0, k)
        return short_list(self.ctx, self.pair_c, self.pair_p, idx)



def build_rows(ctx: Context, summ: Summary, extensions: tuple = ()) -> RowIndex:
    """Every row of SPEC §5–§6 for the case — H1/H2, H3, H4, H5, structure and H6, flow, H8 — then each extension's."""
    ri = RowIndex()
    h1_h2_rows(ctx, ri)
    h3_rows(ctx, ri)
    h4_rows(ctx, ri, summ)
    h5_rows(ctx, ri)
    structure_rows(ctx, ri, summ)
    flow_rows(ctx, ri)
    h8_rows(ctx, ri)
    ri.extensions = tuple((e, e.add_rows(ctx, ri)) for e in extensions)
    ri.offset = float(sum(e.offset(ctx) for e in extensions))
    return ri


def assemble(ctx: Context, ri: RowIndex, pairs: Pairs, terms: dict, score: np.ndarray, obj: np.ndarray,
             pair_index: np.ndarray | None = None) -> Model:
    """The model over ``pairs`` (plus every auxiliary) against the row index; ``pair_index``: the pairs' indices in
    a larger pool (column generation), kept on the model."""
    n = len(pairs)
    r, cidx, v = pair_columns(ctx, ri, pairs)
    na = len(ri.aux_obj)
    if ri.aux_r:
        r = np.concatenate([r] + ri.aux_r)
        cidx = np.concatenate([cidx] + [n + a for a in ri.aux_a])
        v = np.concatenate([v] + ri.aux_v)
    nv = n + na
    A = sp.csr_matrix((v, (r, cidx)), shape=(ri.n, nv))
    A.sum_duplicates()
    lb = np.zeros(nv)
    ub = np.concatenate([pairs.ok.astype(float), np.asarray(ri.aux_ub, float)])
    row_lo, row_hi = np.asarray(ri.lo, float), np.asarray(ri.hi, float)
    infeasible: list[tuple[str, str]] = []
    # H7 require pins: fix the pair to 1, or the case is infeasible
    pk = pairs.c.astype(np.int64) * ctx.n_post + pairs.p
    order = np.argsort(pk, kind="stable")
    h7: list[tuple[int, int, int]] = []
    for i in np.flatnonzero(ctx.pin_require):
        c, p = int(ctx.pin_c[i]), int(ctx.pin_p[i])
        pos = np.searchsorted(pk, c * ctx.n_post + p, sorter=order)
        hit = int(order[pos]) if pos < n and pk[order[pos]] == c * ctx.n_post + p else -1
        h7.append((hit, c, p))
        if hit >= 0:
            lb[hit] = 1.0
        else:
            why = "is not in play" if not ctx.c_inplay[c] else (
                "post is not in play (held by a fixed cadre)" if not ctx.p_inplay[p] else "pair is not eligible")
            infeasible.append(("H7", f"H7 require pin {ctx.cad_ids[c]} -> {ctx.post_ids[p]}: {why}"))
    nnz_row = np.diff(A.indptr)
    for k in np.flatnonzero((nnz_row == 0) & ((row_lo > 0) | (row_hi < 0))):
        infeasible.append((ri.rule[k], ri.label[k] + " — no eligible option"))
    caps = [(n + v_, t, name, cap, nat) for v_, t, name, cap, nat in ri.h6_caps]
    return Model(ctx=ctx, pair_c=pairs.c, pair_p=pairs.p, pair_stay=pairs.stay, terms=terms, pair_score=score,
                 obj=np.concatenate([obj, np.asarray(ri.aux_obj, float)]), lb=lb, ub=ub,
                 integer=np.concatenate([np.ones(n, np.uint8), np.zeros(na, np.uint8)]), A=A, row_lo=row_lo, row_hi=row_hi,
                 row_rule=np.asarray(ri.rule, dtype=object), row_label=ri.label, aux_label=ri.aux_label, infeasible=infeasible,
                 pair_block=pairs.block, h6_caps=caps, h7_pins=h7, row_ent=ri.ent, rows=ri, pair_index=pair_index,
                 offset=ri.offset)


def build_model(ctx: Context, extensions: tuple = ()) -> Model:
    """The full model of SPEC §5–§6 (every eligible pair a variable), plus the ``extensions``' terms and rows."""
    t0 = time.perf_counter()
    pairs = all_pairs(ctx)
    t1 = time.perf_counter()
    terms, score, obj = pair_objective(ctx, pairs, extensions)
    t2 = time.perf_counter()
    ri = build_rows(ctx, summarize(ctx, pairs), extensions)
    m = assemble(ctx, ri, pairs, terms, score, obj)
    t3 = time.perf_counter()
    m = dataclasses.replace(m, timings={"pairs": t1 - t0, "scores": t2 - t1, "rows": t3 - t2})
    log.info("model: %d pairs, %d vars, %d rows, %d nnz (pairs %.2fs, scores %.2fs, rows %.2fs)", len(pairs), m.n_vars,
             m.n_rows, m.A.nnz, t1 - t0, t2 - t1, t3 - t2)
    return m
