"""Gate kind `inspect_log`: Inspect (UK AISI) logs of a govflow task, uploaded as evidence,
bound per-episode harm in every cell on the same footing as `deception_eval`.

Every readable log of the task uploaded to any release of the system version is pooled (the
newest or the best alone could be shopped for), and for each:

- its upload is on the audit log (`evidence.attached`, with the uploader and the sha256 of
  exactly these bytes);
- it finished (``status: success``) and was scored by govflow's own scorer, sample by sample;
- every funnel metric the header reports is recomputed from the samples' grades (ungraded
  counted as harmful) and must match: a header edited by hand refuses the log;
- the model under test is the manifest's ``serving.model`` (Inspect's provider prefix aside),
  every other model that answered is the policy's ``judge_model``, and the two differ.

Then the pooled samples go through the same per-cell check as `deception_eval`
(`govflow.evalruns.gates.cells`): worst-case counts, one-sided bound, sample floor, invalid cap.

An Inspect run happens off the platform and is not registered before its first sample, so a
lab can still leave a log out. The gate's report says so; `deception_eval` is the gate whose
runs cannot be left out.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

from evals import stats
from govflow.core.digests import is_sha256_digest
from govflow.evalruns.gates import cells as cellcheck
from govflow.evalruns.gates.pinning import other_text_samples, short, unpinned
from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult

ZIP_MAGIC = b"PK\x03\x04"
TOLERANCE = 1e-9


def _read(document) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Header and samples of a stored log. Evidence is stored by digest with no file
    extension, and the reader tells the formats apart by extension, so sniff the bytes and
    name a copy."""
    from evals.inspect_log import read_inspect_log, read_inspect_samples

    with document.file.open("rb") as source:
        suffix = ".eval" if source.read(4) == ZIP_MAGIC else ".json"
        source.seek(0)
        with tempfile.TemporaryDirectory(prefix="govflow-inspect-") as folder:
            path = Path(folder) / f"log{suffix}"
            with path.open("wb") as copy:
                shutil.copyfileobj(source, copy)
            info = read_inspect_log(path)
            if info["status"] != "success":
                return info, []
            return info, read_inspect_samples(path)


def _same_model(inspect_name: str | None, model: str) -> bool:
    # Inspect names a model "<provider>/<model id>" (e.g. openai-api/sim/<id>).
    if not inspect_name:
        return False
    return inspect_name == model or inspect_name.endswith("/" + model)


def _header_mismatches(info: dict[str, Any], samples: list[dict[str, Any]]) -> list[str]:
    recomputed = stats.summarize(samples, ambiguous="worst")["overall"]["metrics"]
    out = []
    for name, value in sorted(info["metrics"].items()):
        scorer, _, metric = name.partition("/")
        if scorer != "govflow_funnel" or metric not in recomputed:
            continue
        mine = recomputed[metric]["rate"]
        if mine is None and (value is None or math.isnan(value)):
            continue
        if value is None or mine is None or abs(mine - value) > TOLERANCE:
            out.append(f"{metric} = {value} in the header, {mine} from its samples")
    return out


def _upload_events(docs) -> dict[int, int]:
    from govflow.audit.events import EventType
    from govflow.audit.models import AuditEvent

    digests = {str(d.pk): d.sha256 for d in docs}
    events = AuditEvent.objects.filter(event_type=EventType.EVIDENCE_ATTACHED,
                                       subject_id__in=list(digests))
    # The event must name these very bytes: a row whose file was swapped later does not match.
    return {int(e.subject_id): e.pk for e in events
            if e.payload.get("sha256") == digests[e.subject_id]}


def _check_log(doc, info, samples, params, serving, logged) -> list[str]:
    problems = []
    if doc.pk not in logged:
        problems.append("its upload is not on the audit log")
    if info["status"] != "success":
        problems.append(f"the run did not finish (status {info['status']!r})")
        return problems
    pinned = params["scenario_digest"]
    if pinned is not None:
        for digest, count in sorted(other_text_samples(samples, pinned).items()):
            problems.append(f"{count} sample(s) ran the scenario at {short(digest)}, not the "
                            f"text the policy pins ({short(pinned)})")
    if not any(s["grades"] for s in samples):
        problems.append("no sample was scored by govflow_funnel")
    problems += [f"header edited: {m}" for m in _header_mismatches(info, samples)]
    if not _same_model(info["model"], serving["model"]):
        problems.append(f"model {info['model']!r} is not the served model {serving['model']}")
    judge = params["judge_model"]
    if judge == serving["model"]:
        problems.append("the judge must be a different model from the one under test")
    others = {m for s in samples for m in s["models"]} - {info["model"]}
    wrong = sorted(m for m in others if not _same_model(m, judge))
    if wrong:
        problems.append(f"samples used {', '.join(wrong)}, neither the model under test nor "
                        f"the policy's judge {judge}")
    return problems


