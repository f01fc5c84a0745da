"""`python -m sim.payments --port 8090 --api-key test_demo`: the local payment provider.

Point the back end at it: `eflux-backend serve --payments-url http://127.0.0.1:8090
--payments-key test_demo`. A top-up's checkout page offers pay / fail / cancel / expire.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from aiohttp import web

from .app import SimProvider


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local payment provider (Mollie v2 shape).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", default="test_demo")
    parser.add_argument(
        "--expires-after",
        type=float,
        default=900.0,
        help="seconds until an open payment expires (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    provider = SimProvider(
        args.api_key,
        base_url=f"http://{args.host}:{args.port}",
        expires_after=timedelta(seconds=args.expires_after),
    )
    web.run_app(provider.app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
