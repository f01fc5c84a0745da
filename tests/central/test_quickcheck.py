"""The fast schema test (quickcheck.py) never calls valid what the library's validator
refuses, and does call the usual messages valid (else it would save nothing)."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.messages import get_validator

from custom_components.eflux.core.central.quickcheck import surely_valid

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches"))
from central_processes import meter_values

NOW = "2026-12-07T10:00:00Z"
VALID: list[tuple[str, str, dict[str, Any]]] = [
    ("1.6", "MeterValues", meter_values(7, 1234.5)),
    ("1.6", "Heartbeat", {}),
    ("1.6", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
    ("1.6", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}),
    (
        "1.6",
        "StartTransaction",
        {"connectorId": 1, "idTag": "CARD", "meterStart": 0, "timestamp": NOW},
    ),
    ("1.6", "StopTransaction", {"meterStop": 10, "timestamp": NOW, "transactionId": 3}),
    ("2.0.1", "Heartbeat", {}),
    (
        "2.0.1",
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [
                {
                    "timestamp": NOW,
                    "sampledValue": [
                        {"value": 1.5, "measurand": "Energy.Active.Import.Register"},
                        {"value": 16, "measurand": "Current.Import", "phase": "L1"},
                    ],
                }
            ],
        },
    ),
    (
        "2.0.1",
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": NOW,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 4,
            "transactionInfo": {"transactionId": "T1", "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": 100.0}]}],
        },
    ),
]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.sampled_from(["", "L1", "Energy.Active.Import.Register", "Charging", "x" * 600, NOW]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["value", "phase", "extra", "id", "unit"]), inner, max_size=3),  # noqa: E501
    max_leaves=6,
)  # fmt: skip


# Values that break one keyword each: types (1.0 for an integer, a bool for a number), lengths,
# enums, empty and extra items.
EDGES = st.sampled_from(
    [None, True, 1.0, -1, 2**40, "", "x" * 600, "NotAnEnumValue", [], [{}], {}, {"x": 1}]
)
REPLACEMENT = EDGES | JSON


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A valid payload with one place replaced, deleted, or given an extra key."""
    version, action, payload = draw(st.sampled_from(VALID))
    payload = copy.deepcopy(payload)
    path = draw(st.sampled_from(_paths(payload)))
    if not path:
        return version, action, draw(REPLACEMENT)
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    how = draw(st.sampled_from(["replace", "delete", "extra"]))
    if how == "replace":
        parent[path[-1]] = draw(REPLACEMENT)
    elif how == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["extra", "customData", "value"]))] = draw(REPLACEMENT)
    else:
        parent.append(draw(REPLACEMENT))
    return version, action, payload


def test_the_usual_messages_take_the_fast_path() -> None:
    for version, action, payload in VALID:
        assert get_validator(2, action, version).is_valid(payload), action
        assert surely_valid(version, action, payload), (version, action)


@settings(max_examples=600, deadline=None)
@given(mutated())
def test_never_valid_when_the_library_refuses(case: tuple[str, str, Any]) -> None:
    version, action, payload = case
    if surely_valid(version, action, payload):
        assert get_validator(2, action, version).is_valid(payload), json.dumps(payload)[:300]


EDGE_VALUES = [None, True, 1.0, -1, 2**40, "", "x" * 600, "NotAnEnumValue", [], [{}], {}, {"x": 1}]


def test_every_single_edit_of_the_usual_messages() -> None:
    """Exhaustively: each place of each payload replaced by each edge value, or deleted."""
    checked = refused = 0
    for version, action, original in VALID:
        validator = get_validator(2, action, version)
        for path in _paths(original)[1:]:
            for edit in [*EDGE_VALUES, "delete"]:
                payload = copy.deepcopy(original)
                parent = payload
                for step in path[:-1]:
                    parent = parent[step]
                if edit == "delete":
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = copy.deepcopy(edit)
                checked += 1
                if not validator.is_valid(payload):
                    refused += 1
                    assert not surely_valid(version, action, payload), (action, path, edit)
    assert refused > checked // 2  # the edits do break things


def test_what_it_does_not_know_is_left_to_the_library() -> None:
    # SetChargingProfile's limits are multipleOf 0.1: not compiled, so never "surely valid".
    assert not surely_valid("1.6", "NoSuchAction", {})
    profile = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.05}],
            },
        },
    }
    assert not surely_valid("1.6", "SetChargingProfile", profile)
