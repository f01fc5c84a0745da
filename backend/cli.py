"""`eflux-backend`: serve, migrate, create-admin, create-token, seed-demo, invoice, payouts, …

(also rotate-card-epoch, the step after restoring a backup: see docs/backend.md).

The database is `--database` (or $EFLUX_BACKEND_DATABASE): a SQLite path (the default,
`eflux-backend.sqlite`) or a `postgresql://…` URL. Secrets are printed once, on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web

from . import cli_ops
from .api import create_app
from .api.app import DEFAULT_MAX_BODY
from .billing.errors import BillingError
from .demo import seed_demo
from .invoicing.cli import add_parser as add_invoice_parser
from .invoicing.cli import cmd_invoice
from .invoicing.payouts_cli import add_parser as add_payouts_parser
from .invoicing.payouts_cli import cmd_payouts
from .logjson import LOG_FORMATS, configure_logging
from .ocpi import OcpiSettings
from .ocpi.cli import add_parser as add_ocpi_parser
from .ocpi.cli import cmd_ocpi
from .payments import ProviderSettings
from .portal import default_outbox
from .portal.clientaddr import PROXY_HEADERS, ProxyTrust, access_logger
from .portal.publicurl import ListenAddress, describe_links, parse_public_url
from .storage import apply_migrations, open_database
from .storage.timefmt import utc_now
from .store import AccountKind, NotFound, Role, Store, StoreError

DEFAULT_DATABASE = "eflux-backend.sqlite"
Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eflux-backend", description=__doc__.splitlines()[0])
    p.add_argument(
        "--database",
        default=os.environ.get("EFLUX_BACKEND_DATABASE", DEFAULT_DATABASE),
        help="SQLite file or postgresql:// URL (default: %(default)s)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="bytes")
    serve.add_argument(
        "--trusted-proxies",
        type=_trusted_networks,
        default=os.environ.get("EFLUX_BACKEND_TRUSTED_PROXIES", ""),
        help="IPs/CIDRs of reverse proxies whose client header is believed,"
        " comma-separated (default: none, the peer is the client)",
    )
    serve.add_argument(
        "--proxy-header",
        choices=PROXY_HEADERS,
        type=_proxy_header,
        default=os.environ.get("EFLUX_BACKEND_PROXY_HEADER", "x-forwarded-for"),
        help="the header those proxies set (default: %(default)s)",
    )
    serve.add_argument(
        "--public-url",
        type=_public_url,
        default=os.environ.get("EFLUX_BACKEND_PUBLIC_URL") or None,
        help="the URL users open the portal at, for links in mails (default:"
        " the address served on; never the request's Host header)",
    )
    serve.add_argument(
        "--payments-url",
        default=os.environ.get("EFLUX_PAYMENTS_URL") or None,
        help="the payment provider's API base URL (Mollie v2 shape) for prepaid"
        " top-ups (default: none; top-ups are then unavailable)",
    )
    serve.add_argument(
        "--payments-key",
        default=os.environ.get("EFLUX_PAYMENTS_KEY") or None,
        help="the payment provider's API key ($EFLUX_PAYMENTS_KEY)",
    )
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="log lines as text or as one JSON object each (default: text)",
    )
    serve.add_argument(
        "--ocpi-party",
        default=os.environ.get("EFLUX_OCPI_PARTY") or None,
        help="serve roaming over OCPI 2.2.1 under /ocpi as this party (NL-EFX);"
        " see docs/roaming.md (default: no OCPI)",
    )
    sub.add_parser("migrate", help="apply the database migrations and exit")
    admin = sub.add_parser("create-admin", help="an administrator (and a token for it)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.add_argument("--password", help="for the portal; omit for token-only")
    token = sub.add_parser("create-token", help="a token for a user (--email) or a site (--site)")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--site", type=int, help="site id")
    token.add_argument("--name", default="cli")
    token.add_argument("--days", type=int, help="expires after this many days")
    sub.add_parser("seed-demo", help="demo accounts, cards, plans and a site; prints tokens")
    sub.add_parser(
        "rotate-card-epoch", help="after restoring a backup: every site replaces its card list"
    )
    add_invoice_parser(sub)
    add_payouts_parser(sub)
    add_ocpi_parser(sub)
    cli_ops.add_parsers(sub)
    return p


def _trusted_networks(text: str) -> str:
    """Checked here so a typo stops `serve` with a usage error, not at the first request."""
    try:
        ProxyTrust.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _public_url(text: str) -> str:
    try:
        return parse_public_url(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _proxy_header(text: str) -> str:
    if text not in PROXY_HEADERS:  # argparse checks `choices` on the command line, not on $ENV
        raise argparse.ArgumentTypeError(f"{text!r}: use one of {', '.join(PROXY_HEADERS)}")
    return text


async def _with_store(args: argparse.Namespace, work: Callable[[Store], Awaitable[int]]) -> int:
    store = await Store.open(args.database)
    try:
        return await work(store)
    finally:
        await store.close()


async def cmd_migrate(args: argparse.Namespace) -> int:
    db = await open_database(args.database, migrate=False)
    try:
        applied = await apply_migrations(db)
    finally:
        await db.close()
    print(f"applied migrations: {applied}" if applied else "the schema is up to date")
    return 0


async def cmd_create_admin(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        now = utc_now()
        account = await store.accounts.create_account(AccountKind.BUSINESS, "Operations", now=now)
        user = await store.accounts.create_user(
            account.id, args.email, Role.ADMIN, now=now, name=args.name, password=args.password
        )
        issued = await store.accounts.create_user_token(user.id, "create-admin", now=now)
        _emit({"user_id": user.id, "account_id": account.id, "token": issued.secret})
        return 0

    return await _with_store(args, work)


async def cmd_create_token(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        now = utc_now()
        expires = now + timedelta(days=args.days) if args.days else None
        if args.site is not None:
            site = await store.sites.get_site(args.site)
            issued = await store.accounts.create_site_token(
                site, args.name, now=now, expires_at=expires
            )
        else:
            user = await store.accounts.find_user(args.email)
            if user is None:
                raise NotFound(f"no user with e-mail {args.email!r}")
            issued = await store.accounts.create_user_token(
                user.id, args.name, now=now, expires_at=expires
            )
        _emit({"token_id": issued.id, "kind": issued.kind, "token": issued.secret})
        return 0

    return await _with_store(args, work)


async def cmd_seed_demo(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        _emit(await seed_demo(store, utc_now()))
        return 0

    return await _with_store(args, work)


async def cmd_rotate_card_epoch(args: argparse.Namespace) -> int:
    """A restored database repeats card-list versions sites have seen with other changes;
    a new epoch makes every site fetch the full list and replace its own."""

    async def work(store: Store) -> int:
        epoch = await store.cards.rotate_epoch(
            now=utc_now(), actor="cli", reason="rotate-card-epoch"
        )
        _emit(
            {
                "epoch": epoch.epoch,
                "previous": epoch.previous,
                "card_version": epoch.started_version,
            }
        )
        return 0

    return await _with_store(args, work)


def serve(args: argparse.Namespace) -> int:
    proxies = ProxyTrust.parse(args.trusted_proxies, args.proxy_header)
    payments = _payment_settings(args.payments_url, args.payments_key)
    ocpi = _ocpi_settings(args)
    logging.getLogger("backend.serve").log(
        logging.INFO if args.public_url else logging.WARNING,
        describe_links(args.public_url, args.host, args.port),
    )

    async def build() -> web.Application:
        store = await Store.open(args.database)
        app = create_app(
            store,
            max_body_bytes=args.max_body,
            portal_outbox=default_outbox(),
            proxies=proxies,
            public_url=args.public_url,
            listen=ListenAddress(args.host, args.port),
            payments=payments,
            ocpi=ocpi,
        )

        async def store_lifetime(_: web.Application) -> AsyncIterator[None]:
            yield
            await store.close()

        app.cleanup_ctx.append(store_lifetime)
        return app

    web.run_app(
        build(), host=args.host, port=args.port, print=None, access_log_class=access_logger(proxies)
    )
    return 0


def _ocpi_settings(args: argparse.Namespace) -> OcpiSettings | None:
    if args.ocpi_party is None:
        return None
    base = args.public_url or f"http://{args.host}:{args.port}"
    try:
        return OcpiSettings.parse(
            args.ocpi_party, os.environ.get("EFLUX_OCPI_NAME", "E-Flux Local"), base
        )
    except ValueError as err:
        raise SystemExit(f"eflux-backend serve: {err}") from None


def _payment_settings(url: str | None, key: str | None) -> ProviderSettings | None:
    """Both or neither: a URL without a key (or the reverse) is a usage error at start."""
    if url is None and key is None:
        return None
    if url is None or key is None:
        raise SystemExit("eflux-backend serve: --payments-url and --payments-key go together")
    try:
        return ProviderSettings(url, key)
    except ValueError as err:
        raise SystemExit(f"eflux-backend serve: {err}") from None


def _emit(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2))


COMMANDS: dict[str, Command] = {
    "migrate": cmd_migrate,
    "create-admin": cmd_create_admin,
    "create-token": cmd_create_token,
    "seed-demo": cmd_seed_demo,
    "invoice": cmd_invoice,
    "payouts": cmd_payouts,
    "rotate-card-epoch": cmd_rotate_card_epoch,
    "ocpi": cmd_ocpi,
}


async def cmd_operation(args: argparse.Namespace) -> int:
    """The portal's and the API's operations as verbs (backend/cli_ops.py)."""
    return await _with_store(args, lambda store: cli_ops.run(store, args))


COMMANDS.update(dict.fromkeys(cli_ops.WORK, cmd_operation))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(getattr(args, "log_format", "text"))
    if args.command == "serve":
        return serve(args)
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except (StoreError, BillingError) as err:  # not found, conflict, invalid, refused by a rule
        print(f"eflux-backend: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
