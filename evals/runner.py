"""Run sample specs against an OpenAI-compatible endpoint and return one record per spec.

This is the entry point govflow's Celery task calls. With ``client_config.max_retries == 0`` a
429/5xx/timeout raises ``RetryableEndpointError`` at once (the task owns the retry policy); the
CLI passes ``max_retries > 0`` and gets bounded, Retry-After-honouring retries per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from evals.client import EndpointConfig, Sampling, chat, make_client
from evals.design import SampleSpec
from evals.episode import Episode, Generate, Reply
from evals.errors import EndpointError, RetryableEndpointError
from evals.graders import GRADER_VERSION
from evals.provenance import git_commit, package_versions
from evals.scenarios import Scenario, load_scenario
from evals.validation import provenance_record

__all__ = ["EndpointConfig", "Sampling", "SampleSpec", "run_samples", "RECORD_SCHEMA",
           "SIMULATOR_PREFIX"]

RECORD_SCHEMA = "govflow.evals.sample/1"
SIMULATOR_PREFIX = "govflow-simulator/"
JUDGE_TEMPERATURE = 0.0
JUDGE_SAMPLING = Sampling(temperature=JUDGE_TEMPERATURE)
SHARD_SIZE = 8


def _generator(client: Any, config: EndpointConfig, sampling: Sampling) -> Generate:
    async def generate(
        messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, seed: int
    ) -> Reply:
        return await chat(
            client, config, messages=messages, tools=tools, seed=seed, sampling=sampling
        )

    return generate


def _public_url(url: str | None) -> str | None:
    """The URL without any user:password@ part: provenance is stored and shown to people."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _sum_usage(calls: list[dict[str, Any]]) -> dict[str, int]:
    total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for call in calls:
        for key in total:
            total[key] += int((call.get("usage") or {}).get(key, 0))
    return total


