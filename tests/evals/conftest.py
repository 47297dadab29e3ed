"""Fixtures for the evals tests: a SIMULATED endpoint started as a real subprocess over HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Simulator:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evals.simulator", "--port", "0", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("SIMULATOR READY"):
            self.stop()
            raise RuntimeError(f"simulator failed to start: {line!r}")
        self.base_url = line.split()[2]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def start(*args: str) -> Simulator:
        sim = Simulator(*args)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture(scope="module")
def deceptive_sim() -> Iterator[Simulator]:
    sim = Simulator("--profile", "deceptive")
    yield sim
    sim.stop()
