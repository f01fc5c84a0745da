"""Meter sources (Modbus TCP/RTU, MQTT) producing one reading type; no Home Assistant imports.

Public API: `MeterReading`, `Quality`, `MeterSource`, `parse_meter_config`, `build_source`,
`MeterConfigError`, `load_profile`, `probe` (see docs/meters.md).
"""

from .config import MeterSourceConfig, SourceKind, build_source, parse_meter_config
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
