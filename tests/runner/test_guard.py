"""The local API refuses cross-site requests (runner/guard.py): a real site, a charging sim
charger, the API on a real loopback socket without a token (the default), and a headless
Chromium on another origin trying what a hostile web page can."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner.guard import host_allowed, split_host
from sim.chargepoint import SimChargePoint
from tests.central.support import eventually
from tests.runner.support import Api, serving

CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
STOP = "/api/chargers/garage/stop"


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": "GUARD-CP"}],
            "api": {"host": "127.0.0.1", "allowed_hosts": ["eflux.lan"]},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


@pytest_asyncio.fixture
async def charging(api: Api) -> AsyncIterator[SimChargePoint]:
    """A sim charger with a car charging in a transaction."""
    sim = SimChargePoint(
        f"ws://127.0.0.1:{api.site.central.port}", "GUARD-CP", reconnect_delay=0.05
    )
    await sim.start()
    await sim.plug_in("CARD-1")
    await eventually(lambda: bool(api.site.central.open_transactions("GUARD-CP")))
    yield sim
    await sim.close()


async def _raw(api: Api, method: str, path: str, headers: dict[str, str], data: Any = None) -> Any:
    async with api.http.request(method, api.base + path, headers=headers, data=data) as r:
        body = await r.json() if r.content_type == "application/json" else None
        return r.status, body, r.headers


def _still_charging(api: Api, sim: SimChargePoint) -> None:
    assert not sim.calls("RemoteStopTransaction")
    assert api.site.central.open_transactions("GUARD-CP")


@pytest.mark.parametrize(
    ("headers", "data", "status", "code"),
    [
        ({"Content-Type": "text/plain"}, "{}", 415, "unsupported_media_type"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "a=1", 415, None),
        ({"Content-Type": "multipart/form-data; boundary=x"}, "--x--", 415, None),
        ({}, None, 415, "unsupported_media_type"),  # an empty simple POST has no type at all
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, "{}", 403, None),
        ({"Content-Type": "application/json", "Origin": "null"}, "{}", 403, "cross_origin"),
        ({"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"}, "{}", 403, None),
        ({"Content-Type": "application/json", "Host": "rebind.example:8088"}, "{}", 403, None),
        ({"Content-Type": "application/json", "Host": "localhost.evil.com"}, "{}", 403, None),
        ({"Content-Type": "application/json", "Host": "user@127.0.0.1"}, "{}", 403, None),
    ],
)
async def test_cross_site_shaped_commands_are_refused_and_change_nothing(
    api: Api,
    charging: SimChargePoint,
    headers: dict[str, str],
    data: str | None,
    status: int,
    code: str | None,
) -> None:
    got, body, answer_headers = await _raw(api, "POST", STOP, headers, data)
    assert got == status
    if code is not None:
        assert body["error"] == code
    assert body["message"]
    assert "Access-Control-Allow-Origin" not in answer_headers
    _still_charging(api, charging)


async def test_same_origin_json_and_configured_hosts_are_obeyed(
    api: Api, charging: SimChargePoint
) -> None:
    port = api.base.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"eflux.lan:{port}", f"[::1]:{port}"):
        got, body, _ = await _raw(api, "GET", "/api/site", {"Host": host})
        assert got == 200, (host, body)
    own = {"Content-Type": "application/json; charset=utf-8", "Origin": api.base}
    got, body, _ = await _raw(api, "POST", "/api/chargers/garage/mode", own, '{"mode": "pv"}')
    assert (got, body["mode"]) == (200, "pv")
    got, body, _ = await _raw(api, "POST", STOP, {"Content-Type": "application/json"})
    assert (got, body) == (200, {"status": "Accepted"})
    await charging.wait_for_call("RemoteStopTransaction")


async def test_options_answers_the_methods_and_never_grants_cors(api: Api) -> None:
    got, _, headers = await _raw(api, "OPTIONS", "/api/chargers/garage/departure", {})
    assert got == 204
    assert set(headers["Allow"].split(", ")) == {"PUT", "DELETE", "OPTIONS"}
    assert "Access-Control-Allow-Origin" not in headers
    got, _, headers = await _raw(api, "OPTIONS", "/api/site", {})
    assert (got, headers["Allow"]) == (204, "GET, HEAD, OPTIONS")
    preflight = {
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    got, body, headers = await _raw(api, "OPTIONS", STOP, preflight)
    assert (got, body["error"]) == (403, "cross_origin")
    assert not [h for h in headers if h.lower().startswith("access-control-")]
    got, body, _ = await _raw(api, "OPTIONS", "/api/nothing", {})
    assert (got, body["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("localhost:8088", True),
        ("LOCALHOST.", True),
        ("app.localhost", True),
        ("127.0.0.1:8088", True),
        ("[::1]:8088", True),
        ("192.168.1.20", True),
        ("eflux.lan", True),
        ("localhost.attacker.com", False),
        ("127.0.0.1.nip.io", False),
        ("evil.example:8088", False),
    ],
)
def test_host_names(value: str, allowed: bool) -> None:
    parsed = split_host(value)
    assert parsed is not None
    assert host_allowed(parsed[0], ["eflux.lan"]) is allowed


async def test_a_real_browser_on_another_origin_cannot_stop_a_charger(
    api: Api,
    charging: SimChargePoint,
    unused_port: Callable[[], int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.async_api import async_playwright

    caplog.set_level(logging.INFO, "aiohttp.access")  # what reached the API, and its answer
    target = api.base + STOP
    evil_port = unused_port()
    evil = web.Application()
    evil.router.add_get("/", _evil_page)
    runner = web.AppRunner(evil)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", evil_port).start()
    api_port = api.base.rsplit(":", 1)[1]
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--host-resolver-rules=MAP rebind.test 127.0.0.1", "--no-proxy-server"],
            )
            try:
                page = await browser.new_page()
                # 1. a page on another origin: a simple text/plain fetch and a form POST
                await page.goto(f"http://127.0.0.1:{evil_port}/")
                await page.evaluate("target => simplePost(target)", target)
                async with page.expect_navigation():
                    await page.evaluate("target => formPost(target)", target)
                # 2. DNS rebinding: the attacker's name now resolves to the API, so the page is
                # same-origin with it and may send JSON without a preflight.
                await page.goto(f"http://rebind.test:{api_port}/api/site")
                status = await page.evaluate(
                    """async path => (await fetch(path, {method: 'POST',
                        headers: {'Content-Type': 'application/json'}, body: '{}'})).status""",
                    STOP,
                )
                assert status == 403
            finally:
                await browser.close()
    finally:
        await runner.cleanup()
    posts = [
        r.getMessage()
        for r in caplog.records
        if r.name == "aiohttp.access" and f'"POST {STOP} ' in r.getMessage()
    ]
    from_evil = [line for line in posts if f"127.0.0.1:{evil_port}/" in line]
    rebound = [line for line in posts if "rebind.test" in line]
    # every attempt reached the API (fetch and form, then the rebound fetch) and was refused
    assert (len(from_evil), len(rebound), len(posts)) == (2, 1, 3), posts
    assert all(re.search(r'" (403|415) ', line) for line in posts), posts
    _still_charging(api, charging)


async def _evil_page(_request: web.Request) -> web.Response:
    return web.Response(text=_EVIL_PAGE, content_type="text/html")


_EVIL_PAGE = """<!doctype html><html><body>
<form id="f" method="POST" enctype="text/plain"><input name='{"a":"' value='1"}'></form>
<script>
async function simplePost(target) {
  try { await fetch(target, {method: 'POST', mode: 'no-cors',
        headers: {'Content-Type': 'text/plain'}, body: '{}'}); } catch (e) {}
}
function formPost(target) { const f = document.getElementById('f'); f.action = target; f.submit(); }
</script></body></html>"""