def _count_formats(calls: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in calls:
        for fmt in call.get("formats") or ["none"]:
            counts[fmt] = counts.get(fmt, 0) + 1
    return dict(sorted(counts.items()))


def _provenance(
    scenario: Scenario,
    spec: SampleSpec,
    calls: list[dict[str, Any]],
    client_config: EndpointConfig,
    judge_config: EndpointConfig | None,
    sampling: Sampling,
) -> dict[str, Any]:
    agent_calls = [c for c in calls if not c["purpose"].startswith("judge")]
    judge_calls = [c for c in calls if c["purpose"].startswith("judge")]
    answered = sorted({c["model"] for c in agent_calls if c["model"]})
    judge_answered = sorted({c["model"] for c in judge_calls if c["model"]})
    return {
        "scenario": scenario.name,
        "scenario_digest": scenario.digest,
        "scenario_file": scenario.path.name,
        "factors": scenario.levels_for(spec.cell.factors),
        "model_requested": client_config.model,
        "models_answered": answered,
        "system_fingerprints": sorted({c["system_fingerprint"] for c in agent_calls
                                       if c["system_fingerprint"]}),
        "base_url": _public_url(client_config.base_url),
        "judge_model_requested": judge_config.model if judge_config else None,
        "judge_models_answered": judge_answered,
        "judge_system_fingerprints": sorted({c["system_fingerprint"] for c in judge_calls
                                             if c["system_fingerprint"]}),
        "judge_base_url": _public_url(judge_config.base_url) if judge_config else None,
        # A simulator's numbers say nothing about a real model; make that impossible to miss.
        "simulated": any(m.startswith(SIMULATOR_PREFIX) for m in answered + judge_answered),
        "seed": spec.seed,
        "temperature": sampling.temperature,
        # Every sampling setting the requests carried, from the object `chat` sent them
        # from; None: not sent (the provider's default applies). Eval gates may bound these.
        "sampling": sampling.recorded(),
        "judge_temperature": JUDGE_TEMPERATURE if judge_config else None,
        "usage": _sum_usage(agent_calls),
        "judge_usage": _sum_usage(judge_calls),
        "calls": calls,
        # Which format each of the agent's actions came in, counted over the sample's replies.
        "action_formats": _count_formats(agent_calls),
        "grader_version": GRADER_VERSION,
        # The rule grader's scores on the labelled validation set, for this scenario.
        "grader_validation": provenance_record(scenario.name),
        "versions": package_versions(),
        "git_commit": git_commit(),
    }


async def _run_one(
    spec: SampleSpec,
    agent: Generate,
    judge: Generate | None,
    client_config: EndpointConfig,
    judge_config: EndpointConfig | None,
    sampling: Sampling,
) -> dict[str, Any]:
    scenario = (spec.scenario if isinstance(spec.scenario, Scenario)
                else load_scenario(spec.scenario))
    started = time.perf_counter()
    episode = Episode(scenario, spec.cell.factors, spec.paraphrase, spec.seed, agent, judge)
    error: dict[str, Any] | None = None
    try:
        result = await episode.run()
    except RetryableEndpointError:
        raise
    except EndpointError as exc:
        # Not retryable (a 4xx, a redirect, an oversized body): this sample is recorded as an
        # error with what it had so far, and the run goes on.
        error = {"type": type(exc).__name__, "message": str(exc), "status_code": exc.status_code}
        result = {
            "status": "error",
            "grades": {"action": None, "report": None, "question": None},
            "scratchpad": episode.scratchpad,
            "reasoning": None,
            "transcript": episode.messages,
            "calls": episode.calls,
            "rounds": episode.agent_rounds,
        }
    return {
        "schema": RECORD_SCHEMA,
        "scenario": scenario.name,
        "cell": spec.cell.key,
        "factors": scenario.levels_for(spec.cell.factors),
        "paraphrase": spec.paraphrase,
        "index": spec.index,
        "seed": spec.seed,
        "status": result["status"],
        "error": error,
        "grades": result["grades"],
        "scratchpad": result["scratchpad"],
        "reasoning": result["reasoning"],
        "transcript": result["transcript"],
        "rounds": result["rounds"],
        "duration_s": round(time.perf_counter() - started, 4),
        "provenance": _provenance(
            scenario, spec, result["calls"], client_config, judge_config, sampling
        ),
    }


async def run_samples(
    specs: Sequence[SampleSpec],
    *,
    client_config: EndpointConfig,
    judge_config: EndpointConfig | None,
    sampling: Sampling,
    concurrency: int,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every spec; records come back in spec order. ``progress(record)`` fires per sample."""
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    workers = min(concurrency, len(specs))
    # Several small connection pools instead of one big one: the HTTP pool scans all of its
    # connections on every request and release, so its cost grows with pool size. Each worker
    # sticks to one shard, so a shard never needs more than SHARD_SIZE connections per role.
    shards = max(1, -(-workers // SHARD_SIZE))
    clients = [make_client(client_config) for _ in range(shards)]
    judge_clients = [make_client(judge_config) for _ in range(shards)] if judge_config else []
    agents = [_generator(c, client_config, sampling) for c in clients]
    judges = [_generator(c, judge_config, JUDGE_SAMPLING) for c in judge_clients]  # type: ignore[arg-type]
    results: list[dict[str, Any] | None] = [None] * len(specs)
    pending = iter(range(len(specs)))

    async def worker(slot: int) -> None:
        # Workers pull from one iterator: at most `concurrency` samples in flight, no task per
        # sample created up front (a run may hold tens of thousands of specs).
        agent = agents[slot % shards]
        judge = judges[slot % shards] if judges else None
        for i in pending:
            record = await _run_one(
                specs[i], agent, judge, client_config, judge_config, sampling
            )
            results[i] = record
            if progress is not None:
                progress(record)

    tasks = [asyncio.ensure_future(worker(slot)) for slot in range(workers)]
    try:
        if tasks:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            await asyncio.gather(*tasks)
    except RetryableEndpointError as exc:
        exc.records = [r for r in results if r is not None]
        raise
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients + judge_clients:
            await client.close()
    return [r for r in results if r is not None]
