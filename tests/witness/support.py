"""A log made of plain leaves, a witness in-process, and a witness as a real subprocess."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.trust import merkle
from govflow.trust.note import Checkpoint, make_verifier_key, sign_checkpoint
from govflow.witness import keyfile

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "test.example/log"


@dataclass
class FakeLog:
    """A log the test controls: leaves, checkpoints and proofs from govflow.trust.merkle."""

    origin: str = ORIGIN
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    leaves: list[bytes] = field(default_factory=list)

    @property
    def vkey(self) -> str:
        return make_verifier_key(self.origin, self.key.public_key())

    def append(self, *items: str) -> None:
        self.leaves += [merkle.leaf_hash(i.encode()) for i in items]

    def root(self, size: int | None = None) -> bytes:
        return merkle.root_from_leaf_hashes(self.leaves[: len(self.leaves) if size is None
                                                         else size])

    def checkpoint(self, size: int | None = None, *, key: Ed25519PrivateKey | None = None) -> str:
        size = len(self.leaves) if size is None else size
        body = Checkpoint(self.origin, size, self.root(size))
        return sign_checkpoint(body, self.origin, key or self.key)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = len(self.leaves) if new is None else new
        if old == 0 or old >= new:
            return []
        nodes = merkle.build_perfect_nodes(self.leaves[:new])
        return merkle.consistency_proof(old, new, lambda lv, ix: nodes[(lv, ix)])

    def request(self, old: int, new: int | None = None, *, note: str | None = None) -> bytes:
        import base64

        lines = [f"old {old}"] + [base64.b64encode(h).decode() for h in self.proof(old, new)]
        return ("\n".join(lines) + "\n\n" + (note or self.checkpoint(new))).encode()


def new_witness_key(tmp_path: Path, name: str = "witness.example/w1") -> Path:
    path = tmp_path / f"{name.replace('/', '_')}.key"
    keyfile.save(keyfile.generate(name), path)
    return path


class WitnessProcess:
    """`python -m govflow.witness serve` as a child process on a free 127.0.0.1 port."""

    def __init__(self, *, state: Path, key: Path, log_vkeys: list[str]):
        args = [sys.executable, "-m", "govflow.witness", "serve", "--state", str(state),
                "--key", str(key), "--listen", "127.0.0.1:0"]
        for vkey in log_vkeys:
            args += ["--log", vkey]
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            self.proc.kill()
            raise RuntimeError(f"witness did not start: {line!r}")
        self.url = line.strip().rsplit(" ", 1)[1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def post(self, body: bytes) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/add-checkpoint", body=body)
            response = conn.getresponse()
            return (response.status, response.getheader("Content-Type", ""),
                    response.read().decode())
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def witness_for_the_log(tmp_path: Path, settings, name: str = "regulator.example/witness"):
    """A witness process for govflow's own log, listed in settings.GOVFLOW_WITNESSES.
    The caller stops it. Its cosignature vkey is on ``.vkey``."""
    from govflow.audit.logkey import log_verifier_key
    from govflow.core.env import WitnessConfig

    key_path = tmp_path / f"{name.replace('/', '_')}.key"
    key = keyfile.generate(name)
    keyfile.save(key, key_path)
    process = WitnessProcess(state=tmp_path / f"state-{name.replace('/', '_')}",
                             key=key_path, log_vkeys=[log_verifier_key()])
    settings.GOVFLOW_WITNESSES = [WitnessConfig(key.name, process.url, key.cosigner.vkey)]
    process.vkey = key.cosigner.vkey
    return process


@pytest.fixture
def log_witness(tmp_path, settings):
    """A witness process for govflow's log, in GOVFLOW_WITNESSES for the test."""
    process = witness_for_the_log(tmp_path, settings)
    yield process
    process.stop()
