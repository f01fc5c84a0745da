"""Exponential backoff with jitter, so a thousand sites do not return to the cloud in step."""

from __future__ import annotations

import random


class Backoff:
    """Delays base, base·factor, base·factor², … up to `cap`, each drawn from [d/2, d]."""

    def __init__(
        self,
        base: float = 5.0,
        factor: float = 2.0,
        cap: float = 900.0,
        rng: random.Random | None = None,
    ) -> None:
        if base <= 0 or factor < 1 or cap < base:
            raise ValueError("backoff needs base > 0, factor >= 1 and cap >= base")
        self.base, self.factor, self.cap = base, factor, cap
        self._rng = rng or random.Random()
        self.failures = 0

    def next_delay(self) -> float:
        """The wait after one more failure (equal jitter: never below half the step)."""
        step = min(self.cap, self.base * self.factor ** min(self.failures, 64))
        self.failures += 1
        return step / 2 + self._rng.uniform(0, step / 2)

    def reset(self) -> None:
        self.failures = 0
