"""Issue 19.2 in the local API: bodies nested 100,000 deep (RecursionError → 500 before), NUL
and lone surrogates, over-long numbers and non-UTF-8 are 400 bad_request and change nothing;
the body reader raises nothing but BodyError on any input."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner.jsonbody import BodyError, read_json
from tests.runner.support import TOKEN, Api, serving

DEEP = b"[" * 30_000 + b"]" * 30_000  # far past the recursion limit, under the 64 KB cap
HOSTILE = [
    DEEP,
    b'{"mode": ' + DEEP + b"}",
    b'{"mode": "\\u0000"}',
    b'{"mode": "\\ud800"}',
    b'{"\\udfff": 1}',
    b'{"amps": ' + b"9" * 5000 + b"}",
    b"\xed\xa0\x80",
    b'{"a":' * 17 + b"1" + b"}" * 17,
]


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": "API-CP"}],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


@pytest.mark.parametrize("raw", HOSTILE, ids=lambda r: repr(r[:12]))
@pytest.mark.parametrize(
    "path",
    [
        "/api/chargers/garage/mode",
        "/api/chargers/garage/max_current",
        "/api/chargers/garage/departure",
        "/api/prices",
    ],
)
async def test_hostile_bodies_are_400_and_change_nothing(api: Api, raw: bytes, path: str) -> None:
    _, before = await api.call("GET", "/api/chargers/garage")
    _, prices = await api.call("GET", "/api/prices")
    method = "PUT" if path.endswith(("departure", "prices")) else "POST"
    status, answer = await api.call(method, path, raw=raw)
    assert (status, answer["error"]) == (400, "bad_request"), answer
    assert answer["message"]
    _, after = await api.call("GET", "/api/chargers/garage")
    assert after == before
    assert (await api.call("GET", "/api/prices"))[1] == prices


async def test_a_plain_body_still_works(api: Api) -> None:
    status, answer = await api.call("POST", "/api/chargers/garage/mode", {"mode": "pv"})
    assert status == 200, answer


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=64),
        st.recursive(
            st.none() | st.integers() | st.floats() | st.text(max_size=6),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=3), inner, max_size=3)
            ),
            max_leaves=15,
        ).map(lambda v: json.dumps(v).encode()),
        st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"0" + b"}" * n),
    )
)
def test_read_json_raises_only_body_error(raw: bytes) -> None:
    with contextlib.suppress(BodyError):
        read_json(raw, max_bytes=64 * 1024)
