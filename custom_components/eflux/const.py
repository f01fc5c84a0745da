"""Constants of the E-Flux Local integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "eflux"

CONF_PORT: Final = "port"
CONF_FUSE_AMPS: Final = "fuse_amps"

DEFAULT_PORT: Final = 9000
DEFAULT_FUSE_AMPS: Final = 25

# A household main fuse is at least 6 A (one car at its IEC 61851 minimum) and at most a large
# building connection; beyond that a typo is likelier than a real site.
MIN_FUSE_AMPS: Final = 6
MAX_FUSE_AMPS: Final = 4000
