"""Open every page of a built HTML book in headless Chromium, as an offline reader would, and
report what is broken: one line per problem, exit status 1 if there is any.

Checked on every page (all requests that are not ``file:``/``data:``/``blob:`` are blocked):
console errors, uncaught exceptions, failed or blocked requests, images that do not load
(``naturalWidth == 0``), internal links whose file or ``#anchor`` does not exist, equations that
MathJax did not render (raw ``\\(``, ``\\[`` or ``$$`` left in the visible text) and widgets that
the widget manager did not render. The search page must list results for a query. A screenshot
of every page is saved.

Usage: python tests/browser/check_html.py HTML_DIR [--screenshots DIR] [--query cooperation]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ALLOWED_SCHEMES = ("file:", "data:", "blob:", "about:")
SKIPPED_DIRS = {"_static", "_sources", "_images", "_downloads"}
RAW_TEX_MARKERS = ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{")
# Elements whose text is code, not prose: TeX there is shown on purpose.
CODE_SELECTOR = "pre, code, script, style, textarea, kbd, samp, mjx-container, .highlight"


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM, else the first of chromium/chromium-browser on PATH."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def problem(self, page: str, message: str) -> None:
        self.problems.append(f"{page}: {message}")

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class _Ids(HTMLParser):
    """Collects a page's ids and the target of a ``<meta http-equiv="refresh">`` redirect."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.redirect: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            content = a.get("content") or ""
            if "url=" in content.lower():
                self.redirect = content[content.lower().index("url=") + 4:].strip()


def redirect_target(path: Path) -> str | None:
    """The URL a redirect page (``<meta http-equiv="refresh">``) sends the reader to, else None."""
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.redirect


