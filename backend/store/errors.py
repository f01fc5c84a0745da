"""Errors the store raises; the API maps each to an HTTP status with a clear message."""


class StoreError(Exception):
    """Base of the store's refusals (never a crash)."""


class NotFound(StoreError):
    """No such record in the caller's scope (another account's id looks the same as none)."""


class Conflict(StoreError):
    """The record exists already, or the action does not fit its current state."""


class Invalid(StoreError):
    """A value the model does not accept."""
