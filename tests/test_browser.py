"""The HTML reports in a real browser (issue 16): headless Chromium renders the compare report and the horizon
report to PNG; the page logs no console error, every ``svg.chart`` has drawn (the page's own self-check in
``body[data-charts]``), and the screenshot is not blank. Skipped, with the reason, where Chromium is absent
(``.ci/run`` installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import SAMPLE

from cadrex.cli import main

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine (apt-get install chromium; "
                                                         ".ci/run installs it)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def render(page, tmp_path, name: str) -> tuple[str, str, int]:
    """The page's DOM after its scripts ran, the browser's log, and the number of colours in a PNG screenshot
    (``tmp_path/name.png``)."""
    url = page.resolve().as_uri()
    r = subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={tmp_path / (name + '-profile')}", "--enable-logging=stderr",
                        "--v=0", "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    png = tmp_path / f"{name}.png"
    s = subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={tmp_path / (name + '-shot')}", "--window-size=1280,2400",
                        f"--screenshot={png}", url], capture_output=True, text=True, timeout=120)
    assert s.returncode == 0 and png.is_file(), s.stderr[-2000:]
    from PIL import Image

    with Image.open(png) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    return r.stdout, r.stderr, 1 << 20 if colours is None else len(colours)


def check(dom: str, log: str, colours: int) -> None:
    assert colours > 50, "the screenshot is (nearly) blank"
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert "data-errors" not in body, body
    errors = [ln for ln in log.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or ":ERROR:" in ln)]
    assert not errors, errors
    m = re.search(r'data-charts="(\d+)/(\d+)"', body)
    assert m, "the page's script did not run"
    assert int(m.group(2)) > 0 and m.group(1) == m.group(2), f"charts drawn {m.group(1)} of {m.group(2)}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_compare_report_renders_in_chromium(tmp_path, lang):
    for name, extra in (("base", []), ("promote", ["--policy", "promote"])):
        assert main(["solve", str(SAMPLE), "--out", str(tmp_path / name), "--quiet", "--lang", lang, *extra]) == 0
    page = tmp_path / "report.html"
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "promote"), "--html", str(page), "--lang", lang]) == 0
    dom, log, colours = render(page, tmp_path, f"compare-{lang}")
    check(dom, log, colours)
    assert dom.count("class=\"card\"") >= 2 and dom.count("class=\"chain\"") >= 2
    assert ("空缺链" in dom) == (lang == "zh")


def test_horizon_report_renders_in_chromium(tmp_path):
    assert main(["horizon", str(SAMPLE), "--years", "3", "--out", str(tmp_path / "h"), "--quiet", "--lang", "zh"]) == 0
    dom, log, colours = render(tmp_path / "h" / "report.html", tmp_path, "horizon")
    check(dom, log, colours)


def test_a_script_error_is_caught(tmp_path):
    """The check can fail: a page with a broken script is reported."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><head><script>window.__cadrexErrors=[];window.addEventListener('error',"
                    "function(e){document.body.dataset.errors=e.message;});</script></head><body>"
                    "<svg class='chart'><rect width='5' height='5'/></svg><script>nosuchfn();</script></body></html>",
                    encoding="utf-8")
    dom, log, _ = render(page, tmp_path, "bad")
    with pytest.raises(AssertionError, match="nosuchfn"):
        check(dom, log, 1000)
