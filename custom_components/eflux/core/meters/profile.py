"""Device profiles: YAML register maps (address, register type, data type, word/byte order,
scale, unit) and the block plan that reads them with few Modbus requests.

```yaml
# <where the addresses come from>
name: Eastron SDM630
defaults: {register_type: input, data_type: float32}
registers:
  voltage_l1: {address: 0x0000, unit: V}
  total_power: {address: 0x0034, unit: W}
  import_energy: {address: 0x0048, unit: kWh}
```
Field names: current_l1..3, voltage_l1..3, power_l1..3, total_power, import_energy,
export_energy. Optional per register: scale (multiplier; -1 flips the sign), word_order,
byte_order, sf_address (SunSpec: multiply by 10 ** int16 at that address).
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import MeterConfigError
from .values import Fields

PROFILE_DIR = Path(__file__).parent / "profiles"

FIELDS = (
    "current_l1", "current_l2", "current_l3",
    "voltage_l1", "voltage_l2", "voltage_l3",
    "power_l1", "power_l2", "power_l3",
    "total_power", "import_energy", "export_energy",
)  # fmt: skip

# unit -> factor to the reading's unit, per family (A, V, W, kWh)
_UNITS: dict[str, dict[str, float]] = {
    "current": {"A": 1.0, "mA": 0.001},
    "voltage": {"V": 1.0, "mV": 0.001},
    "power": {"W": 1.0, "kW": 1000.0},
    "energy": {"kWh": 1.0, "Wh": 0.001, "MWh": 1000.0},
}

# data type -> (struct code, registers)
DATA_TYPES: dict[str, tuple[str, int]] = {
    "int16": ("h", 1), "uint16": ("H", 1),
    "int32": ("i", 2), "uint32": ("I", 2),
    "int64": ("q", 4), "uint64": ("Q", 4),
    "float32": ("f", 2), "float64": ("d", 4),
}  # fmt: skip

REGISTER_TYPES = ("holding", "input")
ORDERS = ("big", "little")


def family(field_name: str) -> str:
    """current_l1 -> current, total_power -> power, import_energy -> energy."""
    for name in ("energy", "power"):
        if field_name.endswith(name):
            return name
    return field_name.split("_", 1)[0]


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    field: str
    address: int
    register_type: str = "holding"
    data_type: str = "float32"
    word_order: str = "big"
    byte_order: str = "big"
    scale: float = 1.0
    unit_factor: float = 1.0
    sf_address: int | None = None

    @property
    def count(self) -> int:
        return DATA_TYPES[self.data_type][1]

    def raw_value(self, words: Sequence[int]) -> float:
        """The register content as a number (before scale and unit)."""
        ordered = list(words) if self.word_order == "big" else list(reversed(words))
        data = b"".join(
            w.to_bytes(2, "big") if self.byte_order == "big" else w.to_bytes(2, "little")
            for w in ordered
        )
        return float(struct.unpack(">" + DATA_TYPES[self.data_type][0], data)[0])

    def decode(self, words: Sequence[int], sf: int = 0) -> float:
        return self.raw_value(words) * self.scale * self.unit_factor * (10.0**sf)

    def encode(self, value: float, sf: int = 0) -> list[int]:
        """Registers holding `value` (in the reading's unit): the simulator writes these."""
        raw = value / (self.scale * self.unit_factor * (10.0**sf))
        code = DATA_TYPES[self.data_type][0]
        number: float | int = raw if code in "fd" else round(raw)
        data = struct.pack(">" + code, number)
        words = [data[i : i + 2] for i in range(0, len(data), 2)]
        regs = [int.from_bytes(w, "big" if self.byte_order == "big" else "little") for w in words]
        return regs if self.word_order == "big" else list(reversed(regs))


@dataclass(frozen=True, slots=True)
class Block:
    register_type: str
    address: int
    count: int


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    registers: tuple[RegisterSpec, ...]
    blocks: tuple[Block, ...]
    source: str

    def spec(self, field_name: str) -> RegisterSpec | None:
        return next((r for r in self.registers if r.field == field_name), None)


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name (e.g. `sdm630`) or a user's YAML file by path."""
    builtin = PROFILE_DIR / f"{name_or_path}.yaml"
    if "/" not in name_or_path and builtin.is_file():
        return _load_file(str(builtin))
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return _load_file(str(path.resolve()))
    raise MeterConfigError(
        "profile",
        f"unknown profile {name_or_path!r} (built-in: {', '.join(builtin_profiles())}; "
        "or the path of a .yaml file)",
    )


def builtin_profiles() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))


