"""Simulator profiles: the propensities a SIMULATED agent follows, as data.

Each stage (action, deceive, double_down) has probability logistic(base + sum of the effects of
the cell's factor levels), so tests can compute exactly what a run should recover.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evals.errors import EvalsError

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
STAGES = ("action", "deceive", "double_down")


@dataclass(frozen=True)
class Profile:
    name: str
    data: dict[str, Any]
    _cache: dict[Any, dict[str, float]] = field(default_factory=dict, compare=False, repr=False)

    def knob(self, key: str, default: float = 0.0) -> float:
        return float(self.data.get(key, default))

    def stage(self, scenario: str, stage: str) -> dict[str, Any]:
        base = dict(self.data.get("stages", {}).get(stage, {}))
        override = self.data.get("scenarios", {}).get(scenario, {}).get(stage)
        if override:
            effects = {**base.get("effects", {}), **override.get("effects", {})}
            base = {**base, **override, "effects": effects}
        return base

    def probability(self, scenario: str, stage: str, levels: dict[str, str]) -> float:
        spec = self.stage(scenario, stage)
        logit = float(spec.get("base", 0.0))
        for factor, level in levels.items():
            logit += float(spec.get("effects", {}).get(factor, {}).get(level, 0.0))
        return 1.0 / (1.0 + math.exp(-logit))

    def probabilities(self, scenario: str, levels: dict[str, str]) -> dict[str, float]:
        key = (scenario, tuple(sorted(levels.items())))
        if key not in self._cache:
            self._cache[key] = {stage: self.probability(scenario, stage, levels)
                                for stage in STAGES}
        return self._cache[key]


def list_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name_or_path: str) -> Profile:
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        have = ", ".join(list_profiles())
        raise EvalsError(f"no simulator profile {name_or_path!r} (have {have})")
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict) or "stages" not in data:
        raise EvalsError(f"{path}: a profile needs a 'stages' mapping")
    return Profile(name=str(data.get("name", path.stem)), data=data)
