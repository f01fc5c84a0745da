"""What a client may ask of a local site, by charger id: the command half of `LocalSite`.

Home Assistant and the runner's API name a balanced charger by its id (a socket of a box with
several is `<charge point id>:<n>`); this turns the id into the controller's call or the central
system's charge point and connector, so that neither client knows either of them. An unknown
charger id raises KeyError; the central system's errors (`CentralError` and its kinds) pass
through unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .balancing import Mode
from .central import CentralSystem, CurrentLimit, Reservation
from .config import ChargerBinding, SiteConfig
from .control.prices import parse_entries
from .controller import Controller
from .domain import DepartureRequest


class SiteCommands:
    """The commands of `LocalSite` (which builds `config`, `central` and `controller`)."""

    config: SiteConfig
    central: CentralSystem
    controller: Controller

    def binding(self, charger_id: str) -> ChargerBinding:
        """Where the charger is in OCPP: its charge point and connector."""
        try:
            return self.controller.bindings[charger_id]
        except KeyError:
            raise KeyError(f"unknown charger {charger_id!r}") from None

    # ---- the user's settings: the balancer follows them from its next pass ---------------------
    async def set_mode(self, charger_id: str, mode: Mode | str | None) -> None:
        """None: back to the site's default mode."""
        self.controller.set_mode(charger_id, None if mode is None else Mode(mode))

    async def set_max_current(self, charger_id: str, amps: float | None) -> None:
        self.controller.set_max_current(charger_id, amps)

    async def set_target_soc(self, charger_id: str, soc: float | None) -> None:
        self.controller.set_target_soc(charger_id, soc)

    async def set_departure(self, request: DepartureRequest) -> str:
        """Plan the car; returns the id of the charger it was given to."""
        return self.controller.set_departure(request)

    async def clear_departure(self, charger_id: str) -> None:
        self.controller.clear_departure(charger_id)

    def recompute(self) -> None:
        """One balancing and planning pass now rather than at the next turn of the loop, so
        that what is read right after a command already shows its effect."""
        self.controller.recompute()

    # ---- prices ---------------------------------------------------------------------------------
    async def push_prices(self, items: object, *, replace: bool = False) -> int:
        """Day-ahead prices per kWh over the tariff, as [{start, end?, price}] (see
        `control.prices.parse_entries`; PlanInputError names a bad entry); `replace`: instead
        of every price pushed so far. Returns how many hours are set."""
        return self.controller.push_prices(parse_entries(items), replace=replace)

    async def clear_prices(self) -> None:
        """Forget the pushed prices: the tariff alone prices the plan again."""
        self.controller.push_prices(None)

    # ---- the charger, through the central system ------------------------------------------------
    async def start_charging(self, charger_id: str, id_tag: str | None = None) -> str:
        """RemoteStart on the charger's connector; the charger's answer status."""
        binding = self.binding(charger_id)
        tag = id_tag or self.config.controller.start_id_tag
        return await self.central.remote_start(binding.charge_point_id, binding.connector_id, tag)

    async def stop_charging(self, charger_id: str) -> str:
        """RemoteStop of the transaction on the charger's connector."""
        binding = self.binding(charger_id)
        return await self.central.remote_stop(binding.charge_point_id, binding.connector_id)

    async def set_current_limit(
        self, charger_id: str, amps: float, phases: int | None = None
    ) -> CurrentLimit:
        """A manual charging profile on the charger's connector (the user's, not the balancer's)."""
        binding = self.binding(charger_id)
        return await self.central.set_current_limit(
            binding.charge_point_id, amps, phases, binding.connector_id
        )

    async def set_availability(self, charger_id: str, available: bool) -> str:
        """ChangeAvailability of the charger's whole box (connector 0); the charger's status."""
        binding = self.binding(charger_id)
        return await self.central.set_availability(binding.charge_point_id, 0, available)

    async def reserve(self, charger_id: str, id_tag: str, expires_at: datetime) -> Reservation:
        """ReserveNow on the charger's connector: only `id_tag` may start there until
        `expires_at` (ReservationNotSupported when the charger has no reservations)."""
        binding = self.binding(charger_id)
        return await self.central.reserve(
            binding.charge_point_id, binding.connector_id, id_tag, expires_at
        )

    def reservations(self, charger_id: str) -> list[Reservation]:
        """The open reservations of the charger's connector, oldest first."""
        binding = self.binding(charger_id)
        return [
            held
            for held in self.central.reservations(binding.charge_point_id)
            if held.connector_id == binding.connector_id
        ]

    async def cancel_reservation(self, charger_id: str) -> Reservation | None:
        """CancelReservation of the connector's oldest open reservation; None when it has none."""
        held = self.reservations(charger_id)
        if not held:
            return None
        return await self.central.cancel_reservation(held[0].id)

    async def send_ocpp(
        self, charger_id: str, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Any OCPP message to the charger's charge point; the charger's answer payload."""
        binding = self.binding(charger_id)
        return await self.central.send(binding.charge_point_id, action, payload)
