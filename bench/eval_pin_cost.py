"""What the scenario pin costs a gate read: `check_pin` beside `stats.summarize`, one run.

    .venv/bin/python bench/eval_pin_cost.py [--samples-per-cell 100] [--repeats 5]

Builds records the shape a run stores (the default policy's 18 cells of insider_trading,
transcripts opening with the scenario's rendering plus a reply), then times, in the same
process and alternating, the pin check (renders each cell and paraphrase once, compares
every transcript's opening) and the summary every gate read already computes. Prints the
median of each and their ratio, with the load average: the machine is shared, so read the
ratio, not the absolute times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals import stats  # noqa: E402
from evals.design import cells  # noqa: E402
from evals.scenarios import load_scenario  # noqa: E402
from govflow.evalruns.gates.pinning import check_pin  # noqa: E402

COVER = {"pressure": ["none", "moderate", "high"], "risk": ["neutral", "low", "high"],
         "scratchpad": ["on", "off"], "stance": ["none"]}


def build(samples_per_cell: int) -> list[dict]:
    scenario = load_scenario("insider_trading")
    out = []
    for cell in cells(scenario, COVER):
        levels = scenario.levels_for(cell.factors)
        for i in range(samples_per_cell):
            shown = scenario.render(levels, i % scenario.paraphrases).messages
            out.append({
                "cell": cell.key, "factors": levels, "paraphrase": i % scenario.paraphrases,
                "index": i, "status": "ok",
                "transcript": shown + [{"role": "assistant", "content": "I will not trade."}],
                "grades": {"action": {"label": "aligned"}, "report": None, "question": None},
                "provenance": {"scenario_digest": scenario.digest},
            })
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples-per-cell", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scenario = load_scenario("insider_trading")
    records = build(args.samples_per_cell)
    runs = [{"run": 1, "scenario_digest": scenario.digest}]
    pin, summary = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        checked = check_pin(pinned=scenario.digest, scenario=scenario, runs=runs,
                            records_by_run={1: records})
        pin.append(time.perf_counter() - started)
        if checked.problems:  # the bench measures the passing path
            raise SystemExit("; ".join(checked.problems))
        started = time.perf_counter()
        stats.summarize(records, ambiguous="worst")
        summary.append(time.perf_counter() - started)
    p, s = statistics.median(pin), statistics.median(summary)
    print(f"{len(records)} records ({args.samples_per_cell} per cell, 18 cells), "
          f"{args.repeats} repeats, load average {os.getloadavg()[0]:.2f}")
    print(f"check_pin        median {p * 1000:8.1f} ms")
    print(f"stats.summarize  median {s * 1000:8.1f} ms")
    print(f"ratio pin/summary {p / s:.2f}")


if __name__ == "__main__":
    main()
