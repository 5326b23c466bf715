"""The report as a person sees it: headless Chromium draws every figure with no script error.

The screenshot lands in ``build/report.png`` at the repo root (git-ignored) for a reviewer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from b3lake.report import build_report
from b3lake.settings import Settings

from .conftest import ROOT

BUILD = ROOT / "build"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
# Runs before plotly.js: every uncaught error, rejected promise or console.error lands in a
# <pre id="b3lake-js-errors"> that --dump-dom shows us.
ERROR_COLLECTOR = """<script>
(function () {
  var errors = [];
  function out() {
    var el = document.getElementById("b3lake-js-errors");
    if (!el) { el = document.createElement("pre"); el.id = "b3lake-js-errors";
      (document.body || document.documentElement).appendChild(el); }
    el.textContent = errors.join("\\n");
  }
  window.onerror = function (msg, src, line, col) { errors.push("error: " + msg + " @" + line + ":" + col); out(); };
  window.addEventListener("unhandledrejection", function (e) { errors.push("rejection: " + e.reason); out(); });
  var ce = console.error;
  console.error = function () { errors.push("console.error: " + Array.prototype.join.call(arguments, " ")); out(); ce.apply(console, arguments); };
  document.addEventListener("DOMContentLoaded", out);
})();
</script>"""


def chromium() -> str:
    """The browser binary, or skip (fail where CI could have installed it)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    reason = "chromium not installed (apt-get install chromium; `make test` does it as root)"
    if os.environ.get("CI") == "true" and hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.fail(reason + " - on CI as root apt-get should have installed it")
    pytest.skip(reason)


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


class _Figures(HTMLParser):
    """Per plotly figure div: did plotly draw its ``svg.main-svg``?"""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[int | None] = []
        self.figures: list[dict[str, int]] = []
        self.errors_text: str | None = None
        self._in_errors = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag in ("br", "img", "input", "meta", "link", "hr", "path", "rect", "line", "circle"):
            self._leaf(tag, classes)
            return
        if "plotly-graph-div" in classes:
            self.figures.append({"main_svg": 0, "traces": 0})
            self.stack.append(len(self.figures) - 1)
        else:
            self.stack.append(self.stack[-1] if self.stack else None)
        self._leaf(tag, classes)
        if tag == "pre" and a.get("id") == "b3lake-js-errors":
            self._in_errors = True
            self.errors_text = ""

    def _leaf(self, tag: str, classes: list[str]) -> None:
        current = self.stack[-1] if self.stack else None
        if current is None:
            return
        if tag == "svg" and "main-svg" in classes:
            self.figures[current]["main_svg"] += 1
        if "trace" in classes:
            self.figures[current]["traces"] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._leaf(tag, (dict(attrs).get("class") or "").split())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "input", "meta", "link", "hr", "path", "rect", "line", "circle"):
            return
        if self.stack:
            self.stack.pop()
        if tag == "pre":
            self._in_errors = False

    def handle_data(self, data: str) -> None:
        if self._in_errors and self.errors_text is not None:
            self.errors_text += data


def render_in_browser(report: Path, out_png: Path, tmp_path: Path) -> tuple[str, str]:
    """(dumped DOM after JS ran, chromium stderr); also writes the screenshot."""
    binary = chromium()
    page = report.read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>\n" + ERROR_COLLECTOR, 1), encoding="utf-8")
    dom = run_chromium(
        binary,
        tmp_path / "profile-dom",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probed.as_uri(),
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    out_png.parent.mkdir(parents=True, exist_ok=True)
    out_png.unlink(missing_ok=True)
    shot = run_chromium(
        binary,
        tmp_path / "profile-shot",
        "--virtual-time-budget=10000",
        "--hide-scrollbars",
        f"--screenshot={out_png}",
        "--window-size=1400,3000",
        report.as_uri(),
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    return dom.stdout, dom.stderr


def check_drawn(report: Path, dom: str) -> None:
    expected = int(
        re.search(r'name="b3lake-figures" content="(\d+)"', report.read_text()).group(1)  # type: ignore[union-attr]
    )
    parser = _Figures()
    parser.feed(dom)
    assert parser.errors_text is not None, "error collector did not run"
    assert parser.errors_text.strip() == "", f"script errors: {parser.errors_text}"
    assert expected > 0
    assert len(parser.figures) == expected
    undrawn = [i for i, f in enumerate(parser.figures) if f["main_svg"] < 1 or f["traces"] < 1]
    assert not undrawn, f"figures not drawn: {undrawn} of {parser.figures}"


@pytest.mark.browser
@pytest.mark.slow
def test_report_draws_in_chromium(
    any_lake: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    report = build_report(
        Settings(lake=str(any_lake)),
        out=tmp_path / "report.html",
        tickers=None,
        start=None,
        end=None,
    )
    # The real sample's screenshot is build/report.png; the synthetic one sits beside it.
    sample = "sample" in request.node.callspec.id
    png = BUILD / ("report.png" if sample else "report-synthetic.png")
    dom, _ = render_in_browser(report, png, tmp_path)
    check_drawn(report, dom)
    assert png.stat().st_size > 50_000  # a page of charts, not a blank viewport
    if sample:
        shutil.copyfile(report, BUILD / "report.html")
        # The whole page too (the 3000 px viewport stops inside the data-quality panel).
        full = run_chromium(
            chromium(),
            tmp_path / "profile-full",
            "--virtual-time-budget=10000",
            "--hide-scrollbars",
            f"--screenshot={BUILD / 'report-full.png'}",
            "--window-size=1400,4400",
            report.as_uri(),
        )
        assert full.returncode == 0, full.stderr[-2000:]


@pytest.mark.browser
def test_error_collector_catches_errors(tmp_path: Path) -> None:
    """The probe itself works: a page that throws is reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta name="b3lake-figures" content="0"></head>'
        "<body><script>undefinedFunction();</script></body></html>"
    )
    dom, _ = render_in_browser(page, tmp_path / "bad.png", tmp_path)
    parser = _Figures()
    parser.feed(dom)
    assert parser.errors_text and "undefinedFunction" in parser.errors_text
