"""Sphinx extension: while the book's notebooks execute, Output widgets are recorded, not echoed.

To build a page, nbclient stands in for the browser: it records what each ipywidgets ``Output``
widget captures (``interactive_output`` makes one), so the page's saved widget state shows it.
It also sends every such update back to the kernel, on the shell channel, from inside the loop
that is waiting on that same channel for the running cell's reply. Under load that send can
leave the wait without its reply: the kernel sits idle, the build waits until the cell timeout
and fails (nbclient issue 312; seen here on chapters with ``interactive_output`` widgets). A built
page needs only the recorded state, so the update is not sent to the kernel; nothing else about
execution changes.
"""

from __future__ import annotations

from nbclient.output_widget import OutputWidget
from sphinx.application import Sphinx


def _record_only(self: OutputWidget) -> None:
    """``OutputWidget.sync_state`` without the message to the kernel: the outputs are already in
    the client's widget state (``OutputWidget.output`` and ``clear_output`` put them there)."""


def setup(app: Sphinx) -> dict:
    OutputWidget.sync_state = _record_only
    return {"parallel_read_safe": True, "parallel_write_safe": True}
