"""Meter sources (Modbus TCP/RTU, MQTT) producing one reading type; no Home Assistant imports.

Public API: `MeterReading`, `Quality`, `MeterSource`, `parse_meter_config`, `build_source`,
`MeterConfigError`, `load_profile`, `probe` (see docs/meters.md).
"""

from .build import build_source
from .config import MeterSourceConfig, SourceKind, parse_meter_config
from .errors import MeterConfigError, MeterProbeError
from .probe import probe
from .profile import Profile, builtin_profiles, load_profile
from .reading import MeterReading, Quality
from .source import Clock, MeterSource, utc_now

__all__ = [
    "Clock",
    "MeterConfigError",
    "MeterProbeError",
    "MeterReading",
    "MeterSource",
    "MeterSourceConfig",
    "Profile",
    "Quality",
    "SourceKind",
    "build_source",
    "builtin_profiles",
    "load_profile",
    "parse_meter_config",
    "probe",
    "utc_now",
]
