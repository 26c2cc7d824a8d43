"""A value that changes over training iterations, as one typed field of a config.

A :class:`Schedule` is ``start`` until iteration ``begin``, then linear to ``end`` over ``steps``
iterations, then ``end``; without an ``end`` (or with ``steps = 0``) it is ``start`` throughout.
In a config's JSON form it is ``{"start": .., "end": .., "steps": .., "begin": ..}``; a plain number
is a constant schedule (``--set a2c.learning_rate=1e-3``, ``--set a2c.learning_rate.end=1e-4``).
"""

from __future__ import annotations

import dataclasses
import numbers

import jax.numpy as jnp
import optax

from ismarl._validate import check_int, check_real


@dataclasses.dataclass(frozen=True)
class Schedule:
    start: float
    end: float | None = None
    steps: int = 0
    begin: int = 0

    def __post_init__(self):
        check_real(self.start, "start")
        check_real(self.end, "end", optional=True)
        check_int(self.steps, "steps", minimum=0)
        check_int(self.begin, "begin", minimum=0)

    @property
    def constant(self) -> bool:
        return self.end is None or self.steps == 0

    def __call__(self, iteration):
        """The value at ``iteration`` (a traced integer is fine), as float32."""
        if self.constant:
            return jnp.asarray(self.start, jnp.float32)
        frac = jnp.clip((iteration - self.begin) / self.steps, 0.0, 1.0)
        return jnp.asarray(self.start + (self.end - self.start) * frac, jnp.float32)

    def for_optax(self):
        """The same schedule for an optax optimizer (a float when constant); optax's own linear
        schedule, so that runs keep the step sizes they were trained with to the last bit."""
        if self.constant:
            return self.start
        return optax.linear_schedule(self.start, self.end, self.steps, transition_begin=self.begin)

    def words(self) -> str:
        """``"0.1, linearly down to 0.003 by 1000"``, ``"0.0003 until iteration 1500, then linearly
        down to 3e-05 by 2500"`` or ``"0.01 throughout"``."""
        if self.constant:
            return f"{self.start:g} throughout"
        way = "down" if self.end < self.start else "up"
        return (f"{self.start:g}" + (f" until iteration {self.begin}, then" if self.begin else ",")
                + f" linearly {way} to {self.end:g} by {self.begin + self.steps}")

    def short(self) -> str:
        """``"0.1→0.003/1000"`` (``" from 1500"`` when delayed) or ``"0.01"``, for tables."""
        if self.constant:
            return f"{self.start:g}"
        return f"{self.start:g}→{self.end:g}/{self.steps}" + (f" from {self.begin}" if self.begin else "")

    @classmethod
    def of(cls, value, name: str = "schedule") -> "Schedule":
        """A schedule from a number (constant), a ``{"start", "end", "steps", "begin"}`` dict or a
        Schedule; anything else raises naming ``name``."""
        if isinstance(value, Schedule):
            return value
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return cls(float(check_real(value, name)))
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"start", "end", "steps", "begin"})
            if unknown or "start" not in value:
                raise ValueError(f"{name} must be a number or {{\"start\", \"end\", \"steps\", \"begin\"}}, got {value!r}")
            try:
                return cls(**value)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{name}.{exc}") from None
        raise TypeError(f"{name} must be a number or a schedule {{\"start\", \"end\", \"steps\", \"begin\"}}, got {value!r}")
