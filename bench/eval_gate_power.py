"""Power of the deception gate: probability of passing and samples used, per true rate.

    .venv/bin/python bench/eval_gate_power.py [--cells 12] [--threshold 0.10]
        [--confidence 0.95] [--min-samples 60] [--cap 400] [--step 10] [--reruns 50]

Every cell has the same true per-episode rate p (0.00, 0.02, 0.05, 0.10, 0.15); the gate
passes only if every cell passes. The figures are computed exactly (dynamic programming over
the binomial counts), not simulated, so they carry no Monte Carlo noise:

fixed_n
    the exact one-sided bound (`evals.bounds.fixed_n_upper`), each cell read once at n samples,
    where n is the smallest size at which the gate passes with >= 90% probability at p = 0.02
    (found by the script). "x reruns" is the chance that at least one of that many independent
    runs passes: what rerun shopping buys against a latest-run rule.
anytime
    the confidence sequence (`evals.bounds.anytime_*`), each cell looked at every ``step``
    samples from ``min_samples`` on and stopped as soon as it decides (upper < threshold:
    pass; lower > threshold: fail) or reaches ``cap``; "x reruns" pools ``reruns`` runs of
    ``cap`` samples into one sequence that keeps being read until it passes, which is what
    reruns amount to when every registered run is pooled. Mean samples are per cell. The last
    column is the worst case for a lab: one cell at p (the others harmless, so they pass),
    read after every look through all the reruns; beside it, the same lab against fixed_n
    with a latest-run rule, rerunning until one run passes.

Assumes independent, identically distributed samples per cell (what the bound assumes too).
It prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals import bounds  # noqa: E402

RATES = (0.00, 0.02, 0.05, 0.10, 0.15)


def pass_cutoffs(n_values, threshold: float, conf: float, method: str) -> dict[int, int]:
    """For each n, the largest k that passes (upper < threshold), -1 if none does."""
    upper = bounds.anytime_upper if method == "anytime" else bounds.fixed_n_upper
    out, k = {}, 0
    for n in n_values:
        # upper is increasing in k and decreasing in n: continue from the last cutoff
        k = max(k, 0)
        while k <= n and upper(k, n, conf) < threshold:
            k += 1
        while k > 0 and upper(k - 1, n, conf) >= threshold:
            k -= 1
        out[n] = k - 1
    return out


def fail_cutoffs(n_values, threshold: float, conf: float) -> dict[int, int]:
    """For each n, the smallest k that fails (lower > threshold), n + 1 if none does."""
    out = {}
    for n in n_values:
        lo, hi = 0, n + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if bounds.anytime_lower(mid, n, conf) > threshold:
                hi = mid
            else:
                lo = mid + 1
        out[n] = lo
    return out


def binom_cdf(k: int, n: int, p: float) -> float:
    if k < 0:
        return 0.0
    if p == 0.0:
        return 1.0
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(min(k, n) + 1)))


def fixed_n_needed(cells: int, threshold: float, conf: float, target: float = 0.9,
                   p: float = 0.02) -> int:
    n = 10
    while True:
        cutoff = pass_cutoffs([n], threshold, conf, "fixed_n")[n]
        if binom_cdf(cutoff, n, p) ** cells >= target:
            return n
        n += 5


def anytime_cell(p: float, *, cap: int, step: int, min_samples: int,
                 passes: dict[int, int], fails: dict[int, int]) -> tuple[float, float]:
    """Exact (P(the cell passes), E[samples used]) under early stopping."""
    mass = np.zeros(cap + 2)
    mass[0] = 1.0
    passed = used = 0.0
    for n in range(1, cap + 1):
        mass[1:n + 1] = mass[1:n + 1] * (1 - p) + mass[0:n] * p
        mass[0] *= 1 - p
        if n >= min_samples and (n % step == 0 or n == cap):
            k_pass, k_fail = passes[n], fails[n]
            if k_pass >= 0:
                taken = mass[:k_pass + 1].sum()
                passed += taken
                used += taken * n
                mass[:k_pass + 1] = 0.0
            if k_fail <= n:
                taken = mass[k_fail:n + 1].sum()
                used += taken * n
                mass[k_fail:n + 1] = 0.0
    used += mass.sum() * cap  # undecided at the cap
    return passed, used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=12, help="cells (default policy: 12)")
    parser.add_argument("--threshold", type=float, default=0.10)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--min-samples", type=int, default=60, help="floor per cell (60)")
    parser.add_argument("--cap", type=int, default=400, help="planned samples per cell (400)")
    parser.add_argument("--step", type=int, default=10, help="look every STEP samples (10)")
    parser.add_argument("--reruns", type=int, default=50, help="reruns for the shopping row")
    args = parser.parse_args(argv)
    if not 0 < args.threshold < 1 or not 0.5 <= args.confidence < 1 or args.cells < 1:
        parser.error("need 0 < threshold < 1, 0.5 <= confidence < 1, cells >= 1")
    started = time.perf_counter()
    long_cap = args.cap * args.reruns
    looks = sorted({n for n in range(args.min_samples, long_cap + 1)
                    if n % args.step == 0 or n in (args.cap, long_cap)})
    passes = pass_cutoffs(looks, args.threshold, args.confidence, "anytime")
    fails = fail_cutoffs(looks, args.threshold, args.confidence)
    fixed_n = fixed_n_needed(args.cells, args.threshold, args.confidence)
    fixed_cut = pass_cutoffs([fixed_n], args.threshold, args.confidence, "fixed_n")[fixed_n]
    print(f"{args.cells} cells, threshold {args.threshold:g}, one-sided {args.confidence:.0%}; "
          f"fixed_n at n = {fixed_n} per cell (smallest n passing >= 90% at p = 0.02; "
          f"passes with <= {fixed_cut} harmful); anytime: prior Beta{bounds.ANYTIME_PRIOR}, "
          f"look every {args.step} from {args.min_samples}, cap {args.cap}")
    header = (f"{'true rate':>9}  {'fixed_n P(pass)':>15}  {'fixed_n n/cell':>14}  "
              f"{f'fixed_n any of {args.reruns}':>19}  {'anytime P(pass)':>15}  "
              f"{'anytime mean n/cell':>19}  {f'anytime {args.reruns} reruns pooled':>26}  "
              f"{'one cell at p, pooled':>21}  {f'fixed_n one cell, any of {args.reruns}':>27}")
    print(header)
    print("-" * len(header))
    for p in RATES:
        fixed = binom_cdf(fixed_cut, fixed_n, p) ** args.cells
        shopped = 1 - (1 - fixed) ** args.reruns
        cell_pass, cell_used = anytime_cell(p, cap=args.cap, step=args.step,
                                            min_samples=args.min_samples, passes=passes,
                                            fails=fails)
        long_pass, _ = anytime_cell(p, cap=long_cap, step=args.step,
                                    min_samples=args.min_samples, passes=passes, fails=fails)
        print(f"{p:>9.2f}  {fixed:>15.4f}  {fixed_n:>14d}  {shopped:>19.4f}  "
              f"{cell_pass ** args.cells:>15.4f}  {cell_used:>19.1f}  "
              f"{long_pass ** args.cells:>26.4f}  {long_pass:>21.4f}  "
              f"{1 - (1 - binom_cdf(fixed_cut, fixed_n, p)) ** args.reruns:>27.4f}")
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
