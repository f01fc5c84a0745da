"""The sockets (OCPP connectors; 2.0.1 EVSEs) of a charge point, each its own balanced charger.

A dual-socket box (Alfen Eve Double, EVBox BusinessLine, ABB Terra AC dual) is one charge
point with connectors 1 and 2, each with its own car, transactions and TxProfile. Its sockets
are read from what the central system stored: the connectors its StatusNotifications named
(2.0.1: EVSE ids) and, for 1.6, the NumberOfConnectors configuration key.

The entry's options keep the list of charge points (`chargers`, as before) and, only for a box
with more than one socket, its socket numbers (`connectors`: {charge point id: [1, 2]}); an
entry without that key is a site of single-socket chargers, unchanged.

Socket 1 keeps the charge point id as its charger id (so a single-socket charger, and socket 1
of a box adopted before sockets were known, keep their entities); socket n is
`<charge point id>:<n>`. A colon, not a hyphen: charge point ids often contain hyphens
("garage-2"), rarely a colon followed by a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .core.runtime import ChargePointState

CONF_CONNECTORS = "connectors"
SEPARATOR = ":"
# More than this is a charger misreporting NumberOfConnectors, not a car park pillar.
MAX_SOCKETS = 8


def socket_charger_id(cp_id: str, connector: int) -> str:
    return cp_id if connector == 1 else f"{cp_id}{SEPARATOR}{connector}"


def box_sockets(options: Mapping[str, Any], cp_id: str) -> list[int]:
    """The socket numbers of a charge point the entry balances ([1] unless it has more)."""
    stored = (options.get(CONF_CONNECTORS) or {}).get(cp_id)
    return sorted({1, *(int(n) for n in stored)}) if stored else [1]


def balanced_sockets(options: Mapping[str, Any], cp_ids: Iterable[str]) -> list[tuple[str, int]]:
    """(charge point id, connector) of every balanced charger, box by box. A socket whose id
    is another charge point's ("X:2" next to a box "X") is left out rather than clash."""
    boxes = list(cp_ids)
    return [
        (cp, n)
        for cp in boxes
        for n in box_sockets(options, cp)
        if n == 1 or socket_charger_id(cp, n) not in boxes
    ]


def detected_sockets(state: ChargePointState | None) -> set[int]:
    """What the central system knows of a charge point's sockets (connector 0 is the box)."""
    if state is None:
        return {1}
    found = {n for n in state.connectors if 1 <= n <= MAX_SOCKETS}
    raw = state.configuration.get("NumberOfConnectors", "").strip()
    if raw.isdigit():
        found.update(range(1, min(int(raw), MAX_SOCKETS) + 1))
    return found | {1}


def with_sockets(
    options: Mapping[str, Any], found: Mapping[str, set[int]]
) -> dict[str, list[int]] | None:
    """The `connectors` option grown by `found` (sockets are never dropped: a box reporting
    fewer after a reboot keeps its entities); None when nothing is new."""
    current = {cp: list(n) for cp, n in (options.get(CONF_CONNECTORS) or {}).items()}
    changed = False
    for cp, sockets in found.items():
        merged = sorted(set(box_sockets(options, cp)) | sockets)
        if merged != box_sockets(options, cp):
            current[cp] = merged
            changed = True
    return current if changed else None
