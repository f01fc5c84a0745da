"""What a client may ask of a local site, by charger id: the command half of `LocalSite`.

Home Assistant and the runner's API name a balanced charger by its id (a socket of a box with
several is `<charge point id>:<n>`); this turns the id into the controller's call or the central
system's charge point and connector, so that neither client knows either of them. An unknown
charger id raises KeyError; the central system's errors (`CentralError` and its kinds) pass
through unchanged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .balancing import Mode
from .central import CentralSystem, CurrentLimit, Reservation
from .central.model import FirmwareUpdate
from .clock import Clock
from .config import CardProfile, CarProfile, ChargerBinding, SiteConfig
from .config.planner import parse_car
from .domain import DepartureRequest, SessionRecord
from .loadcontrol.circuit_limits import CircuitLimitError, CircuitOverride
from .loadcontrol.controller import Controller
from .loadcontrol.prices import parse_entries


class SiteCommands:
    """The commands of `LocalSite` (which builds `config`, `central` and `controller`)."""

    config: SiteConfig
    central: CentralSystem
    controller: Controller
    clock: Clock

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
        """Plan the car; returns the id of the charger it was given to, once it is planned."""
        ident = self.controller.set_departure(request)
        await self.controller.plan_settled()
        return ident

    async def clear_departure(self, charger_id: str) -> None:
        self.controller.clear_departure(charger_id)

    def recompute(self) -> None:
        """One balancing and planning pass now rather than at the next turn of the loop, so
        that what is read right after a command already shows its effect."""
        self.controller.recompute()

    # ---- circuits: limits that change while running (grid operator, demand response) -----------
    def set_circuit_limit(
        self,
        circuit_id: str,
        *,
        limit_a: float | tuple[float, float, float] | None = None,
        total_limit_a: float | None = None,
        expires_at: datetime | None = None,
        min_kw_per_charger: float | None = None,
        reason: str = "",
    ) -> CircuitOverride:
        """Override the circuit's limit (per phase, one value for all three, and/or its total)
        until `expires_at` or `clear_circuit_limit`; never above the configured fuse.
        KeyError: unknown circuit; CircuitLimitError (a ValueError) names a bad value."""
        if isinstance(limit_a, int | float) and not isinstance(limit_a, bool):
            limit_a = (float(limit_a), float(limit_a), float(limit_a))
        if limit_a is not None and (not isinstance(limit_a, tuple) or len(limit_a) != 3):
            raise CircuitLimitError("limit_a", "one number or three (L1, L2, L3)")
        override = self.controller.limits.circuits.set(
            circuit_id,
            self.clock.now(),
            limit_a=limit_a,
            total_limit_a=total_limit_a,
            expires_at=expires_at,
            min_kw_per_charger=min_kw_per_charger,
            reason=reason,
        )
        self.controller.apply_limits("circuit_limit_changed")
        return override

    def clear_circuit_limit(self, circuit_id: str) -> bool:
        """Back to the configured limit; False when there was no override."""
        cleared = self.controller.limits.circuits.clear(circuit_id)
        if cleared:
            self.controller.apply_limits("circuit_limit_changed")
        return cleared

    async def set_phase_mode(self, charger_id: str, mode: str) -> None:
        """`auto`, `1` or `3` for a charger that can switch phases (KeyError for one that
        cannot, ValueError for another mode): a fixed choice switches at once."""
        self.binding(charger_id)
        self.controller.limits.phases.set_mode(charger_id, mode)
        self.controller.apply_limits(None)

    def circuit_limits(self) -> dict[str, CircuitOverride]:
        """The overrides in force, by circuit."""
        return dict(self.controller.limits.circuits.overrides)

    # ---- cards that name a driver and a car ---------------------------------------------------
    def card_profiles(self) -> dict[str, CardProfile]:
        return dict(self.controller.replanner.cards)

    def card_profile(self, id_tag: str) -> CardProfile | None:
        return self.controller.replanner.cards.get(id_tag)

    def set_card_profile(self, id_tag: str, driver: str, car: object | None) -> CardProfile:
        """Name the card's driver and car (`car`: the fields of site.yaml `cars`, or None);
        sessions started with the card from now on plan with it. ConfigError names a bad field."""
        tag = id_tag.strip()
        if not tag or len(tag) > 64 or len(driver) > 100:
            raise ValueError("a card id of 1 to 64 characters, a driver of at most 100")
        vehicle: CarProfile | None = None if car is None else parse_car(car, "car")
        profile = CardProfile(tag, driver=driver.strip(), car=vehicle)
        self.controller.replanner.set_card(profile)
        return profile

    def clear_card_profile(self, id_tag: str) -> bool:
        return self.controller.replanner.set_card(CardProfile(id_tag), remove=True)

    # ---- prices ---------------------------------------------------------------------------------
    async def push_prices(self, items: object, *, replace: bool = False) -> int:
        """Day-ahead prices per kWh over the tariff, as [{start, end?, price}] (see
        `loadcontrol.prices.parse_entries`; PlanInputError names a bad entry); `replace`: instead
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

    async def unlock(self, charger_id: str) -> str:
        """UnlockConnector of the charger's connector (a cable stuck in the socket); the
        charger's answer status (1.6 Unlocked/UnlockFailed/NotSupported, 2.0.1 likewise)."""
        binding = self.binding(charger_id)
        return await self.central.unlock(binding.charge_point_id, binding.connector_id)

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

    async def update_firmware(
        self,
        charger_id: str,
        path: Path,
        signature: str | None = None,
        signing_certificate: str | None = None,
    ) -> FirmwareUpdate:
        """Install the file at `path` on the charger's charge point (central.update_firmware)."""
        binding = self.binding(charger_id)
        return await self.central.update_firmware(
            binding.charge_point_id, path, signature, signing_certificate
        )

    # ---- session history ---------------------------------------------------------------------
    async def session_cost(self, charger_id: str) -> Decimal | None:
        """What the charger's running session has cost so far at the site's prices; None
        without a session or when a step of it falls in an hour without a price."""
        binding = self.binding(charger_id)
        for tx in self.central.open_transactions(binding.charge_point_id):
            if tx.connector_id == binding.connector_id:
                return await self.central.transaction_cost(tx, self.controller.price_at)
        return None

    async def session_history(self, start: datetime, end: datetime) -> list[SessionRecord]:
        """Sessions that ended in [start, end), oldest first, each with its cost at the site's
        prices (the tariff, overridden by pushed prices) over its stored register readings."""
        bindings = self.controller.bindings.items()
        by_place = {(b.charge_point_id, b.connector_id): i for i, b in bindings}
        found = []
        for tx in await self.central.closed_transactions(start, end):
            assert tx.stopped_at is not None
            found.append(
                SessionRecord(
                    charger_id=by_place.get((tx.charge_point_id, tx.connector_id)),
                    charge_point_id=tx.charge_point_id,
                    connector_id=tx.connector_id,
                    card=tx.id_tag,
                    started_at=tx.started_at,
                    stopped_at=tx.stopped_at,
                    energy_kwh=round(tx.energy_wh / 1000, 3),
                    cost=await self.central.transaction_cost(tx, self.controller.price_at),
                    stop_reason=tx.stop_reason,
                )
            )
        return found
