"""Rule facts in words, written once for every output that states them (English, Chinese): why a cadre must move
(H1: a forced exchange kind, or its years in its province against the policy), and the Chinese label of each
exchange kind. ``reports.tables`` (the ``reasons`` column) and ``analysis.diagnose`` (conflict messages) both use
these."""

from __future__ import annotations

from cadrex.io.schema import FORCED_KINDS, KIND_LABELS, KINDS
from cadrex.rules.context import Context

#: exchange kind → its Chinese label (规定性, …)
KIND_ZH = dict(zip(KINDS, KIND_LABELS, strict=True))

__all__ = ["FORCED_KINDS", "KIND_ZH", "must_move"]


def must_move(ctx: Context, c: int, threshold: bool = False) -> tuple[str, str]:
    """Why cadre ``c`` must move (H1), as (English, Chinese): its forced exchange kind (one of
    :data:`FORCED_KINDS`), else its years in its province; ``threshold`` adds the policy's
    ``mandatory_rotation_years`` those years reach."""
    k = ctx.c_kind[c]
    if k in FORCED_KINDS:
        return f"exchange kind {k} ({KIND_ZH[k]})", f"交流类型为{KIND_ZH[k]}"
    years, prov = f"{ctx.c_years_prov[c]:g}", ctx.prov_ids[ctx.c_prov[c]]
    en, zh = f"{years} years in {prov}", f"在{prov}任职{years}年"
    if threshold:
        n = ctx.policy["mandatory_rotation_years"]
        en += f" (≥ {n}, seed 001 十年交流)"
        zh += f"（不少于{n}年）"
    return en, zh
