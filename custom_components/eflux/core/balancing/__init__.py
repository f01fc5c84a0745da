"""Load balancing: share the grid connection among chargers, per phase, over a circuit tree.

Pure functions over immutable dataclasses; no clock, no I/O, no asyncio. Build a `CompiledSite`
once with `compile_site(site)` and a `PassMemo(compiled)` beside the state, then call
`balance(compiled, inputs, state, now, memo)` on every meter reading or charger event and keep
`result.state` (and the memo, which only saves time) for the next call.
"""

from .balancer import balance
from .inputs import ChargerInput, SiteInputs
from .memo import PassMemo
from .result import BalanceResult, ChargerAllocation, ChargerStatus, Reason, SiteStatus
from .site import (
    ALL_PHASES,
    IEC_MIN_CURRENT_A,
    Charger,
    Circuit,
    MeterLossPolicy,
    Mode,
    Phase,
    PhaseAmps,
    Site,
    SiteConfigError,
    Tuning,
    per_phase,
)
from .state import BalancerState, ChargerState
from .topology import CompiledSite, compile_site

__all__ = [
    "ALL_PHASES",
    "IEC_MIN_CURRENT_A",
    "BalanceResult",
    "BalancerState",
    "Charger",
    "ChargerAllocation",
    "ChargerInput",
    "ChargerState",
    "ChargerStatus",
    "Circuit",
    "CompiledSite",
    "MeterLossPolicy",
    "Mode",
    "PassMemo",
    "Phase",
    "PhaseAmps",
    "Reason",
    "Site",
    "SiteConfigError",
    "SiteInputs",
    "SiteStatus",
    "Tuning",
    "balance",
    "compile_site",
    "per_phase",
]
