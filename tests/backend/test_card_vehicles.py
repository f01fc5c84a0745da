"""`GET/PUT /api/v1/cards/{id}/vehicle` on both engines: the owner names the card's driver and
car, hostile bodies change nothing, another account cannot see or set it, and the site gets it
with its next card delta (the card's own account only)."""

from __future__ import annotations

from typing import Any

from .conftest import Api

CAR = {
    "name": "ID.3",
    "battery_kwh": 58,
    "max_power_kw": 11,
    "phases": 3,
    "target_soc": 80,
    "departures": {"mon": "07:30", "fri": "08:00"},
}


async def test_the_owner_names_the_cards_car_and_the_site_gets_it_in_its_delta(api: Api) -> None:
    card = api.ids["ann_card"]
    status, _ = await api.call("GET", f"/cards/{card}/vehicle", "ann")
    assert status == 404
    _, before = await api.call("GET", "/sync/cards?since=0", "site")
    assert before["cards"][0]["vehicle"] is None
    version = before["version"]
    status, body = await api.call(
        "PUT", f"/cards/{card}/vehicle", "ann", json={"driver": "Ann", "car": CAR}
    )
    assert status == 200
    assert body == {"card_id": card, "driver": "Ann", "car": CAR}
    assert (await api.call("GET", f"/cards/{card}/vehicle", "ann")) == (200, body)
    _, delta = await api.call("GET", f"/sync/cards?since={version}", "site")
    assert [c["uid"] for c in delta["cards"]] == ["ANN01"]  # it travels as a card change
    assert delta["cards"][0]["vehicle"] == {"driver": "Ann", "car": CAR}
    # A second PUT replaces it (a car without departures).
    smaller = {"name": "Zoe", "battery_kwh": 52, "phases": 1}
    status, body = await api.call("PUT", f"/cards/{card}/vehicle", "ann", json={"car": smaller})
    assert status == 200
    assert body["car"]["departures"] == {}
    assert body["driver"] == ""


async def test_hostile_vehicles_are_refused_and_change_nothing(api: Api) -> None:
    card = api.ids["ann_card"]
    await api.call("PUT", f"/cards/{card}/vehicle", "ann", json={"driver": "Ann", "car": CAR})
    hostile: list[Any] = [
        {"car": {**CAR, "phases": 2}},
        {"car": {**CAR, "battery_kwh": -1}},
        {"car": {**CAR, "battery_kwh": "60"}},
        {"car": {**CAR, "target_soc": 101}},
        {"car": {**CAR, "departures": {"someday": "07:00"}}},
        {"car": {**CAR, "departures": {"mon": "24:00"}}},
        {"car": {**CAR, "wheels": 4}},
        {"car": {**CAR, "name": "x" * 61}},
        {"car": {**CAR, "name": "nul\x00"}},
        {"driver": "d" * 101, "car": CAR},
        {"driver": "Ann"},
        {"car": CAR, "colour": "red"},
        [CAR],
    ]
    for body in hostile:
        status, answer = await api.call("PUT", f"/cards/{card}/vehicle", "ann", json=body)
        assert status == 400, (body, answer)
    _, kept = await api.call("GET", f"/cards/{card}/vehicle", "ann")
    assert kept == {"card_id": card, "driver": "Ann", "car": CAR}
    # Another customer's card: not found, for reading and for writing.
    assert (await api.call("GET", f"/cards/{card}/vehicle", "bob"))[0] == 404
    status, _ = await api.call("PUT", f"/cards/{card}/vehicle", "bob", json={"car": CAR})
    assert status == 404
    assert (await api.call("PUT", "/cards/999999/vehicle", "admin", json={"car": CAR}))[0] == 404
