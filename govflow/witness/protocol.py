"""The add-checkpoint decision of C2SP tlog-witness, independent of any HTTP server.

Checks, in the order the spec gives them (each clause quoted where it decides a status):
malformed request → 400; unknown origin → 404; no valid signature by a trusted log key →
403; old size above the checkpoint size → 400; old size other than the size last
cosigned → 409 with that size (``text/x.tlog.size``); same size, different root → 409;
consistency proof that does not verify → 422; otherwise persist, then cosign → 200.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from govflow.trust import merkle
from govflow.trust.cosignature import cosign
from govflow.trust.note import (
    Checkpoint,
    NoteError,
    NoteVerificationError,
    NoteVerifier,
    open_note,
    split_note,
)
from govflow.witness.keyfile import WitnessKey
from govflow.witness.state import Store

MAX_PROOF_LINES = 63  # "The client MUST NOT send more than 63 consistency proof lines."
MAX_BODY_BYTES = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,19})")
# SQLite integers are signed 64-bit; a log of 2^63 leaves is beyond any real one.
_MAX_SIZE = 2**63 - 1


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class _Malformed(Exception):
    pass


@dataclass(frozen=True)
class Request:
    old: int
    proof: list[bytes]
    note: str
    body: str  # the note text the log signed, exactly as received
    checkpoint: Checkpoint


def parse_request(data: bytes) -> Request:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed("request body is not UTF-8") from exc
    old_line, sep, rest = text.partition("\n")
    if not sep:
        raise _Malformed("request must start with an 'old <size>' line")
    match = _OLD_LINE.fullmatch(old_line)
    if not match:
        raise _Malformed("first line must be 'old <size>', decimal with no leading zeros")
    proof: list[bytes] = []
    while True:
        line, sep, rest = rest.partition("\n")
        if not sep:
            raise _Malformed("no empty line between the consistency proof and the checkpoint")
        if line == "":
            break
        if len(proof) == MAX_PROOF_LINES:
            raise _Malformed(f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Malformed("a consistency proof line is not base64") from exc
        if len(digest) != merkle.HASH_SIZE:
            raise _Malformed("a consistency proof line is not a 32-byte hash")
        proof.append(digest)
    try:
        body, _ = split_note(rest)
        checkpoint = Checkpoint.parse(body)
    except NoteError as exc:
        raise _Malformed(f"checkpoint is malformed: {exc}") from exc
    if checkpoint.size > _MAX_SIZE or int(match.group(1)) > _MAX_SIZE:
        raise _Malformed("tree size too large")
    return Request(int(match.group(1)), proof, rest, body, checkpoint)


class Witness:
    """One witness identity cosigning for a fixed set of logs."""

    def __init__(
        self, *, key: WitnessKey, logs: Iterable[NoteVerifier], store: Store,
        clock: Callable[[], float] = time.time,
    ):
        self.key = key
        self.store = store
        self.clock = clock
        # A log is identified by its origin line; its checkpoints are signed by a key of the
        # same name (signed-note convention), and it may have more than one (rotation).
        self.logs: dict[str, list[NoteVerifier]] = {}
        for verifier in logs:
            self.logs.setdefault(verifier.name, []).append(verifier)
        self._locks = {origin: threading.Lock() for origin in self.logs}

    def add_checkpoint(self, data: bytes) -> Answer:
        try:
            request = parse_request(data)
        except _Malformed as exc:
            return Answer(400, f"{exc}\n")
        origin = request.checkpoint.origin
        if origin not in self.logs:
            # "If the checkpoint origin is unknown, the witness MUST respond with 404"
            return Answer(404, f"unknown log origin {origin!r}\n")
        try:
            open_note(request.note, self.logs[origin])
        except NoteVerificationError as exc:
            return Answer(403, f"checkpoint is not signed by a trusted key of {origin}: {exc}\n")
        except NoteError as exc:
            return Answer(400, f"checkpoint is malformed: {exc}\n")
        if request.old > request.checkpoint.size:
            return Answer(400, "old size is larger than the checkpoint size\n")
        if request.old == 0 and request.proof:
            return Answer(400, "the consistency proof must be empty when the old size is 0\n")
        # The thread lock keeps one log's requests in order inside this process; BEGIN
        # IMMEDIATE (in the store) does the same across processes sharing the state.
        with self._locks[origin], self.store.transaction() as tx:
            latest = tx.latest(origin)
            if request.old != latest.size:
                return Answer(409, f"{latest.size}\n", SIZE_CONTENT_TYPE)
            new = request.checkpoint
            if latest.root is not None and request.old == new.size:
                if new.root_hash != latest.root or request.proof:
                    reason = "same size as the cosigned checkpoint, different root: a fork"
                    tx.keep_evidence(origin, 409, reason, data.decode("utf-8"))
                    return Answer(409, f"{latest.size}\n", SIZE_CONTENT_TYPE)
            elif request.old > 0 and not merkle.verify_consistency(
                request.old, new.size, request.proof, latest.root or b"", new.root_hash
            ):
                reason = f"consistency proof from {request.old} to {new.size} does not verify"
                tx.keep_evidence(origin, 422, reason, data.decode("utf-8"))
                return Answer(422, f"{reason}\n")
            # Persist before answering: the cosignature must never outlive the state.
            tx.record(origin, new.size, new.root_hash, request.note)
            timestamp = int(self.clock())
            line = cosign(request.body, self.key.name, self.key.private_key, timestamp).line()
        return Answer(200, line)
