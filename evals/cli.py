"""``python -m evals``: list scenarios, run a factorial design against an endpoint, summarise."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from evals import funnel, stats
from evals.client import DEFAULT_MAX_RESPONSE_BYTES, EndpointConfig, Sampling
from evals.design import cells, parse_factor_args, sample_specs
from evals.errors import EndpointError, RetryableEndpointError, ScenarioError
from evals.runner import run_samples
from evals.scenarios import list_scenarios, load_scenario
from evals.validation import ItemsError

# Exit codes (documented in evals/README.md): 0 every sample graded; 2 bad usage or scenario;
# 3 the endpoint kept failing (retries exhausted, or every sample an endpoint error);
# 4 the run finished but some samples are endpoint errors (kept in the output, not graded).
# 5 validate-graders: a score is below --min-recall / --min-precision.
EXIT_USAGE, EXIT_ENDPOINT, EXIT_PARTIAL, EXIT_BELOW_THRESHOLD = 2, 3, 4, 5


def _add_summary_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--confidence", type=float, default=0.95, help="interval level (0.95)")
    parser.add_argument("--metric", choices=stats.METRICS, default="misaligned",
                        help="metric whose worst cell is reported")
    parser.add_argument("--interval", choices=stats.INTERVALS, default="clopper_pearson",
                        help="interval shown in the table (the JSON always has both)")
    parser.add_argument("--ambiguous", choices=("worst", "exclude"), default="worst",
                        help="count invalid/ambiguous/errored outcomes as harmful (default, what "
                             "a gate does) or leave them out of the rates (biased low)")
    parser.add_argument("--summary-out", type=Path, help="also write the summary as JSON here")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the shipped scenarios with their factors")

    digest = sub.add_parser("digest", help="print a scenario's content digest, as a policy "
                                           "pins it (deception_eval scenario_digest)")
    digest.add_argument("scenario", help="scenario name or path to a YAML file")

    show = sub.add_parser("show", help="print one rendered prompt of a scenario")
    show.add_argument("scenario")
    show.add_argument("--factor", action="append", default=[], metavar="NAME=LEVEL")
    show.add_argument("--paraphrase", type=int, default=0)

    run = sub.add_parser("run", help="run a scenario against an OpenAI-compatible endpoint")
    run.add_argument("--scenario", required=True, help="scenario name or path to a YAML file")
    run.add_argument("--model", required=True, help="model name sent to the endpoint")
    run.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8900/v1")
    run.add_argument("--api-key", default=None,
                     help="API key (default: $EVALS_API_KEY, then $OPENAI_API_KEY)")
    run.add_argument("--samples", type=int, default=30, help="samples per cell (default 30)")
    run.add_argument("--factor", action="append", default=[], metavar="NAME=LEVEL[,LEVEL]",
                     help="levels to cross; repeat per factor. Default: the scenario's design")
    run.add_argument("--paraphrases", default=None,
                     help="comma-separated paraphrase indices (default: all)")
    run.add_argument("--out", type=Path, default=Path("run.jsonl"), help="JSONL output file")
    run.add_argument("--concurrency", type=int, default=16, help="samples in flight (16)")
    run.add_argument("--seed", type=int, default=0, help="run seed; sample seeds derive from it")
    run.add_argument("--temperature", type=float, default=1.0, help="agent temperature (1.0)")
    run.add_argument("--top-p", type=float, default=None,
                     help="agent top_p (not sent by default: the provider's default applies)")
    run.add_argument("--max-tokens", type=int, default=None,
                     help="agent max_tokens per reply (not sent by default)")
    run.add_argument("--judge-model", default=None, help="judge model (default: --model)")
    run.add_argument("--judge-base-url", default=None, help="judge endpoint (default: --base-url)")
    run.add_argument("--judge-api-key", default=None, help="judge key (default: --api-key)")
    run.add_argument("--no-judge", action="store_true", help="grade reports by rules only")
    run.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    run.add_argument("--max-retries", type=int, default=8,
                     help="retries per request on 429/5xx/timeouts, honouring Retry-After")
    run.add_argument("--retry-backoff", type=float, default=0.5,
                     help="first backoff in seconds when no Retry-After is sent; doubles per try")
    run.add_argument("--max-response-bytes", type=int, default=DEFAULT_MAX_RESPONSE_BYTES,
                     help="reject any response body larger than this (4 MiB)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_summary_options(run)

    check = sub.add_parser(
        "validate-graders",
        help="score the graders against labelled agent turns (evals/validation/RUBRIC.md)")
    check.add_argument("--items", type=Path, action="append", default=[], metavar="FILE.jsonl",
                       help="items to score (repeatable; default: the shipped --split)")
    check.add_argument("--split", choices=("holdout", "tuning"), default="holdout",
                       help="shipped items to score: holdout (default; never used to tune the "
                            "rules) or tuning (the rules were tuned on them: in-sample)")
    check.add_argument("--scenario", action="append", default=[],
                       help="only items of this scenario (repeatable)")
    check.add_argument("--judge-base-url", default=None,
                       help="also grade with this judge endpoint (default: rules only)")
    check.add_argument("--judge-model", default=None, help="judge model name")
    check.add_argument("--judge-api-key", default=None,
                       help="judge key (default: $EVALS_API_KEY, then $OPENAI_API_KEY)")
    check.add_argument("--timeout", type=float, default=60.0, help="seconds per judge request")
    check.add_argument("--min-recall", type=float, default=None,
                       help="exit 5 unless rules and combined reach this recall everywhere")
    check.add_argument("--min-precision", type=float, default=None,
                       help="exit 5 unless rules and combined reach this precision everywhere")
    check.add_argument("--json", action="store_true", help="print the full report as JSON")
    check.add_argument("--show-misgraded", action="store_true",
                       help="list the items the combined grader got wrong")

    summarize = sub.add_parser("summarize", help="summarise an existing JSONL run file")
    summarize.add_argument("records", type=Path)
    summarize.add_argument("--json", action="store_true", help="print the summary as JSON")
    _add_summary_options(summarize)
    return parser


def _cmd_list(out: TextIO) -> int:
    for name in list_scenarios():
        scenario = load_scenario(name)
        out.write(f"{name}  ({scenario.title})\n  digest {scenario.digest}\n")
        for factor, levels in scenario.factors.items():
            marked = [f"{lvl}*" if lvl == scenario.defaults[factor] else lvl for lvl in levels]
            out.write(f"  {factor}: {', '.join(marked)}\n")
        design = ", ".join(f"{k}={','.join(v)}" for k, v in scenario.default_design.items())
        out.write(f"  default design: {design}; paraphrases: {scenario.paraphrases}\n")
    out.write("(* = level used when a factor is not chosen)\n")
    return 0


def _cmd_digest(args: argparse.Namespace, out: TextIO) -> int:
    scenario = load_scenario(args.scenario)
    # Two lines a policy author pastes into the deception_eval gate as they are.
    out.write(f"scenario: {scenario.name}\nscenario_digest: {scenario.digest}\n")
    return 0


def _cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    scenario = load_scenario(args.scenario)
    chosen = {k: v[0] for k, v in parse_factor_args(args.factor).items()}
    rendered = scenario.render(chosen, args.paraphrase)
    out.write(json.dumps({"messages": rendered.messages, "tools": rendered.tools}, indent=2))
    out.write("\n")
    return 0


def _print_summary(records: list[dict[str, Any]], args: argparse.Namespace, out: TextIO) -> None:
    summary = stats.summarize(records, confidence=args.confidence, ambiguous=args.ambiguous)
    if args.summary_out:
        args.summary_out.write_text(json.dumps(summary, indent=2) + "\n")
    if getattr(args, "json", False):
        out.write(json.dumps(summary, indent=2) + "\n")
    else:
        out.write(funnel.render(summary, interval=args.interval, metric=args.metric) + "\n")


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from tqdm import tqdm

    scenario = load_scenario(args.scenario)
    design = cells(scenario, parse_factor_args(args.factor) if args.factor else None)
    paraphrases = ([int(p) for p in args.paraphrases.split(",")] if args.paraphrases else None)
    specs = sample_specs(scenario, design, samples_per_cell=args.samples, seed=args.seed,
                         paraphrases=paraphrases)
    api_key = args.api_key or os.environ.get("EVALS_API_KEY") or os.environ.get("OPENAI_API_KEY")
    common = dict(timeout=args.timeout, max_response_bytes=args.max_response_bytes,
                  max_retries=args.max_retries, backoff_base=args.retry_backoff)
    client_config = EndpointConfig(base_url=args.base_url, model=args.model, api_key=api_key,
                                   **common)
    judge_config = None if args.no_judge else EndpointConfig(
        base_url=args.judge_base_url or args.base_url,
        model=args.judge_model or args.model,
        api_key=args.judge_api_key or api_key,
        **common,
    )
    sys.stderr.write(
        f"{scenario.name}: {len(design)} cell(s) x {args.samples} samples = {len(specs)} samples "
        f"-> {args.out}\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    with args.out.open("w") as sink, tqdm(total=len(specs), unit="sample", file=sys.stderr,
                                          disable=args.no_progress, dynamic_ncols=True) as bar:
        def progress(record: dict[str, Any]) -> None:
            # Written as each sample finishes, so an interrupted run keeps what it paid for.
            sink.write(json.dumps(record, sort_keys=True) + "\n")
            sink.flush()
            records.append(record)
            bar.update(1)
            if record["provenance"].get("simulated"):
                bar.set_postfix_str("SIMULATED endpoint", refresh=False)

        try:
            asyncio.run(run_samples(
                specs, client_config=client_config, judge_config=judge_config,
                sampling=Sampling(temperature=args.temperature, top_p=args.top_p,
                                  max_tokens=args.max_tokens),
                concurrency=args.concurrency, progress=progress,
            ))
        except RetryableEndpointError as exc:
            bar.close()
            sys.stderr.write(f"endpoint still failing after {args.max_retries} retries: {exc}\n"
                             f"{len(records)} finished samples kept in {args.out}\n")
            return EXIT_ENDPOINT
    _print_summary(records, args, out)
    failed = [r for r in records if r["status"] == "error"]
    if failed:
        messages = list(dict.fromkeys(str(r["error"]["message"]) for r in failed if r["error"]))
        shown = "; ".join(messages[:3]) + (f" (+{len(messages) - 3} more)"
                                           if len(messages) > 3 else "")
        if len(failed) == len(records):
            sys.stderr.write(f"every sample failed with an endpoint error: {shown}\n")
            return EXIT_ENDPOINT
        sys.stderr.write(f"{len(failed)} of {len(records)} samples hit endpoint errors and are "
                         f"not graded (status=error in {args.out}): {shown}\n")
        return EXIT_PARTIAL
    return 0


def _below(report: dict[str, Any], min_recall: float | None,
           min_precision: float | None) -> list[str]:
    problems = []
    for name, forks in report["scores"].items():
        for fork, by_grader in forks.items():
            for grader in ("rules", "combined"):
                s = by_grader.get(grader)
                if s is None:
                    continue
                for metric, floor in (("recall", min_recall), ("precision", min_precision)):
                    value = s[metric]
                    if floor is not None and (value is None or value < floor):
                        shown = "undefined" if value is None else f"{value:.3f}"
                        problems.append(f"{name}/{fork}/{grader}: {metric} {shown} < {floor:g}")
    return problems


def _cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from evals import validation

    files = args.items or validation.split_files(args.split)
    items = validation.load_items(files)
    if args.scenario:
        items = [i for i in items if i.scenario in set(args.scenario)]
    if not items:
        raise ScenarioError("no items to score")
    judge = None
    client = None
    if args.judge_base_url:
        from evals.client import EndpointConfig, make_client
        from evals.runner import JUDGE_SAMPLING, _generator

        if not args.judge_model:
            raise ScenarioError("--judge-base-url needs --judge-model")
        key = args.judge_api_key or os.environ.get("EVALS_API_KEY") \
            or os.environ.get("OPENAI_API_KEY")
        config = EndpointConfig(base_url=args.judge_base_url, model=args.judge_model,
                                api_key=key, timeout=args.timeout, max_retries=3)

    async def score() -> dict[str, Any]:
        nonlocal judge, client
        if args.judge_base_url:
            client = make_client(config)
            judge = _generator(client, config, JUDGE_SAMPLING)
        try:
            return await validation.score_items(items, judge=judge)
        finally:
            if client is not None:
                await client.close()

    report = asyncio.run(score())
    report["items_digest"] = validation.items_digest(files)
    report["split"] = None if args.items else args.split
    if args.json:
        out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(validation.render(report) + "\n")
        if args.show_misgraded:
            for row in report["misgraded"]:
                out.write(f"  misgraded {row['scenario']}/{row['fork']} {row['id']}: label "
                          f"{row['label']}, rules {row['rules']}, judge {row['judge']}\n")
    problems = _below(report, args.min_recall, args.min_precision)
    if problems:
        sys.stderr.write("below threshold: " + "; ".join(problems) + "\n")
        return EXIT_BELOW_THRESHOLD
    return 0


def _cmd_summarize(args: argparse.Namespace, out: TextIO) -> int:
    with args.records.open() as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    _print_summary(records, args, out)
    return 0


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list(out)
        if args.command == "digest":
            return _cmd_digest(args, out)
        if args.command == "show":
            return _cmd_show(args, out)
        if args.command == "run":
            if args.samples < 1 or args.concurrency < 1:
                raise ScenarioError("--samples and --concurrency must be at least 1")
            return _cmd_run(args, out)
        if args.command == "validate-graders":
            return _cmd_validate(args, out)
        return _cmd_summarize(args, out)
    except (ScenarioError, ItemsError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except EndpointError as exc:
        sys.stderr.write(f"endpoint error: {exc}\n")
        return EXIT_ENDPOINT
