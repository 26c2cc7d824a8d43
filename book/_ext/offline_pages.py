"""Sphinx extension: the built pages load nothing from the web.

* ``offline_images`` (a ``{url: path}`` mapping, paths relative to the source directory):
  every image whose URI is one of the URLs is built from the local file instead, so for example
  the chapters' "Open in Colab" badge keeps its web URL in the notebooks (where Colab shows it)
  while the HTML page shows a copy shipped with the book.
* A page loads each script once: sphinx-thebe registers its inline configuration twice under
  jupyter-book, and the second copy throws ("Identifier 'THEBE_JS_URL' has already been declared").
* Before the build starts, every local script the configuration points the pages at
  (``mathjax_path`` and the keys of ``nb_ipywidgets_js``) must exist in one of the
  ``html_static_path`` folders; otherwise the build stops and says how to fetch them.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.transforms import SphinxTransform

FETCH_HINT = "run `make offline-assets` (it fetches them from the npm registry)"


def _is_url(uri: str) -> bool:
    return "://" in uri or uri.startswith("//")


def local_scripts(config: Config) -> list[str]:
    """The scripts, relative to the static folders, that the configuration makes pages load."""
    uris = [config.mathjax_path, *getattr(config, "nb_ipywidgets_js", {}).keys()]
    return [u for u in uris if u and not _is_url(u)]


def missing_scripts(srcdir: str | Path, config: Config) -> list[str]:
    """The configured local scripts found in none of the ``html_static_path`` folders."""
    static_dirs = [Path(srcdir, d) for d in config.html_static_path]
    return [s for s in local_scripts(config) if not any((d / s).is_file() for d in static_dirs)]


def check_local_scripts(app: Sphinx, config: Config) -> None:
    missing = missing_scripts(app.srcdir, config)
    if missing:
        raise ConfigError(
            f"offline pages: {', '.join(missing)} not found in html_static_path "
            f"{config.html_static_path}: {FETCH_HINT}")
    for url, path in config.offline_images.items():
        if not Path(app.srcdir, path).is_file():
            raise ConfigError(f"offline_images: the local copy {path!r} of {url} does not exist")


class LocalImages(SphinxTransform):
    """Point images whose URI is a key of ``offline_images`` at the local file."""

    default_priority = 400

    def apply(self, **kwargs) -> None:
        mapping = self.config.offline_images
        for node in self.document.findall(nodes.image):
            local = mapping.get(node["uri"])
            if local is not None:
                node["uri"] = "/" + local.lstrip("/")  # "/" = relative to the source directory


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""  # an inline script's is "" or None
    return str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop repeated ``<script>`` entries (same source or body, same attributes) from a page."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: Sphinx restores the list for the next page


def setup(app: Sphinx) -> dict:
    app.add_config_value("offline_images", {}, "env", types=[dict])
    app.connect("config-inited", check_local_scripts)
    app.add_transform(LocalImages)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
