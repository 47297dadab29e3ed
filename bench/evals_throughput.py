"""Throughput of govflow's eval runner vs Inspect on the same samples and the same endpoint.

    .venv/bin/python bench/evals_throughput.py [--samples 150] [--concurrency 64]

Starts the SIMULATED endpoint (python -m evals.simulator) on a free loopback port, then:
1. zero latency: the same sample specs through evals.runner.run_samples and through Inspect
   (evals.inspect_tasks), printing samples/s for each and the ratio;
2. 200 ms injected latency, concurrency 64: govflow's samples/s as a share of the ideal
   concurrency / (latency x sequential rounds per sample), over the whole run and over its
   steady middle (rounds completed in the middle 80% of the run's time: no ramp-up, no tail);
3. the simulator's own capacity, driven by a minimal raw-socket client, to show it is not the
   bottleneck.
Runs are repeated (--repeat) because this 2-core machine is shared: other processes' load moves
single figures by tens of percent. The load average is printed with the results.
It prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.design import cells, sample_specs  # noqa: E402
from evals.runner import EndpointConfig, Sampling, run_samples  # noqa: E402
from evals.scenarios import load_scenario  # noqa: E402

FACTORS = {"pressure": ["high", "none"]}


def start_simulator(*extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.simulator", "--port", "0", "--profile", "deceptive", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("SIMULATOR READY"):
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, line.split()[2]


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_govflow(url: str, samples: int, concurrency: int,
                seed: int) -> tuple[float, list[Any], list[tuple[float, int]]]:
    """Returns elapsed seconds, the records, and (seconds since start, rounds) per completion."""
    scenario = load_scenario("insider_trading")
    specs = sample_specs(scenario, cells(scenario, FACTORS), samples_per_cell=samples, seed=seed)
    agent = EndpointConfig(base_url=url, model="govflow-simulator/deceptive")
    judge = EndpointConfig(base_url=url, model="govflow-simulator/judge")
    completions: list[tuple[float, int]] = []
    started = time.perf_counter()

    def progress(record: dict[str, Any]) -> None:
        completions.append((time.perf_counter() - started, record["rounds"]))

    records = asyncio.run(run_samples(specs, client_config=agent, judge_config=judge,
                                      sampling=Sampling(temperature=1.0), concurrency=concurrency,
                                      progress=progress))
    return time.perf_counter() - started, records, completions


def steady_share(completions: list[tuple[float, int]], elapsed: float, concurrency: int,
                 latency: float) -> float:
    """Rounds completed per second in the middle 80% of the run's time, as a share of
    concurrency / latency. Ramp-up and the tail (the last long samples running while most
    workers are idle) fall outside the window. Rounds, not samples, keep it unbiased: short
    samples finish early and long ones pile up at the end."""
    lo, hi = 0.1 * elapsed, 0.9 * elapsed
    rounds = sum(r for t, r in completions if lo <= t <= hi)
    return rounds / (hi - lo) / (concurrency / latency)


async def _hammer(port: int, connections: int, seconds: float) -> float:
    """A minimal keep-alive client (pre-built requests, no HTTP library) to load the server."""
    scenario = load_scenario("insider_trading")
    rendered = scenario.render({"pressure": "high"}, 0)
    requests = []
    for seed in range(64):
        body = json.dumps({"model": "m", "messages": rendered.messages, "tools": rendered.tools,
                           "seed": seed}).encode()
        requests.append(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
                        b"content-type: application/json\r\ncontent-length: %d\r\n\r\n"
                        % len(body) + body)
    done = 0
    end = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < end:
            writer.write(requests[i % 64])
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(int(head.split(b"content-length: ")[1].split(b"\r\n")[0]))
            done += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    return done / (time.perf_counter() - started)


def run_inspect(url: str, samples: int, concurrency: int, seed: int) -> tuple[float, int] | None:
    try:
        from inspect_ai import eval as inspect_eval

        from evals.inspect_tasks import govflow_task
    except ImportError:
        return None
    os.environ.setdefault("SIM_API_KEY", "unused")
    task = govflow_task("insider_trading", factors="pressure=high,none", samples=samples,
                        seed=seed, judge_model="openai-api/sim/govflow-simulator/judge",
                        judge_base_url=url, judge_api_key="unused")
    with tempfile.TemporaryDirectory() as log_dir:
        started = time.perf_counter()
        logs = inspect_eval(task, model="openai-api/sim/govflow-simulator/deceptive",
                            model_base_url=url, max_connections=concurrency,
                            max_samples=concurrency, log_dir=log_dir, display="none",
                            fail_on_error=False, max_retries=0)
        elapsed = time.perf_counter() - started
    done = logs[0].results.completed_samples if logs[0].results else 0
    return elapsed, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=150, help="samples per cell (2 cells)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--latency-samples", type=int, default=1000, help="per cell")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the govflow runs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-inspect", action="store_true")
    args = parser.parse_args()
    print("Benchmark against the SIMULATED endpoint (govflow-simulator/deceptive); "
          "figures measure the harness, not any model.")
    print(f"load average before start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    proc, url = start_simulator()
    try:
        run_govflow(url, 5, 4, args.seed + 1)  # warm imports and connections
        rates = []
        for _ in range(args.repeat):
            elapsed, records, _ = run_govflow(url, args.samples, args.concurrency, args.seed)
            rates.append(len(records) / elapsed)
        gov_rate = statistics.median(rates)
        print(f"[0 ms] govflow runner: {len(records)} samples, "
              f"{', '.join(f'{r:.1f}' for r in rates)} samples/s (median {gov_rate:.1f})")
        inspect = None if args.skip_inspect else run_inspect(
            url, args.samples, args.concurrency, args.seed)
        if inspect is None:
            print("[0 ms] Inspect: skipped (inspect-ai not installed or --skip-inspect)")
        else:
            i_elapsed, i_done = inspect
            i_rate = i_done / i_elapsed
            print(f"[0 ms] Inspect:        {i_done} samples in {i_elapsed:.2f} s = "
                  f"{i_rate:.1f} samples/s")
            print(f"[0 ms] ratio govflow / Inspect = {gov_rate / i_rate:.2f}x (aim >= 2x)")
    finally:
        stop(proc)

    proc, url = start_simulator("--latency-ms", f"{args.latency_ms:g}")
    try:
        run_govflow(url, 2, 2, args.seed + 1)
        latency = args.latency_ms / 1000.0
        shares, steady = [], []
        for _ in range(args.repeat):
            elapsed, records, completions = run_govflow(
                url, args.latency_samples, args.concurrency, args.seed)
            rounds = sum(r["rounds"] for r in records) / len(records)
            ideal = args.concurrency / (rounds * latency)
            shares.append(100 * len(records) / elapsed / ideal)
            steady.append(100 * steady_share(completions, elapsed, args.concurrency, latency))
            calls = sum(len(r["provenance"]["calls"]) for r in records) / elapsed
            print(f"[{args.latency_ms:g} ms, concurrency {args.concurrency}] {len(records)} "
                  f"samples in {elapsed:.2f} s = {len(records) / elapsed:.1f} samples/s; "
                  f"{rounds:.2f} sequential rounds/sample -> ideal {ideal:.1f} samples/s; "
                  f"share {shares[-1]:.1f}% whole run, {steady[-1]:.1f}% steady state")
        print(f"[{args.latency_ms:g} ms] share of ideal: best {max(shares):.1f}% / median "
              f"{statistics.median(shares):.1f}% whole run; best {max(steady):.1f}% / median "
              f"{statistics.median(steady):.1f}% steady state (aim >= 90%)")
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        capacity = asyncio.run(_hammer(port, 1024, 3.0))
        print(f"[{args.latency_ms:g} ms] simulator capacity, 1024 keep-alive connections: "
              f"{capacity:.0f} requests/s (the runner above sent {calls:.0f} requests/s)")
    finally:
        stop(proc)

    proc, url = start_simulator()
    try:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        capacity = asyncio.run(_hammer(port, args.concurrency, 3.0))
        print(f"[0 ms] simulator capacity, {args.concurrency} keep-alive connections: "
              f"{capacity:.0f} requests/s")
    finally:
        stop(proc)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
