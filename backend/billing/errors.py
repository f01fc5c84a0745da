"""Errors of the billing domain: every refusal names the rule (and article) it enforces."""

from __future__ import annotations


class BillingError(ValueError):
    """Input the money and contract rules cannot accept; the message says why."""


class InvalidTransition(BillingError):
    """A lifecycle step that is not allowed from the current state or on this date."""


class DeadlinePassed(BillingError):
    """A step asked for after the deadline the terms set for it."""
