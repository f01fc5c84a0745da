"""site.yaml `central:` security settings (OCPP security profiles 1-3) and who may boot, for
`parse._central`.

    central:
      boot_policy: pending          # accept_all | accept_listed (default) | pending
      max_pending_chargers: 50      # pending: new chargers waiting at once; more are Rejected
      passwords: {CP-1: "…16 to 40 characters…"}   # profile 1 (basic auth), per charge point
      require_password: true        # refuse charge points without a password
      tls_cert: certs/server.pem    # profile 2: wss with this chain and key (files next to
      tls_key: certs/server.key     #   site.yaml when relative)
      tls_client_ca: certs/ca.pem   # profile 3: client certificates from this CA (CN = the id)
      require_client_certificate: false

Files are checked here (present, readable, a key that fits the chain) so that a mistake is a
configuration error naming the key, not a failure when the site starts.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..central.admission import ACCEPT_ALL, BOOT_POLICIES
from ..central.credentials import password_problem
from ..errors import ConfigError
from .reader import Section

PASSWORDS = "passwords"


def parse_security(sec: Section, base_dir: Path) -> dict[str, Any]:
    """The security fields of `CentralConfig` from the `central:` section."""
    passwords = _passwords(sec)
    cert = _file(sec, "tls_cert", base_dir)
    key = _file(sec, "tls_key", base_dir)
    client_ca = _file(sec, "tls_client_ca", base_dir)
    if (cert is None) != (key is None):
        missing = "tls_key" if key is None else "tls_cert"
        raise ConfigError(sec.path(missing), "tls_cert and tls_key go together")
    if client_ca is not None and cert is None:
        raise ConfigError(
            sec.path("tls_client_ca"), "needs tls_cert and tls_key (profile 3 is TLS)"
        )
    require_certificate = sec.flag("require_client_certificate", False)
    if require_certificate and client_ca is None:
        raise ConfigError(sec.path("require_client_certificate"), "needs tls_client_ca")
    if cert is not None and key is not None:
        _check_tls(sec, cert, key, client_ca)
    return {
        **_admission(sec),
        "passwords": passwords,
        "require_password": sec.flag("require_password", False),
        "tls_cert": cert,
        "tls_key": key,
        "tls_client_ca": client_ca,
        "require_client_certificate": require_certificate,
    }


def _admission(sec: Section) -> dict[str, Any]:
    """`boot_policy` (accept_all, accept_listed, pending), or the older `accept_new_chargers`;
    `max_pending_chargers`."""
    accept_new = sec.flag("accept_new_chargers", None)
    policy = sec.text("boot_policy", None)
    most = sec.integer("max_pending_chargers", None, low=1)
    if most is not None:
        return {**_admission_policy(sec, accept_new, policy), "max_pending_chargers": most}
    return _admission_policy(sec, accept_new, policy)


def _admission_policy(sec: Section, accept_new: bool | None, policy: str | None) -> dict[str, Any]:
    if policy is None:
        return {"accept_new_chargers": bool(accept_new), "boot_policy": ""}
    if policy not in BOOT_POLICIES:
        raise ConfigError(
            sec.path("boot_policy"), f"must be one of {', '.join(BOOT_POLICIES)}, got {policy!r}"
        )
    if accept_new is not None and accept_new != (policy == ACCEPT_ALL):
        raise ConfigError(sec.path("accept_new_chargers"), f"contradicts boot_policy {policy}")
    return {"accept_new_chargers": policy == ACCEPT_ALL, "boot_policy": policy}


def _passwords(sec: Section) -> dict[str, str]:
    raw = sec.raw(PASSWORDS, {})
    if not isinstance(raw, dict):
        raise ConfigError(sec.path(PASSWORDS), "must map charge point ids to passwords")
    passwords = {}
    for cp_id, password in raw.items():
        key = f"{sec.path(PASSWORDS)}.{cp_id}"
        if not isinstance(password, str):
            raise ConfigError(key, "must be text (quote it in YAML)")
        problem = password_problem(password)
        if problem is not None:
            raise ConfigError(key, problem)
        passwords[str(cp_id)] = password
    return passwords


def _file(sec: Section, name: str, base_dir: Path) -> Path | None:
    text = sec.text(name, None)
    if text is None:
        return None
    path = base_dir / str(text)
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as err:
        raise ConfigError(sec.path(name), f"cannot read {path}: {err.strerror or err}") from err
    return path


@dataclass(frozen=True, slots=True)
class TlsProblem:
    """What is wrong with a server certificate and key: `field` is the setting to fix
    (tls_cert or tls_key), `kind` "unreadable" (missing, a directory, no permission) or
    "mismatch" (not PEM, or a key that does not belong to the certificate)."""

    field: Literal["tls_cert", "tls_key"]
    kind: Literal["unreadable", "mismatch"]
    detail: str


def tls_pair_problem(cert: Path, key: Path) -> TlsProblem | None:
    """None when `cert` and `key` load as a server certificate chain with its key (what the
    central system will do at start); blocking file I/O."""
    files: tuple[tuple[Literal["tls_cert", "tls_key"], Path], ...] = (
        ("tls_cert", cert),
        ("tls_key", key),
    )
    for field, path in files:
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError as err:
            return TlsProblem(field, "unreadable", f"cannot read {path}: {err.strerror or err}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as err:
        return TlsProblem("tls_cert", "mismatch", f"certificate and key do not load: {err}")
    return None


def masked_password(password: str | None) -> str:
    """A stored password as a form may show it: its length and last two characters only."""
    if not password:
        return ""
    return f"{'•' * 6}{password[-2:]} ({len(password)})"


def _check_tls(sec: Section, cert: Path, key: Path, client_ca: Path | None) -> None:
    problem = tls_pair_problem(cert, key)
    if problem is not None:
        raise ConfigError(sec.path(problem.field), problem.detail)
    if client_ca is not None:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_verify_locations(cafile=str(client_ca))
        except ssl.SSLError as err:
            raise ConfigError(sec.path("tls_client_ca"), f"not a PEM CA bundle: {err}") from err
