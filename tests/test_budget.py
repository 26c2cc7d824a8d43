"""The time budget's stop rule on a simulated clock: the first chunk of a command always runs, the
next chunk is estimated from what the run's chunks took, and the plan of a chain in commands plays
the same rule."""

import pytest

from ismarl.runs.budget import Budget, chunk_lengths, plan_pieces


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_first_chunk_always_runs_then_the_estimate_decides():
    clock = Clock()
    budget = Budget(10.0, clock=clock)
    clock.now = 50.0  # past the budget before any chunk: a command still makes progress
    assert budget.allows_chunk(2) and not budget.stopped
    clock.now = 0.0
    budget = Budget(10.0, clock=clock)
    budget.start_run()
    clock.now += 3.0  # compiling and the first chunk
    budget.record_chunk(2, 3.0)
    assert budget.estimate(2) == 3.0  # no later chunk yet: the first one, compilation included
    assert budget.allows_chunk(2)
    clock.now += 1.0
    budget.record_chunk(2, 1.0)
    assert budget.estimate(2) == pytest.approx(1.0) and budget.estimate(1) == 3.0  # a length not compiled yet
    while budget.allows_chunk(2):
        clock.now += 1.0
        budget.record_chunk(2, 1.0)
    assert clock.now == 10.0 and budget.stopped  # stopped where the next chunk would end past 10 s
    assert budget.run_timing() == {"start_s": 3.0, "first_chunk_s": 3.0, "s_per_iteration": 0.5}
    # a later run of the same command: its first chunk is estimated from the longest first chunk so far
    budget.start_run()
    assert budget.estimate(2) == 3.0 and budget.start_s == 3.0


def test_an_unlimited_budget_only_measures():
    clock = Clock()
    budget = Budget(clock=clock)
    for _ in range(3):
        clock.now += 100.0
        budget.record_chunk(5, 100.0)
        assert budget.allows_chunk(5)
    assert not budget.stopped and budget.run_timing()["s_per_iteration"] == pytest.approx(20.0)


def test_chunks_end_on_multiples_of_the_chunk_length():
    assert chunk_lengths(0, 7, 3) == [3, 3, 1]
    assert chunk_lengths(4, 10, 3) == [2, 3, 1]
    assert chunk_lengths(5, 5, 3) == []


def test_plan_in_commands_follows_the_stop_rule():
    """Setup 1 s, first chunk 2 s, later chunks 0.5 s an iteration, chunks of 2, 10 s a command: the
    first command runs to t = 10 s (1 + 2 + seven chunks of 1 s), 16 iterations; the second
    finishes the run's last 4; a run whose time is not measured ends the plan."""
    timing = {"start_s": 3.0, "first_chunk_s": 2.0, "s_per_iteration": 0.5}
    commands, unknown = plan_pieces([("a", 0, 20, 2, timing)], 10.0)
    assert commands == [[("a", 0, 16)], [("a", 16, 20)]] and unknown is None
    # a second run starts in the same command when its start (3 s) fits, here after a 4-iteration run
    commands, unknown = plan_pieces([("a", 16, 20, 2, timing), ("b", 0, 4, 2, timing), ("c", 0, 4, 2, None)], 10.0)
    assert commands == [[("a", 16, 20), ("b", 0, 4)]] and unknown == "c"
    assert plan_pieces([("c", 0, 4, 2, {"start_s": 1.0, "first_chunk_s": 1.0, "s_per_iteration": None})], 10.0) == ([], "c")
    with pytest.raises(ValueError, match="give a finite number of seconds > 0"):
        plan_pieces([], 0)
