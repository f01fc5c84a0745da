"""Who may charge and which chargers may boot: the admin half of `LocalSite`'s door.

Cards of the site's own list, charge points waiting for approval, and password rotation, so
that the runner's API (and Home Assistant) need not reach the central system behind the door.
A charger id of a balanced charger names its charge point; any other id is taken as a charge
point id as it connected.
"""

from __future__ import annotations

from .central import CentralSystem
from .domain import Card
from .loadcontrol.controller import Controller


class SiteAdminCommands:
    """Mixed into `LocalSite` (which builds `central` and `controller`)."""

    central: CentralSystem
    controller: Controller

    def charge_point_of(self, ident: str) -> str:
        """The charge point of a balanced charger `ident`, else `ident` itself."""
        binding = self.controller.bindings.get(ident)
        return binding.charge_point_id if binding is not None else ident

    def is_known_charge_point(self, ident: str) -> bool:
        """A balanced charger, or (the charge point of) one that has connected at least once."""
        return (
            ident in self.controller.bindings
            or self.charge_point_of(ident) in self.central.charge_points()
        )

    # ---- cards ---------------------------------------------------------------------------------
    def cards(self) -> dict[str, list[Card]]:
        """Every card by source ("site", "config", "cloud")."""
        return self.central.cards()

    def master_pass_group(self) -> str | None:
        return self.central.config.authorization.master_pass_group

    async def set_card(self, card: Card) -> Card:
        """Add or change a card of the site's own list; answers it as stored."""
        return await self.central.set_card(card)

    async def remove_card(self, uid: str) -> bool:
        """False when the site's own list has no such card."""
        return await self.central.remove_card(uid)

    # ---- boot approval and passwords -------------------------------------------------------------
    def unprotected_charge_points(self) -> list[str]:
        """Charge points connected with no password or certificate (HA: a repair issue)."""
        return self.central.unprotected_charge_points()

    def pending_charge_points(self) -> list[str]:
        return self.central.pending_charge_points()

    async def approve(self, ident: str) -> str:
        """Accept a charge point held Pending; answers its charge point id."""
        cp_id = self.charge_point_of(ident)
        await self.central.approve(cp_id)
        return cp_id

    async def rotate_password(self, ident: str, password: str | None = None) -> str:
        """A new password for a connected charger (generated unless given); answers it."""
        return await self.central.rotate_password(self.charge_point_of(ident), password)
