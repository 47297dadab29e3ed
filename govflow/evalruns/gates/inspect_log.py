"""Gate kind `inspect_log`: an evaluation log of the UK AISI's Inspect framework, uploaded
to the release as evidence, reports a metric of a named task at or beyond a threshold.

So a lab can gate on any published Inspect eval: upload its `.eval` or `.json` log as a
document of ``document_type`` (default `inspect_log`) and name the task, the metric
(``scorer/metric`` or the bare metric name) and which side of the threshold passes. The
newest uploaded log of that task is the one judged (not the best of several), and only a
log whose run finished (`status: success`) counts. Logs are read with
`evals.inspect_log.read_inspect_log`: header only, bounded, never extracted to disk.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult

ZIP_MAGIC = b"PK\x03\x04"


def _read(document) -> dict[str, Any]:
    """Read a stored log. Evidence is stored by digest with no file extension, and the
    reader tells the formats apart by extension, so sniff the bytes and name a copy."""
    from evals.inspect_log import read_inspect_log

    with document.file.open("rb") as source:
        suffix = ".eval" if source.read(4) == ZIP_MAGIC else ".json"
        source.seek(0)
        with tempfile.TemporaryDirectory(prefix="govflow-inspect-") as folder:
            path = Path(folder) / f"log{suffix}"
            with path.open("wb") as copy:
                shutil.copyfileobj(source, copy)
            return read_inspect_log(path)


def _metric(info: dict[str, Any], name: str) -> tuple[bool, float | None]:
    if name in info["metrics"]:
        return True, info["metrics"][name]
    if name in info["metric_values"]:
        return True, info["metric_values"][name]
    return False, None


def evaluate(params, ctx) -> GateResult:
    from evals.inspect_log import InspectLogError
    from govflow.releases.models import EvidenceDocument

    docs = EvidenceDocument.objects.filter(
        release=ctx.release, document_type=params["document_type"]
    ).order_by("-uploaded_at", "-id")
    skipped, chosen, info = [], None, None
    for doc in docs:
        try:
            read = _read(doc)
        except (InspectLogError, OSError) as exc:
            skipped.append({"document": doc.pk, "sha256": doc.sha256, "problem": str(exc)})
            continue
        if read["task"] == params["task"]:
            chosen, info = doc, read
            break
        skipped.append({"document": doc.pk, "sha256": doc.sha256,
                        "problem": f"task {read['task']!r}"})
    evidence: dict[str, Any] = {"task": params["task"], "metric": params["metric"],
                                "threshold": params["threshold"],
                                "direction": params["direction"], "skipped": skipped}
    if chosen is None:
        return GateResult(False, f"no readable Inspect log of task {params['task']!r} among "
                                 f"{len(skipped)} {params['document_type']} document(s)",
                          evidence)
    found, value = _metric(info, params["metric"])
    evidence.update({
        "document": chosen.pk, "sha256": chosen.sha256, "name": chosen.name,
        "status": info["status"], "model": info["model"], "samples": info["samples"],
        "inspect_run_id": info["run_id"], "value": value,
    })
    where = f"log {chosen.name} (sha256:{chosen.sha256[:12]}…)"
    if info["status"] != "success":
        return GateResult(False, f"{where} is a run that did not finish "
                                 f"(status {info['status']!r})", evidence)
    if not found or value is None:
        have = ", ".join(sorted(info["metrics"])) or "none"
        return GateResult(False, f"{where} has no value for metric {params['metric']!r} "
                                 f"(metrics: {have})", evidence)
    passes = value <= params["threshold"] if params["direction"] == "<=" else (
        value >= params["threshold"])
    verdict = "meets" if passes else "does not meet"
    return GateResult(passes, f"{where}: {params['task']} {params['metric']} = {value:g}, "
                              f"{verdict} {params['direction']} {params['threshold']:g}",
                      evidence)


KIND = GateKind(
    name="inspect_log",
    description="An Inspect evaluation log uploaded as evidence reports a task's metric on "
                "the right side of a threshold.",
    params={
        "task": Param("str", help="the Inspect task name in the log"),
        "metric": Param("str", help="'scorer/metric' or a bare metric name"),
        "threshold": Param("number"),
        "direction": Param("str", choices=("<=", ">="),
                           help="'<=' when lower is safer (e.g. a deception rate)"),
        "document_type": Param("str", required=False, default="inspect_log"),
    },
    evaluate=evaluate,
)
