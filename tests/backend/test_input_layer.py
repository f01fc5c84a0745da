"""Issue 19.2: each input that answered 500 now answers 4xx in the JSON error shape, on both
engines, and changes nothing; the shared parsers raise nothing but ParseError on any input."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend import parse

from .conftest import Api

SESSION = {
    "charge_point_id": "CP1",
    "transaction_id": "1",
    "connector_id": 1,
    "id_tag": "ANN01",
    "started_at": "2026-11-23T08:00:00+00:00",
    "stopped_at": "2026-11-23T09:00:00+00:00",
    "meter_start_wh": 1000,
    "meter_stop_wh": 8400,
    "energy_wh": 7400,
}
OVERFLOW = "9999-12-31T23:59:59-14:00"  # raised OverflowError turning into UTC
FULL_WIDTH_12 = "\uff11\uff12"
NOT_DIGITS = [
    "²",
    FULL_WIDTH_12,
    "\u0663",
    "1²",
    "-1",
    "+1",
    " 1",
    "1 ",
    "0x1",
    "1" * 19,
    "",
    "1_000",
]


def _shape(body: Any) -> None:
    assert isinstance(body, dict), body
    assert set(body) == {"error", "detail"}, body


async def _counts(api: Api) -> tuple[int, ...]:
    db = api.store.db
    return tuple(
        [
            int(await db.fetchval(f"SELECT count(*) FROM {t}"))
            for t in ("sessions", "open_sessions", "api_tokens", "departures", "sites")
        ]
    )


async def test_unicode_digits_in_ids_and_queries_are_4xx(api: Api) -> None:
    before = await _counts(api)
    for text in NOT_DIGITS:
        if text:
            status, body = await api.call("GET", f"/cards/{text}", "ann")
            assert status == 404, text
            _shape(body)
        for path, who in (
            ("/cards?limit=", "ann"),
            ("/cards?after=", "ann"),
            ("/sync/cards?since=", "site"),
            ("/sync/departures?after=", "site"),
        ):
            status, body = await api.call("GET", path + text.replace("+", "%2B"), who)
            assert status == 400, (path, text, body)
            _shape(body)
            assert body["error"] == "invalid"
    assert await _counts(api) == before
    status, _ = await api.call("GET", "/sync/departures?after=0", "site")
    assert status == 200


async def test_dates_that_overflow_or_leave_the_year_range_are_400(api: Api) -> None:
    before = await _counts(api)
    for when in (
        OVERFLOW,
        "0001-01-01T00:00:00+14:00",
        "2200-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "2199-12-31T23:00:00-14:00",
        "\uff12\uff10\uff12\uff16-11-23T08:00:00Z",
    ):
        cases = [
            ("POST", "/sync/sessions", "site", {"sessions": [{**SESSION, "started_at": when}]}),
            ("POST", "/sync/sessions", "site", {"sessions": [{**SESSION, "stopped_at": when}]}),
            ("PUT", "/sync/open-sessions", "site", {"taken_at": when, "sessions": []}),
            ("POST", "/tokens", "ann", {"name": "t", "expires_at": when}),
            ("POST", f"/sites/{api.ids['site']}/tokens", "ann", {"name": "t", "expires_at": when}),
            ("PUT", f"/charge-points/{api.ids['cp']}/departure", "ann", {"departure_at": when}),
        ]
        for method, path, who, payload in cases:
            status, body = await api.call(method, path, who, json=payload)
            assert status == 400, (when, path, body)
            _shape(body)
    assert await _counts(api) == before
    # The bounds themselves are fine.
    status, body = await api.call(
        "POST", "/tokens", "ann", json={"name": "t", "expires_at": "2199-12-31T23:59:59Z"}
    )
    assert status == 201, body


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "nul\x00", "\x00"])
async def test_lone_surrogates_and_nul_in_text_are_400_and_nothing_is_stored(
    api: Api, bad: str
) -> None:
    before = await _counts(api)
    cases = [
        ("POST", "/sites", "ann", {"name": bad}),
        ("POST", "/sites", "ann", {"name": "ok", "address": bad}),
        ("PATCH", f"/charge-points/{api.ids['cp']}", "ann", {"name": bad}),
        ("POST", "/tokens", "ann", {"name": bad}),
        ("POST", "/sync/sessions", "site", {"sessions": [{**SESSION, "transaction_id": bad}]}),
        ("POST", "/sync/sessions", "site", {"sessions": [{**SESSION, "id_tag": bad}]}),
        ("POST", "/sync/sessions", "site", {"sessions": [{**SESSION, bad: 1}]}),  # a key
    ]
    for method, path, who, payload in cases:
        status, body = await api.call(method, path, who, json=payload)  # json escapes: \ud800
        assert status == 400, (path, payload, body)
        _shape(body)
    assert await _counts(api) == before
    cp = await api.store.sites.get_charge_point(api.ids["cp"])
    assert "\x00" not in cp.name


async def test_deep_nesting_huge_numbers_and_non_utf8_are_400(api: Api) -> None:
    before = await _counts(api)
    deep = "[" * 30_000 + "]" * 30_000  # far past the recursion limit, under 64 KB
    for raw in (
        deep,
        '{"sessions": ' + deep + "}",
        '{"a":' * 40 + "1" + "}" * 40,
        '{"sessions": [' + "1" * 5000 + "]}",
        b"\xed\xa0\x80",
        '"\\ud800"',
    ):
        status, body = await api.call("POST", "/sync/sessions", "site", data=raw)
        assert status == 400, str(raw)[:40]
        _shape(body)
    status, body = await api.call("POST", "/sites", "ann", data="[" * 33 + "]" * 33)
    assert (status, body["error"]) == (400, "invalid")
    assert "deeper" in body["detail"]
    assert await _counts(api) == before


async def test_errors_outside_handlers_keep_the_json_shape(api: Api) -> None:
    status, body = await api.call("DELETE", "/sync/sessions", "site")
    assert status == 405
    _shape(body)
    status, body = await api.call("GET", "/no/such/route", "ann")
    assert status == 404
    _shape(body)


# ---- the parsers on their own: any input is a value or a ParseError, nothing else ---------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_digits_accepts_exactly_short_ascii_digit_strings(text: str) -> None:
    try:
        value = parse.digits(text)
    except parse.ParseError:
        assert not (text.isascii() and text.isdigit() and 1 <= len(text) <= 18)
    else:
        assert str(value).zfill(len(text)) == text
        assert value < 2**63


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=45),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        st.builds(
            lambda y, off: f"{y:04d}-12-31T23:59:59{off}",
            st.integers(1, 9999),
            st.sampled_from(["-14:00", "+14:00", "Z", "-23:59"]),
        ),
    )
)
def test_aware_time_never_raises_anything_but_parse_error(text: str) -> None:
    try:
        when = parse.aware_time(text)
    except parse.ParseError:
        return
    assert when.tzinfo is not None
    assert parse.MIN_YEAR <= when.astimezone(UTC).year <= parse.MAX_YEAR


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=64),
        _JSONISH.map(lambda v: json.dumps(v).encode()),
        st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    )
)
def test_json_value_never_raises_anything_but_parse_error(raw: bytes) -> None:
    status = 200
    try:
        parse.json_value(raw)
    except parse.ParseError as err:
        status = err.status
    assert status in {200, 400, 413}


def test_json_value_limits() -> None:
    assert parse.json_value(b"[" * 32 + b"]" * 32) is not None
    with pytest.raises(parse.ParseError, match="deeper"):
        parse.json_value(b"[" * 33 + b"]" * 33)
    with pytest.raises(parse.ParseError) as too_big:
        parse.json_value(b"[" + b"1," * 600_000 + b"1]")
    assert too_big.value.status == 413
    with pytest.raises(parse.ParseError, match="surrogate"):
        parse.json_value(b'{"\\udc00": 1}')
