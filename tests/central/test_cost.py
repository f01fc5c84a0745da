"""2.0.1 costs: the total in the TransactionEventResponse that ends a session, CostUpdated
during it, in the currency the charger shows (set to the site's, or no costs at all)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from custom_components.eflux.core.central import CentralSystem, Transaction
from custom_components.eflux.core.central.cost import session_cost
from custom_components.eflux.core.central.model import MeterSample
from sim.chargepoint import SimBehaviour

from .support import T0, FakeClock, RawCharger, central_config, iso, running_central, sims_against

pytestmark = pytest.mark.asyncio(loop_scope="module")


def two_rates(at: datetime) -> Decimal | None:
    """0.30 per kWh before 09:00, 0.50 from then on (T0 is 08:00 UTC)."""
    return Decimal("0.30") if at < T0 + timedelta(hours=1) else Decimal("0.50")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def priced(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CentralSystem]:
    config = central_config(tmp_path_factory.mktemp("cost"), cost_update_interval=0.05)
    async with running_central(config, FakeClock()) as central:
        central.set_price_source(two_rates)
        yield central


def event(kind: str, seq: int, at: datetime, wh: float, tx_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "timestamp": iso(at),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": tx_id, **extra},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [
            {
                "timestamp": iso(at),
                "sampledValue": [
                    {
                        "value": wh,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh"},
                    }
                ],
            }
        ],
    }


async def test_total_cost_at_the_end_priced_by_the_hour(priced: CentralSystem) -> None:
    half = timedelta(minutes=30)
    async with RawCharger.connect(priced.port, "COST-RAW", "2.0.1") as raw:
        started = await raw.call_ok("TransactionEvent", event("Started", 0, T0, 1000, "C1"))
        assert "totalCost" not in started
        await raw.call_ok("TransactionEvent", event("Updated", 1, T0 + half, 4000, "C1"))
        await raw.call_ok("TransactionEvent", event("Updated", 2, T0 + 2 * half, 7000, "C1"))
        ended = await raw.call_ok(
            "TransactionEvent",
            event("Ended", 3, T0 + 3 * half, 10000, "C1", stoppedReason="EVDisconnected"),
        )
    # 3 kWh at 0.30 (08:00-08:30), 3 kWh at 0.30 (08:30-09:00), 3 kWh at 0.50 (09:00-09:30)
    assert ended["totalCost"] == 3.30


async def test_no_prices_no_cost(tmp_path: Path) -> None:
    async with (
        running_central(central_config(tmp_path), FakeClock()) as central,
        RawCharger.connect(central.port, "COST-NONE", "2.0.1") as raw,
    ):
        await raw.call_ok("TransactionEvent", event("Started", 0, T0, 0, "N1"))
        ended = await raw.call_ok(
            "TransactionEvent", event("Ended", 1, T0 + timedelta(hours=1), 5000, "N1")
        )
        assert "totalCost" not in ended


async def test_cost_updated_during_a_session_in_the_sites_currency(
    priced: CentralSystem,
) -> None:
    async with sims_against(priced, FakeClock()) as make_sim:
        sim = await make_sim("COST-SIM", "2.0.1", configuration={"TariffCostCtrlr.Currency": "GBP"})
        await sim.plug_in("CARD-OK")
        await sim.wait_for_call("CostUpdated")
        assert sim.configuration["TariffCostCtrlr.Currency"] == "EUR"  # set to the site's
        update = sim.calls("CostUpdated")[0]
        assert update["transactionId"] == sim.transaction.id  # type: ignore[union-attr]
        assert update["totalCost"] >= 0


async def test_a_charger_keeping_another_currency_gets_no_costs(priced: CentralSystem) -> None:
    async with sims_against(priced, FakeClock()) as make_sim:
        sim = await make_sim(
            "COST-USD",
            "2.0.1",
            configuration={"TariffCostCtrlr.Currency": "USD"},
            behaviour=SimBehaviour(rejects_configuration_changes=True),
        )
        await sim.plug_in("CARD-OK")
        await sim.wait_for(lambda: "COST-USD" in priced._hub.cost.refused)
        assert sim.calls("CostUpdated") == []
        assert sim.configuration["TariffCostCtrlr.Currency"] == "USD"


BASE = Transaction(
    id="P", charge_point_id="X", connector_id=1, id_tag=None, card_status="Accepted",
    started_at=T0, meter_start_wh=0.0,
)  # fmt: skip


@given(steps=st.lists(st.integers(0, 5000), max_size=40), price=st.decimals("0", "1", places=4))
async def test_one_price_costs_the_energy_times_the_price(steps: list[int], price: Decimal) -> None:
    samples, wh = [], 0
    for i, step in enumerate(steps):
        wh += step
        samples.append(MeterSample(T0 + timedelta(minutes=i + 1), energy_wh=float(wh)))
    cost = session_cost(BASE, samples, lambda _at: price)
    assert cost == (Decimal(wh) / 1000 * price).quantize(Decimal("0.01"), ROUND_HALF_UP)


async def test_an_hour_without_price_means_no_cost() -> None:
    samples = [MeterSample(T0 + timedelta(hours=2), energy_wh=1000.0)]
    closed = replace(BASE, stopped_at=T0 + timedelta(hours=3), meter_stop_wh=2000.0)
    assert session_cost(closed, samples, lambda at: None if at.hour == 10 else Decimal(1)) is None
    assert session_cost(closed, samples, lambda at: Decimal(1)) == Decimal("2.00")
