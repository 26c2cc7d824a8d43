"""The book's Sphinx extension that records Output widgets without echoing them to the kernel."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.output_widget import OutputWidget

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import record_output_widgets  # noqa: E402

WIDGET_CELL = """import ipywidgets as w
s = w.IntSlider(value=3, min=1, max=9)
def show(k):
    print("k =", k)
display(w.VBox([s, w.interactive_output(show, {"k": s})]))"""


@pytest.fixture
def extension(monkeypatch):
    monkeypatch.setattr(OutputWidget, "sync_state", OutputWidget.sync_state)  # undone after the test
    record_output_widgets.setup(app=None)
    sent = []
    monkeypatch.setattr(OutputWidget, "_publish_msg", lambda self, *a, **kw: sent.append(a))
    return sent


def test_output_widgets_are_recorded_and_nothing_is_sent_to_the_kernel(extension):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WIDGET_CELL)])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [v["state"]["outputs"] for v in state.values() if v["model_name"] == "OutputModel"]
    assert outputs == [[{"output_type": "stream", "name": "stdout", "text": "k = 3\n"}]]
    assert extension == []  # no comm message went back to the kernel
