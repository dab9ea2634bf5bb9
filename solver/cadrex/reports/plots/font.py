"""A CJK font for the PNG charts (notebooks, workbooks): the first installed of Noto Sans CJK, Source Han Sans,
SimHei, Microsoft YaHei, WenQuanYi; without one, Chinese labels would draw as empty boxes, so the charts fall back
to English labels with one warning."""

from __future__ import annotations

import logging

from cadrex.i18n import resolve_lang

log = logging.getLogger(__name__)
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "Source Han Sans CN", "SimHei",
             "Microsoft YaHei", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")
_FILES = ("notosanscjk", "sourcehansans", "simhei", "msyh", "wqy-microhei", "wqy-zenhei")
_warned = [False]

__all__ = ["CJK_FONTS", "chart_lang", "cjk_font"]


def cjk_font() -> str | None:
    """The name of an installed CJK font matplotlib can use (fonts installed after matplotlib built its cache are
    found on disk and added), or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for n in CJK_FONTS:
        if n in names:
            return n
    for path in font_manager.findSystemFonts():
        if any(k in path.lower().replace(" ", "") for k in _FILES):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def chart_lang(lang: str | None = None) -> str:
    """The language a chart can be labelled in: ``zh`` (with a CJK font set in matplotlib) when asked for and a
    font is installed, else ``en`` (one warning per process when zh was asked for)."""
    if resolve_lang(lang) != "zh":
        return "en"
    font = cjk_font()
    if font is None:
        if not _warned[0]:
            _warned[0] = True
            log.warning("no CJK font installed (Noto Sans CJK, Source Han Sans, SimHei, Microsoft YaHei, WenQuanYi): "
                        "chart labels in English / 未安装中文字体，图表标注改用英文")
        return "en"
    import matplotlib

    matplotlib.rcParams["font.sans-serif"] = [font, *[f for f in matplotlib.rcParams["font.sans-serif"] if f != font]]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return "zh"
