"""`python -m sim.chargepoint --url ws://127.0.0.1:9000 --id CP1 --version 1.6 [--card TAG]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from custom_components.eflux.core.runner.timebase import add_time_options, clock_from_args

from .car import Car
from .core import SimChargePoint


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A simulated OCPP charge point with a car.")
    parser.add_argument("--url", default="ws://127.0.0.1:9000", help="central system base URL")
    parser.add_argument("--id", default="SIM-CP-1", help="charge point id")
    parser.add_argument("--version", choices=("1.6", "2.0.1"), default="1.6")
    parser.add_argument("--password", help="basic auth password (security profile 1)")
    parser.add_argument("--card", help="plug a car in and start charging with this card")
    parser.add_argument("--battery-kwh", type=float, default=60.0)
    parser.add_argument("--soc", type=float, default=40.0)
    parser.add_argument("--car-amps", type=float, default=16.0)
    parser.add_argument("--phases", type=int, choices=(1, 3), default=3)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--vendor", default="E-Flux")
    parser.add_argument("--model", default="SimCharger")
    parser.add_argument("-v", "--verbose", action="store_true")
    add_time_options(parser)  # the same --time-scale/--time-epoch as eflux-local
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> None:
    car = Car(
        battery_kwh=args.battery_kwh, soc=args.soc, max_current_a=args.car_amps, phases=args.phases
    )
    sim = SimChargePoint(
        args.url,
        args.id,
        args.version,
        car,
        password=args.password,
        speed=args.speed,
        clock=clock_from_args(args),
        vendor=args.vendor,
        model=args.model,
    )
    runner = asyncio.create_task(sim.run())
    await sim.booted.wait()
    print(f"{args.id}: connected to {args.url} with OCPP {args.version}", flush=True)
    if args.card:
        await sim.plug_in(args.card)
    try:
        while not runner.done():
            await sim.timers.sleep(5)
            limit = "none" if sim.limit_a is None else f"{sim.limit_a:.1f} A"
            print(
                f"{sim.status:<14} limit {limit:<8} drawing {sim.amps:4.1f} A  "
                f"SoC {sim.car.soc:5.1f} %  register {sim.register_wh / 1000:.3f} kWh",
                flush=True,
            )
    finally:
        await sim.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
