"""A Modbus meter simulator: serves a device profile's registers holding given values.

Used by tests, the demo and benches. TCP, RTU over TCP (a serial gateway), or RTU on a serial
port (a pseudo-terminal in tests). Values are encoded through the profile itself, so what a
reader decodes must equal what was set. `fault` makes the device misbehave:
`"exception"` (Modbus exception 4, device failure), `"short"` (one register too few), or
`"silent"` (no answer at all). `on_request`, when set, runs before each request is answered
(a scenario writes the values of that very moment, so a poll reads the present, not a tick's).

    python -m sim.modbus_meter --profile sdm630 --port 5020 --set total_power=3450
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import struct
from collections.abc import Callable, Mapping
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from custom_components.eflux.core.meters.profile import Profile, load_profile

FAULTS = (None, "exception", "short", "silent")
# SunSpec scale factors the simulator writes unless told otherwise (fit int16 ranges).
DEFAULT_SF = -1


class ModbusMeterSim:
    def __init__(
        self,
        profile: Profile | str,
        values: Mapping[str, float] | None = None,
        *,
        device_id: int = 1,
        scale_factors: Mapping[int, int] | None = None,
    ) -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.device_id = device_id
        self.scale_factors = dict(scale_factors or {})
        self.registers: dict[tuple[str, int], int] = {}
        self.fault: str | None = None
        self.requests = 0
        self.on_request: Callable[[], None] | None = None
        self._bus: ModbusBus | None = None
        self.set_values(values or {})

    # -- register contents ----------------------------------------------------------------
    def set_values(self, values: Mapping[str, float]) -> None:
        """Write field values (in the reading's units) into the profile's registers."""
        for spec in self.profile.registers:
            if spec.sf_address is not None:
                sf = self.scale_factors.setdefault(spec.sf_address, DEFAULT_SF)
                self.registers[(spec.register_type, spec.sf_address)] = _int16_word(sf)
        for spec in self.profile.registers:
            if spec.field not in values:
                continue
            sf = self.scale_factors.get(spec.sf_address, 0) if spec.sf_address is not None else 0
            for offset, word in enumerate(spec.encode(values[spec.field], sf)):
                self.registers[(spec.register_type, spec.address + offset)] = word

    def set_registers(self, register_type: str, address: int, words: list[int]) -> None:
        """Write raw register words (tests build them from the manufacturer's table)."""
        for offset, word in enumerate(words):
            self.registers[(register_type, address + offset)] = word

    # -- serving --------------------------------------------------------------------------
    def _device(self) -> SimDevice:
        blocks: dict[str, list[SimData]] = {"holding": [], "input": []}
        for block in self.profile.blocks:
            blocks[block.register_type].append(
                SimData(block.address, count=block.count, values=0, datatype=DataType.REGISTERS)
            )
        placeholder = [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        return SimDevice(
            id=self.device_id,
            simdata=(
                bits,
                bits,
                _merged(blocks["holding"]) or placeholder,
                _merged(blocks["input"]) or placeholder,
            ),
            action=self._action,
        )

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: Any,
    ) -> ExcCodes | None:
        self.requests += 1
        if self.on_request is not None:
            self.on_request()
        if self.fault == "exception":
            return ExcCodes.DEVICE_FAILURE
        reg_type = "input" if function_code == 4 else "holding"
        for addr in range(address, address + count):
            index = addr - start_address
            if 0 <= index < len(current_registers):
                current_registers[index] = self.registers.get((reg_type, addr), 0)
        return None

    async def start_tcp(self, host: str, port: int, *, rtu: bool = False) -> None:
        """Serve Modbus TCP, or RTU frames over TCP (`rtu=True`, like a serial gateway)."""
        self._bus = ModbusBus([self])
        await self._bus.start_tcp(host, port, rtu=rtu)

    async def start_serial(self, port: str, *, baudrate: int = 9600) -> None:
        """Serve Modbus RTU on a serial device (e.g. one end of a pseudo-terminal pair)."""
        self._bus = ModbusBus([self])
        await self._bus.start_serial(port, baudrate=baudrate)

    async def stop(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            await bus.stop()


class ModbusBus:
    """Several simulated devices on one line (an RS485 bus, or one TCP gateway)."""

    def __init__(self, devices: list[ModbusMeterSim]) -> None:
        self.devices = {d.device_id: d for d in devices}
        self._rtu = False
        self._server: ModbusTcpServer | ModbusSerialServer | None = None

    def _trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        device = self.devices.get(pdu.dev_id)
        if sending and device and device.fault == "short" and getattr(pdu, "registers", None):
            pdu.registers = pdu.registers[:-1]
        return pdu

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        # the unit id: first byte of an RTU frame, seventh of a Modbus TCP one (after MBAP)
        index = 0 if self._rtu else 6
        device = self.devices.get(data[index]) if sending and len(data) > index else None
        return b"" if device is not None and device.fault == "silent" else data

    def _sim_devices(self) -> list[SimDevice]:
        return [device._device() for device in self.devices.values()]

    async def start_tcp(self, host: str, port: int, *, rtu: bool = False) -> None:
        self._rtu = rtu
        self._server = ModbusTcpServer(
            self._sim_devices(),
            framer=FramerType.RTU if rtu else FramerType.SOCKET,
            address=(host, port),
            trace_pdu=self._trace_pdu,
            trace_packet=self._trace_packet,
        )
        await self._server.serve_forever(background=True)

    async def start_serial(self, port: str, *, baudrate: int = 9600) -> None:
        self._rtu = True
        self._server = ModbusSerialServer(
            self._sim_devices(),
            port=port,
            baudrate=baudrate,
            trace_pdu=self._trace_pdu,
            trace_packet=self._trace_packet,
        )
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                await server.shutdown()  # type: ignore[no-untyped-call]


def _merged(blocks: list[SimData]) -> list[SimData]:
    """One SimData per profile block, sorted and without overlaps (pymodbus requires that)."""
    out: list[SimData] = []
    end = -1
    for block in sorted(blocks, key=lambda b: b.address):
        start = max(block.address, end)
        stop = block.address + block.count
        if stop > start:
            out.append(SimData(start, count=stop - start, values=0, datatype=DataType.REGISTERS))
            end = stop
    return out


def _int16_word(value: int) -> int:
    return int.from_bytes(struct.pack(">h", value), "big")


async def _main(args: argparse.Namespace) -> None:
    values = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    sim = ModbusMeterSim(args.profile, values, device_id=args.device_id)
    await sim.start_tcp(args.host, args.port, rtu=args.rtu)
    print(f"serving {sim.profile.name} on {args.host}:{args.port} ({'rtu' if args.rtu else 'tcp'})")
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", default="sdm630")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--device-id", type=int, default=1)
    parser.add_argument("--rtu", action="store_true", help="RTU framing over TCP")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
