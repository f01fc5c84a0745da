"""Charger security in the options flow (site.yaml `central:` parity, OCPP security profiles).

A menu: the central system's settings (who may boot: everyone, only listed chargers, or new ones
held Pending until approved; whether a password is required; the TLS server certificate and key
for wss), and a charge point's password (a freshly generated strong one is offered; stored ones
are only shown masked). A charger held Pending is approved from its repair (approvals.py).
Files and passwords are judged by core (`tls_pair_problem`, `password_problem`), the whole by
core's site.yaml parser; nothing is saved until *Save*.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.helpers import selector

from .circuit_flow import CircuitStepsMixin, select_selector
from .const import CONF_ACCEPT_NEW
from .core.central.admission import ACCEPT_ALL, ACCEPT_LISTED, BOOT_POLICIES
from .core.central.credentials import generate_password, password_problem
from .core.config.security import masked_password, tls_pair_problem
from .core.runtime import CallRejected, CentralError, ChargePointOffline, LocalSite
from .site_config import (
    CONF_BOOT_POLICY,
    CONF_CHARGERS,
    CONF_PASSWORDS,
    CONF_REQUIRE_PASSWORD,
    CONF_TLS_CERT,
    CONF_TLS_KEY,
)

SECURITY_MENU = ["central_security", "charger_password", "save"]
CONF_CHARGE_POINT = "charge_point"
CONF_PASSWORD = "password"  # noqa: S105 - a form key, not a secret
CONF_REMOVE = "remove_password"
CONF_SEND = "send_to_charger"
_PASSWORD_FIELD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)


def boot_policy_of(options: dict[str, Any]) -> str:
    """The options' boot policy; entries from before it follow "accept new chargers"."""
    policy = options.get(CONF_BOOT_POLICY)
    if policy in BOOT_POLICIES:
        return str(policy)
    return ACCEPT_ALL if options.get(CONF_ACCEPT_NEW, True) else ACCEPT_LISTED


