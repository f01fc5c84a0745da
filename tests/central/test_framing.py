"""Frames and error codes: what the `ocpp` library leaves unanswered, we answer per spec."""

from __future__ import annotations

import pytest

from custom_components.eflux.core.central.errors import RpcCode, RpcError
from custom_components.eflux.core.central.framing import (
    CallFrame,
    ErrorFrame,
    FrameError,
    ResultFrame,
    parse_frame,
)
from custom_components.eflux.core.central.validation import check


@pytest.mark.parametrize(
    ("text", "code", "answer_id"),
    [
        ("not json", RpcCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('{"a": 1}', RpcCode.RPC_FRAMEWORK_ERROR, "-1"),
        ("[]", RpcCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('[9, "abc", "Heartbeat", {}]', RpcCode.MESSAGE_TYPE_NOT_SUPPORTED, "abc"),
        ('[true, "abc", "Heartbeat", {}]', RpcCode.MESSAGE_TYPE_NOT_SUPPORTED, "abc"),
        ('[2, 17, "Heartbeat", {}]', RpcCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('[2, "", "Heartbeat", {}]', RpcCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', RpcCode.RPC_FRAMEWORK_ERROR, "x" * 36),
        ('[2, "a1", "Heartbeat"]', RpcCode.RPC_FRAMEWORK_ERROR, "a1"),
        ('[2, "a1", 5, {}]', RpcCode.RPC_FRAMEWORK_ERROR, "a1"),
        ('[2, "a1", "Heartbeat", []]', RpcCode.FORMAT_VIOLATION, "a1"),
    ],
)
def test_unusable_frames_name_the_problem_and_the_id_to_answer(
    text: str, code: RpcCode, answer_id: str
) -> None:
    with pytest.raises(FrameError) as raised:
        parse_frame(text)
    assert raised.value.code is code
    assert raised.value.unique_id == answer_id
    assert raised.value.description


def test_good_frames() -> None:
    assert parse_frame('[2,"1","Heartbeat",{}]') == CallFrame("1", "Heartbeat", {})
    assert parse_frame('[3,"1",{"a":1}]') == ResultFrame("1", {"a": 1})
    assert parse_frame('[4,"1","NotSupported","no",{}]') == ErrorFrame(
        "1", "NotSupported", "no", {}
    )


@pytest.mark.parametrize(
    ("code", "v16", "v201"),
    [
        (RpcCode.FORMAT_VIOLATION, "FormationViolation", "FormatViolation"),
        (
            RpcCode.OCCURRENCE_CONSTRAINT,
            "OccurenceConstraintViolation",
            "OccurrenceConstraintViolation",
        ),
        (RpcCode.RPC_FRAMEWORK_ERROR, "FormationViolation", "RpcFrameworkError"),
        (RpcCode.NOT_IMPLEMENTED, "NotImplemented", "NotImplemented"),
        (RpcCode.PROPERTY_CONSTRAINT, "PropertyConstraintViolation", "PropertyConstraintViolation"),
    ],
)
def test_error_codes_are_spelled_as_each_spec_does(code: RpcCode, v16: str, v201: str) -> None:
    assert code.wire("1.6") == v16
    assert code.wire("2.0.1") == v201


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"connectorId": 1, "errorCode": "NoError"}, RpcCode.OCCURRENCE_CONSTRAINT),
        (
            {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
            RpcCode.TYPE_CONSTRAINT,
        ),
        (
            {"connectorId": 1, "errorCode": "Meh", "status": "Available"},
            RpcCode.PROPERTY_CONSTRAINT,
        ),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "x": 1},
            RpcCode.FORMAT_VIOLATION,
        ),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": "i" * 51},
            RpcCode.PROPERTY_CONSTRAINT,
        ),
    ],
)
def test_schema_failures_map_to_the_spec_codes(payload: dict[str, object], code: RpcCode) -> None:
    with pytest.raises(RpcError) as raised:
        check("1.6", 2, "StatusNotification", payload)
    assert raised.value.code is code
    assert raised.value.description.startswith("StatusNotification: ")


def test_one_decimal_limits_pass_the_1_6_multiple_of_check() -> None:
    profile = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}],
            },
        },
    }
    check("1.6", 2, "SetChargingProfile", profile)
    profile["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 6.25  # type: ignore[index]
    with pytest.raises(RpcError) as raised:
        check("1.6", 2, "SetChargingProfile", profile)
    assert raised.value.code is RpcCode.PROPERTY_CONSTRAINT
