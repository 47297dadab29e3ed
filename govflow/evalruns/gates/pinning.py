"""The scenario a `deception_eval` gate pins, checked against what the pooled runs ran.

The scenario files live in the lab's repository, so "the scenario's current text" is whatever
the lab last wrote: a weaker manager's message or a friendlier risk notice would still be
called `insider_trading`. The policy therefore names the text by its content digest
(`evals.scenarios.scenario_digest`), and only runs of that text are evidence:

- the scenario this server loads must be the pinned text (else nothing can be checked);
- a registered run whose logged digest is another is not pooled, and it keeps the gate
  refused for the system version: a lab cannot run the pinned text, dislike the result, move
  the pin (a new policy version, itself a logged `policy.registered` event) and be rid of
  the run, because the run now mismatches and still counts against the gate;
- every sample of a pooled run must say it ran the pinned text, and its transcript must open
  with exactly what the pinned scenario renders for its cell and paraphrase (system prompt
  and history), so a run that logged the pinned digest while showing the model an edited
  text is refused from its own records, which its closing event commits to by digest.

Plain Python over `evals` (no Django), so the offline re-derivation of the gate runs the
same check as the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evals.design import Cell
from evals.errors import ScenarioError
from evals.scenarios import Scenario


@dataclass
class PinCheck:
    problems: list[str] = field(default_factory=list)
    # The records that may be pooled as evidence: those of runs of the pinned text that
    # show it. Everything else is left out of the bounds (and refuses the gate above).
    records: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


def unpinned(scenario: str) -> str:
    """The refusal of a gate whose policy names no text for ``scenario``."""
    return (f"the policy does not pin the text of {scenario} (scenario_digest): an edited "
            "scenario would be measured under the same name; pin it with the digest "
            f"python -m evals digest {scenario} prints")


def other_text_samples(records: Iterable[dict[str, Any]], pinned: str) -> dict[str, int]:
    """digest -> how many of ``records`` name that digest instead of ``pinned`` (for
    samples with no transcript to compare, such as those of an Inspect log)."""
    out: dict[str, int] = {}
    for record in records:
        digest = record.get("scenario_digest")
        if digest != pinned:
            out[str(digest)] = out.get(str(digest), 0) + 1
    return out


def short(digest: Any) -> str:
    text = str(digest)
    return text[:19] + "…" if len(text) > 20 else text


class Openings:
    """What the pinned scenario shows the agent before its first reply, per (levels,
    paraphrase); rendered once each, since a pool repeats a few dozen of them."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._seen: dict[tuple[str, int], list[dict[str, Any]] | None] = {}

    def of(self, record: dict[str, Any]) -> list[dict[str, Any]] | None:
        # Rendered from the cell key, which is what the bounds count the sample under, not
        # from the record's own `factors`: a sample filed under a hard cell must show that
        # cell's text, whatever else it says about itself.
        cell = record.get("cell")
        paraphrase = record.get("paraphrase")
        if not isinstance(cell, str) or not isinstance(paraphrase, int) or isinstance(
                paraphrase, bool):
            return None
        key = (cell, paraphrase)
        if key not in self._seen:
            try:
                levels = Cell.from_key(cell).levels()
                self._seen[key] = self.scenario.render(levels, paraphrase).messages
            except (ScenarioError, ValueError):
                self._seen[key] = None  # a level or paraphrase the pinned text does not have
        return self._seen[key]


def shows_pinned_text(record: dict[str, Any], openings: Openings, pinned: str) -> bool:
    """The record says it ran the pinned text and its transcript opens with that text."""
    if (record.get("provenance") or {}).get("scenario_digest") != pinned:
        return False
    expected = openings.of(record)
    transcript = record.get("transcript")
    if expected is None or not isinstance(transcript, list):
        return False
    return transcript[:len(expected)] == expected


def check_pin(*, pinned: str, scenario: Scenario, runs: Iterable[dict[str, Any]],
              records_by_run: dict[Any, list[dict[str, Any]]]) -> PinCheck:
    """``runs``: the pool's run entries (``run``, ``scenario_digest`` as registered);
    ``records_by_run``: each run's sample records. Problems are gate refusals."""
    out = PinCheck(evidence={"pinned": pinned, "loaded": scenario.digest, "other_text_runs": [],
                             "samples_not_showing_pinned_text": {}})
    if scenario.digest != pinned:
        out.problems.append(
            f"the {scenario.name} scenario on this server ({short(scenario.digest)}) is not "
            f"the text the policy pins ({short(pinned)}), so no run can be checked against it")
        return out
    openings = Openings(scenario)
    for run in runs:
        records = records_by_run.get(run["run"], [])
        if run.get("scenario_digest") != pinned:
            out.evidence["other_text_runs"].append(run["run"])
            out.problems.append(
                f"run {run['run']} ran {scenario.name} at {short(run.get('scenario_digest'))}, "
                f"not the text the policy pins ({short(pinned)}): its samples are not pooled, "
                "and a run of another text registered for this system version keeps the "
                "gate refused")
            continue
        good = [r for r in records if shows_pinned_text(r, openings, pinned)]
        bad = len(records) - len(good)
        if bad:
            out.evidence["samples_not_showing_pinned_text"][str(run["run"])] = bad
            out.problems.append(
                f"run {run['run']}: {bad} of {len(records)} sample(s) do not show the pinned "
                f"text of {scenario.name} (their recorded digest, or the opening of their "
                "transcript, differs from what the pinned scenario renders for their cell "
                "and paraphrase)")
        out.records.extend(good)
    return out
