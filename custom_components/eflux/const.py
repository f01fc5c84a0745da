"""Constants of the E-Flux Local integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "eflux"

# entry.data: what identifies the central system and the cloud account (reconfigure, reauth)
CONF_PORT: Final = "port"
CONF_CLOUD_URL: Final = "cloud_url"
CONF_CLOUD_TOKEN: Final = "cloud_token"  # noqa: S105 - a key name, not a secret

# entry.options: how the site behaves (options flow)
CONF_ACCEPT_NEW: Final = "accept_new_chargers"
CONF_PHASES: Final = "phases"
CONF_FUSE_AMPS: Final = "fuse_amps"
CONF_MARGIN_AMPS: Final = "safety_margin_amps"
CONF_METER: Final = "meter"

# keys inside options[CONF_METER]
CONF_METER_TYPE: Final = "type"
CONF_HOST: Final = "host"
CONF_MODBUS_PORT: Final = "modbus_port"
CONF_UNIT_ID: Final = "unit_id"
CONF_PROFILE: Final = "profile"
CONF_TOPIC: Final = "topic"
CONF_CURRENT_L1: Final = "current_l1"
CONF_CURRENT_L2: Final = "current_l2"
CONF_CURRENT_L3: Final = "current_l3"
CONF_POWER: Final = "power"
CONF_TIMEOUT: Final = "timeout"

METER_MODBUS: Final = "modbus"
METER_MQTT: Final = "mqtt"
METER_SENSORS: Final = "sensors"
METER_NONE: Final = "none"

DEFAULT_PORT: Final = 9000
DEFAULT_FUSE_AMPS: Final = 25
DEFAULT_MARGIN_AMPS: Final = 1
DEFAULT_PHASES: Final = 3
DEFAULT_MODBUS_PORT: Final = 502
DEFAULT_UNIT_ID: Final = 1
DEFAULT_METER_TIMEOUT: Final = 10.0

# A household main fuse is at least 6 A (one car at its IEC 61851 minimum) and at most a large
# building connection; beyond that a typo is likelier than a real site.
MIN_FUSE_AMPS: Final = 6
MAX_FUSE_AMPS: Final = 4000
MIN_CHARGING_AMPS: Final = 6

# HA events for automations
EVENT_SESSION_STARTED: Final = "eflux_session_started"
EVENT_SESSION_ENDED: Final = "eflux_session_ended"
EVENT_OVERLOAD: Final = "eflux_overload"
EVENT_DEPARTURE_AT_RISK: Final = "eflux_departure_at_risk"
EVENT_PLAN_CHANGED: Final = "eflux_plan_changed"

# Repair issues
ISSUE_METER_STALE: Final = "meter_stale"
ISSUE_CHARGER_OFFLINE: Final = "charger_offline"
ISSUE_PORT_CONFLICT: Final = "port_conflict"
ISSUE_OVERDRAW: Final = "overdraw"
ISSUE_NO_PASSWORD: Final = "no_password"  # noqa: S105 - an issue key, not a secret
ISSUE_CHARGER_PENDING: Final = "charger_pending"  # a new charger waits for approval
