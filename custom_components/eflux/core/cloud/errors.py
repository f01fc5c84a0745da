"""What can go wrong talking to the cloud, by what the caller should do about it."""

from __future__ import annotations


class CloudError(Exception):
    """Base of the sync client's errors."""


class CloudUnavailable(CloudError):
    """Not reachable, timed out, overloaded (429) or failing (5xx): try again later."""


class CloudAuthError(CloudError):
    """The token is unknown, revoked, expired or of the wrong kind (401/403): re-authenticate."""


class CloudRejected(CloudError):
    """The cloud refuses the request itself (4xx): sending it again will not help."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
