"""One offline HTML page for every cadrex report: bilingual-ready skeleton, tables that fit the page (scrolling
box, sticky header, sortable by a click on a column), and a self-check the browser test reads: ``body[data-charts]``
is "drawn/total" over the ``svg.chart`` elements, ``body[data-errors]`` lists script errors. No network access."""

from __future__ import annotations

import html

import pandas as pd

from cadrex.io.plan import safe_frame

CSS = """
body{font-family:'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',
 'SimHei',sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
.tablebox{max-height:32em;overflow:auto;border:1px solid #ccc;margin:.5em 0}
table{border-collapse:collapse;font-size:12px;width:max-content;min-width:100%}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;white-space:nowrap}
th{position:sticky;top:0;background:#f0f0f0;cursor:pointer;z-index:1}
th.sorted-asc::after{content:' ▲'}th.sorted-desc::after{content:' ▼'}
td.num{text-align:right}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(21em,1fr));gap:.8em}
.card{border:1px solid #ccc;border-radius:6px;padding:.6em .8em;font-size:13px;background:#fcfcfc}
.card h3{font-size:14px;margin:.1em 0 .4em}.card ul{margin:.2em 0;padding-left:1.2em}
.in{color:#2a7a2a}.out{color:#b03030}.worse{color:#b03030;font-weight:bold}.better{color:#2a7a2a}
.chain{display:flex;flex-wrap:wrap;align-items:center;gap:.3em;margin:.4em 0;font-size:13px}
.chain .post{border:1px solid #4e79a7;border-radius:4px;padding:1px 6px;background:#eef3fa}
.chain .cadre{border:1px solid #59a14f;border-radius:10px;padding:1px 6px;background:#eff8ee}
.chain .end{border:1px dashed #999;border-radius:4px;padding:1px 6px;color:#666}
.note{color:#555;font-size:13px}svg.chart{max-width:100%;height:auto;display:block;margin:.6em 0}
"""

HEAD_JS = ("window.__cadrexErrors=[];window.addEventListener('error',function(e){window.__cadrexErrors.push("
           "String(e.message));if(document.body){document.body.dataset.errors=window.__cadrexErrors.join(' | ');}});")

BODY_JS = """
(function(){
function cellValue(td){var t=td.textContent.trim();var n=parseFloat(t.replace(/[,%]/g,''));
 return (t!=='' && !isNaN(n) && /^[-+]?[0-9.,]+%?$/.test(t)) ? n : t;}
document.querySelectorAll('table.sortable').forEach(function(tab){
 tab.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
  var body=tab.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
  var asc=!th.classList.contains('sorted-asc');
  tab.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
  th.classList.add(asc?'sorted-asc':'sorted-desc');
  rows.sort(function(a,b){var x=cellValue(a.cells[i]),y=cellValue(b.cells[i]);
   if(typeof x==='number'&&typeof y==='number'){return asc?x-y:y-x;}
   return asc?String(x).localeCompare(String(y),'zh'):String(y).localeCompare(String(x),'zh');});
  rows.forEach(function(r){body.appendChild(r);});});});});
var charts=document.querySelectorAll('svg.chart');var drawn=0;
charts.forEach(function(s){var b=s.getBBox();if(b.width>0&&b.height>0&&s.childElementCount>1){drawn++;}});
document.body.dataset.charts=drawn+'/'+charts.length;
if(window.__cadrexErrors.length){document.body.dataset.errors=window.__cadrexErrors.join(' | ');}
})();
"""

__all__ = ["page", "table"]


def table(df: pd.DataFrame, max_rows: int | None = None) -> str:
    """``df`` as a sortable table in a scrolling box (cells escaped, formula-like text kept as text)."""
    df = safe_frame(df)
    if max_rows is not None:
        df = df.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)

    def td(v) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return "<td></td>"
        num = isinstance(v, int | float) and not isinstance(v, bool)
        return f"<td class='num'>{v:g}</td>" if num and isinstance(v, float) else \
            f"<td{' class=num' if num else ''}>{html.escape(str(v))}</td>"

    body = "".join("<tr>" + "".join(td(v) for v in r) + "</tr>" for r in df.itertuples(index=False))
    return f"<div class='tablebox'><table class='sortable'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def page(title: str, body: str, lang: str, meta: str = "") -> str:
    """The whole document: ``meta`` (extra head tags, e.g. the generator marker), styles, ``body``, the script."""
    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>{meta}"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style><script>{HEAD_JS}</script></head><body>{body}<script>{BODY_JS}</script></body></html>\n")
