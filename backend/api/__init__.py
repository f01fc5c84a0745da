"""The back end's REST API under /api/v1 (aiohttp). See docs/cloud-api.yaml."""

from .app import CLOCK, STORE, create_app

__all__ = ["CLOCK", "STORE", "create_app"]
