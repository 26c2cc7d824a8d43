"""The book's Sphinx extension for offline pages: its check of the local scripts and its image rewrite."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.utils import new_document
from sphinx.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import offline_pages  # noqa: E402

BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def config(**kw):
    base = dict(mathjax_path="vendor/mathjax/tex-mml-chtml.js",
                nb_ipywidgets_js={"vendor/requirejs/require.js": {}, "https://cdn.example/x.js": {}},
                html_static_path=["static"], offline_images={})
    return SimpleNamespace(**{**base, **kw})


def test_local_scripts_ignore_urls():
    assert offline_pages.local_scripts(config()) == ["vendor/mathjax/tex-mml-chtml.js", "vendor/requirejs/require.js"]


def test_missing_scripts_are_named_and_stop_the_build(tmp_path):
    (tmp_path / "static" / "vendor" / "requirejs").mkdir(parents=True)
    (tmp_path / "static" / "vendor" / "requirejs" / "require.js").write_text("")
    assert offline_pages.missing_scripts(tmp_path, config()) == ["vendor/mathjax/tex-mml-chtml.js"]
    app = SimpleNamespace(srcdir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"vendor/mathjax/tex-mml-chtml.js not found .*make offline-assets"):
        offline_pages.check_local_scripts(app, config())


def test_a_missing_local_image_stops_the_build(tmp_path):
    (tmp_path / "static" / "vendor" / "mathjax").mkdir(parents=True)
    (tmp_path / "static" / "vendor" / "mathjax" / "tex-mml-chtml.js").write_text("")
    app = SimpleNamespace(srcdir=str(tmp_path))
    cfg = config(nb_ipywidgets_js={}, offline_images={BADGE: "book/_ext/badge.svg"})
    with pytest.raises(ConfigError, match=r"the local copy 'book/_ext/badge.svg' of https://colab"):
        offline_pages.check_local_scripts(app, cfg)


def test_the_shipped_config_points_the_badge_at_a_shipped_svg():
    text = (ROOT / "_config.yml").read_text()
    assert f'"{BADGE}": book/_ext/colab-badge.svg' in text
    assert (ROOT / "book" / "_ext" / "colab-badge.svg").read_text().lstrip().startswith("<svg")


def test_only_the_mapped_image_is_rewritten():
    document = new_document("test")
    badge, other = nodes.image(uri=BADGE), nodes.image(uri="https://example.org/x.png")
    document += [badge, other]
    transform = offline_pages.LocalImages(document)
    transform.document.settings.env = SimpleNamespace(config=SimpleNamespace(offline_images={BADGE: "book/_ext/colab-badge.svg"}))
    transform.apply()
    assert badge["uri"] == "/book/_ext/colab-badge.svg"  # "/": relative to the source directory
    assert other["uri"] == "https://example.org/x.png"