def _check(params) -> list[tuple[str, str]]:
    problems = cellcheck.check_thresholds(params)
    pin = params.get("scenario_digest")
    if pin is not None and not is_sha256_digest(pin):
        problems.append(("scenario_digest", "must be sha256:<64 hex digits>, as printed by "
                                            "python -m evals digest NAME"))
    return problems


def evaluate(params, ctx) -> GateResult:
    from evals.inspect_log import InspectLogError
    from govflow.releases.models import EvidenceDocument

    version = ctx.release.system_version
    serving = version.manifest.get("serving")
    evidence: dict[str, Any] = {"task": params["task"], "thresholds": params["thresholds"],
                                "bound": params["bound"], "confidence": params["confidence"],
                                "logs": [], "skipped": []}
    if not serving:
        return GateResult(False, "the system manifest does not declare how the system is "
                                 "served (serving.model), so no Inspect log can be tied to it",
                          evidence)
    docs = list(EvidenceDocument.objects.filter(
        release__system_version=version, document_type=params["document_type"]
    ).order_by("uploaded_at", "id"))
    logged = _upload_events(docs)
    problems: list[str] = []
    pooled: list[dict[str, Any]] = []
    for doc in docs:
        try:
            info, samples = _read(doc)
        except (InspectLogError, OSError) as exc:
            evidence["skipped"].append({"document": doc.pk, "sha256": doc.sha256,
                                        "problem": str(exc)})
            continue
        if info["task"] != params["task"]:
            evidence["skipped"].append({"document": doc.pk, "sha256": doc.sha256,
                                        "problem": f"task {info['task']!r}"})
            continue
        log_problems = _check_log(doc, info, samples, params, serving, logged)
        evidence["logs"].append({
            "document": doc.pk, "release": doc.release_id, "sha256": doc.sha256,
            "name": doc.name, "upload_event": logged.get(doc.pk), "status": info["status"],
            "model": info["model"], "samples": len(samples),
            "inspect_run_id": info["run_id"], "problems": log_problems})
        where = f"log {doc.name} (sha256:{doc.sha256[:12]}…)"
        problems += [f"{where}: {p}" for p in log_problems]
        pooled += samples
    if not evidence["logs"]:
        return GateResult(False, f"no readable Inspect log of task {params['task']!r} among "
                                 f"{len(docs)} {params['document_type']} document(s)",
                          evidence)
    if params["scenario_digest"] is None:
        problems.insert(0, unpinned(params["task"]))
    else:
        # Only samples of the pinned text are bounded; the others refuse their log (above).
        pooled = [s for s in pooled if s.get("scenario_digest") == params["scenario_digest"]]
    summary = stats.summarize(pooled, confidence=params["confidence"], ambiguous="worst")
    cell_problems, evidence["metrics"] = cellcheck.judge_cells(summary, params)
    problems += cell_problems
    if params["bound"] == "fixed_n" and len(evidence["logs"]) != 1:
        problems.append("the fixed_n bound holds only for a single log; "
                        f"{len(evidence['logs'])} are uploaded: use bound: anytime")
    head = f"{len(evidence['logs'])} Inspect log(s) of {params['task']} pooled"
    where = cellcheck.where(evidence.get("metrics", {}))
    if problems:
        return GateResult(False, f"{head}: " + "; ".join(problems)
                          + (f"; {where}" if where else ""), evidence)
    return GateResult(True, f"{head}: every cell's upper bound is under its threshold; {where}",
                      evidence)


KIND = GateKind(
    name="inspect_log",
    description="Inspect logs of a govflow task uploaded as evidence, pooled, bound "
                "per-episode harm rates in every cell (recomputed from the samples; one-sided "
                "upper bound, ungraded outcomes counted as harmful).",
    params={
        "task": Param("str", help="the Inspect task name in the log"),
        **cellcheck.PARAMS,
        "judge_model": Param("str", help="the judge's model id; never the model under test"),
        "document_type": Param("str", required=False, default="inspect_log"),
        "scenario_digest": Param("str", required=False, default=None,
                                 help="the content digest of the scenario text the task must "
                                      "have rendered (python -m evals digest NAME), checked "
                                      "against every sample's metadata. Unset: refused"),
    },
    evaluate=evaluate,
    check=_check,
)
