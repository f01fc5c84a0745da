"""`eflux-local` with a cloud account (site.yaml `cloud:`): what the file accepts, and the
runner syncing with a real back end on loopback, so that the console's report has the cloud's
word on guest usage (issue 17: a building manager runs eflux-local, not Home Assistant)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.eflux.core.config import ConfigError, parse_site_config
from custom_components.eflux.core.runner.main import run

from .server import site_yaml
from .test_credit_note import association_cloud

pytestmark = pytest.mark.timeout(120)


def with_cloud(tmp_path: Path, **cloud: Any) -> dict[str, Any]:
    data = site_yaml(tmp_path)
    data["cloud"] = cloud
    return data


@pytest.mark.parametrize(
    ("cloud", "key", "words"),
    [
        ({"url": "http://cloud.example", "token": "t"}, "cloud.url", "https"),
        ({"url": "ftp://cloud.example", "token": "t"}, "cloud.url", "http(s) URL"),
        ({"url": "https://cloud.example"}, "cloud.token", "either token or token_file"),
        (
            {"url": "https://cloud.example", "token": "t", "token_file": "cloud-token"},
            "cloud.token",
            "either",
        ),
        ({"url": "https://cloud.example", "token_file": "missing"}, "cloud.token_file", "read"),
        ({"url": "https://cloud.example", "token": "t", "tokn": "x"}, "cloud.tokn", ""),
    ],
)
def test_site_yaml_refuses_a_cloud_it_cannot_use(
    tmp_path: Path, cloud: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_site_config(with_cloud(tmp_path, **cloud), base_dir=tmp_path)
    assert raised.value.key == key
    assert words in str(raised.value)


def test_the_token_file_is_read_next_to_site_yaml(tmp_path: Path) -> None:
    (tmp_path / "cloud-token").write_text("site-token-123\n")
    data = with_cloud(tmp_path, url="https://cloud.example", token_file="cloud-token")
    config = parse_site_config(data, base_dir=tmp_path)
    assert config.cloud is not None
    assert config.cloud.token == "site-token-123"
    assert "site-token-123" not in repr(config.cloud)
    assert parse_site_config(site_yaml(tmp_path), base_dir=tmp_path).cloud is None


async def test_the_runner_syncs_and_the_report_has_the_clouds_word(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    cloud, token = await association_cloud(tmp_path, unused_port())
    (tmp_path / "cloud-token").write_text(token)
    data = with_cloud(tmp_path, url=cloud.url, token_file="cloud-token")
    port = unused_port()
    data["api"] = {"host": "127.0.0.1", "port": port}
    config = parse_site_config(data, base_dir=tmp_path)
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))
    try:
        async with aiohttp.ClientSession() as http:
            report: dict[str, Any] = {}
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while report.get("credit_note") is None:
                assert not running.done(), running.exception()
                assert loop.time() < deadline, f"no word from the cloud: {report}"
                await asyncio.sleep(0.1)
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    url = f"http://127.0.0.1:{port}/api/reports/monthly?month=2026-12"
                    async with http.get(url) as answer:
                        report = await answer.json()
            # The cloud's card list reached the site too (the association's own card).
            async with http.get(f"http://127.0.0.1:{port}/api/cards") as answer:
                cards = (await answer.json())["cards"]
        assert {"uid": "VVE-01", "source": "cloud"}.items() <= next(
            c for c in cards if c["uid"] == "VVE-01"
        ).items()
        assert report["credit_note"] == {
            "expected": "0.00",
            "guest_sessions": 0,
            "energy_kwh": "0.000",
            "payout_from": "2027-02-15",
        }
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await cloud.down()
        await cloud.store.close()