@functools.lru_cache(maxsize=64)
def _load_file(path: str) -> Profile:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise MeterConfigError("profile", f"cannot read {path}: {err}") from err
    return parse_profile(data, where=path)


def parse_profile(data: Any, *, where: str) -> Profile:
    top = Fields(data, where=where)
    top.reject_unknown({"name", "defaults", "registers", "max_block", "max_gap"})
    name = top.text("name")
    defaults = top.sub("defaults")
    defaults.reject_unknown({"register_type", "data_type", "word_order", "byte_order"})
    regs = top.sub("registers")
    if not regs.data:
        raise top.error("registers", "must map at least one field to a register")
    specs = tuple(_parse_register(regs.sub(str(key)), str(key), defaults) for key in regs.data)
    max_block = top.integer("max_block", 80, low=1, high=125)
    max_gap = top.integer("max_gap", 16, low=0, high=125)
    return Profile(name, specs, plan_blocks(specs, max_block, max_gap), where)


def _parse_register(fields: Fields, field_name: str, defaults: Fields) -> RegisterSpec:
    if field_name not in FIELDS:
        raise fields.error("", f"unknown field (known: {', '.join(FIELDS)})")
    fields.reject_unknown(
        {"address", "register_type", "data_type", "word_order", "byte_order", "scale", "unit",
         "sf_address"}
    )  # fmt: skip
    units = _UNITS[family(field_name)]
    unit = fields.choice("unit", tuple(units), next(iter(units)))
    scale = fields.number("scale", 1.0, low=-1e9, high=1e9)
    if scale == 0 or not math.isfinite(scale):
        raise fields.error("scale", "must not be 0")

    def pick(key: str, options: tuple[str, ...], fallback: str) -> str:
        return fields.choice(key, options, defaults.choice(key, options, fallback))

    sf = fields.integer("sf_address", None, low=0, high=65535) if fields.has("sf_address") else None
    return RegisterSpec(
        field=field_name,
        address=fields.integer("address", low=0, high=65535),
        register_type=pick("register_type", REGISTER_TYPES, "holding"),
        data_type=pick("data_type", tuple(DATA_TYPES), "float32"),
        word_order=pick("word_order", ORDERS, "big"),
        byte_order=pick("byte_order", ORDERS, "big"),
        scale=scale,
        unit_factor=units[unit],
        sf_address=sf,
    )


def plan_blocks(specs: Sequence[RegisterSpec], max_block: int, max_gap: int) -> tuple[Block, ...]:
    """Merge nearby registers of one type into as few reads as the device allows."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for spec in specs:
        spans.setdefault(spec.register_type, []).append((spec.address, spec.address + spec.count))
        if spec.sf_address is not None:
            spans[spec.register_type].append((spec.sf_address, spec.sf_address + 1))
    blocks: list[Block] = []
    for reg_type, ranges in sorted(spans.items()):
        start, end = -1, -1
        for low, high in sorted(ranges):
            if start >= 0 and low - end <= max_gap and max(end, high) - start <= max_block:
                end = max(end, high)
                continue
            if start >= 0:
                blocks.append(Block(reg_type, start, end - start))
            start, end = low, high
        blocks.append(Block(reg_type, start, end - start))
    return tuple(blocks)


def decode_fields(profile: Profile, data: Mapping[tuple[str, int], int]) -> dict[str, float]:
    """Field values from register contents keyed by (register type, address)."""
    values: dict[str, float] = {}
    for spec in profile.registers:
        words = [data[(spec.register_type, spec.address + i)] for i in range(spec.count)]
        sf = 0
        if spec.sf_address is not None:
            sf = struct.unpack(">h", data[(spec.register_type, spec.sf_address)].to_bytes(2))[0]
        values[spec.field] = spec.decode(words, sf)
    return values
