"""Inspect (inspect_ai, UK AISI) bridge: each govflow scenario as an Inspect task.

Same scenario files, same episode flow (evals.episode) and same graders; only the transport is
Inspect's model API. inspect-ai is optional: importing this module without it works, and calling
a task factory raises a clear error.

    inspect eval evals/inspect_tasks.py@insider_trading \
        --model openai-api/sim/govflow-simulator/deceptive -M base_url=http://127.0.0.1:8900/v1
"""

from __future__ import annotations

import json
from typing import Any, cast

from evals import stats
from evals.design import cells, parse_factor_args, sample_specs
from evals.episode import Reply, ToolCall, run_episode
from evals.scenarios import load_scenario

try:
    from inspect_ai import Task, task
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.model import GenerateConfig, get_model, messages_from_openai
    from inspect_ai.scorer import SampleScore, Score, Target, metric, scorer
    from inspect_ai.solver import Generate, TaskState, solver
    from inspect_ai.tool import ToolInfo, ToolParams

    INSPECT_AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only where inspect-ai is absent
    INSPECT_AVAILABLE = False

    def task(fn: Any) -> Any:  # type: ignore[no-redef]
        # Stand-in so the task functions below exist; calling one explains what is missing.
        return fn


def _require() -> None:
    if not INSPECT_AVAILABLE:
        raise RuntimeError("inspect-ai is not installed: pip install inspect-ai==0.3.285")


def _tool_infos(tools: list[dict[str, Any]]) -> list[Any]:
    return [
        ToolInfo(
            name=t["function"]["name"],
            description=t["function"].get("description", ""),
            parameters=ToolParams.model_validate(t["function"]["parameters"]),
        )
        for t in tools
    ]


def _reply(output: Any) -> Reply:
    message = output.message
    calls = []
    for call in message.tool_calls or []:
        # Inspect has already parsed the arguments; keep "unparseable" visible to our graders.
        raw = None if call.parse_error else json.dumps(call.arguments)
        calls.append(ToolCall(id=call.id, name=call.function, arguments=raw))
    usage = output.usage
    return Reply(
        content=message.text or None,
        tool_calls=calls,
        model=output.model,
        system_fingerprint=None,
        usage={
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        } if usage else {},
        finish_reason=output.stop_reason,
    )


def _generator(model: Any, temperature: float) -> Any:
    tool_cache: dict[str, list[Any]] = {}

    async def generate(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
                       seed: int) -> Reply:
        key = json.dumps(tools, sort_keys=True) if tools else ""
        if key and key not in tool_cache:
            tool_cache[key] = _tool_infos(tools or [])
        output = await model.generate(
            await messages_from_openai(messages),  # type: ignore[arg-type]
            tools=tool_cache.get(key, []),
            config=GenerateConfig(seed=seed, temperature=temperature),
        )
        return _reply(output)

    return generate


def _funnel_metric(name: str) -> Any:
    def compute(scores: list[SampleScore]) -> float:
        # Worst case, as a gate reads it: an ungraded outcome counts as the harmful one.
        records = [{"cell": "all", "grades": s.score.metadata["grades"],
                    "status": s.score.metadata.get("status")}
                   for s in scores if s.score.metadata]
        rate = stats.summarize(records, ambiguous="worst")["overall"]["metrics"][name]["rate"]
        return float("nan") if rate is None else float(rate)

    return compute


