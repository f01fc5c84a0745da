"""Reconnect pacing and log hygiene shared by every source and the bridge."""

from __future__ import annotations

import logging
import random


class Backoff:
    """Exponential delays with jitter: initial, x factor each failure, never above `maximum`;
    reset on success.

    Jitter (+-`jitter` of the delay) keeps many clients from retrying in lockstep after a
    broker or gateway restart.
    """

    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 60.0,
        factor: float = 2.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._failures = 0

    @property
    def failures(self) -> int:
        return self._failures

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * self.factor**self._failures)
        self._failures += 1
        jittered = base * (1 + self._rng.uniform(-self.jitter, self.jitter))
        if jittered > self.maximum:  # the maximum holds; at the cap the jitter only shortens
            jittered = self.maximum * (1 - self._rng.uniform(0, self.jitter))
        return max(0.0, jittered)

    def reset(self) -> None:
        self._failures = 0


# pymodbus logs every unanswered request at ERROR with a dump of the last frames; during a meter
# outage that floods the log once per poll. Our sources log each outage once (EpisodeLog), so the
# library's own records are kept at DEBUG (seen with --log-level DEBUG, never as errors).
LIBRARY_LOGGERS = ("pymodbus", "pymodbus.logging")


class DemoteToDebug(logging.Filter):
    """A logger filter that turns every record into a DEBUG one, kept only where DEBUG is on
    for that logger (the level was checked against the record's original level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_DEMOTE = DemoteToDebug()


def quiet_library_logs() -> None:
    """Demote the Modbus library's records to DEBUG (idempotent; filters sit on the logger
    that emits, so each library logger gets its own)."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _DEMOTE not in logger.filters:
            logger.addFilter(_DEMOTE)


class EpisodeLog:
    """Log a problem once when it starts (or changes kind) and once when it ends, not per poll."""

    def __init__(self, logger: logging.Logger, name: str) -> None:
        self._logger = logger
        self._name = name
        self._kind: str | None = None
        self._count = 0
        self.episodes = 0

    @property
    def in_episode(self) -> bool:
        return self._kind is not None

    def problem(self, kind: str, message: str) -> None:
        self._count += 1
        if self._kind != kind:
            self._kind = kind
            self.episodes += 1
            self._logger.warning("%s: %s (%s); further failures are not logged", self._name,
                                 message, kind)  # fmt: skip

    def recovered(self) -> None:
        if self._kind is not None:
            self._logger.info("%s: recovered after %d failed attempts", self._name, self._count)
        self._kind = None
        self._count = 0
