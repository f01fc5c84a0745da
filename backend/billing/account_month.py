"""One account's documents for one billing month: the lines of its invoice and its overage
invoices. Used by `invoicer.run_month`; see its docstring for the whole run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from .advance import fee_lines
from .bundles import allocate, allowance, late_overage, price_overage
from .calendar import Month, local_date
from .charges import CardRecord, OneOffCharge, billable_to_customer
from .contracts import Contract
from .idle_fee import idle_fee_fraction
from .indexation import Indexation, indexed_fee
from .invoices import DocumentKind, InvoiceDraft, InvoiceLine, LineKind, due_date
from .money import Price, VatSplit
from .outages import Outage, compensated_days, compensation, days_text
from .plans import IDLE_FEE, Plan, PlanForm, PlanKind
from .prorata import month_fraction
from .sessions import ChargingSession, Network
from .switches import PlanSwitch, plan_on


@dataclass(frozen=True, slots=True)
class Skipped:
    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class Context:
    """What every account of a run shares, indexed once so a run stays linear in its input."""

    month: Month
    issued_on: date
    contracts: Mapping[str, Contract]
    cards: Mapping[str, CardRecord]
    switches: Mapping[str, Sequence[PlanSwitch]]  # by contract id
    outages: Mapping[str, Sequence[Outage]]  # by contract id
    charging_days: Mapping[str, Sequence[date]]  # by charge point: days with energy charged
    sessions: Sequence[ChargingSession]  # every session given, all months, unique, in order
    accounted: frozenset[str]  # session ids earlier documents already account for

    indexations: Sequence[Indexation]
    customer_since: Mapping[str, date]  # by account: acceptance of its first contract
    fees_billed: Mapping[str, VatSplit] = field(default_factory=dict)  # advance.py

    def plan(self, contract: Contract, day: date) -> Plan:
        return plan_on(contract, self.switches.get(contract.id, ()), day)

    def monthly_fee(self, contract: Contract, day: date) -> Price:
        """The plan's fee on `day`, after the CPI indexations that apply to this customer."""
        since = self.customer_since.get(contract.account_id, day)
        return indexed_fee(self.plan(contract, day).monthly_fee, self.indexations, since, day)


