"""Mirror the chargers of an `eflux-local` runner to MQTT, and MQTT `…/set` commands back.

State: `<base>/charger/<id>/state` (the API's charger JSON), one topic per value, an
availability topic, and Home Assistant discovery (sensors, a max-current number, a mode select,
start/stop buttons), all retained. Commands: `<base>/charger/<id>/<command>/set`; each answer
goes to `<base>/charger/<id>/result` (not retained).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping
from typing import Any

import aiohttp

from custom_components.eflux.core.meters.backoff import Backoff, EpisodeLog
from custom_components.eflux.core.meters.mqtt_client import MqttConnection

from .central_api import CentralApi, CentralSettings, StreamError
from .charger_topics import ChargerTopics, charger_values, discovery_messages

_LOGGER = logging.getLogger(__name__)
MAX_COMMAND_BYTES = 1024


class CommandError(ValueError):
    """A `/set` payload that cannot become an API call."""


def command_body(command: str, payload: bytes) -> dict[str, Any]:
    """The API body for an MQTT command payload (plain text or a JSON object)."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise CommandError(f"payload of {len(payload)} bytes exceeds {MAX_COMMAND_BYTES}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as err:
        raise CommandError("payload is not UTF-8") from err
    if text.startswith("{"):
        try:
            body = json.loads(text)
        except json.JSONDecodeError as err:
            raise CommandError(f"malformed JSON: {err}") from err
        if not isinstance(body, dict):
            raise CommandError("expected a JSON object")
        return body
    empty = text.lower() in ("", "none", "null")
    if command == "max_current":
        if empty:
            return {"amps": None}
        try:
            amps = float(text)
        except ValueError as err:
            raise CommandError(f"max_current needs a number of amps, got {text[:40]!r}") from err
        if not math.isfinite(amps):
            raise CommandError("max_current must be a finite number")
        return {"amps": amps}
    if command == "mode":
        return {"mode": None if empty else text}
    if command == "start":
        return {} if empty else {"id_tag": text}
    if command == "stop":
        return {}
    raise CommandError(f"unknown command {command!r} (max_current, mode, start, stop)")


class ChargerMirror:
    def __init__(self, settings: CentralSettings, mqtt: MqttConnection, base_topic: str,
                 discovery_prefix: str) -> None:  # fmt: skip
        self.settings = settings
        self.mqtt = mqtt
        self.topics = ChargerTopics(base_topic, discovery_prefix)
        self.chargers: dict[str, Mapping[str, Any]] = {}
        self.events_seen = 0
        self._published: dict[str, dict[str, str]] = {}
        self._episodes = EpisodeLog(_LOGGER, f"central API {settings.url}")
        self._backoff = Backoff(initial=0.5, maximum=30.0)
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._commands: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.mqtt.subscribe([self.topics.command_filter])
        self._task = asyncio.create_task(self._follow(), name="charger mirror")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._commands) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # -- central -> MQTT --------------------------------------------------------------------
    async def _follow(self) -> None:
        assert self._session is not None
        api = CentralApi(self.settings, self._session)
        while True:
            try:
                async for event in api.events():
                    self._backoff.reset()
                    self._episodes.recovered()
                    self._on_event(event["chargers"])
                self._episodes.problem("closed", "the event stream ended")
            except (aiohttp.ClientError, OSError, TimeoutError, StreamError) as err:
                self._episodes.problem(type(err).__name__, f"event stream failed: {err}")
            self._set_all_offline()
            await asyncio.sleep(self._backoff.next_delay())

    def _on_event(self, chargers: Mapping[str, Any]) -> None:
        self.events_seen += 1
        for charger_id, charger in chargers.items():
            if not isinstance(charger, dict) or not self.topics.usable_id(charger_id):
                continue
            first = charger_id not in self.chargers
            self.chargers[charger_id] = charger
            if first:
                self._publish_discovery(charger_id)
            self._publish_state(charger_id, charger)

    def _publish_state(
        self, charger_id: str, charger: Mapping[str, Any], *, force: bool = False
    ) -> None:
        messages = {self.topics.state(charger_id): json.dumps(charger, sort_keys=True)}
        for key, value in charger_values(charger).items():
            messages[self.topics.value(charger_id, key)] = value
        online = "online" if charger.get("online") else "offline"
        messages[self.topics.availability(charger_id)] = online
        last = self._published.setdefault(charger_id, {})
        for topic, payload in messages.items():
            changed = force or last.get(topic) != payload
            if changed and self.mqtt.publish(topic, payload, retain=True):
                last[topic] = payload

    def _publish_discovery(self, charger_id: str) -> None:
        for topic, payload in discovery_messages(
            self.topics, charger_id, self.chargers[charger_id]
        ):
            self.mqtt.publish(topic, payload, retain=True)

    def _set_all_offline(self) -> None:
        for charger_id in self.chargers:
            self.mqtt.publish(self.topics.availability(charger_id), "offline", retain=True)
            self._published.get(charger_id, {}).pop(self.topics.availability(charger_id), None)

    def republish(self) -> None:
        """After a broker (re)connect: everything retained again."""
        for charger_id, charger in self.chargers.items():
            self._publish_discovery(charger_id)
            self._publish_state(charger_id, charger, force=True)

    # -- MQTT -> central --------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> None:
        parsed = self.topics.parse_command(topic)
        if parsed is None:
            return
        charger_id, command = parsed
        try:
            body = command_body(command, payload)
        except CommandError as err:
            _LOGGER.warning("ignored %s: %s", topic, err)
            self._result(
                charger_id, command, False, 0, {"error": "bad_command", "message": str(err)}
            )
            return
        task = asyncio.create_task(self._send(charger_id, command, body))
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _send(self, charger_id: str, command: str, body: dict[str, Any]) -> None:
        assert self._session is not None
        api = CentralApi(self.settings, self._session)
        try:
            result = await api.command(charger_id, command, body)
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            _LOGGER.warning("%s %s for %s failed: %s", command, body, charger_id, err)
            self._result(
                charger_id, command, False, 0, {"error": "unreachable", "message": str(err)}
            )
            return
        if not result.ok:
            _LOGGER.warning("%s for %s refused: %s", command, charger_id, result.body)
        self._result(charger_id, command, result.ok, result.status, result.body)

    def _result(self, charger_id: str, command: str, ok: bool, status: int, body: Any) -> None:
        answer: dict[str, Any] = {"command": command, "ok": ok, "status": status}
        if not ok and isinstance(body, dict):
            answer["error"] = body.get("error")
            answer["message"] = body.get("message")
        elif isinstance(body, dict) and "status" in body:
            answer["answer"] = body["status"]
        self.mqtt.publish(self.topics.result(charger_id), json.dumps(answer), qos=1)
