"""Per-connection rate limit of the CALLs a charger sends: a token bucket.

A charger may send `burst` CALLs at once, then `rate` per second. What happens to a CALL
beyond that is the site's choice (`RateLimit.action`):
- "error": answered with a CALLERROR (GenericError, saying why) without being handled, and the
  connection's reading pauses for one token's time, so a flood costs the central system at
  most about twice `rate` messages a second and TCP slows the sender down; transaction data
  (start, stop, TransactionEvent, MeterValues) is delayed like "delay" instead, never refused;
- "close": the connection is closed (1008, policy violation); the charger reconnects;
- "delay": nothing is refused: reading pauses until a token is free (TCP back-pressure).
A well-behaved charger waits for each answer and sends a few messages a minute; even one
replaying an offline backlog stays far below the defaults.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from websockets.frames import CloseCode
from websockets.protocol import State

from .errors import RpcCode

if TYPE_CHECKING:
    from .framing import CallFrame
    from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)
LOG_INTERVAL = 60.0  # seconds between warnings about one charger's flood
# Transaction data a charger may drop after an error (1.6 TransactionMessageAttempts): with
# action "error" these are delayed, never refused (an Alfen replays its whole meter backlog).
KEEP = frozenset({"StartTransaction", "StopTransaction", "TransactionEvent", "MeterValues"})

Action = Literal["error", "close", "delay"]
ACTIONS: tuple[Action, ...] = ("error", "close", "delay")


@dataclass(frozen=True, slots=True)
class RateLimit:
    rate: float = 50.0  # CALLs per second, sustained; 0 turns the limit off
    burst: int = 500  # CALLs at once (a bucket's size)
    action: Action = "error"

    def __post_init__(self) -> None:
        if self.rate < 0 or self.burst < 1 or self.action not in ACTIONS:
            raise ValueError(f"invalid rate limit {self}")

    @property
    def enabled(self) -> bool:
        return self.rate > 0


class TokenBucket:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(
            float(self.limit.burst), self._tokens + (now - self._at) * self.limit.rate
        )
        self._at = now

    def take(self) -> bool:
        """Use a token if there is one."""
        if not self.limit.enabled:
            return True
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until the next token."""
        if not self.limit.enabled:
            return 0.0
        self._refill()
        return max(0.0, (1.0 - self._tokens) / self.limit.rate)


class RateGate:
    """One connection's bucket and what it does with a CALL beyond it."""

    def __init__(self, limit: RateLimit) -> None:
        self.bucket = TokenBucket(limit)
        self.refused = 0
        self.closing = False
        self._logged_at = -LOG_INTERVAL

    async def admit(self, session: OcppSession, frame: CallFrame) -> bool:
        """True when the CALL may be handled (at once, or after a delay)."""
        bucket, limit = self.bucket, self.bucket.limit
        if self.closing:
            return False  # frames still queued behind our close frame: dropped
        if bucket.take():
            return True
        if limit.action == "delay" or (limit.action == "error" and frame.action in KEEP):
            await asyncio.sleep(bucket.wait_time())
            bucket.take()
            return True
        if session.connection.state is not State.OPEN:
            return False  # gone: no answer can reach it, and no back-pressure is needed
        self.refused += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_INTERVAL:  # a flood, not a log flood
            self._logged_at = now
            _LOGGER.warning(
                "%s: over the rate limit (%g/s after %d): %s %s (%d refused so far)",
                session.id,
                limit.rate,
                limit.burst,
                frame.action,
                "closing" if limit.action == "close" else "refused",
                self.refused,
            )
        if limit.action == "close":
            # In a task: the closing handshake needs the frames queued before the charger's
            # close frame to be read first, which this connection's reader goes on doing.
            self.closing = True
            session.spawn(
                session.connection.close(CloseCode.POLICY_VIOLATION, "rate limit exceeded")
            )
            return False
        await session.send_error(
            frame.unique_id,
            RpcCode.GENERIC_ERROR,
            f"rate limit: at most {limit.rate:g} messages/s after a burst of {limit.burst}; "
            "not processed, send it again later",
        )
        await asyncio.sleep(bucket.wait_time())  # read no faster than we handle
        return False
