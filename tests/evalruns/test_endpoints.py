"""Operator-configured model endpoints: read from GOVFLOW_EVAL_ENDPOINTS (JSON or a file),
refused loudly when malformed, keys read from the variable an endpoint names."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from govflow.evalruns.endpoints import (
    SIMULATOR_ENDPOINTS,
    Endpoint,
    endpoints_from_env,
    looks_like_url,
    parse_endpoints,
)

GOOD = {"lab-vllm": {"base_url": "https://models.lab.internal/v1/", "model": "frontier-7",
                     "api_key_env": "LAB_VLLM_KEY", "timeout": 30}}


def test_json_from_the_environment_is_parsed_and_normalised(monkeypatch):
    monkeypatch.setenv("GOVFLOW_EVAL_ENDPOINTS", json.dumps(GOOD))

    parsed = endpoints_from_env("GOVFLOW_EVAL_ENDPOINTS", {})

    assert parsed == {"lab-vllm": {"base_url": "https://models.lab.internal/v1",
                                   "model": "frontier-7", "api_key_env": "LAB_VLLM_KEY",
                                   "timeout": 30.0, "max_response_bytes": 4 * 1024 * 1024}}


def test_a_file_path_works_too_and_unset_means_the_default(monkeypatch, tmp_path):
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps(GOOD))
    monkeypatch.setenv("GOVFLOW_EVAL_ENDPOINTS", str(path))
    assert set(endpoints_from_env("GOVFLOW_EVAL_ENDPOINTS", {})) == {"lab-vllm"}

    monkeypatch.delenv("GOVFLOW_EVAL_ENDPOINTS")
    assert set(endpoints_from_env("GOVFLOW_EVAL_ENDPOINTS", SIMULATOR_ENDPOINTS)) == {
        "simulator"}


@pytest.mark.parametrize(("raw", "message"), [
    ("{not json", "not valid JSON"),
    ("/nonexistent/endpoints.json", "neither a JSON object nor a readable file"),
    ('{"x": {"base_url": "ftp://h/v1", "model": "m"}}', "is not an http(s) URL"),
    ('{"x": {"base_url": "https://user:pw@h/v1", "model": "m"}}', "must not carry credentials"),
    ('{"x": {"base_url": "https://h/v1", "model": "m", "api_key": "sk-live"}}',
     "unknown key(s) api_key"),
    ('{"x": {"base_url": "https://h/v1", "model": "m", "api_key_env": "sk-live-123"}}',
     "must name an environment variable"),
    ('{"X Y": {"base_url": "https://h/v1", "model": "m"}}', "an endpoint name is"),
    ('{"x": {"base_url": "https://h/v1", "model": "m", "timeout": 0}}', "between 1 and 3600"),
])
def test_a_bad_configuration_stops_start_up_naming_the_problem(monkeypatch, raw, message):
    monkeypatch.setenv("GOVFLOW_EVAL_ENDPOINTS", raw)

    with pytest.raises(ImproperlyConfigured, match="GOVFLOW_EVAL_ENDPOINTS") as refused:
        endpoints_from_env("GOVFLOW_EVAL_ENDPOINTS", {})
    assert message in str(refused.value)


def test_the_key_is_read_from_the_named_variable_only_when_used(monkeypatch):
    endpoint = Endpoint(name="lab-vllm", **parse_endpoints(GOOD)["lab-vllm"])
    monkeypatch.delenv("LAB_VLLM_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="LAB_VLLM_KEY"):
        endpoint.config()

    monkeypatch.setenv("LAB_VLLM_KEY", "sk-test")
    config = endpoint.config()
    assert (config.api_key, config.max_retries, config.base_url) == (
        "sk-test", 0, "https://models.lab.internal/v1")


@pytest.mark.parametrize(("value", "is_url"), [
    ("simulator", False), ("lab-vllm.eu", False), ("http://x", True), ("x:80", True),
    ("10.0.0.1/v1", True),
])
def test_what_counts_as_a_url(value, is_url):
    assert looks_like_url(value) is is_url
