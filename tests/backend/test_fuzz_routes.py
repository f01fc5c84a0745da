"""Issue 19.2: generated junk posted to every route of docs/cloud-api.yaml never gets a 5xx.

Each route first gets a fixed set of nasty inputs (so every route is hit whatever hypothesis
draws), then hypothesis sends a few hundred mixed requests: path ids and query values from
'²' to 10^30, bodies that are junk JSON or the route's documented fields filled with junk,
raw bytes, other media types, and the three kinds of caller (admin, customer, site token).
Bounded to a few seconds per engine: one request per example, no shrinking of passing runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.store import Store

from .conftest import Api
from .payflow import pay_world

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "cloud-api.yaml").read_text())
METHODS = ("get", "post", "put", "patch", "delete")
ROUTES = sorted(
    (method, path) for path, item in SPEC["paths"].items() for method in item if method in METHODS
)
NASTY_TEXT = [
    "²",
    "\uff11",
    "-1",
    "0",
    "1" * 30,
    "1e3",
    "' OR 1=1--",
    "%00",
    "\u202e",
    "\ud800",
    "x" * 300,
    "",
    " ",
    "null",
    "9999-12-31T23:59:59-14:00",
]
NASTY_BODIES: list[bytes] = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'"\\ud800"',
    b'{"a": "\\u0000"}',
    b"[" * 5000 + b"]" * 5000,
    b"1" * 5000,
    b"\xff\xfe",
    b'{"sessions": [{"started_at": "9999-12-31T23:59:59-14:00"}]}',
    b"NaN",
    b'{"x": 1e999}',
]

_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(NASTY_TEXT)
)
JSONISH = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _fields(method: str, path: str) -> list[str]:
    """The documented property names of the route's JSON body (resolving one $ref level)."""
    body = SPEC["paths"][path][method].get("requestBody", {})
    if "$ref" in body:
        body = SPEC["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


def _q(value: str) -> str:
    """Percent-encoded, lone surrogates as their (invalid) UTF-8 bytes."""
    return quote(value, safe="", errors="surrogatepass")


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda _: _q(value), path)


def _who(path: str, pick: int) -> str | None:
    callers = (
        ["site", "admin", "ann", None]
        if path.startswith("/sync/")
        else ["admin", "ann", "site", None]
    )
    return callers[pick % 4]


async def _send(
    api: Api,
    method: str,
    path: str,
    who: str | None,
    raw: bytes | None,
    content_type: str = "application/json",
) -> int:
    headers = {"Authorization": f"Bearer {api.tokens[who]}"} if who else {}
    if raw is not None:
        headers["Content-Type"] = content_type
    async with api.http.request(
        method.upper(), api.url + path, data=raw, headers=headers
    ) as response:
        text = await response.text()
        assert response.status < 500, (method, path, who, raw and raw[:80], text[:300])
        if response.content_type == "application/json":
            assert set(json.loads(text)) >= {"error", "detail"} or response.status < 400
        return response.status


async def test_fixed_nasty_inputs_on_every_route(api: Api) -> None:
    assert len(ROUTES) > 40
    for method, template in ROUTES:
        for index, value in enumerate(NASTY_TEXT):
            path = _fill(template, value if "{" in template else "1")
            query = f"?limit={_q(value)}&after={_q(value)}&month={_q(value)}&since={_q(value)}"
            raw = NASTY_BODIES[index % len(NASTY_BODIES)] if method != "get" else None
            await _send(api, method, path + query, _who(template, index), raw)
        if method != "get":
            junk = dict.fromkeys(_fields(method, template), "\ud800")
            await _send(
                api, method, _fill(template, "1"), _who(template, 0), json.dumps(junk).encode()
            )


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_junk_on_random_routes_is_never_5xx(api: Api, data: st.DataObject) -> None:
    method, template = data.draw(st.sampled_from(ROUTES))
    ident = data.draw(
        st.one_of(
            st.integers(0, 6).map(str),
            st.sampled_from(NASTY_TEXT),
            st.sampled_from(NASTY_TEXT),
            st.text(min_size=1, max_size=8),
        )
    )
    path = _fill(template, ident)
    query = data.draw(
        st.dictionaries(
            st.sampled_from(["limit", "after", "since", "epoch", "month", "status", "x"]),
            st.one_of(
                st.integers(-5, 10**20).map(str), st.text(max_size=10), st.sampled_from(NASTY_TEXT)
            ),
            max_size=3,
        )
    )
    if query:
        path += "?" + "&".join(f"{k}={_q(v)}" for k, v in query.items())
    raw: bytes | None = None
    kind = "application/json"
    if method != "get":
        fields = _fields(method, template)
        shaped = (
            st.fixed_dictionaries({}, optional=dict.fromkeys(fields, JSONISH))
            if fields
            else JSONISH
        )
        raw = data.draw(
            st.one_of(
                shaped.map(lambda v: json.dumps(v).encode()),
                JSONISH.map(lambda v: json.dumps(v).encode()),
                st.binary(max_size=40),
                st.sampled_from(NASTY_BODIES),
            )
        )
        kind = data.draw(
            st.sampled_from(
                ["application/json"] * 4 + ["text/plain", "application/x-www-form-urlencoded"]
            )
        )
    await _send(api, method, path, _who(template, data.draw(st.integers(0, 3))), raw, kind)


async def test_payment_routes_with_a_provider_set_up(store: Store) -> None:
    """The same nasty inputs on the top-up routes when a provider is set up (the `api` fixture
    has none, so there they stop at 404)."""
    routes = [(m, p) for m, p in ROUTES if "payments" in SPEC["paths"][p][m].get("tags", [])]
    assert len(routes) >= 4
    async with pay_world(store) as world:
        for method, template in routes:
            for index, value in enumerate(NASTY_TEXT):
                ident = value if index % 2 else str(world.account_id)
                path = world.url("/api/v1" + _fill(template, ident))
                raw = NASTY_BODIES[index % len(NASTY_BODIES)] if method != "get" else None
                for kind in ("application/json", "application/x-www-form-urlencoded"):
                    async with world.http.request(
                        method.upper(),
                        path,
                        data=raw,
                        headers={
                            "Authorization": f"Bearer {world.token}",
                            "Content-Type": kind,
                        },
                    ) as response:
                        assert response.status < 500, (method, path, raw, await response.text())
    assert await world.balance() == 0
