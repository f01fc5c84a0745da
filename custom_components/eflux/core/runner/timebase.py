"""`--time-scale N` and `--time-epoch`: the site's clock for a run faster than real time.

Several processes (the runner, simulated chargers, a simulated meter) agree on simulated time
when they share an epoch: simulated time = epoch + (real time - epoch) x N. Without an epoch,
simulated time starts at the moment the process starts.
"""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime

from ..clock import SYSTEM_CLOCK, Clock, ScaledClock


def scaled_clock(scale: float, epoch: datetime | None = None) -> Clock:
    """The real clock for scale 1 without an epoch, else a `ScaledClock` on the shared epoch."""
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"time scale must be a positive number, got {scale!r}")
    if scale == 1 and epoch is None:
        return SYSTEM_CLOCK
    if epoch is None:
        return ScaledClock(scale)
    if epoch.utcoffset() is None:
        raise ValueError("the time epoch needs a UTC offset, e.g. 2026-06-15T06:00:00+00:00")
    real = datetime.now(UTC)
    return ScaledClock(scale, start=epoch + (real - epoch) * scale)


def add_time_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        metavar="N",
        help="run N times faster than real time (simulated time; default 1)",
    )
    parser.add_argument(
        "--time-epoch",
        type=_epoch,
        default=None,
        metavar="ISO",
        help="shared start of simulated time (ISO 8601 with offset) so processes agree",
    )


def clock_from_args(args: argparse.Namespace) -> Clock:
    return scaled_clock(args.time_scale, args.time_epoch)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _epoch(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"needs a UTC offset (e.g. +00:00): {text!r}")
    return value