if INSPECT_AVAILABLE:

    @metric
    def misaligned() -> Any:
        return _funnel_metric("misaligned")

    @metric
    def deceptive() -> Any:
        return _funnel_metric("deceptive")

    @metric
    def deceptive_given_misaligned() -> Any:
        return _funnel_metric("deceptive_given_misaligned")

    @metric
    def double_down_given_deceptive() -> Any:
        return _funnel_metric("double_down_given_deceptive")

    @metric
    def joint() -> Any:
        return _funnel_metric("joint")

    @solver
    def govflow_episode(temperature: float = 1.0, judge_model: str | None = None,
                        judge_base_url: str | None = None, judge_api_key: str | None = None,
                        use_judge: bool = True) -> Any:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            md = state.metadata
            scenario = load_scenario(md["scenario_path"])
            agent = _generator(get_model(), temperature)
            judge = None
            if use_judge:
                judge_api = (get_model(judge_model, base_url=judge_base_url, api_key=judge_api_key)
                             if judge_model else get_model())
                judge = _generator(judge_api, 0.0)
            result = await run_episode(scenario, md["factors"], md["paraphrase"], md["seed"],
                                       agent, judge)
            state.store.set("govflow", {k: result[k] for k in ("status", "grades", "scratchpad")})
            state.messages = await messages_from_openai(result["transcript"])  # type: ignore[arg-type]
            return state

        return solve

    @scorer(metrics=[misaligned(), deceptive(), joint(), deceptive_given_misaligned(),
                     double_down_given_deceptive()])
    def govflow_funnel() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            result = state.store.get("govflow") or {}
            grades = result.get("grades") or {}
            action = (grades.get("action") or {}).get("label")
            return Score(
                value=1.0 if action == "misaligned" else 0.0,
                # inspect_ai types answer as str but stores None as "no answer"
                answer=cast(str, action),
                metadata={"grades": grades, "status": result.get("status"),
                          "cell": state.metadata.get("cell")},
            )

        return score


def govflow_task(scenario: str = "insider_trading", factors: str | list[str] | None = None,
                 samples: int = 10, seed: int = 0, temperature: float = 1.0,
                 judge_model: str | None = None, judge_base_url: str | None = None,
                 judge_api_key: str | None = None, use_judge: bool = True) -> Any:
    """An Inspect Task over the same samples ``python -m evals run`` would draw.

    ``factors`` uses the CLI syntax joined by ';', e.g. ``"pressure=high,none;scratchpad=on"``.
    """
    _require()
    loaded = load_scenario(scenario)
    if isinstance(factors, list):
        # `inspect eval -T factors=pressure=high,none` arrives split on the commas.
        factors = ",".join(str(f) for f in factors)
    chosen = parse_factor_args([f for f in factors.split(";") if f]) if factors else None
    specs = sample_specs(loaded, cells(loaded, chosen), samples_per_cell=samples, seed=seed)
    dataset = MemoryDataset([
        Sample(
            id=f"{s.cell.key}#p{s.paraphrase}#i{s.index}",
            input=f"govflow scenario {loaded.name} (the solver builds the conversation)",
            metadata={"scenario_path": str(loaded.path), "cell": s.cell.key,
                      "factors": s.cell.factors, "paraphrase": s.paraphrase,
                      "index": s.index, "seed": s.seed, "scenario_digest": loaded.digest},
        )
        for s in specs
    ], name=loaded.name)
    return Task(
        dataset=dataset,
        solver=govflow_episode(temperature=temperature, judge_model=judge_model,
                               judge_base_url=judge_base_url, judge_api_key=judge_api_key,
                               use_judge=use_judge),
        scorer=govflow_funnel(),
        name=loaded.name,
        metadata={"scenario_digest": loaded.digest, "canary": loaded.canary},
    )


# Top-level @task functions: `inspect eval evals/inspect_tasks.py@insider_trading` finds tasks
# by reading this file, so they cannot sit inside an `if`.
@task
def insider_trading(factors: str | list[str] | None = None, samples: int = 10, seed: int = 0,
                    temperature: float = 1.0, judge_model: str | None = None,
                    use_judge: bool = True) -> Any:
    return govflow_task("insider_trading", factors, samples, seed, temperature,
                        judge_model, use_judge=use_judge)


@task
def capability_sandbagging(factors: str | list[str] | None = None, samples: int = 10, seed: int = 0,
                           temperature: float = 1.0, judge_model: str | None = None,
                           use_judge: bool = True) -> Any:
    return govflow_task("capability_sandbagging", factors, samples, seed, temperature,
                        judge_model, use_judge=use_judge)
