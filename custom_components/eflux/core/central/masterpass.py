"""Master pass (OCPP 2.0.1 C16): a card of the site's master-pass group may stop any session,
but never start one.

A 2.0.1 charger does this itself once it knows the group (AuthCtrlr.MasterPassGroupId, set after
boot by configure.py). 1.6 has no such notion, so the central system does it: an Authorize of a
master pass stops every running transaction of that charger (RemoteStopTransaction), and a
StartTransaction with one is answered Blocked (the charger then ends it).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from .auth import BLOCKED, AuthResult
from .errors import CentralError

if TYPE_CHECKING:
    from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)


def starting(result: AuthResult) -> AuthResult:
    """The answer to a transaction start: a master pass does not start sessions."""
    return replace(result, status=BLOCKED) if result.master_pass else result


async def stop_for_master_pass(session: OcppSession, id_tag: str) -> list[str]:
    """RemoteStop every open transaction of the charger; the ids it accepted to stop."""
    stopped = []
    for tx in session.hub.ledger.open_transactions(session.id):
        try:
            answer = await session.remote_stop(tx)
        except CentralError as err:
            _LOGGER.warning(
                "%s: master pass %s could not stop %s: %s", session.id, id_tag, tx.id, err
            )
            continue
        if answer.get("status") == "Accepted":
            stopped.append(tx.id)
    _LOGGER.info("%s: master pass %s stopped transactions %s", session.id, id_tag, stopped)
    return stopped
