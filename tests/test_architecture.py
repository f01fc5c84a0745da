"""The architecture's layering, as rules over the imports of every module (docs/architecture.md).

Each rule names the modules it holds for, the modules they must never import and the exceptions;
imports are read from the AST (anywhere in a module, `TYPE_CHECKING` blocks too) with relative
imports resolved against the importing module. Every rule carries a module that breaks it, and a
test writes that module into a temporary tree and shows the rule catches it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HA_FREE = ["custom_components/eflux/core", "backend", "mqtt_bridge", "sim"]
# Where modules are looked for (the rest of the repository is docs, data and tooling).
TOP_PACKAGES = ("custom_components", "backend", "mqtt_bridge", "sim", "tests", "benches")

INTEGRATION = "custom_components.eflux"
CORE = f"{INTEGRATION}.core"
# The HA layer's config-flow and setup helpers: they parse the user's settings and probe
# meters, the cloud and OCPP schemas, which no running site does, so they may import the core
# packages that do that. Every other module of the HA layer uses the door (runtime, domain).
FLOW_HELPERS = tuple(
    f"{INTEGRATION}.{name}"
    for name in (
        "config_flow",
        "flow_steps",
        "checks",
        "site_config",
        "meter_link",
        "ocpp_schemas",
        "security_flow",
        "planning_flow",
        "console_flow",  # the console's password hash (core/runner/console/hashing.py)
        "local_api",  # serves core's local API from HA: the runner's own start (runner/serve.py)
    )
)


@dataclass(frozen=True)
class Rule:
    """Modules under `modules` (less `exempt`) never import anything under `forbidden`,
    except what is under `allowed`. Names are dotted prefixes: `a.b` covers `a.b` and `a.b.*`."""

    name: str
    modules: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()
    # A module (path, source) that breaks the rule: proof that the rule can fail.
    wrong: tuple[str, str] = ("", "")

    def holds_for(self, module: str) -> bool:
        return under(module, self.modules) and not under(module, self.exempt)

    def breaks(self, imported: str) -> bool:
        return under(imported, self.forbidden) and not under(imported, self.allowed)


RULES = (
    Rule(
        "core never imports the HA layer, sim or tests",
        modules=(CORE,),
        forbidden=(INTEGRATION, "sim", "tests"),
        allowed=(CORE,),
        wrong=("custom_components/eflux/core/loadcontrol/wrong.py", "from ...const import DOMAIN"),
    ),
    Rule(
        "backend never imports the integration",
        modules=("backend",),
        forbidden=("custom_components",),
        wrong=("backend/api/wrong.py", "from custom_components.eflux.core import domain"),
    ),
    Rule(
        "product code never imports sim or tests",
        modules=("custom_components", "backend", "mqtt_bridge"),
        forbidden=("sim", "tests"),
        wrong=("mqtt_bridge/wrong.py", "import sim.ocpp16"),
    ),
    Rule(
        "balancing and planning import neither central nor meters",
        modules=(f"{CORE}.balancing", f"{CORE}.planning"),
        forbidden=(f"{CORE}.central", f"{CORE}.meters"),
        wrong=("custom_components/eflux/core/planning/wrong.py", "from ..meters import reading"),
    ),
    Rule(
        "central never imports cloud",
        modules=(f"{CORE}.central",),
        forbidden=(f"{CORE}.cloud",),
        wrong=(
            "custom_components/eflux/core/central/wrong.py",
            "from ..cloud.client import CloudClient",
        ),
    ),
    Rule(
        "domain is the shared vocabulary: it imports nothing of the integration",
        modules=(f"{CORE}.domain",),
        forbidden=(INTEGRATION,),
        wrong=("custom_components/eflux/core/domain.py", "from .balancing import Mode"),
    ),
    Rule(
        "HA platform files import from core only runtime and domain",
        modules=(INTEGRATION,),
        forbidden=(CORE,),
        allowed=(f"{CORE}.runtime", f"{CORE}.domain"),
        exempt=(CORE, *FLOW_HELPERS),
        wrong=(
            "custom_components/eflux/sensor.py",
            "from .core.loadcontrol.snapshot import ChargerSnapshot",
        ),
    ),
)


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


def module_name(relative: Path) -> tuple[str, bool]:
    """The dotted name of a module file, and whether it is a package's `__init__`."""
    parts = relative.with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imported_names(module: str, is_package: bool, source: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything the module imports; `from a import b` gives `a.b`
    (a submodule or a name in `a`: either is under `a`), relative imports resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                up = node.level - 1
                if up > len(package) - 1:
                    raise ValueError(f"{module}: relative import beyond the top package")
                parts = package[: len(package) - up] + ([base] if base else [])
                base = ".".join(parts)
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"


def violations(rule: Rule, root: Path) -> list[str]:
    found = []
    for top in TOP_PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            relative = path.relative_to(root)
            module, is_package = module_name(relative)
            if not rule.holds_for(module):
                continue
            source = path.read_text(encoding="utf-8")
            for line, name in imported_names(module, is_package, source):
                if rule.breaks(name):
                    found.append(f"{relative}:{line} imports {name}")
    return found


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_the_tree_keeps_the_rule(rule: Rule) -> None:
    assert violations(rule, ROOT) == [], rule.name


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_a_wrong_import_breaks_the_rule(rule: Rule, tmp_path: Path) -> None:
    relative, source = rule.wrong
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(f'"""A module that must not pass."""\n\n{source}\n', encoding="utf-8")
    assert violations(rule, tmp_path) == [f"{relative}:3 imports {_target(rule.wrong)}"]


def _target(wrong: tuple[str, str]) -> str:
    relative, source = wrong
    module, is_package = module_name(Path(relative))
    [(_, name)] = imported_names(module, is_package, source)
    return name


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        # from a module: `.` is its package
        (f"{CORE}.balancing.work", "from ..central import CentralSystem", f"{CORE}.central"),
        (f"{CORE}.balancing.work", "from .site import Site", f"{CORE}.balancing.site"),
        (f"{INTEGRATION}.sensor", "from .core import runtime", f"{CORE}.runtime"),
        (f"{INTEGRATION}.sensor", "from . import core", f"{CORE}"),
        (f"{CORE}.loadcontrol.view", "from ... import const", f"{INTEGRATION}.const"),
        # from a package's __init__: `.` is the package itself
        (f"{CORE}.central", "from .events import CentralEvent", f"{CORE}.central.events"),
        (f"{CORE}.central", "from ..cloud import sync", f"{CORE}.cloud.sync"),
        ("backend", "import custom_components.eflux.core.domain as d", f"{CORE}.domain"),
        ("sim", "from tests.support import x", "tests.support"),
    ],
)
def test_relative_imports_are_resolved(module: str, source: str, expected: str) -> None:
    is_package = module in (f"{CORE}.central", "backend", "sim")
    [(_, name)] = imported_names(module, is_package, source)
    assert under(name, (expected,))


