"""Who we are on the OCPI network, and the modules we offer."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "2.2.1"
_PARTY = re.compile(r"^([A-Z]{2})[-*]?([A-Z0-9]{3})$")

# (module identifier, the role we play in it): eMSP receives CDRs and Sessions, sends Tokens
# and Commands (their results come back to us); CPO sends Locations, Tariffs, Sessions and CDRs
# and receives Tokens and Commands (OCPI 2.2.1 §6 InterfaceRole).
MODULES: tuple[tuple[str, str], ...] = (
    ("credentials", "SENDER"),
    ("cdrs", "RECEIVER"),
    ("tokens", "RECEIVER"),
    ("locations", "SENDER"),
    ("tariffs", "SENDER"),
    ("sessions", "SENDER"),
    ("sessions", "RECEIVER"),
    ("commands", "RECEIVER"),
    ("commands", "SENDER"),
)


@dataclass(frozen=True, slots=True)
class OcpiSettings:
    country_code: str  # ISO 3166-1 alpha-2
    party_id: str  # 3 characters, ours with the country code
    name: str
    base_url: str  # where /ocpi is reached from the other party, no trailing slash
    sync_interval_s: float = 60.0  # push tokens and send CDRs this often; 0: only when asked

    @classmethod
    def parse(
        cls, party: str, name: str, base_url: str, sync_interval_s: float = 60.0
    ) -> OcpiSettings:
        """`NL-EFX` (or `NLEFX`, `NL*EFX`) as our country code and party id."""
        match = _PARTY.match(party.strip().upper())
        if match is None:
            raise ValueError(
                f"{party!r}: an OCPI party is a country code and 3 characters, like NL-EFX"
            )
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{base_url!r}: the OCPI base URL must be http(s)://")
        return cls(match.group(1), match.group(2), name, base_url.rstrip("/"), sync_interval_s)

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    @property
    def version_url(self) -> str:
        return f"{self.base_url}/ocpi/{VERSION}"

    @property
    def operator(self) -> str:
        return f"{self.country_code}*{self.party_id}"

    def roles(self) -> list[dict[str, object]]:
        """Our CredentialsRoles: the same platform is eMSP and CPO."""
        details = {"name": self.name}
        return [
            {
                "role": role,
                "party_id": self.party_id,
                "country_code": self.country_code,
                "business_details": details,
            }
            for role in ("CPO", "EMSP")
        ]
