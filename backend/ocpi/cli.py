"""`eflux-backend ocpi …`: register with a party, issue a token A, run a round, place a site.

    eflux-backend ocpi --party NL-EFX --public-url https://cloud.example register \\
        --url https://hub.example/ocpi/versions --token <token A> [--name Hub]
    eflux-backend ocpi issue-token --name "Some eMSP"       # prints token A, once
    eflux-backend ocpi sync                                 # one round with every party
    eflux-backend ocpi place --site 3 --address … --city … --postal-code … --country NLD \\
        --latitude 52.09 --longitude 5.12
    eflux-backend ocpi parties
    eflux-backend ocpi command start --to 2 --card 04A1B2 --location SITE3   # cli_commands.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from ..storage.timefmt import utc_now
from ..store import Store
from . import cli_commands
from .client import OcpiClient
from .cpo import Place, set_place
from .credentials import register
from .envelope import OcpiError
from .parties import Parties
from .settings import OcpiSettings
from .sync import sync_round

_COORDINATE = re.compile(r"^-?\d{1,3}\.\d{1,7}$")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ocpi", help="roaming over OCPI 2.2.1 (docs/roaming.md)")
    p.add_argument(
        "--party",
        default=os.environ.get("EFLUX_OCPI_PARTY", "NL-EFX"),
        help="our country code and party id (default: %(default)s)",
    )
    p.add_argument(
        "--name", dest="our_name", default=os.environ.get("EFLUX_OCPI_NAME", "E-Flux Local")
    )
    p.add_argument(
        "--public-url",
        default=os.environ.get("EFLUX_BACKEND_PUBLIC_URL"),
        help="where the other party reaches our /ocpi (the serve --public-url)",
    )
    verbs = p.add_subparsers(dest="ocpi_command", required=True)
    reg = verbs.add_parser("register", help="register with a party using the token A it gave")
    reg.add_argument("--url", required=True, help="the party's versions URL")
    reg.add_argument("--token", required=True, help="token A")
    reg.add_argument("--name", default="", help="a name for the party (default: the URL)")
    issue = verbs.add_parser("issue-token", help="a token A for a party to register with us")
    issue.add_argument("--name", required=True)
    verbs.add_parser("sync", help="push tokens, send CDRs, pull locations/tariffs once")
    verbs.add_parser("parties", help="list the parties")
    cli_commands.add_parsers(verbs)
    place = verbs.add_parser("place", help="where a site is (needed to publish it)")
    place.add_argument("--site", type=int, required=True)
    for field in ("address", "city", "postal-code", "country", "latitude", "longitude"):
        place.add_argument(f"--{field}", required=True)


def _settings(args: argparse.Namespace) -> OcpiSettings:
    if not args.public_url:
        raise SystemExit(
            "eflux-backend ocpi: set --public-url (or $EFLUX_BACKEND_PUBLIC_URL):"
            " the other party calls us there"
        )
    try:
        return OcpiSettings.parse(args.party, args.our_name, args.public_url)
    except ValueError as err:
        raise SystemExit(f"eflux-backend ocpi: {err}") from None


async def cmd_ocpi(args: argparse.Namespace) -> int:
    store = await Store.open(args.database)
    client = OcpiClient()
    try:
        return await _run(args, store, client)
    except OcpiError as err:
        print(f"eflux-backend ocpi: {err.message} (OCPI status {err.code})", file=sys.stderr)
        return 1
    finally:
        await client.close()
        await store.close()


async def _run(args: argparse.Namespace, store: Store, client: OcpiClient) -> int:
    parties = Parties(store.db)
    verb = args.ocpi_command
    if verb in ("command", "command-status"):
        settings = _settings(args) if verb == "command" else None
        return await cli_commands.run(args, store, client, settings)
    if verb == "issue-token":
        party, token = await parties.issue_token_a(args.name, now=utc_now())
        print(json.dumps({"party": party.id, "token": token}, indent=2))
    elif verb == "register":
        party = await register(
            parties,
            _settings(args),
            client,
            versions_url=args.url,
            token_a=args.token,
            name=args.name or args.url,
            now=utc_now(),
        )
        print(
            json.dumps(
                {"party": party.id, "roles": party.roles, "endpoints": party.endpoints}, indent=2
            )
        )
    elif verb == "sync":
        done = await sync_round(store, _settings(args), client, now=utc_now())
        print(json.dumps(dict(done)))
        return 1 if done["failed"] else 0
    elif verb == "parties":
        for party in await parties.registered():
            print(
                json.dumps(
                    {
                        "party": party.id,
                        "name": party.name,
                        "as": party.label,
                        "roles": [r.get("role") for r in party.roles],
                    }
                )
            )
    else:
        return await _place(args, store)
    return 0


async def _place(args: argparse.Namespace, store: Store) -> int:
    if not (_COORDINATE.match(args.latitude) and _COORDINATE.match(args.longitude)):
        raise SystemExit("eflux-backend ocpi place: coordinates are decimal degrees (52.0907)")
    if not re.fullmatch(r"[A-Z]{3}", args.country):
        raise SystemExit("eflux-backend ocpi place: --country is ISO 3166 alpha-3 (NLD)")
    await store.sites.get_site(args.site)  # NotFound: exit 1 with its message
    await set_place(
        store.db,
        args.site,
        Place(
            args.address, args.city, args.postal_code, args.country, args.latitude, args.longitude
        ),
    )
    return 0
