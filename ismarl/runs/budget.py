"""A wall-time budget for one command, so that a long run is carried out as a sequence of bounded
commands: training stops at the first chunk boundary after which the next chunk would likely not fit.

The next chunk's time is estimated from the chunks this command has measured: the longest
iteration of the run's later chunks times the chunk's length; the run's first chunk (compilation
included) while no later one is measured, or for a chunk length not compiled yet; before a run's
first chunk, the longest first chunk of an earlier run of the command. The first chunk of a
command always runs, so every command makes progress, however small the budget.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Callable

STOPPED = 3  # exit status of a command that stopped at its time budget (the same command continues)


def check_time_budget(seconds) -> float:
    """``seconds`` as a float, or a ValueError naming the problem: a budget is a finite number > 0."""
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise ValueError(f"--time-budget {seconds!r}: give a number of seconds (e.g. 540 for a 10-minute command)")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"--time-budget {seconds!r}: give a finite number of seconds > 0 "
                         f"(e.g. 540 for a 10-minute command)")
    return float(seconds)


class Budget:
    """The clock of one command: ``seconds`` of wall time from its creation (None: unlimited, only
    measuring), what its chunks took, and whether it stopped. ``clock`` is for tests and plans."""

    def __init__(self, seconds: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.seconds = None if seconds is None else check_time_budget(seconds)
        self.clock = clock
        self.started = clock()
        self.chunks = 0            # chunks trained under this budget, over every run
        self.first_chunk_s = 0.0   # the longest first chunk of a run (its compilation included)
        self.start_s = 0.0         # the longest start of a run: setting up, compiling, its first chunk
        self.stopped = False
        self.start_run()

    def elapsed(self) -> float:
        """Seconds since the budget started."""
        return self.clock() - self.started

    def fits(self, estimate_s: float) -> bool:
        """Whether work estimated at ``estimate_s`` seconds fits in what is left (always, before
        the command's first chunk); a False marks the command as stopped."""
        if self.seconds is None or self.chunks == 0 or self.elapsed() + estimate_s <= self.seconds:
            return True
        self.stopped = True
        return False

    def start_run(self) -> None:
        """A run starts: its chunks are measured afresh."""
        self._run_t0 = self.clock()
        self._first_s: float | None = None     # this run's first chunk in this command
        self._start_s: float | None = None     # from the run's start to the end of that chunk
        self._steady_per_it: float | None = None  # the longest iteration of its later chunks
        self._steady_total = [0.0, 0]           # seconds, iterations of its later chunks
        self._lengths: set[int] = set()

    def estimate(self, n: int) -> float:
        """Seconds the run's next chunk of ``n`` iterations will likely take (module docstring)."""
        if self._steady_per_it is not None and n in self._lengths:
            return self._steady_per_it * n
        return self._first_s if self._first_s is not None else self.first_chunk_s

    def allows_chunk(self, n: int) -> bool:
        """Whether the run's next chunk, of ``n`` iterations, likely fits (:meth:`fits`)."""
        return self.fits(self.estimate(n))

    def record_chunk(self, n: int, seconds: float) -> None:
        """The run's chunk of ``n`` iterations took ``seconds`` (its probes and saves included)."""
        if self._first_s is None:
            self._first_s = seconds
            self._start_s = self.clock() - self._run_t0
            self.first_chunk_s = max(self.first_chunk_s, seconds)
            self.start_s = max(self.start_s, self._start_s)
        elif n in self._lengths:
            self._steady_per_it = max(self._steady_per_it or 0.0, seconds / n)
            self._steady_total[0] += seconds
            self._steady_total[1] += n
        self._lengths.add(n)
        self.chunks += 1

    def run_timing(self) -> dict:
        """What the current run's chunks took in this command: ``start_s`` (setting up, compiling and
        the first chunk), ``first_chunk_s`` and ``s_per_iteration`` (the mean over its later
        chunks); None where not measured."""
        s, n = self._steady_total
        return {"start_s": None if self._start_s is None else round(self._start_s, 3),
                "first_chunk_s": None if self._first_s is None else round(self._first_s, 3),
                "s_per_iteration": round(s / n, 6) if n else None}


def chunk_lengths(start: int, end: int, chunk: int) -> list[int]:
    """The chunks, in iterations, that carry a run from iteration ``start`` to ``end`` (a run's
    chunks end on multiples of ``chunk``, wherever it was resumed)."""
    lengths, it = [], start
    while it < end:
        lengths.append(min(chunk - it % chunk, end - it))
        it += lengths[-1]
    return lengths


def plan_pieces(runs, seconds: float) -> tuple[list[list[tuple[str, int, int]]], str | None]:
    """The commands a budget of ``seconds`` each will likely take for ``runs``, a chain's unfinished
    runs in order as ``(name, from_iteration, iterations, chunk, timing)`` with ``timing`` a
    :meth:`Budget.run_timing` measured before (or None). Every command is played with a simulated
    clock by the rule training follows; returns ``(commands, first run of unknown cost)``, each
    command a list of ``(name, from_iteration, to_iteration)``, cut at the first run whose cost is
    not measured (with only part of the plan then)."""
    seconds = check_time_budget(seconds)
    now = [0.0]
    commands: list[list[tuple[str, int, int]]] = []
    budget = None
    for name, it, end, chunk, timing in runs:
        if not timing or None in (timing.get("start_s"), timing.get("first_chunk_s"), timing.get("s_per_iteration")):
            return commands, name
        setup = max(timing["start_s"] - timing["first_chunk_s"], 0.0)
        lengths = chunk_lengths(it, end, chunk)
        while lengths:
            if budget is None or not budget.fits(budget.start_s):
                budget = Budget(seconds, clock=lambda: now[0])
                commands.append([])
            budget.start_run()
            now[0] += setup
            first, frm = True, it
            while lengths and budget.allows_chunk(lengths[0]):
                n = lengths.pop(0)
                now[0] += timing["first_chunk_s"] if first else timing["s_per_iteration"] * n
                budget.record_chunk(n, timing["first_chunk_s"] if first else timing["s_per_iteration"] * n)
                first, it = False, it + n
            if it > frm:
                commands[-1].append((name, frm, it))
            if lengths:
                budget = None  # stopped: the next command starts the run again
    return commands, None
