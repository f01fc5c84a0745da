"""A local payment provider (Mollie payments API v2 shape) for tests and the demo."""

from .app import OUTCOMES, SimPayment, SimProvider

__all__ = ["OUTCOMES", "SimPayment", "SimProvider"]
