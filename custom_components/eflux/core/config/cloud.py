"""site.yaml `cloud:`: the E-Flux cloud account of a site run by `eflux-local`.

cloud:
  url: https://cloud.e-flux.example     # the back end (…/api/v1 may be given or not)
  token_file: cloud-token               # the site token, in a file next to site.yaml (0600)
  # token: "…"                          # or inline (the file keeps it out of site.yaml)

With it the runner syncs as Home Assistant's integration does (core/cloud: sessions up; cards,
the site config and departures down; the cloud answers for cards the local list does not
know). A token over plain HTTP is refused except to a loopback address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ConfigError
from .reader import Section


@dataclass(frozen=True, slots=True)
class CloudSettings:
    url: str
    token: str = field(repr=False)


def parse_cloud(sec: Section, base_dir: Path) -> CloudSettings | None:
    if not sec.data:
        return None
    url = sec.text("url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(sec.path("url"), f"must be an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ConfigError(sec.path("url"), "must be https (the site token would travel in clear)")
    inline, file_name = sec.text("token", None), sec.text("token_file", None)
    if (inline is None) == (file_name is None):
        raise ConfigError(sec.path("token"), "give either token or token_file")
    if file_name is not None:
        path = base_dir / file_name
        try:
            inline = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(sec.path("token_file"), f"cannot read {path}: {err}") from None
        if not inline:
            raise ConfigError(sec.path("token_file"), f"{path} is empty")
    sec.done()
    return CloudSettings(url=url, token=str(inline))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