class LinkTargets:
    """Which files exist and which ids each HTML file defines (parsed once per file)."""

    def __init__(self) -> None:
        self._ids: dict[Path, set[str]] = {}

    def ids(self, path: Path) -> set[str]:
        if path not in self._ids:
            parser = _Ids()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            self._ids[path] = parser.ids
        return self._ids[path]

    def check(self, url: str) -> str | None:
        """None if the file:// ``url`` resolves, else what is wrong."""
        parts = urlsplit(url)
        path = Path(unquote(parts.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            return f"broken link: {path} does not exist"
        anchor = unquote(parts.fragment)
        if anchor and path.suffix == ".html" and anchor not in self.ids(path):
            return f"broken link: no id {anchor!r} in {path.name}"
        return None


def html_pages(root: Path) -> list[Path]:
    """Every built page: *.html under ``root``, except the theme's and Sphinx's asset folders."""
    return sorted(p for p in root.rglob("*.html")
                  if not SKIPPED_DIRS.intersection(p.relative_to(root).parts[:-1]))


# Runs in the page after load: waits for MathJax and the widget manager, then measures.
_MEASURE_JS = """
async ([codeSelector, markers, widgetTimeout]) => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const mathNodes = document.querySelectorAll('.math, span.math, div.math');
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { }
  }
  const views = Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  // The widget manager inserts <div class="widget-subarea"> before each view's script.
  const rendered = s => { const d = s.previousElementSibling;
      return !!d && d.classList.contains('widget-subarea') && d.childElementCount > 0; };
  const start = Date.now();
  while (views.some(s => !rendered(s)) && Date.now() - start < widgetTimeout) await sleep(100);
  const imgs = Array.from(document.images);
  for (const img of imgs) img.loading = 'eager';
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  const rawTex = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(codeSelector) || !el.getClientRects().length) continue;
    const text = n.textContent;
    if (markers.some(m => text.includes(m))) rawTex.push(text.trim().slice(0, 80));
  }
  return {
    mathNodes: mathNodes.length,
    mathjaxLoaded: !!(window.MathJax && MathJax.version),
    mathjaxContainers: document.querySelectorAll('mjx-container').length,
    // display equations wider than their column: the reader sees them cut off (or must scroll)
    overflowing: Array.from(document.querySelectorAll('mjx-container[display="true"]'))
        .filter(c => c.getClientRects().length && c.scrollWidth > c.clientWidth + 2)
        .map(c => (c.querySelector('mjx-assistive-mml') || c).textContent.trim().slice(0, 60)),
    rawTex: rawTex,
    widgetViews: views.length,
    widgetsUnrendered: views.filter(s => !rendered(s)).length,
    images: imgs.map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  };
}
"""


class Checker:
    def __init__(self, root: Path, screenshots: Path | None, chromium: str,
                 timeout_ms: int = 30000, full_page: bool = True, verbose: bool = False) -> None:
        self.root = root.resolve()
        self.screenshots = screenshots
        self.chromium = chromium
        self.timeout_ms = timeout_ms
        self.full_page = full_page
        self.verbose = verbose
        self.report = Report()
        self.targets = LinkTargets()

    def name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _open(self, context, url: str, name: str):
        """A new page that records console errors, uncaught exceptions and blocked/failed requests
        (reported by ``_report_requests`` once the page's images are known)."""
        page = context.new_page()
        page.blocked, page.failed = [], {}

        def route(r):
            if r.request.url.startswith(ALLOWED_SCHEMES):
                r.continue_()
            else:
                page.blocked.append(r.request.url)
                r.abort()

        def on_console(msg):
            # "Failed to load resource" repeats a failed request, which is reported with its URL.
            if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
                self.report.problem(name, f"console error: {msg.text}")

        def on_failed(req):
            if req.url not in page.blocked:
                page.failed[req.url] = req.failure

        page.route("**/*", route)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.report.problem(name, f"uncaught exception: {exc}"))
        page.on("requestfailed", on_failed)
        page.goto(url, wait_until="load", timeout=self.timeout_ms)
        return page

    def _report_requests(self, page, name: str, broken_images: list[str] = ()) -> None:
        """One line per blocked or failed request, except for images already reported."""
        for src in broken_images:
            why = " (blocked: the page needs the web)" if src in page.blocked else ""
            self.report.problem(name, f"image does not load: {src}{why}")
        for url in dict.fromkeys(page.blocked):
            if url not in broken_images:
                self.report.problem(name, f"blocked network request (the page needs the web): {url}")
        for url, failure in page.failed.items():
            if url not in broken_images:
                self.report.problem(name, f"failed request: {url} ({failure})")

    def check_redirect(self, context, path: Path, target: str) -> None:
        """A redirect page: its target must exist; the screenshot shows where it lands."""
        name = self.name(path)
        url = urlsplit(path.as_uri())._replace(query="", fragment="").geturl()
        target_url = url.rsplit("/", 1)[0] + "/" + target
        self.report.count("redirect pages")
        error = self.targets.check(target_url)
        if error:
            self.report.problem(name, f"redirect: {error}")
            return
        page = self._open(context, path.as_uri(), name)
        try:
            page.wait_for_url(target_url.split("#")[0] + "*", timeout=self.timeout_ms)
            page.wait_for_load_state("load")
            self._screenshot(page, name)
            self._report_requests(page, name)
        finally:
            page.close()

    def _screenshot(self, page, name: str) -> None:
        if self.screenshots is not None:
            shot = self.screenshots / Path(name).with_suffix(".png")
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=self.full_page)

    def check_page(self, context, path: Path) -> None:
        target = redirect_target(path)
        if target is not None:
            self.check_redirect(context, path, target)
            return
        name = self.name(path)
        page = self._open(context, path.as_uri(), name)
        try:
            m = page.evaluate(_MEASURE_JS, [CODE_SELECTOR, list(RAW_TEX_MARKERS), 10000])
            self.report.count("pages")
            self.report.count("images", len(m["images"]))
            self._report_requests(page, name, [i["src"] for i in m["images"] if not i["ok"]])
            for href in m["links"]:
                if href.startswith("file:"):
                    self.report.count("internal links")
                    error = self.targets.check(href)
                    if error:
                        self.report.problem(name, error)
            if m["mathNodes"] or m["rawTex"]:
                self.report.count("pages with math")
                self.report.count("rendered equations", m["mathjaxContainers"])
                if not m["mathjaxLoaded"]:
                    self.report.problem(name, f"MathJax not loaded: {m['mathNodes']} equations unrendered")
                elif m["mathjaxContainers"] < m["mathNodes"]:
                    self.report.problem(name, f"only {m['mathjaxContainers']} of {m['mathNodes']} "
                                              "equations rendered by MathJax")
                for text in m["rawTex"]:
                    self.report.problem(name, f"raw TeX in the page: {text!r}")
                for text in m["overflowing"]:
                    self.report.problem(name, f"display equation wider than its column: {text!r}")
            self.report.count("widgets", m["widgetViews"])
            if m["widgetsUnrendered"]:
                self.report.problem(name, f"{m['widgetsUnrendered']} of {m['widgetViews']} widgets not rendered")
            self._screenshot(page, name)
        finally:
            page.close()

    def check_search(self, context, query: str) -> None:
        search = self.root / "search.html"
        name = f"search.html?q={query}"
        if not search.is_file():
            self.report.problem(name, "no search page")
            return
        page = self._open(context, f"{search.as_uri()}?q={query}", name)
        try:
            # Sphinx lists the results one by one, then writes "Search finished, found N page(s)".
            try:
                page.wait_for_function(
                    "() => /finished/i.test((document.querySelector('.search-summary') || {}).textContent || '')",
                    timeout=self.timeout_ms)
            except Exception:
                self.report.problem(name, "the search did not finish")
            found = page.locator("#search-results li, ul.search li").count()
            self.report.count("search results", found)
            if not found:
                self.report.problem(name, f"the search page shows no results for {query!r}")
            self._screenshot(page, f"search-{query}")
            self._report_requests(page, name)
        finally:
            page.close()

    def run(self, query: str | None = "cooperation") -> Report:
        from playwright.sync_api import sync_playwright

        pages = html_pages(self.root)
        if not pages:
            self.report.problem(str(self.root), "no HTML pages found")
            return self.report
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=self.chromium)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                for path in pages:
                    t0 = time.time()
                    try:
                        self.check_page(context, path)
                    except Exception as exc:  # a page that cannot be opened is a problem too
                        self.report.problem(self.name(path), f"could not check: {exc}")
                    if self.verbose:
                        print(f"  {self.name(path)}: {time.time() - t0:.1f} s", file=sys.stderr)
                if query:
                    self.check_search(context, query)
            finally:
                browser.close()
        return self.report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html_dir", type=Path, help="the built book, e.g. _build/html")
    ap.add_argument("--screenshots", type=Path, default=None, help="save one PNG per page here")
    ap.add_argument("--query", default="cooperation", help="a word the search page must find")
    ap.add_argument("--chromium", default=None, help="Chromium executable (default: from PATH)")
    ap.add_argument("--viewport-only", action="store_true", help="screenshot the first screen only")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each page's time")
    args = ap.parse_args(argv)

    chromium = args.chromium or find_chromium()
    if not chromium:
        print("check_html: Chromium not found (apt-get install chromium, or set CHROMIUM)", file=sys.stderr)
        return 2
    if not args.html_dir.is_dir():
        print(f"check_html: {args.html_dir} is not a directory: build the book first", file=sys.stderr)
        return 2
    if args.screenshots is not None:
        shutil.rmtree(args.screenshots, ignore_errors=True)
    start = time.time()
    checker = Checker(args.html_dir, args.screenshots, chromium, full_page=not args.viewport_only,
                      verbose=args.verbose)
    report = checker.run(args.query)
    for line in report.problems:
        print(f"PROBLEM {line}")
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
    print(f"check_html: {counts}; {len(report.problems)} problems; {time.time() - start:.0f} s"
          + (f"; screenshots in {args.screenshots}" if args.screenshots else ""))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
