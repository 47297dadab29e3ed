"""Factorial designs: which cells a run covers and which samples each cell gets.

A cell is one assignment of a level to every factor of the scenario. Its key lists every factor
in alphabetical order so the same cell always has the same key, whatever order the user typed.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evals.errors import ScenarioError

if TYPE_CHECKING:
    from evals.scenarios import Scenario


# Factors every scenario gained later, with the level all earlier runs used. A cell key leaves
# such a factor out at that level, so the keys of runs recorded before it existed stay the keys
# of the same cells (every earlier run sent native tools).
IMPLICIT_LEVELS = {"action_format": "tools"}


@dataclass(frozen=True)
class Cell:
    factors: dict[str, str]

    @property
    def key(self) -> str:
        return "|".join(f"{name}={self.factors[name]}" for name in sorted(self.factors)
                        if IMPLICIT_LEVELS.get(name) != self.factors[name])

    def levels(self) -> dict[str, str]:
        """The factor levels with the implicit ones filled in."""
        return {**IMPLICIT_LEVELS, **self.factors}

    def __hash__(self) -> int:
        return hash(self.key)

    @classmethod
    def from_key(cls, key: str) -> Cell:
        pairs = (part.split("=", 1) for part in key.split("|") if part)
        return cls(factors={**IMPLICIT_LEVELS, **{name: level for name, level in pairs}})


@dataclass(frozen=True)
class SampleSpec:
    """One sample to run. Its identity is (cell key, paraphrase, index) within a scenario."""

    scenario: Scenario | str
    cell: Cell
    paraphrase: int
    index: int
    seed: int

    @property
    def scenario_name(self) -> str:
        return self.scenario if isinstance(self.scenario, str) else self.scenario.name

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.cell.key, self.paraphrase, self.index)


def cells(scenario: Scenario, factors: dict[str, list[str]] | None = None) -> list[Cell]:
    """Every combination of the chosen levels; factors not chosen stay at their default.

    ``factors=None`` means the scenario's own small default design.
    """
    chosen = scenario.default_design if factors is None else factors
    axes: list[tuple[str, list[str]]] = []
    for name in sorted(scenario.factors):
        levels = chosen.get(name) or [scenario.defaults[name]]
        for level in levels:
            if level not in scenario.factors[name]:
                raise ScenarioError(
                    f"{scenario.name}: unknown level {level!r} for {name} "
                    f"(choose from {', '.join(scenario.factors[name])})"
                )
        # Keep the user's order but drop repeats, so `pressure=high,high` is one level.
        axes.append((name, list(dict.fromkeys(levels))))
    unknown = set(chosen) - set(scenario.factors)
    if unknown:
        raise ScenarioError(f"{scenario.name}: unknown factor(s) {', '.join(sorted(unknown))}")
    names = [name for name, _ in axes]
    return [
        Cell(factors=dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*(levels for _, levels in axes))
    ]


def derive_seed(run_seed: int, *parts: object) -> int:
    """A per-sample seed that depends only on the run seed and the sample's identity."""
    text = "|".join(str(p) for p in (run_seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


def sample_specs(
    scenario: Scenario,
    design: list[Cell],
    *,
    samples_per_cell: int,
    seed: int = 0,
    paraphrases: list[int] | None = None,
) -> list[SampleSpec]:
    """``samples_per_cell`` samples in every cell, spread round-robin over the paraphrases."""
    wordings = paraphrases if paraphrases is not None else list(range(scenario.paraphrases))
    if not wordings:
        raise ScenarioError("at least one paraphrase is needed")
    for p in wordings:
        if not 0 <= p < scenario.paraphrases:
            raise ScenarioError(f"{scenario.name}: paraphrase {p} out of range")
    specs = []
    for cell in design:
        for index in range(samples_per_cell):
            paraphrase = wordings[index % len(wordings)]
            specs.append(SampleSpec(
                scenario=scenario,
                cell=cell,
                paraphrase=paraphrase,
                index=index,
                seed=derive_seed(seed, scenario.name, cell.key, paraphrase, index),
            ))
    return specs


def parse_factor_args(values: list[str]) -> dict[str, list[str]]:
    """``["pressure=high,none", "scratchpad=on"]`` -> ``{"pressure": ["high", "none"], ...}``."""
    out: dict[str, list[str]] = {}
    for value in values:
        name, sep, levels = value.partition("=")
        if not sep or not name.strip() or not levels.strip():
            raise ScenarioError(f"--factor expects NAME=LEVEL[,LEVEL...], got {value!r}")
        out.setdefault(name.strip(), []).extend(
            level.strip() for level in levels.split(",") if level.strip()
        )
    return out
