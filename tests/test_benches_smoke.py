"""Smoke-run every benchmark in quick mode: not part of the suite, but they must keep working."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHES = sorted((Path(__file__).parent.parent / "benches").glob("bench_*.py"))
ANY_NUMBER = re.compile(r"\d+(\.\d+)?")
# A ratio against a baseline measured in the same run: "x1.8", "14.3x" or the word "ratio".
RATIO = re.compile(r"(\d\s?x\b)|(\bx\s?\d)|ratio", re.IGNORECASE)


def test_every_bench_is_found() -> None:
    assert BENCHES, "benches/ holds no bench_*.py"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("bench", BENCHES, ids=lambda p: p.stem)
def test_bench_quick_mode_runs_and_prints_numbers(bench: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(bench), "--quick"],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=bench.parent.parent,
        check=False,
    )
    output = f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, f"{bench.name} failed:\n{output}"
    assert ANY_NUMBER.search(done.stdout), f"{bench.name} printed no numbers:\n{output}"
    assert RATIO.search(done.stdout), f"{bench.name} printed no ratio to a baseline:\n{output}"
