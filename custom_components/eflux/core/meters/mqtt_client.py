"""A paho-mqtt client driven from its own thread and handing events to the asyncio loop.

paho's network calls block (connect, TLS handshake), so they run in one worker thread per
connection; every callback is forwarded with `call_soon_threadsafe`, so user code only ever runs
on the event loop. Reconnects use our own exponential backoff with jitter (paho's has none).
MQTT 3.1.1 or 5, username/password, TLS, a last will; subscriptions are renewed on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .backoff import Backoff, EpisodeLog
from .config import BrokerSettings

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: str
    retain: bool = True
    qos: int = 1


class MqttConnection:
    """Call `start()` once, `stop()` at the end; `on_message(topic, payload)` and
    `on_connect()` run on the event loop.
    """

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        name: str,
        on_message: Callable[[str, bytes], None] | None = None,
        on_connect: Callable[[], None] | None = None,
        will: Will | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.name = name
        self._on_message = on_message
        self._on_connect = on_connect
        self._will = will
        self._backoff = backoff or Backoff(initial=0.5, maximum=30.0)
        self._episodes = EpisodeLog(_LOGGER, f"{name} (MQTT {settings.host}:{settings.port})")
        self._topics: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: mqtt.Client | None = None
        self.connected = asyncio.Event()
        self._refused = False
        # the SUBSCRIBE sent on connect (message id, topics), until its SUBACK
        self._pending_subscribe: tuple[int, list[str]] | None = None
        self.connections = 0  # successful CONNACKs so far (tests wait for a reconnect with it)

    # -- public, called on the event loop --------------------------------------------------
    async def start(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._client = await asyncio.to_thread(self._build)
        self._thread = threading.Thread(target=self._thread_main, name=f"mqtt {self.name}",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, 10)
        self.connected.clear()

    def subscribe(self, topics: Iterable[str]) -> None:
        new = set(topics)
        with self._lock:
            self._topics |= new
        client = self._client
        if client is not None and client.is_connected():
            for topic in sorted(new):
                client.subscribe(topic, qos=0)

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> bool:
        """Queue a message; False when not connected (the caller republishes on reconnect)."""
        client = self._client
        if client is None or not client.is_connected():
            return False
        info = client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    # -- worker thread ---------------------------------------------------------------------
    def _build(self) -> mqtt.Client:
        s = self.settings
        protocol = mqtt.MQTTv5 if s.protocol == "5" else mqtt.MQTTv311
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id or f"eflux-{self.name}-{uuid.uuid4().hex[:8]}",
            protocol=protocol,
        )
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls is not None:
            client.tls_set(
                ca_certs=s.tls.ca_file,
                certfile=s.tls.certfile,
                keyfile=s.tls.keyfile,
                cert_reqs=ssl.CERT_NONE if s.tls.insecure else ssl.CERT_REQUIRED,
            )
            client.tls_insecure_set(s.tls.insecure)
        if self._will is not None:
            w = self._will
            client.will_set(w.topic, w.payload, qos=w.qos, retain=w.retain)
        client.on_connect = self._handle_connect
        client.on_message = self._handle_message
        client.on_subscribe = self._handle_subscribe
        return client

    def _thread_main(self) -> None:
        client = self._client
        assert client is not None
        first = True
        while not self._stop.is_set():
            try:
                if first:
                    client.connect(
                        self.settings.host, self.settings.port, self.settings.keepalive_s
                    )
                    first = False
                else:
                    client.reconnect()
            except (OSError, ssl.SSLError, ValueError) as err:
                self._episodes.problem("connect", f"cannot connect: {err}")
                self._stop.wait(self._backoff.next_delay())
                continue
            self._refused = False
            while not self._stop.is_set():
                rc = client.loop(timeout=0.2)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    if not self._refused:  # a refusal was logged as such already
                        lost = f"connection lost: {mqtt.error_string(rc)}"
                        self._episodes.problem("connection", lost)
                    break
            self._set_connected(False)
            if not self._stop.is_set():
                self._stop.wait(self._backoff.next_delay())
        self._close(client)

    def _close(self, client: mqtt.Client) -> None:
        if client.is_connected():
            client.disconnect()
            for _ in range(10):  # flush the DISCONNECT (and queued last words) before leaving
                if client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                    break
        self._set_connected(False)

    def _handle_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self._refused = True
            self._episodes.problem("refused", f"broker refused the connection: {reason}")
            return
        self._episodes.recovered()
        self._backoff.reset()
        with self._lock:
            topics = sorted(self._topics)
        if not topics:
            self._set_connected(True)
            return
        # "connected" means ready to receive: it waits for the SUBACK, or a message published
        # right after would be missed by a broker that has not filed the subscription yet
        rc, mid = client.subscribe([(topic, 0) for topic in topics])
        if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
            self._set_connected(True)  # the connection dropped already; the loop notices it
            return
        with self._lock:
            self._pending_subscribe = (mid, topics)

    def _handle_subscribe(
        self, _client: mqtt.Client, _userdata: Any, mid: int, reasons: Any, _props: Any
    ) -> None:
        with self._lock:
            pending = self._pending_subscribe
            if pending is None or mid != pending[0]:
                return  # a later subscribe() of new topics, not the one after CONNACK
            self._pending_subscribe = None
        for topic, reason in zip(pending[1], reasons, strict=False):
            if getattr(reason, "is_failure", False):
                _LOGGER.warning("%s: the broker refused the subscription to %s: %s",
                                self.name, topic, reason)  # fmt: skip
        self._set_connected(True)

    def _handle_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self._on_message is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_message, msg.topic, bytes(msg.payload))

    def _set_connected(self, up: bool) -> None:
        loop = self._loop
        if loop is None:
            return
        # RuntimeError: the loop closed while this thread was finishing
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._connected_changed, up)

    def _connected_changed(self, up: bool) -> None:
        if not up:
            self.connected.clear()
            return
        self.connections += 1
        self.connected.set()
        if self._on_connect is not None:
            try:
                self._on_connect()
            except Exception:
                _LOGGER.exception("%s: on_connect hook failed", self.name)
