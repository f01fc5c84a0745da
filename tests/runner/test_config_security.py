"""site.yaml `central:` security settings (config/security.py) and `--generate-password`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.eflux.core.central.credentials import password_problem
from custom_components.eflux.core.config import ConfigError, load_site_config
from tests.central.test_server import _self_signed

PASSWORD = "A-good-Password-123"


def _site(tmp_path: Path, central: dict[str, Any]) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "central": central,
                "circuits": [{"id": "grid", "limit_a": 25}],
                "chargers": [{"id": "CP-1", "circuit": "grid"}],
            }
        )
    )
    return path


def test_profiles_1_to_3_are_read_with_paths_next_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    cert, key = _self_signed(tmp_path / "certs")
    config = load_site_config(
        _site(
            tmp_path,
            {
                "passwords": {"CP-1": PASSWORD},
                "require_password": True,
                "tls_cert": "certs/cert.pem",
                "tls_key": "certs/key.pem",
                "tls_client_ca": "certs/cert.pem",
                "require_client_certificate": True,
            },
        )
    ).central
    assert dict(config.passwords) == {"CP-1": PASSWORD}
    assert config.require_password
    assert (config.tls_cert, config.tls_key, config.tls_client_ca) == (cert, key, cert)
    assert config.require_client_certificate
    plain = load_site_config(_site(tmp_path, {})).central
    assert (dict(plain.passwords), plain.require_password, plain.tls_cert) == ({}, False, None)


@pytest.mark.parametrize(
    ("central", "key", "reason"),
    [
        ({"passwords": ["CP-1"]}, "central.passwords", "must map charge point ids"),
        ({"passwords": {"CP-1": "short"}}, "central.passwords.CP-1", "16 to 40 characters"),
        ({"passwords": {"CP-1": 1234567890123456789}}, "central.passwords.CP-1", "must be text"),
        ({"passwords": {"CP-1": "with spaces in it ok?"}}, "central.passwords.CP-1", "spaces"),
        ({"tls_cert": "certs/cert.pem"}, "central.tls_key", "go together"),
        ({"tls_cert": "nope.pem", "tls_key": "certs/key.pem"}, "central.tls_cert", "cannot read"),
        (
            {"tls_cert": "certs/cert.pem", "tls_key": "certs/other.pem"},
            "central.tls_cert",
            "do not load",
        ),
        ({"tls_client_ca": "certs/cert.pem"}, "central.tls_client_ca", "needs tls_cert"),
        ({"require_client_certificate": True}, "central.require_client_certificate", "needs"),
        ({"require_pasword": True}, "central.require_pasword", "did you mean"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, central: dict[str, Any], key: str, reason: str) -> None:
    (tmp_path / "certs").mkdir()
    _self_signed(tmp_path / "certs")
    other = tmp_path / "other"
    other.mkdir()
    _, other_key = _self_signed(other)
    (tmp_path / "certs" / "other.pem").write_bytes(other_key.read_bytes())
    with pytest.raises(ConfigError) as caught:
        load_site_config(_site(tmp_path, central))
    assert key in caught.value.key
    assert reason in caught.value.reason


def test_the_pending_list_cap_is_read(tmp_path: Path) -> None:
    config = load_site_config(
        _site(tmp_path, {"boot_policy": "pending", "max_pending_chargers": 5})
    ).central
    assert (config.boot_policy, config.max_pending_chargers) == ("pending", 5)
    assert load_site_config(_site(tmp_path, {})).central.max_pending_chargers == 50
    for wrong in (0, "many", True):
        with pytest.raises(ConfigError) as caught:
            load_site_config(_site(tmp_path, {"max_pending_chargers": wrong}))
        assert caught.value.key == "central.max_pending_chargers"


def test_generate_password_prints_a_site_yaml_entry() -> None:
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "custom_components.eflux.core.runner",
            "--generate-password",
            "CP-1",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    entry = yaml.safe_load(printed)
    assert list(entry) == ["CP-1"]
    assert password_problem(entry["CP-1"]) is None
    assert len(entry["CP-1"]) == 32
