"""Shared fixtures: real services on loopback (Mosquitto, PostgreSQL) and free ports."""

# Imported first on purpose: the HA test plugin mounts its own testing_config's
# custom_components package unless ours is already imported ("Cannot find integration eflux").
import custom_components  # noqa: F401, I001

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import MosquittoBroker, broker_or_reason
from tests.support.ports import free_port
from tests.support.postgres import postgres_database


@pytest.fixture
def unused_port() -> Callable[[], int]:
    """Call to get a free loopback TCP port."""
    return free_port


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """One real Mosquitto broker per test session (per xdist worker)."""
    broker = broker_or_reason(tmp_path_factory.mktemp("mosquitto"))
    if isinstance(broker, str):
        pytest.skip(broker)
    yield broker
    broker.stop()


@pytest.fixture
def private_mqtt_broker(tmp_path: Path) -> Iterator[Callable[..., MosquittoBroker]]:
    """Factory for a broker owned by one test (which may restart it or add config)."""
    started: list[MosquittoBroker] = []

    def start(extra_config: str = "") -> MosquittoBroker:
        broker = broker_or_reason(tmp_path, extra_config)
        if isinstance(broker, str):
            pytest.skip(broker)
        if broker.external:
            pytest.skip("this test must restart its broker; only the system broker is available")
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A fresh PostgreSQL database for this session; skips with the reason when none can be had."""
    database = postgres_database()
    try:
        dsn = database.__enter__()
    except RuntimeError as err:
        pytest.skip(f"no PostgreSQL: {err}")
    try:
        yield dsn
    finally:
        database.__exit__(None, None, None)
