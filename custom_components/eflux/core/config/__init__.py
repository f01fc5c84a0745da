"""The site configuration (site.yaml) as typed settings, with validation that names the key."""

from ..errors import ConfigError
from .model import (
    EXTERNAL,
    ApiSettings,
    CarProfile,
    ChargerBinding,
    ControllerSettings,
    MeterConfig,
    SiteConfig,
)
from .parse import load_site_config, parse_site_config

__all__ = [
    "EXTERNAL",
    "ApiSettings",
    "CarProfile",
    "ChargerBinding",
    "ConfigError",
    "ControllerSettings",
    "MeterConfig",
    "SiteConfig",
    "load_site_config",
    "parse_site_config",
]
