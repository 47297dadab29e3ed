"""The system manifest: what a model is wrapped in, and its content digest.

The *model* is the weights; the *system* is the weights plus the system prompt,
tools, affordances and access around them. A change to any of it is a different
system with a different threat model, so the manifest is digested as a whole and
every change makes a new, immutable system version.
"""

from __future__ import annotations

from typing import Any

from govflow.core.digests import is_sha256_digest, json_digest
from govflow.core.errors import DomainError, field_error

AFFORDANCES = (
    "internet_access",
    "code_execution",
    "retrieval",
    "fine_tuning_access",
    "online_learning",
    "open_weights",
)


def _fail(path: str, message: str) -> DomainError:
    return field_error(path, message, summary="the system manifest is invalid")


def normalize_manifest(raw: Any) -> dict[str, Any]:
    """Validate a manifest and return its canonical form (sorted tools, all keys present)."""
    if not isinstance(raw, dict):
        raise _fail("manifest", "must be an object")
    model = raw.get("model")
    if not isinstance(model, dict):
        raise _fail("model", "is required and must be an object")
    name = model.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail("model.name", "is required")
    weights = model.get("weights_digest")
    if not is_sha256_digest(weights):
        raise _fail("model.weights_digest", "must be 'sha256:' followed by 64 lowercase hex digits")
    params = model.get("parameter_count")
    compute = model.get("training_compute_flop")
    if params is None and compute is None:
        raise _fail("model", "give parameter_count or training_compute_flop (or both)")
    if params is not None and (
        not isinstance(params, int) or isinstance(params, bool) or params <= 0
    ):
        raise _fail("model.parameter_count", "must be a positive integer")
    if compute is not None:
        if isinstance(compute, bool) or not isinstance(compute, (int, float)) or compute <= 0:
            raise _fail("model.training_compute_flop", "must be a positive number")
        compute = float(compute)
    prompt = raw.get("system_prompt_digest")
    if prompt is not None and not is_sha256_digest(prompt):
        raise _fail("system_prompt_digest", "must be 'sha256:' followed by 64 lowercase hex digits")
    tools = raw.get("tools", [])
    if not isinstance(tools, list) or not all(isinstance(t, str) and t.strip() for t in tools):
        raise _fail("tools", "must be a list of tool names")
    affordances: dict[str, bool] = {}
    for key in AFFORDANCES:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise _fail(key, "must be true or false")
        affordances[key] = value
    serving = _serving(raw.get("serving"))
    unknown = set(raw) - {"model", "system_prompt_digest", "tools", "serving", *AFFORDANCES}
    if unknown:
        raise _fail(sorted(unknown)[0], "is not a manifest field")
    model_keys = {"name", "weights_digest", "parameter_count", "training_compute_flop"}
    unknown_model = set(model) - model_keys
    if unknown_model:
        raise _fail(f"model.{sorted(unknown_model)[0]}", "is not a model field")
    normal: dict[str, Any] = {
        "model": {
            "name": name.strip(),
            "weights_digest": weights,
            "parameter_count": params,
            "training_compute_flop": compute,
        },
        "system_prompt_digest": prompt,
        "tools": sorted(set(t.strip() for t in tools)),
        **affordances,
    }
    if serving is not None:
        # Only when declared, so manifests written before the field keep their digests.
        normal["serving"] = serving
    return normal


def _serving(raw: Any) -> dict[str, Any] | None:
    """How the system is served for evaluation: the operator-configured endpoint name and
    the model id that endpoint answers with. Eval gates bind the models that answered to
    this, so a run against some other model cannot stand in for the system.

    ``system_fingerprints`` (optional) lists the backend fingerprints the endpoint may
    report; without it, every reply pooled by an eval gate must report one and the same
    fingerprint (or none at all), so a second backend behind the same model name shows."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail("serving", "must be an object with endpoint and model")
    unknown = set(raw) - {"endpoint", "model", "system_fingerprints"}
    if unknown:
        raise _fail(f"serving.{sorted(unknown)[0]}", "is not a serving field")
    out: dict[str, Any] = {}
    for key in ("endpoint", "model"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise _fail(f"serving.{key}", "is required and must be a non-empty string")
        out[key] = value.strip()
    if "system_fingerprints" in raw:
        prints = raw["system_fingerprints"]
        if not isinstance(prints, list) or not prints or not all(
                isinstance(p, str) and p.strip() for p in prints):
            raise _fail("serving.system_fingerprints",
                        "must be a non-empty list of fingerprint strings")
        out["system_fingerprints"] = sorted({p.strip() for p in prints})
    return out


def manifest_digest(manifest: dict[str, Any]) -> str:
    return json_digest(manifest)


def added_affordances(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Affordances (and tools) the new manifest grants that the old one did not."""
    added = [key for key in AFFORDANCES if new.get(key) and not old.get(key)]
    added += [f"tool:{t}" for t in new.get("tools", []) if t not in set(old.get("tools", []))]
    return added
