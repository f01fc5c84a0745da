"""Access to the console and the session APIs without a browser: the login's rate limit and
cookies, hostile queries, the token beside the console, and what site.yaml and
`eflux-local --set-password` accept (issue 17)."""

from __future__ import annotations

import io
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from custom_components.eflux.core.config import ConfigError, load_site_config, parse_site_config
from custom_components.eflux.core.runner.console.hashing import hash_password, verify_password
from custom_components.eflux.core.runner.console.setpassword import run_set_password
from tests.runner.support import TOKEN, Api, serving

from .forms import login
from .server import MANAGER_PASSWORD, site_yaml


def config_data(tmp_path: Path, **api: Any) -> dict[str, Any]:
    data = site_yaml(tmp_path)
    data["api"] = {"host": "127.0.0.1", **api}
    return data


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(config_data(tmp_path, token=TOKEN), base_dir=tmp_path)
    async with serving(config, unused_port()) as served:
        yield served


async def test_login_sets_a_strict_http_only_cookie(api: Api) -> None:
    response = await login(api, "manager", MANAGER_PASSWORD)
    assert response.status == 303
    assert response.headers["Location"] == "/console/site"
    cookie = next(
        v for v in response.headers.getall("Set-Cookie") if v.startswith("eflux_console=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS it is set
    session = response.cookies["eflux_console"].value
    async with api.http.get(
        f"{api.base}/console/site", headers={"Cookie": f"eflux_console={session}"}
    ) as page:
        assert page.status == 200
        assert "Content-Security-Policy" in page.headers
        html = await page.text()
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    # Logging out ends the session on the server, not only in the browser.
    async with api.http.post(
        f"{api.base}/console/logout",
        data={"csrf": csrf},
        headers={"Cookie": f"eflux_console={session}"},
        allow_redirects=False,
    ) as out:
        assert out.status == 303
    async with api.http.get(
        f"{api.base}/console/site",
        headers={"Cookie": f"eflux_console={session}"},
        allow_redirects=False,
    ) as page:
        assert page.status == 303
        assert page.headers["Location"] == "/console/login"


async def test_login_refuses_a_missing_token_and_wrong_users_alike(api: Api) -> None:
    assert (await login(api, "manager", MANAGER_PASSWORD, csrf=None)).status == 403
    assert (await login(api, "manager", MANAGER_PASSWORD, csrf="other")).status == 403
    wrong = await login(api, "manager", "not-the-password")
    unknown = await login(api, "nobody", "not-the-password")
    no_login = await login(api, "<script>alert(1)</script>", "x")  # a card without a login
    assert wrong.status == unknown.status == no_login.status == 401
    assert "<script>alert(1)</script>" not in await no_login.text()


async def test_failed_logins_are_rate_limited(api: Api) -> None:
    for _ in range(5):
        assert (await login(api, "manager", "wrong-password")).status == 401
    limited = await login(api, "manager", MANAGER_PASSWORD)  # even the right one now
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "eflux_console" not in limited.cookies
    # Residents from the same address wait too.
    assert (await login(api, "CARD-ANN", "ann-secret-123")).status == 429


async def test_the_token_guards_the_api_but_not_the_console_login(api: Api) -> None:
    async with api.http.get(f"{api.base}/api/sessions") as response:
        assert response.status == 401
    status, body = await api.call("GET", "/api/sessions")
    assert status == 200
    assert body["sessions"] == []
    async with api.http.get(f"{api.base}/console/login") as response:
        assert response.status == 200


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-13",
        "month=../../etc",
        "from=yesterday",
        "from=2026-12-01T00:00:00",  # no offset
        "from=2026-12-10&to=2026-12-01",
        "charger=" + "x" * 65,
        "from=" + "9" * 50,
    ],
)
async def test_bad_session_queries_are_400(api: Api, query: str) -> None:
    status, body = await api.call("GET", f"/api/sessions?{query}")
    assert status == 400
    assert body["error"] == "bad_request"


@pytest.mark.parametrize("month", ["", "2026-1", "2026-00", "december"])
async def test_bad_report_months_are_400(api: Api, month: str) -> None:
    status, body = await api.call("GET", f"/api/reports/monthly?month={month}")
    assert status == 400
    assert "YYYY-MM" in body["message"]


def test_no_console_password_on_another_address_refuses_to_start(tmp_path: Path) -> None:
    data = config_data(tmp_path, host="0.0.0.0", token=TOKEN)
    del data["console"]
    with pytest.raises(ConfigError, match=r"console\.password") as err:
        parse_site_config(data, base_dir=tmp_path)
    assert "--set-password" in str(err.value)
    data["console"] = {"enabled": False}  # without the console the token alone is enough
    parse_site_config(data, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("where", "key"),
    [
        (lambda d: d["console"].update(password="plain-text-password"), "console.password"),
        (
            lambda d: d["central"]["cards"][0].update(console_password="hunter2-plain"),
            "central.cards[0].console_password",
        ),
        (lambda d: d["central"]["cards"][1].update(resident=""), "central.cards[1].resident"),
    ],
)
def test_a_plain_password_in_the_file_is_refused(
    tmp_path: Path, where: Callable[[dict[str, Any]], None], key: str
) -> None:
    data = config_data(tmp_path)
    where(data)
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        parse_site_config(data, base_dir=tmp_path)


def test_set_password_writes_a_hash_beside_the_file(tmp_path: Path) -> None:
    data = config_data(tmp_path, host="0.0.0.0", token=TOKEN)
    del data["console"]
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError):
        load_site_config(path)
    assert run_set_password(str(path), io.StringIO("short\n")) == 2  # too short: nothing written
    assert not (tmp_path / "console-password").exists()
    assert run_set_password(str(path), io.StringIO("a-long-new-password\n")) == 0
    side = tmp_path / "console-password"
    stored = side.read_text().strip()
    assert "a-long-new-password" not in stored
    assert stat.S_IMODE(side.stat().st_mode) == 0o600
    assert verify_password("a-long-new-password", stored)
    assert not verify_password("a-long-new-passwore", stored)
    config = load_site_config(path)
    assert config.console.password_hash == stored


def test_hashes_are_salted() -> None:
    first, second = hash_password("same-password"), hash_password("same-password")
    assert first != second
    assert verify_password("same-password", first)
    assert verify_password("same-password", second)
    assert not verify_password("same-password", "scrypt$garbage")


async def test_secure_cookies_behind_a_tls_proxy(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    data = config_data(tmp_path)
    data["console"]["secure_cookies"] = True
    config = parse_site_config(data, base_dir=tmp_path)
    async with serving(config, unused_port()) as served:
        async with served.http.get(f"{served.base}/console/login") as page:
            assert "Secure" in page.headers["Set-Cookie"]
        response = await login(served, "manager", MANAGER_PASSWORD)
        cookie = next(
            v for v in response.headers.getall("Set-Cookie") if v.startswith("eflux_console=")
        )
        assert "Secure" in cookie
