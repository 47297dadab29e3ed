"""Per-run *tallies* of eval samples, which the `deception_eval` gate decides over. No Django.

A tally is what the gate needs of one run's samples, as JSON counts that add up across
runs. The bounds, kappa and grader check read only the samples that show the scenario text
the run registered (`pinning.shows_pinned_text`, checked when the tally is made against the
text loaded then), so a tally splits them: ``shown`` and ``not_shown`` hold each part's
per-cell counts, judge-rule label pairs and grader records. Who answered and judged, with
which sampling settings and backend fingerprints, counts over every sample.

`eval_run_complete` and `eval_run_withdraw` log each run's tally in its closing event; the
server's gate tallies each pooled run's stored samples afresh; the offline verifier
(`govflow.verify.replay.evalruns`) takes the tallies the log carries. Both then call
`govflow.evalruns.gates.decision.decide`, so a logged gate result is re-derived by the code
that produced it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from evals import stats
from evals.stats import GATE_METRICS
from govflow.evalruns.gates.fingerprints import fingerprint_tally
from govflow.evalruns.gates.pinning import Openings, shows_pinned_text

SAMPLING = ("temperature", "top_p", "max_tokens")
Tally = dict[str, Any]


def _sampling(prov: dict[str, Any]) -> dict[str, Any]:
    recorded = prov.get("sampling")
    if isinstance(recorded, dict):
        return recorded
    return {"temperature": prov.get("temperature"), "top_p": None, "max_tokens": None}


def _part(records: list[dict[str, Any]]) -> Tally:
    """Counts of what `stats.summarize(…, ambiguous="worst")` bounds, of ``records``."""
    summary = stats.summarize(records, ambiguous="worst")
    cells = {key: {"factors": c["factors"],
                   "n": {m: c["metrics"][m]["n"] for m in GATE_METRICS},
                   "k": {m: c["metrics"][m]["k"] for m in GATE_METRICS},
                   "invalid_samples": c["invalid_samples"],
                   "ambiguous_samples": c["ambiguous_samples"],
                   "errors": c["status"].get("error", 0)}
             for key, c in summary["cells"].items()}
    pairs = {turn: {"pairs": sorted([rule, judge, n] for (rule, judge), n
                                    in Counter(found).items()), "judge_invalid": invalid}
             for turn, (found, invalid) in stats.judged_pairs(records).items()}
    return {"samples": len(records), "cells": cells, "kappa_pairs": pairs,
            "grader_validation": summary["grader_validation"]}


def tally(records: Iterable[dict[str, Any]], *, scenario: Any, digest: str | None) -> Tally:
    """The tally of one run's ``records``; ``digest`` is the text the run registered,
    ``scenario`` the text loaded here. Unless they agree, no sample can be shown to run the
    registered text, and the tally says so (``checked_against`` None)."""
    records = list(records)
    checked = digest if digest is not None and scenario.digest == digest else None
    if checked is None:
        shown, not_shown = [], records
    else:
        openings = Openings(scenario)
        marks = [shows_pinned_text(r, openings, checked) for r in records]
        shown = [r for r, ok in zip(records, marks, strict=True) if ok]
        not_shown = [r for r, ok in zip(records, marks, strict=True) if not ok]
    answered: set[str] = set()
    judged: set[str] = set()
    fingerprints: set[str] = set()
    settings: Counter[tuple[Any, ...]] = Counter()
    simulated = 0
    for record in records:
        prov = record.get("provenance") or {}
        answered.update(prov.get("models_answered") or [])
        judged.update(prov.get("judge_models_answered") or [])
        fingerprints.update(prov.get("system_fingerprints") or [])
        simulated += bool(prov.get("simulated"))
        chosen = _sampling(prov)
        settings[tuple(chosen.get(name) for name in SAMPLING)] += 1
    return {"samples": len(records), "checked_against": checked,
            "shown": _part(shown), "not_shown": _part(not_shown),
            "models_answered": sorted(answered), "judge_models_answered": sorted(judged),
            "system_fingerprints": sorted(fingerprints), "simulated_samples": simulated,
            "sampling": sorted(([*values, n] for values, n in settings.items()), key=repr),
            "backends": fingerprint_tally(records)}


def merge_parts(parts: Iterable[Tally]) -> Tally:
    cells: dict[str, dict[str, Any]] = {}
    pairs: dict[str, Counter[tuple[str, str]]] = {}
    invalid: Counter[str] = Counter()
    graders: dict[tuple[str, str], dict[str, Any]] = {}
    samples = 0
    for t in parts:
        samples += t["samples"]
        for key, c in t["cells"].items():
            into = cells.setdefault(key, {"factors": c["factors"], "n": Counter(),
                                          "k": Counter(), "invalid_samples": 0,
                                          "ambiguous_samples": 0, "errors": 0})
            into["n"].update(c["n"])
            into["k"].update(c["k"])
            for name in ("invalid_samples", "ambiguous_samples", "errors"):
                into[name] += c[name]
        for turn, found in t["kappa_pairs"].items():
            pairs.setdefault(turn, Counter()).update(
                {(rule, judge): n for rule, judge, n in found["pairs"]})
            invalid[turn] += found["judge_invalid"]
        for record in t["grader_validation"]:
            key = (str(record.get("grader_version")), str(record.get("items_digest")))
            graders.setdefault(key, record)
    return {"samples": samples,
            "cells": {key: {**c, "n": dict(c["n"]), "k": dict(c["k"])}
                      for key, c in sorted(cells.items())},
            "kappa_pairs": {turn: {"pairs": sorted([r, j, n] for (r, j), n in found.items()),
                                   "judge_invalid": invalid[turn]}
                            for turn, found in sorted(pairs.items())},
            "grader_validation": [graders[k] for k in sorted(graders)]}


def as_summary(t: Tally) -> dict[str, Any]:
    """The parts of a `stats.summarize(…, ambiguous="worst")` summary the gate reads, rebuilt
    from merged counts (what `cells.judge_cells` and the checks below take)."""
    kappa = {}
    for turn, found in t["kappa_pairs"].items():
        expanded = [(rule, judge) for rule, judge, n in found["pairs"] for _ in range(n)]
        kappa[turn] = {"kappa": stats.cohen_kappa(expanded), "n": len(expanded)}
    return {"cells": {key: {"factors": c["factors"],
                            "metrics": {m: {"n": c["n"][m], "k": c["k"][m]} for m in c["n"]},
                            "invalid_samples": c["invalid_samples"],
                            "ambiguous_samples": c["ambiguous_samples"],
                            "status": {"error": c["errors"]}}
                      for key, c in t["cells"].items()},
            "kappa": kappa, "grader_validation": t["grader_validation"]}
