"""Running a chapter on Colab: the repository's address, and the front matter and first code cell
that every chapter shares.

The first code cell of every chapter is :func:`first_cell` (the same text everywhere). It runs
before ``ismarl`` is installed, so it carries its own copy of :func:`prepare_runtime`, the source
of that function copied verbatim; ``tests/test_colab.py`` checks every chapter against it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import subprocess
import sys
from pathlib import Path

# The canonical address of the repository, the same as ``repository.url`` in ``_config.yml``.
REPOSITORY_URL = "https://github.com/ismarl/ismarl"
BRANCH = "main"  # ``repository.branch`` in ``_config.yml``: the branch the Colab badges open
COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
FIRST_CELL_TAGS = ("hide-input",)  # the book shows the cell's output; Colab shows the cell

# Seconds each chapter took at the default ``cpu`` scale, run top to bottom as a notebook (nbclient,
# 2026-12-02) on a 2-core x86-64 CPU with JAX on the CPU, while other jobs shared the machine;
# the chapters state them in whole minutes (:func:`runtime_line`). Not measured on a Colab GPU.
CPU_SECONDS = {
    "01_social_dilemmas": 5,
    "02_iterated_games": 17,
    "03_naive_learners": 18,
    "04_extortion_and_shaping": 50,
    "05_mutual_extortion": 64,
    "06_in_context_best_response": 84,
    "07_extorting_an_in_context_learner": 60,
    "08_mutual_extortion_sequence_agents": 87,
    "09_mixed_pool": 60,
    "10_predictive_policy_improvement": 899,
    "11_scaling_up": 20,
}

_CELL_HEADER = '''\
# Setup. On Colab: clone the book's repository (chapters 6-10 read its results/), change into it
# and install ismarl from it, keeping Colab's own JAX. Elsewhere: only say where results/ is.
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

'''


def prepare_runtime(url: str, colab: bool | None = None) -> Path | None:
    """Make a chapter runnable where it runs; return the repository root (the folder holding
    ``results/``), or None when not on Colab and no such folder is above the working directory.

    On Colab (``"google.colab" in sys.modules``, or ``colab=True``): clone ``url`` into the
    working directory unless the working directory is already inside a clone, change into the
    clone, put it on ``sys.path`` and install ismarl from it (editable) with the installed jax
    and jaxlib pinned to their versions, so pip adds only what is missing and never replaces
    Colab's JAX. Elsewhere: only say where ``results/`` is."""
    colab = "google.colab" in sys.modules if colab is None else colab
    here = Path.cwd().resolve()
    root = next((d for d in (here, *here.parents)
                 if (d / "results").is_dir() and (d / "pyproject.toml").is_file()), None)
    if not colab:
        print(f"results/ found: {os.path.relpath(root / 'results')}" if root else
              f"no results/ above {here}: chapters 6-10 need a clone of {url}")
        return root
    if root is None:
        root = here / url.rstrip("/").split("/")[-1].removesuffix(".git")
        if not (root / "pyproject.toml").is_file():
            subprocess.run(["git", "clone", "--depth", "1", url, str(root)], check=True)
    os.chdir(root)
    if str(root) not in sys.path:  # importable at once; the editable install serves later sessions
        sys.path.insert(0, str(root))
    installed = {(d.metadata["Name"] or "").lower() for d in importlib.metadata.distributions()}
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in ("jax", "jaxlib") if name in installed]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", str(root), *pins], check=True)
    print(f"ismarl installed from {root}; JAX kept as installed: {', '.join(pins) or 'none'}")
    return root


def first_cell(url: str = REPOSITORY_URL) -> str:
    """The source of every chapter's first code cell: :func:`prepare_runtime` and its call."""
    return f'{_CELL_HEADER}\n{inspect.getsource(prepare_runtime)}\n\nREPOSITORY_ROOT = prepare_runtime("{url}")  # the folder holding results/ (None: not found)'


def github_path(url: str = REPOSITORY_URL) -> str:
    """``owner/name`` of a GitHub repository address."""
    prefix = "https://github.com/"
    if not url.startswith(prefix):
        raise ValueError(f"repository URL {url!r} is not a GitHub address ({prefix}owner/name)")
    return url[len(prefix):].rstrip("/").removesuffix(".git")


def colab_badge(chapter: str, url: str = REPOSITORY_URL, branch: str = BRANCH) -> str:
    """The "Open in Colab" badge line of a chapter (``chapter``: the file name without suffix)."""
    notebook = f"https://colab.research.google.com/github/{github_path(url)}/blob/{branch}/book/chapters/{chapter}.ipynb"
    return f"[![Open in Colab]({COLAB_BADGE_SVG})]({notebook})"


def runtime_line(chapter: str) -> str:
    """The chapter's runtime statement, from :data:`CPU_SECONDS`."""
    if chapter not in CPU_SECONDS:
        raise KeyError(f"no measured runtime for chapter {chapter!r}; known: {sorted(CPU_SECONDS)}")
    seconds = CPU_SECONDS[chapter]
    cpu = "under 1 min" if seconds < 60 else f"about {round(seconds / 60)} min"
    return f"**Runtime**: {cpu} on a 2-core CPU at the default scale (`cpu`); not measured on a Colab GPU."
