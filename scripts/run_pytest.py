"""Run pytest in two groups: the HA tests with the HA test plugin, everything else without it.

pytest-homeassistant-custom-component patches sockets, the event loop policy and time for every
test it sees, so it is enabled for `tests/ha/` only. Path arguments are routed to their group;
other arguments go to both. Coverage is collected across both runs and summarised at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HA_TESTS = ROOT / "tests" / "ha"
SCENARIO_GROUP = "scenario"
PYTHON = sys.executable
COVERAGE_SOURCES = ["custom_components", "backend", "mqtt_bridge", "sim"]


def _is_path(arg: str) -> bool:
    return not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists()


def _in_ha_group(arg: str) -> bool:
    target = (ROOT / arg.split("::")[0]).resolve()
    return target == HA_TESTS or HA_TESTS in target.parents


def _groups(args: list[str]) -> list[tuple[str, list[str]]]:
    paths = [a for a in args if _is_path(a)]
    options = [a for a in args if not _is_path(a)]
    if not paths:
        return [
            (
                "core",
                [
                    "tests",
                    "--ignore=tests/ha",
                    "--ignore=tests/scenario",
                    "-p",
                    "no:homeassistant",
                    *options,
                ],
            ),
            # The skipping event loop treats any other busy thread as work to wait for, so the
            # scenarios run in a process of their own without xdist's worker threads.
            (SCENARIO_GROUP, ["tests/scenario", "-p", "no:homeassistant", *options]),
            ("ha", ["tests/ha", *options]),
        ]
    core = [p for p in paths if not _in_ha_group(p)]
    ha = [p for p in paths if _in_ha_group(p)]
    groups = []
    if core:
        groups.append(("core", [*core, "--ignore=tests/ha", "-p", "no:homeassistant", *options]))
    if ha:
        groups.append(("ha", [*ha, *options]))
    return groups


def main() -> int:
    args = sys.argv[1:]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    workers = [] if any(a.startswith(("-n", "--numprocesses")) for a in args) else ["-n", "auto"]
    cov = [f"--cov={s}" for s in COVERAGE_SOURCES] + ["--cov-report="]
    codes = []
    for index, (name, group_args) in enumerate(_groups(args)):
        print(f"-- pytest group '{name}'", flush=True)
        append = ["--cov-append"] if index else []
        serial = ["-p", "no:xdist"] if name == SCENARIO_GROUP else workers
        cmd = [PYTHON, "-m", "pytest", *serial, *cov, *append, *group_args]
        codes.append(subprocess.call(cmd, cwd=ROOT, env=env))
    subprocess.call(
        [PYTHON, "-m", "coverage", "report", "--skip-covered", "--skip-empty", "--sort=cover"],
        cwd=ROOT,
    )
    # 5 = no tests collected: fine for one group (a -k matching only the other), not for all.
    if all(code == 5 for code in codes):
        return 5
    return next((code for code in codes if code not in (0, 5)), 0)


if __name__ == "__main__":
    sys.exit(main())
