"""Every chapter's MyST source and its committed .ipynb pair match, and the toc lists every chapter.

The .md file is the source of truth; `make sync` (jupytext --sync) regenerates the pair. These
tests never sync: they only check, so they also hold on a fresh clone with arbitrary mtimes.
"""

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "book" / "chapters"
SOURCES = sorted(CHAPTERS.glob("*.md")) + [ROOT / "book" / "intro.md"]  # every executable page


def _cells(notebook):
    return [
        (cell.cell_type, cell.source.strip(), tuple(cell.get("metadata", {}).get("tags", [])))
        for cell in notebook.cells
    ]


def test_there_are_chapters():
    assert SOURCES[:-1], f"no chapters found in {CHAPTERS}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_pair_has_the_same_cells(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `jupytext --to ipynb {source.name}` once"
    from_md = jupytext.read(source)
    from_ipynb = jupytext.read(ipynb)
    md_cells, nb_cells = _cells(from_md), _cells(from_ipynb)
    assert len(md_cells) == len(nb_cells), f"{source.name}: {len(md_cells)} cells vs {len(nb_cells)} in the .ipynb"
    for k, (a, b) in enumerate(zip(md_cells, nb_cells)):
        assert a == b, f"{source.name}: cell {k} differs from the .ipynb (run `make sync`)\n{a}\n---\n{b}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_pair_is_committed_without_outputs(source):
    nb = jupytext.read(source.with_suffix(".ipynb"))
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{source.name}: cell {k} of the .ipynb has outputs"
            assert cell.get("execution_count") is None, f"{source.name}: cell {k} has an execution count"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_chapter_is_paired_and_has_a_colab_badge(source):
    text = source.read_text()
    assert "formats: ipynb,md:myst" in text, f"{source.name}: jupytext front matter must pair ipynb and md:myst"
    badge = f"colab.research.google.com/github/ismarl/ismarl/blob/main/{source.relative_to(ROOT).with_suffix('.ipynb')}"
    assert badge in text, f"{source.name}: the Colab badge must point at its own .ipynb"


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def test_toc_lists_exactly_the_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = list(_toc_files(toc))
    in_toc = {f for f in files if f.startswith("book/chapters/")}
    on_disk = {f"book/chapters/{p.stem}" for p in SOURCES if p.parent == CHAPTERS}
    assert in_toc - on_disk == set(), f"in _toc.yml but missing on disk: {sorted(in_toc - on_disk)}"
    assert on_disk - in_toc == set(), f"chapters missing from _toc.yml: {sorted(on_disk - in_toc)}"
    for f in [toc["root"], *files]:
        assert (ROOT / f"{f}.md").exists() or (ROOT / f"{f}.ipynb").exists(), f"{f} in _toc.yml does not exist"
