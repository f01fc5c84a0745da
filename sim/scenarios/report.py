"""The scenario's printed summary and its verdict (the exit code of scripts/scenario)."""

from __future__ import annotations

from dataclasses import dataclass

from .record import Judgement
from .spec import PHASES, Scenario


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    problems: tuple[str, ...]


def _hms(seconds: float) -> str:
    seconds = max(0.0, seconds)
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def verdict(scenario: Scenario, j: Judgement) -> Verdict:
    bound = scenario.reaction_bound.total_seconds()
    window = scenario.starvation_window.total_seconds()
    problems = [
        f"{circuit} {PHASES[phase]} over its {j.fuses[circuit][phase]:g} A fuse for"
        f" {o.longest_s:.1f} s from +{_hms(o.longest_at)} (bound {bound:g} s)"
        for circuit, phase, o in j.over_bound(bound)
    ]
    problems += [
        f"car {car} starved: waited {j.waits[car] / 60:.1f} min with demand"
        for car in j.starved(window)
    ]
    return Verdict(not problems, tuple(problems))


def summary(
    scenario: Scenario, j: Judgement, seen: dict[str, list[float]], wall_s: float, lag_s: float
) -> str:
    lines = [
        f"scenario {scenario.name}: {_hms(j.until_s)} of simulated time in {wall_s:.1f} s wall"
        f" time (x{j.until_s / wall_s:.0f}); draws judged every 100 ms of simulated time;"
        f" the event loop was late by up to {lag_s:.2f} s of simulated time",
        "",
        f"{'circuit':<10} {'phase':<5} {'fuse A':>7} {'highest A':>10} {'over fuse s':>12}"
        f" {'longest s':>10}",
    ]
    for (circuit, phase), o in j.phases.items():
        lines.append(
            f"{circuit:<10} {PHASES[phase]:<5} {j.fuses[circuit][phase]:>7.1f}"
            f" {o.highest_a:>10.1f} {o.seconds_over:>12.1f} {o.longest_s:>10.1f}"
        )
    lines.append("")
    for step in j.steps:
        if step.answered_after_s is not None:
            answered = f"cars on {PHASES[step.phase]} lowered after {step.answered_after_s:.2f} s"
        elif step.over_fuse_s > 0:
            answered = "NOT answered"
        else:
            answered = "no car lowered (there was room)"
        lines.append(
            f"household step +{step.add_a:g} A on {PHASES[step.phase]} at +{_hms(step.at)}:"
            f" {answered}; {PHASES[step.phase]} over its fuse {step.over_fuse_s:.1f} s in the"
            " minute after"
        )
    for fault in scenario.faults:
        if fault.at.total_seconds() >= j.until_s:
            continue
        what = {
            "meter_silent": f"grid meter silent for {fault.length.total_seconds():g} s",
            "charger_offline": f"charger {fault.charger} offline for"
            f" {fault.length.total_seconds():g} s",
            "overdraw": f"car at {fault.charger} drawing {fault.add_a:g} A over its limit for"
            f" {fault.length.total_seconds():g} s",
        }[fault.kind]
        lines.append(f"fault at +{_hms(fault.at.total_seconds())}: {what}")
    inside = {name: [t for t in times if 0 < t < j.until_s] for name, times in seen.items()}
    observed = ", ".join(
        f"{name} at {' '.join('+' + _hms(t) for t in times[:3])}"
        for name, times in inside.items()
        if times
    )
    lines += [f"observed: {observed or 'nothing'}", ""]
    lines.append(
        f"{'car':<9} {'ph':>2} {'energy kWh':>10} {'charging %':>10} {'longest wait':>12}"
        f" {'SoC end':>7}  ready by departure"
    )
    for car in j.cars:
        ready = "-" if car.ready is None else ("yes" if car.ready else "NO")
        lines.append(
            f"{car.id:<9} {len(car.grid_phases):>2} {car.energy_kwh:>10.2f}"
            f" {100 * j.charging_share[car.id]:>10.0f} {_hms(j.waits[car.id]):>12}"
            f" {car.soc_at_end:>7.1f}  {ready}"
        )
    starved = j.starved(scenario.starvation_window.total_seconds())
    window = scenario.starvation_window.total_seconds() / 60
    lines.append(f"starved cars (waited {window:g} min or more with demand): "
                 f"{', '.join(starved) or 'none'}")  # fmt: skip
    result = verdict(scenario, j)
    lines.append("")
    lines.append("verdict: OK" if result.ok else "verdict: FAILED")
    lines += [f"  - {p}" for p in result.problems]
    return "\n".join(lines)
