"""The simulated walker's heart: a first-order response to speed and incline (pure).

Not a physiological model to learn from, a plausible signal to test against: the heart rate
relaxes exponentially towards a steady state that grows linearly with the belt speed and the
incline while someone walks, with a rise time constant of tens of seconds (a slower one on the
way down), and a little seeded noise on what is reported. docs/simulator.md, "Heart-rate
strap", gives the defaults and how tests change them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class HeartParams:
    """Model parameters (bpm, km/h, %, simulated seconds)."""

    rest_bpm: float = 70.0
    bpm_per_kmh: float = 14.0
    """Steady-state rise per km/h of belt speed while walking."""
    bpm_per_incline_pct: float = 2.0
    """Steady-state rise per % of incline while walking."""
    tau_rise_s: float = 30.0
    tau_fall_s: float = 45.0
    noise_bpm: float = 1.0
    """Standard deviation of the reported value's noise (0: exact)."""
    seed: int = 1

    def __post_init__(self) -> None:
        if not 20 <= self.rest_bpm <= 200:
            raise ValueError("rest_bpm must be in 20..200")
        if self.tau_rise_s <= 0 or self.tau_fall_s <= 0:
            raise ValueError("time constants must be positive")
        if self.noise_bpm < 0 or self.bpm_per_kmh < 0:
            raise ValueError("noise and gains must not be negative")

    def updated(self, **changes: Any) -> HeartParams:
        """A copy with ``changes`` (names checked, values converted to float / int)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown heart parameter(s): {', '.join(sorted(unknown))}")
        typed: dict[str, Any] = {k: int(v) if k == "seed" else float(v) for k, v in changes.items()}
        return replace(self, **typed)


class Heart:
    """The heart rate of the walker, advanced with the simulated time."""

    def __init__(self, params: HeartParams | None = None, *, now: float = 0.0) -> None:
        self.params = params or HeartParams()
        self._rng = random.Random(self.params.seed)
        self._bpm = self.params.rest_bpm
        self._at = now

    @property
    def exact_bpm(self) -> float:
        return self._bpm

    def reconfigure(self, params: HeartParams) -> None:
        """New parameters from now on (the current rate is kept; a new seed restarts noise)."""
        if params.seed != self.params.seed:
            self._rng = random.Random(params.seed)
        self.params = params

    def target(self, speed: int, incline: int, walking: bool) -> float:
        """Steady state for ``speed`` (0.01 km/h) and ``incline`` (0.1 %)."""
        p = self.params
        if not walking or speed <= 0:
            return p.rest_bpm
        return (
            p.rest_bpm + p.bpm_per_kmh * speed / 100 + p.bpm_per_incline_pct * max(0, incline) / 10
        )

    def advance(self, now: float, speed: int, incline: int, walking: bool) -> None:
        """Move to ``now`` with the effort held constant since the last call."""
        dt = now - self._at
        self._at = now
        if dt <= 0:
            return
        goal = self.target(speed, incline, walking)
        tau = self.params.tau_rise_s if goal > self._bpm else self.params.tau_fall_s
        self._bpm = goal + (self._bpm - goal) * math.exp(-dt / tau)

    def reading(self) -> int:
        """What the strap reports now: the rate plus noise, rounded, within 30..250."""
        noisy = self._bpm + (
            self._rng.gauss(0.0, self.params.noise_bpm) if self.params.noise_bpm else 0
        )
        return max(30, min(250, round(noisy)))
