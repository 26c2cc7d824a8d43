"""Every chapter starts the same way on Colab: one badge, one runtime line and one first code cell,
all rendered from ``ismarl.colab`` with the repository address of ``_config.yml``.

The first cell's Colab branch is run for real in a fresh interpreter and an empty folder: it clones
this repository (a local ``file://`` clone, no network), changes into the clone and must leave
``results/`` findable and ``import ismarl`` working there. Only its pip call is replaced by a
recorder, because a real install would build a wheel (which needs the network for its build
backend) and would write into the shared environment; the test checks that exact command line
instead, in particular that it pins the installed jax and jaxlib so that pip cannot replace them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ismarl import colab
from ismarl.scale import GPU_HINT, describe_runtime

jupytext = pytest.importorskip("jupytext")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
URL = CONFIG["repository"]["url"]
CALL = f'prepare_runtime("{URL}")'


def code_cells(source: Path):
    return [c for c in jupytext.read(source).cells if c.cell_type == "code"]


def test_package_holds_the_repository_of_the_config():
    assert colab.REPOSITORY_URL == URL
    assert colab.BRANCH == CONFIG["repository"]["branch"]
    assert colab.github_path() == "ismarl/ismarl"


def test_github_path_rejects_other_hosts():
    with pytest.raises(ValueError, match="is not a GitHub address"):
        colab.github_path("https://gitlab.com/ismarl/ismarl")


def test_there_are_eleven_chapters_with_a_measured_runtime():
    assert len(CHAPTERS) == 11
    assert sorted(colab.CPU_SECONDS) == [p.stem for p in CHAPTERS]
    with pytest.raises(KeyError, match="no measured runtime for chapter 'appendix'"):
        colab.runtime_line("appendix")


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_is_the_template(source):
    first, setup = code_cells(source)[:2]
    assert first.source == colab.first_cell(URL), f"{source.name}: first code cell is not colab.first_cell()"
    assert tuple(first.metadata.get("tags", ())) == colab.FIRST_CELL_TAGS
    assert "describe_runtime()" in setup.source, f"{source.name}: the setup cell must print describe_runtime()"


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.name)
def test_front_part_has_the_badge_and_the_runtime(source):
    front = source.read_text().split("```{code-cell}")[0]
    lines = front.splitlines()
    badge = colab.colab_badge(source.stem, url=URL, branch=CONFIG["repository"]["branch"])
    assert lines.count(badge) == 1, f"{source.name}: the Colab badge line must be colab.colab_badge()"
    assert colab.runtime_line(source.stem) in lines, f"{source.name}: no runtime line before the first code cell"
    assert re.search(r"\*\*Runtime\*\*: (under 1|about \d+) min on a 2-core CPU", colab.runtime_line(source.stem))


def test_first_cell_keeps_to_itself():
    """The cell runs before ismarl is installed: it may not import it."""
    cell = colab.first_cell()
    assert "ismarl import" not in cell and "import ismarl" not in cell
    # the call is an assignment, so the built page shows no return value (a local path)
    assert cell.splitlines()[-1].startswith(f"REPOSITORY_ROOT = {CALL}")


def test_outside_colab_the_cell_only_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT / "book" / "chapters")
    assert colab.prepare_runtime(URL, colab=False) == ROOT
    assert capsys.readouterr().out == f"results/ found: {os.path.join('..', '..', 'results')}\n"
    monkeypatch.chdir(tmp_path)
    assert colab.prepare_runtime(URL, colab=False) is None
    assert "no results/ above" in capsys.readouterr().out


def pip_command(root: Path) -> list[str]:
    pins = [f"{n}=={importlib.metadata.version(n)}" for n in ("jax", "jaxlib")]
    return [sys.executable, "-m", "pip", "install", "-q", "-e", str(root), *pins]


def test_rerun_inside_a_clone_does_not_clone_again(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(ROOT)])
    monkeypatch.chdir(ROOT / "book" / "chapters")
    assert colab.prepare_runtime(URL, colab=True) == ROOT
    assert Path.cwd() == ROOT and sys.path[0] == str(ROOT)
    assert calls == [pip_command(ROOT)]


# Run in a fresh interpreter: the cell as the chapters have it, its call replaced by one with the
# Colab branch forced on and a local clone URL, and its pip call recorded instead of run.
HARNESS = """
import json
_run = subprocess.run
pip_calls = []

def _record_pip(cmd, **kw):
    if cmd[1:4] == ["-m", "pip", "install"]:
        pip_calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)
    return _run(cmd, **kw)

subprocess.run = _record_pip
root = prepare_runtime(sys.argv[1], colab=True)
import ismarl
from ismarl.runs.layout import find_results
print(json.dumps({"root": str(root), "cwd": os.getcwd(), "ismarl": ismarl.__file__,
                  "step1": str(find_results("step1")), "pip": pip_calls}))
"""


def test_first_cell_on_colab_clones_changes_into_the_clone_and_installs(tmp_path):
    cell = colab.first_cell(URL)
    body, call = cell.rsplit("\n", 1)
    assert call.startswith(f"REPOSITORY_ROOT = {CALL}")
    script = body + HARNESS
    empty = tmp_path / "content"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", script, f"file://{ROOT}"], cwd=empty, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    clone = empty / ROOT.name
    assert report["root"] == report["cwd"] == str(clone)
    assert (clone / ".git").is_dir() and (clone / "results").is_dir()
    assert report["step1"] == str(clone / "results" / "step1")
    assert report["ismarl"] == str(clone / "ismarl" / "__init__.py")
    assert report["pip"] == [pip_command(clone)]
    assert "JAX kept as installed: jax==" in done.stdout


def test_describe_runtime_names_the_devices_and_hints_at_a_gpu_on_colab():
    plain = describe_runtime(colab=False)
    assert plain.startswith("ismarl scale: ") and "| devices: " in plain and "\n" not in plain
    on_colab = describe_runtime(colab=True)
    if "JAX backend: gpu" in plain:
        assert on_colab == plain
    else:
        assert on_colab == f"{plain}\n{GPU_HINT}"
