"""The site configuration (site.yaml) as typed settings, with validation that names the key."""

from ..errors import ConfigError
from .model import (
    EXTERNAL,
    ApiSettings,
    CapacityTariff,
    CardProfile,
    CarProfile,
    ChargerBinding,
    ControllerSettings,
    MeterConfig,
    PlannerSettings,
    SiteConfig,
)
from .parse import load_site_config, parse_site_config

__all__ = [
    "EXTERNAL",
    "ApiSettings",
    "CapacityTariff",
    "CarProfile",
    "CardProfile",
    "ChargerBinding",
    "ConfigError",
    "ControllerSettings",
    "MeterConfig",
    "PlannerSettings",
    "SiteConfig",
    "load_site_config",
    "parse_site_config",
]