def test_a_relative_import_above_the_top_package_is_an_error() -> None:
    with pytest.raises(ValueError, match="beyond the top package"):
        list(imported_names("backend.app", False, "from ... import x"))


PLATFORMS = "HA platform files import from core only runtime and domain"
CORE_ALONE = "core never imports the HA layer, sim or tests"


@pytest.mark.parametrize(
    ("rule_name", "module", "imported", "breaks"),
    [
        (PLATFORMS, f"{INTEGRATION}.switch", f"{CORE}.runtime.LocalSite", False),
        (PLATFORMS, f"{INTEGRATION}.switch", f"{CORE}.domain.DepartureRequest", False),
        (PLATFORMS, f"{INTEGRATION}.switch", f"{CORE}.runtime_extra", True),
        (PLATFORMS, f"{INTEGRATION}.switch", CORE, True),
        (PLATFORMS, INTEGRATION, f"{CORE}.central", True),
        (PLATFORMS, FLOW_HELPERS[0], f"{CORE}.net", None),
        (PLATFORMS, f"{CORE}.runtime", f"{CORE}.central", None),
        (CORE_ALONE, f"{CORE}.runtime", f"{INTEGRATION}.const", True),
        (CORE_ALONE, f"{CORE}.runtime", "simplejson", False),
    ],
)
def test_rule_scope(rule_name: str, module: str, imported: str, breaks: bool | None) -> None:
    """`breaks` None: the rule does not hold for that module at all."""
    [rule] = [r for r in RULES if r.name == rule_name]
    if breaks is None:
        assert not rule.holds_for(module)
    else:
        assert rule.holds_for(module)
        assert rule.breaks(imported) is breaks


def test_the_scan_reads_the_real_tree() -> None:
    """Without the flow helpers' exemption the platform rule finds their imports: the scan
    walks the real modules (a rule that passes on the tree passes for a reason)."""
    [rule] = [r for r in RULES if r.name == PLATFORMS]
    found = violations(replace(rule, exempt=(CORE,)), ROOT)
    assert any(line.startswith("custom_components/eflux/meter_link.py:") for line in found)


# ---- the door: the HA layer and the runner's API reach the core only through LocalSite -------
DOOR_CLIENTS = (
    "custom_components/eflux",
    "custom_components/eflux/core/runner",
    "custom_components/eflux/core/runner/console",
)
BEHIND_THE_DOOR = frozenset({"central", "controller"})


def around_the_door(source: str) -> list[int]:
    """Lines that reach `<x>.central` or `<x>.controller` (the site's parts behind `LocalSite`);
    `config.central` and `config.controller` are settings, not the running parts."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or node.attr not in BEHIND_THE_DOOR:
            continue
        owner = node.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if owner_name != "config":
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("folder", DOOR_CLIENTS)
def test_clients_use_only_the_door(folder: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / folder).glob("*.py"))
        for line in around_the_door(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"use LocalSite's methods: {offenders}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("site.central.add_listener(f)", [1]),
        ("x = 1\nself.coordinator.site.controller.result", [2]),
        ("entry.runtime_data.site.central", [1]),
        ("port = site.config.central.port\ntag = config.controller.start_id_tag", []),
        ("site.add_event_listener(f)", []),
    ],
)
def test_door_detector(source: str, expected: list[int]) -> None:
    assert around_the_door(source) == expected


# ---- only the HA layer imports Home Assistant ------------------------------------------------
def homeassistant_imports(source: str) -> list[int]:
    """Line numbers of statements importing `homeassistant` (anywhere in the module)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "homeassistant" or name.startswith("homeassistant.") for name in names):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("package", HA_FREE)
def test_package_never_imports_homeassistant(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in homeassistant_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"{package} must not import homeassistant: {offenders}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import homeassistant", [1]),
        ("import os\nfrom homeassistant.core import HomeAssistant", [2]),
        ("def f():\n    import homeassistant.helpers as h", [2]),
        ("import homeassistant_like\nfrom . import homeassistant", []),
    ],
)
def test_detector_finds_every_form(source: str, expected: list[int]) -> None:
    assert homeassistant_imports(source) == expected
