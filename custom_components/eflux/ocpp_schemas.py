"""Load the `ocpp` library's JSON schemas in the executor before a charger needs them.

The library reads a schema file the first time a message of that action is validated, and
core validates in the event loop: without this, a charger's first messages `open()` files
inside HA's loop (HA logs that as a blocking call). The library caches every validator it
builds, so loading each once here makes the later look-ups in the loop free.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import ocpp

from .core.central.errors import RpcError
from .core.central.server import SUBPROTOCOLS
from .core.central.validation import CALL, CALLRESULT, check


def load_ocpp_schemas() -> int:
    """Build (and so cache) the validator of every schema of the versions we serve; blocking.
    Returns how many schemas it loaded."""
    base = Path(ocpp.__file__).parent
    loaded = 0
    for subprotocol in SUBPROTOCOLS:
        version = subprotocol.removeprefix("ocpp")
        for path in sorted((base / f"v{version.replace('.', '')}" / "schemas").glob("*.json")):
            name = path.stem
            if name.endswith("Response"):
                kind, action = CALLRESULT, name.removesuffix("Response")
            else:  # 1.6 names a request by its action, 2.0.1 adds "Request"
                kind, action = CALL, name.removesuffix("Request")
            # Through core's own check, so each schema is cached with the float parser core
            # uses for it (the library keys its cache by schema, not by parser).
            # An empty payload breaks most schemas: the validator is cached regardless.
            with suppress(RpcError):
                check(version, kind, action, {})
            loaded += 1
    return loaded
