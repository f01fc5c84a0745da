"""The credentials handshake of OCPI 2.2.1 (§7), both ways.

We register with a party (`register`, the CLI's `ocpi register`): with the token A it gave us
out of band we read its versions and 2.2.1 endpoints, POST our credentials with a new token B
(what it will call us with) and keep the token C it answers (what we call it with).
A party registers with us (`accept`): it calls with the token A we issued
(`Parties.issue_token_a`), we read its endpoints with its token B, and answer a new token C,
which from then on is the only one we accept from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import voluptuous as vol

from .client import OcpiClient
from .envelope import (
    INVALID_PARAMETERS,
    NO_MATCHING_ENDPOINTS,
    UNSUPPORTED_VERSION,
    OcpiError,
)
from .parties import Parties, Party, new_token
from .settings import VERSION, OcpiSettings

_LOGGER = logging.getLogger(__name__)
_URL = vol.All(str, vol.Length(min=8, max=255), vol.Match(r"^https?://"))
_ROLE = vol.Schema(
    {
        vol.Required("role"): vol.In(["CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"]),
        vol.Required("country_code"): vol.All(str, vol.Match(r"^[A-Z]{2}$")),
        vol.Required("party_id"): vol.All(str, vol.Match(r"^[A-Z0-9]{3}$")),
        vol.Required("business_details"): vol.Schema(
            {vol.Required("name"): vol.All(str, vol.Length(min=1, max=100))}, extra=vol.ALLOW_EXTRA
        ),
    },
    extra=vol.ALLOW_EXTRA,
)
CREDENTIALS = vol.Schema(
    {
        vol.Required("token"): vol.All(
            str, vol.Length(min=1, max=64), vol.Match(r"^[\x21-\x7e]+$")
        ),
        vol.Required("url"): _URL,
        vol.Required("roles"): vol.All([_ROLE], vol.Length(min=1, max=10)),
    },
    extra=vol.ALLOW_EXTRA,
)
_ENDPOINT = vol.Schema(
    {
        vol.Required("identifier"): vol.All(str, vol.Length(min=1, max=50)),
        vol.Required("role"): vol.In(["SENDER", "RECEIVER"]),
        vol.Required("url"): _URL,
    },
    extra=vol.ALLOW_EXTRA,
)


def checked(schema: Callable[[Any], Any], value: Any, what: str) -> Any:
    try:
        return schema(value)
    except vol.Invalid as err:
        raise OcpiError(INVALID_PARAMETERS, f"{what}: {err}") from None


def our_credentials(settings: OcpiSettings, token: str) -> dict[str, Any]:
    return {"token": token, "url": settings.versions_url, "roles": settings.roles()}


async def discover(client: OcpiClient, versions_url: str, token: str) -> dict[str, str]:
    """The party's 2.2.1 endpoints as {"module/ROLE": url}."""
    versions = await client.call("GET", versions_url, token)
    if not isinstance(versions, list):
        raise OcpiError(UNSUPPORTED_VERSION, f"{versions_url}: no list of versions", 400)
    urls = [v.get("url") for v in versions if isinstance(v, dict) and v.get("version") == VERSION]
    if not urls or not isinstance(urls[0], str):
        raise OcpiError(UNSUPPORTED_VERSION, f"{versions_url} offers no OCPI {VERSION}", 400)
    details = await client.call("GET", checked(_URL, urls[0], "version url"), token)
    if not isinstance(details, dict) or details.get("version") != VERSION:
        raise OcpiError(UNSUPPORTED_VERSION, f"{urls[0]}: not the {VERSION} details", 400)
    raw = checked(vol.Schema([_ENDPOINT]), details.get("endpoints"), "endpoints")
    endpoints = {f"{e['identifier']}/{e['role']}": e["url"].rstrip("/") for e in raw}
    if not any(key.startswith("credentials/") for key in endpoints):
        raise OcpiError(NO_MATCHING_ENDPOINTS, f"{urls[0]}: no credentials module", 400)
    return endpoints


async def register(
    parties: Parties,
    settings: OcpiSettings,
    client: OcpiClient,
    *,
    versions_url: str,
    token_a: str,
    name: str,
    now: datetime,
) -> Party:
    """We register with a party: token A → our token B sent → their token C kept."""
    endpoints = await discover(client, versions_url, token_a)
    party_row, token_b = await parties.start_outgoing(name, token_a, versions_url, now=now)
    try:
        url = endpoints.get("credentials/SENDER") or endpoints.get("credentials/RECEIVER")
        assert url is not None  # discover() checked
        answer = checked(
            CREDENTIALS,
            await client.call("POST", url, token_a, our_credentials(settings, token_b)),
            "their credentials",
        )
        # Their answer may name another versions URL; its endpoints are read with token C.
        endpoints = await discover(client, answer["url"], answer["token"])
        await parties.complete(
            party_row,
            outgoing_token=answer["token"],
            versions_url=answer["url"],
            roles=answer["roles"],
            endpoints=endpoints,
            incoming_token=None,
            now=now,
        )
    except BaseException:
        await parties.forget(party_row)
        raise
    _LOGGER.info("OCPI: registered with %s (%s) as party %d", name, versions_url, party_row)
    return await parties.get(party_row)


async def accept(
    parties: Parties,
    settings: OcpiSettings,
    client: OcpiClient,
    party: Party,
    body: Any,
    *,
    now: datetime,
) -> dict[str, Any]:
    """A party POSTs (or PUTs, to update) its credentials: our answer holds its new token."""
    given = checked(CREDENTIALS, body, "credentials")
    endpoints = await discover(client, given["url"], given["token"])
    token_c = new_token()
    await parties.complete(
        party.id,
        outgoing_token=given["token"],
        versions_url=given["url"],
        roles=given["roles"],
        endpoints=endpoints,
        incoming_token=token_c,
        now=now,
    )
    _LOGGER.info("OCPI: party %d (%s) registered from %s", party.id, party.name, given["url"])
    return our_credentials(settings, token_c)
