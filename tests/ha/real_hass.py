"""A real `hass -c <dir>` process with E-Flux Local, driven over its REST and websocket APIs.

Onboarding makes the owner account and hands back an auth code, which buys an access token;
from there everything goes through the public APIs the frontend uses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "http://127.0.0.1/"

CONFIGURATION = """\
homeassistant:
  name: E-Flux test
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: Europe/Amsterdam
  country: NL
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
websocket_api:
logger:
  default: warning
  logs:
    custom_components.eflux: debug
"""


class HassProcess:
    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._ids = itertools.count(1)

    # ---- lifetime ---------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> None:
        (self.config_dir / "configuration.yaml").write_text(CONFIGURATION.format(port=self.port))
        components = self.config_dir / "custom_components"
        components.mkdir(exist_ok=True)
        shutil.copytree(
            ROOT / "custom_components" / "eflux",
            components / "eflux",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        hass = Path(sys.executable).with_name("hass")
        self._process = subprocess.Popen(
            [str(hass), "-c", str(self.config_dir), "--skip-pip"],
            stdout=(self.config_dir / "hass.out").open("wb"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"hass exited with {self._process.returncode}:\n{self.log()}")
            try:
                status = self.get("/api/onboarding")
            except OSError:
                time.sleep(0.3)
                continue
            if status is not None:
                return
        raise TimeoutError(f"hass did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        self._process = None

    def full_log(self) -> str:
        path = self.config_dir / "hass.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def log(self) -> str:
        path = self.config_dir / "hass.out"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    # ---- HTTP ---------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None, form: bool = False) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body)

    def onboard(self) -> None:
        """Create the owner through onboarding and trade the auth code for a token."""
        answer = self.post(
            "/api/onboarding/users",
            {
                "client_id": CLIENT_ID,
                "name": "Owner",
                "username": "owner",
                "password": "a-long-test-password",
                "language": "en",
            },
        )
        tokens = self._request(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": answer["auth_code"],
                "client_id": CLIENT_ID,
            },
            form=True,
        )
        self.token = tokens["access_token"]

    # ---- what a user does and sees -----------------------------------------------------------
    def eventually(self, check: Callable[[], Any], what: str, wait_s: float = 60) -> Any:
        """`check()`'s first truthy answer, polled; AssertionError with the log after `wait_s`."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if result := check():
                return result
            time.sleep(0.5)
        raise AssertionError(f"{what} within {wait_s} s\n{self.log()}")

    def states(self) -> dict[str, str]:
        [states] = self.ws({"type": "get_states"})
        return {s["entity_id"]: s["state"] for s in states}

    def entry_state(self) -> str:
        [entries] = self.ws({"type": "config_entries/get", "domain": "eflux"})
        return str(entries[0]["state"])

    def make_entry(self, ocpp_port: int) -> str:
        """An E-Flux Local entry through the config flow (new chargers accepted, a 25 A grid,
        no meter, no cloud); its entry id."""
        flow = self.post("/api/config/config_entries/flow", {"handler": "eflux"})
        url = f"/api/config/config_entries/flow/{flow['flow_id']}"
        self.post(url, {"port": ocpp_port, "accept_new_chargers": True})
        self.post(url, {"phases": "3", "fuse_amps": 25, "safety_margin_amps": 2})
        self.post(url, {"next_step_id": "meter_none"})
        flow = self.post(url, {})
        assert flow["type"] == "create_entry", flow
        return str(flow["result"]["entry_id"])

    def options_flow(self, entry_id: str, steps: list[dict[str, Any]]) -> None:
        """The options flow over REST, step by step (no step may show an error), then saved."""
        options = self.post("/api/config/config_entries/options/flow", {"handler": entry_id})
        url = f"/api/config/config_entries/options/flow/{options['flow_id']}"
        for body in steps:
            options = self.post(url, body)
            assert options.get("errors") in (None, {}), options
        assert options["type"] == "create_entry", options

    def problems_of_ours(self, expected: tuple[str, ...]) -> list[str]:
        """Warning and error lines of eflux (or an HTTP handler's traceback) but `expected`;
        HA's own "custom integration not tested" line is not ours."""
        expected = ("has not been tested by Home Assistant", *expected)
        return [
            line
            for line in self.full_log().splitlines()
            if ("WARNING" in line or "ERROR" in line)
            and ("eflux" in line or "Error handling request" in line)
            and not any(text in line for text in expected)
        ]

    # ---- websocket ------------------------------------------------------------------------------
    def ws(self, *commands: dict[str, Any]) -> list[Any]:
        """Send each command on one authenticated connection; their results in order."""
        results = []
        with connect(f"ws://127.0.0.1:{self.port}/api/websocket", open_timeout=30) as socket:
            assert json.loads(socket.recv(30))["type"] == "auth_required"
            socket.send(json.dumps({"type": "auth", "access_token": self.token}))
            assert json.loads(socket.recv(30))["type"] == "auth_ok"
            for command in commands:
                ident = next(self._ids)
                socket.send(json.dumps({**command, "id": ident}))
                while True:
                    message = json.loads(socket.recv(30))
                    if message.get("id") == ident and message["type"] == "result":
                        assert message["success"], message
                        results.append(message["result"])
                        break
        return results


class SimThread:
    """A simulated charge point on its own event loop in a thread (the test itself is sync)."""

    def __init__(
        self,
        url: str,
        cp_id: str,
        version: str = "1.6",
        configuration: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.cp_id = cp_id
        self.version = version
        self.configuration = configuration  # its settings at start (e.g. an AuthorizationKey)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._sim: Any = None

    def start(self) -> None:
        from sim.chargepoint import SimChargePoint

        self._thread.start()

        async def begin() -> None:
            self._sim = SimChargePoint(
                self.url,
                self.cp_id,
                self.version,
                reconnect_delay=0.2,
                vendor="Alfen",
                model="Eve Single Pro",
                firmware="6.4.0",
                meter_interval=3600,
                configuration=self.configuration,
            )
            self._sim.spawn(self._sim.run())

        asyncio.run_coroutine_threadsafe(begin(), self._loop).result(30)

    def run[T](self, work: Callable[[Any], Awaitable[T]]) -> T:
        """`await work(sim)` on the charger's loop (plug in, wait for a call, ...)."""
        return asyncio.run_coroutine_threadsafe(work(self._sim), self._loop).result(60)

    def read[T](self, look: Callable[[Any], T]) -> T:
        """`look(sim)` on the charger's loop (what it was sent, its transaction)."""

        async def read() -> T:
            return look(self._sim)

        return self.run(lambda _sim: read())

    def stop(self) -> None:
        if self._sim is not None:
            asyncio.run_coroutine_threadsafe(self._sim.close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()
