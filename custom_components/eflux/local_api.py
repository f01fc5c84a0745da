"""The local API and the building console served from Home Assistant too (option
"Serve the local API and building console", console_flow.py).

The same server as the standalone runner's (core/runner/serve.py): same routes, the same
protections (loopback by default, the bearer token when set, the console's own login), on a
port of its own. It opens after the site and closes before it, on unload and on reload.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.exceptions import ConfigEntryNotReady

from .const import DOMAIN
from .core.runner.serve import console_url, start_api
from .core.runtime import LocalSite

_LOGGER = logging.getLogger(__name__)


async def async_serve_local_api(site: LocalSite) -> Callable[[], Coroutine[Any, Any, None]] | None:
    """Start serving when the options ask for it; what stops it (None: not served)."""
    settings = site.config.api
    if not settings.enabled:
        return None
    try:
        server = await start_api(site, settings)
    except OSError as err:
        if err.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_in_use",
            translation_placeholders={"port": str(settings.port)},
        ) from err
    _LOGGER.info(
        "local API on http://%s:%d, building console on %s",
        settings.host,
        server.port,
        console_url(settings.host, server.port),
    )
    return server.stop
