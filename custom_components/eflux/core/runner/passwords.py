"""`eflux-local --generate-password CP-1`: a strong charger password, as a site.yaml entry."""

from __future__ import annotations

import json

from ..central.credentials import generate_password


def password_entry(charge_point_id: str) -> str:
    """The lines to put under `central.passwords:` (and to enter in the charger: user name is
    the charge point id, the password this one - 1.6 AuthorizationKey, 2.0.1
    SecurityCtrlr.BasicAuthPassword)."""
    password = generate_password()
    return f"{json.dumps(charge_point_id)}: {json.dumps(password)}"
