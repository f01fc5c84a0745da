"""What the central system does right after a charger boots: read its configuration, ask for
per-phase meter values at our interval, read back what it accepted, sync the local card list.

Runs in a session task (never inside a handler: that would deadlock the receive loop) and
never fails the session: a charger refusing a setting keeps working with what it has.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..domain import Card
from . import batching
from .auth import card_status
from .errors import CallRejected, CentralError

if TYPE_CHECKING:
    from .rpc import OcppSession
    from .v16 import V16Session
    from .v201 import V201Session

_LOGGER = logging.getLogger(__name__)
ACCEPTED = ("Accepted", "RebootRequired")
# Write-only by the spec, yet some chargers report them: never kept in the database.
SECRET_KEYS = frozenset({"AuthorizationKey"})
# 2.0.1 variables read after boot (Component.Variable).
V201_VARIABLES = (
    ("SampledDataCtrlr", "TxUpdatedInterval"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("SmartChargingCtrlr", "RateUnit"),
    ("SmartChargingCtrlr", "ProfileStackLevel"),
    ("SmartChargingCtrlr", "PeriodsPerSchedule"),
    ("LocalAuthListCtrlr", "Enabled"),
    ("LocalAuthListCtrlr", "ItemsPerMessage"),
    ("ReservationCtrlr", "Enabled"),
)


def measurand_candidates(wanted: Sequence[str], max_length: int | None) -> list[list[str]]:
    """The wanted list, then shorter ones for chargers that reject a measurand they lack."""
    optional = ["SoC", "Current.Offered", "Voltage", "Power.Active.Import"]
    candidates = [list(wanted)]
    current = list(wanted)
    for name in optional:
        if name in current:
            current = [m for m in current if m != name]
            candidates.append(current)
    if max_length is not None:
        candidates = [c[:max_length] for c in candidates]
    unique: list[list[str]] = []
    for candidate in candidates:
        if candidate and candidate not in unique:
            unique.append(candidate)
    return unique


async def configure_v16(session: V16Session) -> None:
    hub, cp_id = session.hub, session.id
    try:
        configuration = await read_configuration_v16(session)
        await hub.save_configuration(cp_id, configuration)
        _ready(session)
        if not hub.quirks(cp_id).rejects_configuration_changes:
            await _change_v16(session, configuration)
            keys = ["MeterValueSampleInterval", "MeterValuesSampledData"]
            await hub.save_configuration(cp_id, await read_configuration_v16(session, keys))
        await sync_local_list(session)
    except CentralError as err:
        _ready(session)  # what it has will do; limits fail on their own if it is gone
        _LOGGER.warning("%s: configuration after boot incomplete: %s", cp_id, err)


def _ready(session: OcppSession) -> None:
    """Profiles may go out once the configuration they are built from is read (never while
    the charger's boot is Pending approval: admission.py)."""
    session.hub.admission.mark_ready(session)


async def read_configuration_v16(
    session: V16Session, keys: Sequence[str] | None = None
) -> dict[str, str]:
    """All keys, or these in as many requests as the charger's GetConfigurationMaxKeys needs."""
    if not keys:
        return _configuration(await session.request("GetConfiguration", {}))
    most = batching.limit(session.hub.state(session.id).configuration, "GetConfigurationMaxKeys")
    values: dict[str, str] = {}
    for batch in batching.split(keys, _keys, "GetConfiguration", most, None):
        values |= _configuration(await session.request("GetConfiguration", _keys(batch)))
    return values


def _keys(keys: Sequence[str]) -> dict[str, Any]:
    return {"key": list(keys)}


def _configuration(answer: dict[str, Any]) -> dict[str, str]:
    return {
        str(item["key"]): str(item.get("value", ""))
        for item in answer.get("configurationKey") or []
        if isinstance(item, dict) and "key" in item and item["key"] not in SECRET_KEYS
    }


async def _change_v16(session: V16Session, configuration: dict[str, str]) -> None:
    config = session.hub.config
    interval = str(config.meter_sample_interval)
    if configuration.get("MeterValueSampleInterval") != interval:
        await _set_v16(session, "MeterValueSampleInterval", interval)
    max_length = _int(configuration.get("MeterValuesSampledDataMaxLength"))
    for candidate in measurand_candidates(config.measurands, max_length):
        value = ",".join(candidate)
        if _same_list(configuration.get("MeterValuesSampledData"), value):
            return
        if await _set_v16(session, "MeterValuesSampledData", value):
            return


async def _set_v16(session: V16Session, key: str, value: str) -> bool:
    answer = await session.request("ChangeConfiguration", {"key": key, "value": value})
    status = str(answer.get("status"))
    if status not in ACCEPTED:
        _LOGGER.info("%s: %s=%s answered %s", session.id, key, value, status)
    return status in ACCEPTED


async def configure_v201(session: V201Session) -> None:
    hub, cp_id = session.hub, session.id
    try:
        variables = await session.get_variables(V201_VARIABLES)
        await hub.save_configuration(cp_id, variables)
        _ready(session)
        if not hub.quirks(cp_id).rejects_configuration_changes:
            config = hub.config
            await session.set_variables(
                [("SampledDataCtrlr", "TxUpdatedInterval", str(config.meter_sample_interval))]
            )
            for candidate in measurand_candidates(config.measurands, None):
                value = ",".join(candidate)
                if _same_list(variables.get("SampledDataCtrlr.TxUpdatedMeasurands"), value):
                    break
                statuses = await session.set_variables(
                    [("SampledDataCtrlr", "TxUpdatedMeasurands", value)]
                )
                if all(status in ACCEPTED for status in statuses):
                    break
            await hub.save_configuration(cp_id, await session.get_variables(V201_VARIABLES[:2]))
            master = hub.config.authorization.master_pass_group
            if master is not None and not hub.admission.held(cp_id):  # C16: may stop any
                await session.set_variables([("AuthCtrlr", "MasterPassGroupId", master)])
        await sync_local_list(session)
    except CentralError as err:
        _ready(session)
        _LOGGER.warning("%s: configuration after boot incomplete: %s", cp_id, err)


async def sync_local_list(session: OcppSession) -> None:
    """Send the whole local list when the charger's version differs from ours (never to a
    charger not approved: the cards are no business of a stranger on the LAN)."""
    cards = session.hub.cards
    if session.hub.admission.held(session.id):
        return
    if cards.version == 0 or not session.local_list_supported():
        return
    if await session.local_list_version() == cards.version:
        return
    await push_full_list(session)


async def push_full_list(session: OcppSession) -> None:
    cards, now = session.hub.cards, session.hub.clock()
    entries = cards.all()
    size = session.local_list_batch_size()
    batches = [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]
    for index, batch in enumerate(batches):
        answer = await session.send_local_list(cards.version, index == 0, batch, now)
        if answer.get("status") != "Accepted":
            raise CallRejected(session.id, "SendLocalList", str(answer.get("status")), answer)


def _same_list(current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    return {p.strip() for p in current.split(",")} == {p.strip() for p in wanted.split(",")}


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


async def push_cards(session: OcppSession, changed: Sequence[Card]) -> str:
    """Send changed cards as a differential update; a charger out of step gets the full list."""
    cards, now = session.hub.cards, session.hub.clock()
    if not session.local_list_supported():
        return "NotSupported"
    answer = await session.send_local_list(cards.version, False, changed, now)
    status = str(answer.get("status"))
    if status in ("VersionMismatch", "Failed"):
        await push_full_list(session)
        return "Accepted"
    if status == "Accepted" and any(card_status(c, now) != "Accepted" for c in changed):
        # A card blocked now may still sit in the charger's authorization cache as accepted.
        await session.request("ClearCache", {})
    return status
