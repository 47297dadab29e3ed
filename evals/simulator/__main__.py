"""``python -m evals.simulator --port 8900 --profile deceptive``: serve a SIMULATED agent."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from evals.simulator.model import SimulatedModel
from evals.simulator.profiles import list_profiles, load_profile
from evals.simulator.server import ServerOptions, SimulatorServer


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError("a rate must be between 0 and 1")
    return rate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evals.simulator",
        description="Serve a SIMULATED agent over the OpenAI chat completions protocol. "
        "Its behaviour follows a profile file; it says nothing about any real model.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900, help="0 picks a free port")
    parser.add_argument("--profile", default="default",
                        help=f"profile name ({', '.join(list_profiles())}) or a YAML/JSON path")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every completion")
    parser.add_argument("--latency-jitter-ms", type=float, default=0.0,
                        help="uniform +/- jitter around --latency-ms")
    parser.add_argument("--fault-rate", type=_rate, default=0.0, help="share answered with 500")
    parser.add_argument("--fault-429-rate", type=_rate, default=0.0,
                        help="share answered with 429 and a Retry-After header")
    parser.add_argument("--retry-after", type=float, default=1.0,
                        help="Retry-After seconds sent with a 429 (may be fractional)")
    parser.add_argument("--malformed-rate", type=_rate, default=None,
                        help="share of agent replies that are malformed (overrides the profile)")
    parser.add_argument("--judge-noise", type=_rate, default=None,
                        help="share of judge verdicts flipped (overrides the profile)")
    parser.add_argument("--fault-seed", type=int, default=0,
                        help="seed of the fault generator (faults are not tied to requests)")
    return parser


async def _main(args: argparse.Namespace) -> None:
    model = SimulatedModel(load_profile(args.profile))
    options = ServerOptions(
        latency_ms=args.latency_ms, latency_jitter_ms=args.latency_jitter_ms,
        fault_rate=args.fault_rate, fault_429_rate=args.fault_429_rate,
        retry_after=args.retry_after, malformed_rate=args.malformed_rate,
        judge_noise=args.judge_noise, fault_seed=args.fault_seed,
    )
    server = SimulatorServer(model, options)
    port = await server.start(args.host, args.port)
    # Tests read this line to learn the port; keep its shape stable.
    print(f"SIMULATOR READY http://{args.host}:{port}/v1 model={model.model_name} "
          f"judge={model.judge_name} (SIMULATED agent, not a real model)", flush=True)
    await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