@dataclass
class AccountMonth:
    ctx: Context
    account_id: str
    skipped: list[Skipped] = field(default_factory=list)
    # own-network sessions a bundle covers, per (contract id, usage month, late?)
    bundled: dict[tuple[str, Month, bool], list[ChargingSession]] = field(default_factory=dict)
    accounted: list[str] = field(default_factory=list)

    def contract_lines(self, contract: Contract) -> list[InvoiceLine]:
        service, month, ctx = contract.service, self.ctx.month, self.ctx
        lines = fee_lines(ctx, contract)  # in advance, with the month's settlement (22.1)
        if service is None or service.intersect(month.period) is None:
            return lines
        first_day = max(month.first, service.start)
        plan = ctx.plan(contract, first_day)
        if plan.kind is PlanKind.CHARGE_POINT and plan.form is PlanForm.FLEXIBLE:
            days = ctx.charging_days.get(contract.charge_point_id or "", ())
            idle = idle_fee_fraction(service, days, month)
            if idle:
                text = f"No charging for more than 30 days ({month})"
                amount = IDLE_FEE.times(idle).split()
                lines.append(InvoiceLine(LineKind.IDLE_FEE, text, amount, ref=contract.id))
        for switch in ctx.switches.get(contract.id, ()):
            if Month.of(switch.requested_on) == month:
                text = f"Plan change to {switch.new_plan.name} from {switch.effective_on}"
                ref = f"{contract.id}:{switch.requested_on}"
                lines.append(InvoiceLine(LineKind.PLAN_SWITCH_FEE, text, switch.fee.split(), ref))
        for outage in sorted(ctx.outages.get(contract.id, ()), key=lambda o: (o.ended_at, o.id)):
            if outage.month != month:
                continue
            fee = ctx.monthly_fee(contract, local_date(outage.started_at))
            credit = compensation(outage, fee)
            if credit.cents:
                count = days_text(compensated_days(outage))
                text = f"Outage compensation, {count} day(s) ({outage.id})"
                lines.append(
                    InvoiceLine(LineKind.OUTAGE_CREDIT, text, (-credit).split(), ref=outage.id)
                )
        return lines

    def session_lines(self, sessions: Sequence[ChargingSession]) -> list[InvoiceLine]:
        """Priced sessions (this month's and late ones); bundle-covered ones are collected."""
        ctx, lines = self.ctx, []
        for session in sessions:
            late = session.month != ctx.month
            card = ctx.cards[session.card_uid]
            if not billable_to_customer(session, card):
                self.skipped.append(Skipped(session.id, "started after the card was blocked"))
                continue
            contract = ctx.contracts.get(card.contract_id)
            if contract is None:
                self.skipped.append(Skipped(session.id, f"unknown contract {card.contract_id}"))
                continue
            plan = ctx.plan(contract, session.local_day)
            if plan.kind is PlanKind.PREPAID:
                continue  # paid from the prepaid balance, not invoiced
            self.accounted.append(session.id)
            if plan.bundle is not None and session.network is Network.OWN:
                self.bundled.setdefault((contract.id, session.month, late), []).append(session)
                continue
            cost = session.cost()
            if not cost.cents:  # no start fee, no energy, no time: nothing to bill
                continue
            text = (
                f"{'late: ' if late else ''}{session.network.value} session "
                f"{session.charge_point_id} {session.local_day} {session.energy_wh / 1000:.3f} "
                f"kWh {session.connected_seconds // 60} min"
            )
            lines.append(InvoiceLine(LineKind.SESSION, text, cost.split(), session.id))
        return lines

    def overage_drafts(self) -> list[InvoiceDraft]:
        drafts = []
        for (contract_id, usage, late), covered in sorted(
            self.bundled.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])
        ):
            draft = self._overage_draft(self.ctx.contracts[contract_id], usage, covered, late)
            if draft is not None:
                drafts.append(draft)
        return drafts

    def _overage_draft(
        self, contract: Contract, usage: Month, covered: list[ChargingSession], late: bool
    ) -> InvoiceDraft | None:
        ctx, service = self.ctx, contract.service
        if service is None or service.intersect(usage.period) is None:
            return None
        plan = ctx.plan(contract, max(usage.first, service.start))
        if plan.bundle is None:
            return None
        credit = allowance(plan.bundle, month_fraction(service, usage))
        if late:
            # Compare with what the month's invoice already accounted for (art. 22.4).
            on_time = [
                s
                for s in ctx.sessions
                if s.id in ctx.accounted
                and s.month == usage
                and s.card_uid in ctx.cards
                and ctx.cards[s.card_uid].contract_id == contract.id
            ]
            items = late_overage(on_time, covered, credit)
        else:
            items = allocate(covered, credit)
        charges, expired = price_overage(items, plan.overage, ctx.issued_on)
        for item in expired:
            reason = f"{item.component.value} overage older than 3 months"
            self.skipped.append(Skipped(item.session_id, reason))
        lines = tuple(
            InvoiceLine(
                LineKind.OVERAGE,
                f"{c.units} {c.component.label} beyond the bundle {usage}",
                c.price.split(),
                ref=f"{contract.id}:{c.component.value}",
                quantity=c.units,
                unit=c.component.unit,
            )
            for c in charges
        )
        if not lines:
            return None
        key = f"{contract.id}/late-{ctx.month}" if late else contract.id
        return InvoiceDraft(
            DocumentKind.OVERAGE_INVOICE,
            contract.account_id,
            usage,
            ctx.issued_on,
            lines,
            due_date(ctx.issued_on),
            key=key,
            sessions=tuple(s.id for s in covered),
        )

    def charge_lines(self, charges: Sequence[OneOffCharge]) -> list[InvoiceLine]:
        return [
            InvoiceLine(c.kind, c.description, c.price.split(), ref=c.id)
            for c in sorted(charges, key=lambda c: (c.on, c.id))
            if c.account_id == self.account_id and Month.of(c.on) == self.ctx.month
        ]