class SecurityStepsMixin(CircuitStepsMixin):
    """Security steps of the options flow; `_site` holds the options being edited."""

    def _password_summary(self) -> str:
        passwords = self._site.get(CONF_PASSWORDS) or {}
        return ", ".join(
            f"{cp}: {masked_password(passwords.get(cp)) or '-'}"
            for cp in self._site.get(CONF_CHARGERS, [])
        )

    def _without_password(self) -> list[str]:
        """Known charge points with no password here (refused once one is required)."""
        passwords = self._site.get(CONF_PASSWORDS) or {}
        return [cp for cp in self._site.get(CONF_CHARGERS, []) if cp not in passwords]

    def _site_running(self) -> LocalSite | None:
        entry = self.config_entry
        return entry.runtime_data.site if entry.state is ConfigEntryState.LOADED else None

    def _online(self) -> list[str]:
        site = self._site_running()
        states = site.charge_points() if site is not None else {}
        return [cp for cp, state in states.items() if state.online]

    async def _send_password(self, cp_id: str, password: str) -> tuple[str, str]:
        """Give a connected charger the password now (ChangeConfiguration AuthorizationKey /
        SetVariables BasicAuthPassword; core keeps the old one valid until the new one is
        used): an error key and its reason, or two empty strings."""
        site = self._site_running()
        if site is None or cp_id not in self._online():
            return "charger_offline", cp_id
        try:
            await site.rotate_password(cp_id, password)
        except ChargePointOffline:
            return "charger_offline", cp_id
        except CallRejected as err:
            return "password_refused", err.status
        except CentralError as err:  # no answer: it may have taken it, both stay valid
            return "password_unanswered", str(err)
        return "", ""

    async def async_step_security(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_show_menu(
            step_id="security",
            menu_options=SECURITY_MENU,
            description_placeholders={"passwords": self._password_summary() or "-"},
        )

    # ---- the central system ----------------------------------------------------------------
    def _tls_path(self, text: Any) -> str:
        """A path as entered; relative ones are under Home Assistant's config directory."""
        value = str(text or "").strip()
        return str(Path(self.hass.config.config_dir, value)) if value else ""

    async def _central_errors(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, str], str, dict[str, Any]]:
        """Form errors, the reason to show, and the options these answers make."""
        cert = self._tls_path(user_input.get(CONF_TLS_CERT))
        key = self._tls_path(user_input.get(CONF_TLS_KEY))
        if bool(cert) != bool(key):
            return {CONF_TLS_KEY if cert else CONF_TLS_CERT: "tls_pair_incomplete"}, "", {}
        if cert:
            problem = await self.hass.async_add_executor_job(
                tls_pair_problem, Path(cert), Path(key)
            )
            if problem is not None:
                return {problem.field: f"tls_{problem.kind}"}, problem.detail, {}
        policy = str(user_input[CONF_BOOT_POLICY])
        options = {
            **self._site,
            CONF_BOOT_POLICY: policy,
            # What adopts new chargers (new_chargers.py) follows the policy too.
            CONF_ACCEPT_NEW: policy == ACCEPT_ALL,
            CONF_REQUIRE_PASSWORD: bool(user_input[CONF_REQUIRE_PASSWORD]),
            CONF_TLS_CERT: cert,
            CONF_TLS_KEY: key,
        }
        problem_text = await self._checked(options)
        if problem_text is not None:
            return {"base": "invalid_site"}, problem_text, {}
        return {}, "", options

    async def async_step_central_security(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Boot policy, password requirement, TLS certificate and key."""
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            errors, reason, options = await self._central_errors(user_input)
            if not errors:
                self._site = options
                return await self.async_step_security()
        schema = vol.Schema(
            {
                vol.Required(CONF_BOOT_POLICY): select_selector(
                    list(BOOT_POLICIES), CONF_BOOT_POLICY
                ),
                vol.Required(CONF_REQUIRE_PASSWORD): bool,
                vol.Optional(CONF_TLS_CERT): str,
                vol.Optional(CONF_TLS_KEY): str,
            }
        )
        current = {
            CONF_BOOT_POLICY: boot_policy_of(self._site),
            CONF_REQUIRE_PASSWORD: bool(self._site.get(CONF_REQUIRE_PASSWORD, False)),
            CONF_TLS_CERT: self._site.get(CONF_TLS_CERT) or None,
            CONF_TLS_KEY: self._site.get(CONF_TLS_KEY) or None,
        }
        return self.async_show_form(
            step_id="central_security",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
            description_placeholders={
                "reason": reason,
                "config_dir": self.hass.config.config_dir,
                "unprotected": ", ".join(self._without_password()) or "-",
            },
        )

    # ---- a charge point's password ---------------------------------------------------------
    async def async_step_charger_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set (a generated one is offered), change or remove a charge point's password."""
        errors: dict[str, str] = {}
        reason = ""
        chargers = list(self._site.get(CONF_CHARGERS, []))
        if user_input is not None:
            cp_id = str(user_input[CONF_CHARGE_POINT])
            passwords = dict(self._site.get(CONF_PASSWORDS) or {})
            password = str(user_input.get(CONF_PASSWORD) or "")
            if user_input.get(CONF_REMOVE):
                passwords.pop(cp_id, None)
            elif (problem := password_problem(password)) is not None:
                errors[CONF_PASSWORD], reason = "invalid_password", problem
            else:
                passwords[cp_id] = password
                if user_input.get(CONF_SEND):
                    error, reason = await self._send_password(cp_id, password)
                    if error:
                        errors["base"] = error
            if not errors:
                options = {**self._site, CONF_PASSWORDS: passwords}
                problem_text = await self._checked(options)
                if problem_text is None:
                    self._site = options
                    return await self.async_step_security()
                errors["base"], reason = "invalid_site", problem_text
        schema = vol.Schema(
            {
                vol.Required(CONF_CHARGE_POINT): select_selector(chargers),
                vol.Optional(CONF_PASSWORD): _PASSWORD_FIELD,
                vol.Optional(CONF_SEND, default=bool(self._online())): bool,
                vol.Optional(CONF_REMOVE, default=False): bool,
            }
        )
        # A new strong password each time the form opens: the stored ones are never shown.
        suggested = {CONF_PASSWORD: generate_password()}
        if chargers:
            suggested[CONF_CHARGE_POINT] = chargers[0]
        if user_input is not None:
            suggested[CONF_CHARGE_POINT] = user_input[CONF_CHARGE_POINT]
        return self.async_show_form(
            step_id="charger_password",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={
                "passwords": self._password_summary() or "-",
                "reason": reason,
            },
        )
