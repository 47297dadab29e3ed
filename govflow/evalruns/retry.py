"""The retry policy of a chunk task, as a pure function (the task applies it).

One layer retries: the evals client runs with its own retries off, so a 429 or 5xx stops
the chunk at once and Celery schedules the next attempt. The policy:

- wait at least the server's Retry-After, and otherwise back off exponentially (with
  jitter, so a fleet of chunks does not return as one burst) in the number of consecutive
  failed attempts;
- an attempt that finished samples before failing made progress: its streak restarts;
- a 429 with no progress halves the chunk's concurrency (down to 1): the endpoint says
  there are too many requests in flight;
- the same failure ``max_failures`` times in a row with no progress gives up, and the run
  is marked failed with that reason (a person resumes it once the endpoint is fixed);
- a wait is capped at ``max_delay``: with Redis, a countdown longer than the broker's
  visibility timeout would get the message delivered twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryDecision:
    give_up: bool
    countdown: float
    failures: int
    concurrency: int


def describe(error: BaseException) -> str:
    """A failure's identity: two failures are "the same" when these strings are equal."""
    status = getattr(error, "status_code", None)
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}" if status is None else f"HTTP {status}: {text}"


def next_attempt(
    *, reason: str, progressed: bool, failures: int, last_reason: str | None,
    retry_after: float | None, status_code: int | None, concurrency: int,
    backoff: float, max_delay: float, max_failures: int, rng: random.Random | None = None,
) -> RetryDecision:
    rng = rng or random.Random()
    if progressed:
        failures = 0
    elif reason == last_reason:
        failures += 1
    else:
        failures = 1
    if failures >= max_failures:
        return RetryDecision(True, 0.0, failures, concurrency)
    delay = min(max_delay, backoff * (2 ** failures)) * rng.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_delay))
    if status_code == 429 and not progressed:
        concurrency = max(1, concurrency // 2)
    return RetryDecision(False, delay, failures, concurrency)
