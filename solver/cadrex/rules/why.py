"""Rule facts in words, written once for every output that states them (English, Chinese): why a cadre must move
(H1: a forced exchange kind, or its years in its province against the policy), and the Chinese label of each
exchange kind. ``reports.tables`` (the ``reasons`` column) and ``analysis.diagnose`` (conflict messages) both use
these."""

from __future__ import annotations

from cadrex.i18n import Local, Msg
from cadrex.io.schema import FORCED_KINDS, KIND_LABELS, KINDS
from cadrex.rules.context import Context

#: exchange kind → its Chinese label (规定性, …)
KIND_ZH = dict(zip(KINDS, KIND_LABELS, strict=True))

__all__ = ["FORCED_KINDS", "KIND_ZH", "must_move", "must_move_msg"]


def must_move_msg(ctx: Context, c: int, threshold: bool = False) -> Msg:
    """Why cadre ``c`` must move (H1), as a message: its forced exchange kind (one of :data:`FORCED_KINDS`), else
    its years in its province; ``threshold`` adds the policy's ``mandatory_rotation_years`` those years reach."""
    k = ctx.c_kind[c]
    if k in FORCED_KINDS:
        return Msg("why.kind", kind=k, label=KIND_ZH[k])
    pid = ctx.prov_ids[ctx.c_prov[c]]
    names = ctx.case.provinces["name"] if "name" in ctx.case.provinces.columns else None
    years, prov = f"{ctx.c_years_prov[c]:g}", Local(pid, str(names.get(pid, pid)) if names is not None else pid)
    if threshold:
        return Msg("why.years_threshold", years=years, prov=prov, n=ctx.policy["mandatory_rotation_years"])
    return Msg("why.years", years=years, prov=prov)


def must_move(ctx: Context, c: int, threshold: bool = False) -> tuple[str, str]:
    """:func:`must_move_msg` as (English, Chinese)."""
    m = must_move_msg(ctx, c, threshold)
    return m.text("en"), m.text("zh")
