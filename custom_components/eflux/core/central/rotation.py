"""Password rotation from the central system (OCPP security profiles 1 and 2).

1.6 (security whitepaper): ChangeConfiguration `AuthorizationKey`; 2.0.1 (A01): SetVariables
`SecurityCtrlr.BasicAuthPassword`. The new password is stored before it is sent (credentials
keep the old one valid too), so that a crash or a lost answer never locks a charger out: it
reconnects with whichever it has. A charger that refuses gets its old password back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .credentials import generate_password, password_problem
from .errors import CallRejected, CentralError, InvalidRequest

if TYPE_CHECKING:
    from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)
REFUSED = ("Rejected", "NotSupported", "UnknownComponent", "UnknownVariable")


async def rotate_password(session: OcppSession, password: str | None = None) -> str:
    """Give the charger a new password (generated unless given); returns it once the charger
    accepted it. CallRejected (old password restored) or a CentralError (both stay valid)."""
    new = password if password is not None else generate_password()
    problem = password_problem(new)
    if problem is not None:
        raise InvalidRequest(f"password {problem}")
    credentials, cp_id = session.hub.credentials, session.id
    before = await credentials.rotate(cp_id, new)
    try:
        status = await _send(session, new)
    except CentralError as err:  # no answer: it may have taken it - both stay valid
        _LOGGER.warning("%s: password change unanswered (%s); old and new both valid", cp_id, err)
        raise
    if status in REFUSED:
        await credentials.revert(cp_id, before)
        raise CallRejected(cp_id, "password change", status, {"status": status})
    _LOGGER.info(
        "%s: new password accepted (%s); the old one lasts until it is used", cp_id, status
    )
    return new


async def _send(session: OcppSession, password: str) -> str:
    if session.ocpp_version == "1.6":
        answer = await session.request(
            "ChangeConfiguration", {"key": "AuthorizationKey", "value": password}
        )
        return str(answer.get("status"))
    answer = await session.request(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": password,
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }
            ]
        },
    )
    results = answer.get("setVariableResult") or [{}]
    return str(results[0].get("attributeStatus"))
