"""The browser check reports each kind of problem on a tiny fabricated site, and nothing on a sound page."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import check_html  # noqa: E402

CHROMIUM = check_html.find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")

# A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")

SOUND = """<!DOCTYPE html><html><head><title>sound</title></head><body>
<h1 id="top">A sound page</h1><img src="dot.png" alt="dot">
<a href="broken.html">to the other page</a> <a href="sound.html#top">here</a> <a href="#top">up</a>
<pre>raw TeX in code is fine: \\(x\\) $$y$$</pre></body></html>"""

BROKEN = """<!DOCTYPE html><html><head><title>broken</title>
<script>console.error("something went wrong");</script></head><body>
<img src="missing.png" alt="missing"> <img src="https://example.org/remote.png" alt="remote">
<a href="nowhere.html">a missing page</a> <a href="sound.html#no-such-anchor">a missing anchor</a>
<p>Unrendered: <span class="math">\\(x^2\\)</span></p></body></html>"""


def require_playwright():
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail("playwright is not installed: `make check-html` installs requirements-browser.txt",
                    pytrace=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    require_playwright()
    site = tmp_path_factory.mktemp("site")
    (site / "dot.png").write_bytes(PNG)
    (site / "sound.html").write_text(SOUND)
    (site / "broken.html").write_text(BROKEN)
    (site / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=sound.html" />')
    checker = check_html.Checker(site, site.parent / "shots", CHROMIUM, timeout_ms=10000, full_page=False)
    return checker.run(query="anything"), site.parent / "shots"


def problems_of(report, page):
    return [p.split(": ", 1)[1] for p in report.problems if p.startswith(page + ": ")]


def test_sound_page_has_no_problems_and_a_screenshot(report):
    rep, shots = report
    assert problems_of(rep, "sound.html") == []
    assert problems_of(rep, "index.html") == []
    assert (shots / "sound.png").stat().st_size > 0
    assert (shots / "index.png").stat().st_size > 0  # the redirect's screenshot shows its target


@pytest.mark.parametrize("expected", [
    "console error: something went wrong",
    "image does not load: file://",
    "image does not load: https://example.org/remote.png (blocked: the page needs the web)",
    "broken link: ",
    "broken link: no id 'no-such-anchor' in sound.html",
    "MathJax not loaded: 1 equations unrendered",
    "raw TeX in the page: '\\\\(x^2\\\\)'",
])
def test_each_problem_is_reported(report, expected):
    rep, _ = report
    found = problems_of(rep, "broken.html")
    assert any(p.startswith(expected) for p in found), f"{expected!r} not in {found}"


def test_missing_page_link_names_the_file(report):
    rep, _ = report
    assert any(p.startswith("broken link: ") and p.endswith("nowhere.html does not exist")
               for p in problems_of(rep, "broken.html"))


def test_missing_search_page_is_reported(report):
    rep, _ = report
    assert problems_of(rep, "search.html?q=anything") == ["no search page"]


def test_exit_status_and_one_line_per_problem(tmp_path, capsys):
    require_playwright()
    (tmp_path / "a.html").write_text('<html><body><img src="gone.png" alt=""></body></html>')
    rc = check_html.main([str(tmp_path), "--query", "", "--chromium", CHROMIUM])
    out = capsys.readouterr().out.splitlines()
    assert rc == 1
    assert [line for line in out if line.startswith("PROBLEM")] == [
        f"PROBLEM a.html: image does not load: {(tmp_path / 'gone.png').as_uri()}"]
