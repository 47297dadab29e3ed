"""A release policy: parsed, validated and digested.

A policy file is YAML; its *content digest* (SHA-256 of the canonical JSON of the
parsed document) is what a release records. Comments and formatting do not change
the rules, so they do not change the digest either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings

from govflow.core.digests import json_digest
from govflow.gates.params import check_value
from govflow.gates.registry import gate_kinds
from govflow.policy.yamlsource import Located, YamlSyntaxError, load_located

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TOP_KEYS = {"name", "version", "description", "stages"}
STAGE_KEYS = {"name", "title", "description", "irreversible", "gates"}
GATE_META_KEYS = {"kind", "id", "description"}


@dataclass(frozen=True)
class PolicyProblem:
    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


SectionCheck = Callable[[Any, list[str]], list[tuple[str, str]]]


@cache
def policy_sections() -> dict[str, SectionCheck]:
    """Top-level sections other areas add to a policy: name -> check(value, stage names)
    returning (path, message) problems. settings.GOVFLOW_POLICY_SECTIONS lists modules
    exposing ``SECTIONS``, as GOVFLOW_GATE_KINDS lists gate kinds."""
    sections: dict[str, SectionCheck] = {}
    for path in settings.GOVFLOW_POLICY_SECTIONS:
        sections.update(import_module(path).SECTIONS)
    return sections


class PolicyInvalid(ValueError):
    def __init__(self, problems: list[PolicyProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class GateSpec:
    id: str
    kind: str
    params: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    irreversible: bool
    gates: tuple[GateSpec, ...]


@dataclass(frozen=True)
class Policy:
    name: str
    version: int
    description: str
    stages: tuple[Stage, ...]
    document: dict[str, Any] = field(repr=False)

    @property
    def digest(self) -> str:
        return json_digest(self.document)

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def index(self, name: str) -> int:
        return self.stage_names.index(name)

    def next_stage(self, name: str) -> Stage | None:
        i = self.index(name)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None


class _Collector:
    def __init__(self, source: str, located: Located):
        self.source = source
        self.located = located
        self.problems: list[PolicyProblem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(PolicyProblem(self.source, self.located.line(path), path, message))


def _validate_gate(c: _Collector, raw: Any, path: str, stages: list[str]) -> GateSpec | None:
    if not isinstance(raw, dict):
        c.add(path, "a gate must be a mapping with a 'kind' and its parameters")
        return None
    kind_name = raw.get("kind")
    kinds = gate_kinds()
    if not isinstance(kind_name, str):
        c.add(path, "a gate needs 'kind'; known kinds: " + ", ".join(sorted(kinds)))
        return None
    kind = kinds.get(kind_name)
    if kind is None:
        c.add(
            f"{path}.kind",
            f"unknown gate kind {kind_name!r}; known kinds: " + ", ".join(sorted(kinds)),
        )
        return None
    params: dict[str, Any] = {}
    ok = True
    for key, value in raw.items():
        if key in GATE_META_KEYS:
            continue
        param = kind.params.get(key)
        if param is None:
            accepted = ", ".join(sorted(kind.params)) or "none"
            c.add(f"{path}.{key}", f"{kind_name} has no parameter {key!r}; it takes: {accepted}")
            ok = False
            continue
        problem = check_value(param, value, stages=stages)
        if problem:
            c.add(f"{path}.{key}", problem)
            ok = False
        params[key] = value
    for key, param in kind.params.items():
        if key not in raw:
            if param.required:
                c.add(path, f"{kind_name} requires {key!r} ({param.describe()})")
                ok = False
            else:
                params[key] = param.default
    if ok and kind.check is not None:
        for key, message in kind.check(params):
            c.add(f"{path}.{key}" if key else path, message)
            ok = False
    gate_id = raw.get("id", kind_name)
    if not isinstance(gate_id, str) or not gate_id:
        c.add(f"{path}.id", "must be a non-empty string")
        ok = False
    description = raw.get("description", "")
    return GateSpec(gate_id, kind_name, params, str(description)) if ok else None


def _validate(c: _Collector) -> Policy | None:
    doc = c.located.value
    if not isinstance(doc, dict):
        c.add("", "a policy must be a YAML mapping with 'name' and 'stages'")
        return None
    # Top-level sections other areas add (settings.GOVFLOW_POLICY_SECTIONS), e.g.
    # `incident_response`: rules about a release that are not gates of one stage.
    sections = policy_sections()
    known = ", ".join(sorted(TOP_KEYS)) + (
        f"; sections: {', '.join(sorted(sections))}" if sections else ""
    )
    for key in sorted(set(doc) - TOP_KEYS - set(sections)):
        c.add(key, f"unknown key; a policy has: {known}")
    name = doc.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        c.add("name", "is required: lowercase letters, digits and '_', starting with a letter")
    version = doc.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        c.add("version", f"must be a positive whole number, got {version!r}")
    raw_stages = doc.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        c.add("stages", "is required: a list of at least one stage, in release order")
        return None
    names: list[str] = []
    for i, raw in enumerate(raw_stages):
        stage_name = raw.get("name") if isinstance(raw, dict) else None
        if isinstance(stage_name, str) and NAME_RE.match(stage_name):
            if stage_name in names:
                c.add(f"stages[{i}].name", f"stage {stage_name!r} is listed twice")
            names.append(stage_name)
    stages: list[Stage] = []
    for i, raw in enumerate(raw_stages):
        path = f"stages[{i}]"
        if not isinstance(raw, dict):
            c.add(path, "a stage must be a mapping with a 'name'")
            continue
        for key in sorted(set(raw) - STAGE_KEYS):
            c.add(f"{path}.{key}", f"unknown key; a stage has: {', '.join(sorted(STAGE_KEYS))}")
        stage_name = raw.get("name")
        if not isinstance(stage_name, str) or not NAME_RE.match(stage_name):
            c.add(f"{path}.name", "is required: lowercase letters, digits and '_'")
            continue
        irreversible = raw.get("irreversible", False)
        if not isinstance(irreversible, bool):
            c.add(f"{path}.irreversible", "must be true or false")
        elif irreversible and i != len(raw_stages) - 1:
            c.add(f"{path}.irreversible", "only the last stage can be irreversible")
        raw_gates = raw.get("gates", [])
        if raw_gates is None:
            raw_gates = []
        if not isinstance(raw_gates, list):
            c.add(f"{path}.gates", "must be a list of gates")
            continue
        if i == 0 and raw_gates:
            c.add(
                f"{path}.gates",
                "the first stage is entered when a release opens; it has no gates",
            )
            continue
        gates = [_validate_gate(c, g, f"{path}.gates[{j}]", names) for j, g in enumerate(raw_gates)]
        ids = [g.id for g in gates if g is not None]
        for dup in sorted({x for x in ids if ids.count(x) > 1}):
            c.add(f"{path}.gates", f"two gates share the id {dup!r}; give each an 'id'")
        stages.append(
            Stage(
                name=stage_name,
                title=str(raw.get("title") or stage_name.replace("_", " ").capitalize()),
                irreversible=bool(irreversible),
                gates=tuple(g for g in gates if g is not None),
            )
        )
    for key, check in sections.items():
        if key in doc:
            for path, message in check(doc[key], names):
                c.add(f"{key}.{path}" if path else key, message)
    if c.problems:
        return None
    return Policy(
        name=name,
        version=version,
        description=str(doc.get("description", "")),
        stages=tuple(stages),
        document=doc,
    )


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse and validate policy text. Raises `PolicyInvalid` listing every problem."""
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        raise PolicyInvalid([PolicyProblem(source, exc.line, "", str(exc))]) from exc
    collector = _Collector(source, located)
    policy = _validate(collector)
    if policy is None:
        raise PolicyInvalid(collector.problems)
    return policy


def load_policy_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = PolicyProblem(str(path), None, "", f"cannot read file: {exc}")
        raise PolicyInvalid([problem]) from exc
    return parse_policy(text, source=str(path))
