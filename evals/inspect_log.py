"""Read an Inspect log (``.eval`` zip or ``.json``) into task name + metric values.

Works without inspect-ai installed: govflow's ``inspect_log`` gate kind reads logs that auditors
upload, so this parser is also defensive: it never extracts to disk, bounds how much it
decompresses, and reads only the header (never the samples).

Inspect writes ``.eval`` members compressed with zstd (zip method 93), which Python's zipfile
cannot read before 3.14; those are decoded with the ``zstandard`` package.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from evals.errors import EvalsError

MAX_HEADER_BYTES = 64 * 1024 * 1024
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_MAGIC = 0x04034B50
ZSTD_METHOD = 93


class InspectLogError(EvalsError):
    """The file is not a readable Inspect log."""


def _read_member(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise InspectLogError(f"{path.name}: no {name} in archive") from exc
    if info.file_size > MAX_HEADER_BYTES:
        raise InspectLogError(f"{path.name}: {name} is implausibly large ({info.file_size} bytes)")
    if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with archive.open(info) as handle:
            data = handle.read(MAX_HEADER_BYTES + 1)
    elif info.compress_type == ZSTD_METHOD:
        data = _read_zstd(path, info)
    else:
        raise InspectLogError(f"{path.name}: unsupported zip compression {info.compress_type}")
    if len(data) > MAX_HEADER_BYTES or zlib.crc32(data) != info.CRC:
        raise InspectLogError(f"{path.name}: {name} is corrupt (size or CRC mismatch)")
    return data


def _read_zstd(path: Path, info: zipfile.ZipInfo) -> bytes:
    try:
        import zstandard
    except ImportError as exc:
        raise InspectLogError(
            "reading zstd-compressed .eval logs needs the 'zstandard' package"
        ) from exc
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        fields = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
        if fields[0] != _LOCAL_MAGIC:
            raise InspectLogError(f"{path.name}: bad local header for {info.filename}")
        name_len, extra_len = fields[9], fields[10]
        handle.seek(name_len + extra_len, io.SEEK_CUR)
        compressed = handle.read(info.compress_size)
    # Inspect may write several zstd frames per member; read across all of them, bounded.
    reader = zstandard.ZstdDecompressor().stream_reader(
        io.BytesIO(compressed), read_across_frames=True
    )
    try:
        return reader.read(info.file_size + 1)
    except zstandard.ZstdError as exc:
        raise InspectLogError(f"{path.name}: cannot decompress {info.filename}: {exc}") from exc


def _load(path: Path) -> tuple[dict[str, Any], str]:
    if path.suffix == ".json":
        if path.stat().st_size > MAX_HEADER_BYTES * 4:
            raise InspectLogError(f"{path.name}: too large for a JSON log")
        return json.loads(path.read_text()), "json"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            # header.json exists once the eval finished; a running one has only the journal.
            member = "header.json" if "header.json" in names else "_journal/start.json"
            return json.loads(_read_member(path, archive, member)), "eval"
    except zipfile.BadZipFile as exc:
        raise InspectLogError(f"{path.name}: not a zip archive") from exc


def read_inspect_log(path: str | Path) -> dict[str, Any]:
    """Task name, status, model, sample counts and every metric value in an Inspect log.

    ``metrics`` maps ``"<scorer>/<metric>"`` to its value; ``metric_values`` maps the bare metric
    name too when only one scorer produced it (the common case).
    """
    path = Path(path)
    if not path.is_file():
        raise InspectLogError(f"no such log file: {path}")
    try:
        data, fmt = _load(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InspectLogError(f"{path.name}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("eval"), dict):
        raise InspectLogError(f"{path.name}: no 'eval' section; not an Inspect log")
    spec = data["eval"]
    results = data.get("results") or {}
    metrics: dict[str, float | None] = {}
    bare: dict[str, list[float | None]] = {}
    for score in results.get("scores") or []:
        scorer = str(score.get("name"))
        for name, m in (score.get("metrics") or {}).items():
            value = m.get("value") if isinstance(m, dict) else m
            value = float(value) if isinstance(value, (int, float)) else None
            metrics[f"{scorer}/{name}"] = value
            bare.setdefault(str(name), []).append(value)
    error = data.get("error")
    return {
        "format": fmt,
        "task": spec.get("task"),
        "task_id": spec.get("task_id"),
        "run_id": spec.get("run_id"),
        "created": spec.get("created"),
        "model": spec.get("model"),
        "status": data.get("status"),
        "samples": results.get("total_samples"),
        "completed_samples": results.get("completed_samples"),
        "metrics": metrics,
        "metric_values": {k: v[0] for k, v in bare.items() if len(v) == 1},
        "error": error.get("message") if isinstance(error, dict) else error,
    }


MAX_SAMPLES = 200_000
SCORER = "govflow_funnel"


def _sample_list(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".json":
        data, _ = _load(path)
        samples = data.get("samples")
    else:
        try:
            with zipfile.ZipFile(path) as archive:
                # One member per sample under samples/. Not summaries.json: Inspect trims a
                # sample's score metadata there once it grows large, which drops the very
                # per-fork grades the rates are recomputed from.
                names = sorted(n for n in archive.namelist()
                               if n.startswith("samples/") and n.endswith(".json"))
                if len(names) > MAX_SAMPLES:
                    raise InspectLogError(f"{path.name}: more than {MAX_SAMPLES} samples")
                samples = [json.loads(_read_member(path, archive, n)) for n in names]
        except zipfile.BadZipFile as exc:
            raise InspectLogError(f"{path.name}: not a zip archive") from exc
    if not isinstance(samples, list):
        raise InspectLogError(f"{path.name}: no sample list (a log written with --no-log-"
                              "samples cannot be checked sample by sample)")
    if len(samples) > MAX_SAMPLES:
        raise InspectLogError(f"{path.name}: more than {MAX_SAMPLES} samples")
    return samples


def read_inspect_samples(path: str | Path) -> list[dict[str, Any]]:
    """The log's samples as govflow records: cell, status, grades and the models used.

    Only samples scored by govflow's own scorer (`evals.inspect_tasks.govflow_funnel`) carry
    the per-fork grades a gate needs; a sample without them is ungraded (status ``invalid``),
    and a sample Inspect recorded an error for has status ``error``.
    """
    path = Path(path)
    out = []
    for sample in _sample_list(path):
        if not isinstance(sample, dict):
            raise InspectLogError(f"{path.name}: a sample is not an object")
        score = ((sample.get("scores") or {}).get(SCORER) or {})
        meta = score.get("metadata") if isinstance(score, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        cell = meta.get("cell") or (sample.get("metadata") or {}).get("cell")
        status = "error" if sample.get("error") else str(meta.get("status") or "invalid")
        grades = meta.get("grades") if isinstance(meta.get("grades"), dict) else {}
        out.append({
            "id": sample.get("id"), "cell": str(cell), "status": status, "grades": grades,
            "factors": (sample.get("metadata") or {}).get("factors") or {},
            # The scenario text the task rendered (evals.inspect_tasks writes it per sample).
            "scenario_digest": (sample.get("metadata") or {}).get("scenario_digest"),
            "models": sorted((sample.get("model_usage") or {}).keys()),
        })
    return out
