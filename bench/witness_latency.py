"""Benchmark the witness's add-checkpoint latency (prints figures; not a test).

    .venv/bin/python bench/witness_latency.py [--requests 400] [--seconds 30] [--batch 16]

Starts `govflow.witness`'s HTTP server in this process on 127.0.0.1 (a free port), with a
fresh SQLite state in a temporary directory, and plays a log growing by ``--batch``
leaves per checkpoint: each request carries ``old <size>``, the RFC 9162 consistency
proof from the size the witness last cosigned, and the new signed checkpoint, over one
HTTP/1.1 keep-alive connection. Reports p50/p99/max latency of 200 answers, and of 409
answers (a stale old size, the cheap refusal path). Bounded by --requests and --seconds.
The state database commits with synchronous=FULL, so each 200 includes an fsync: the disk
under the temporary directory matters, and is part of what is measured.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from govflow.trust import merkle  # noqa: E402
from govflow.trust.note import (  # noqa: E402
    Checkpoint,
    sign_checkpoint,
    verifier_for,
)
from govflow.witness import keyfile  # noqa: E402
from govflow.witness.protocol import Witness  # noqa: E402
from govflow.witness.server import make_server  # noqa: E402
from govflow.witness.state import Store  # noqa: E402

ORIGIN = "bench.example/log"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="checkpoints to offer")
    parser.add_argument("--seconds", type=float, default=30.0, help="stop after this long")
    parser.add_argument("--batch", type=int, default=16, help="leaves per checkpoint")
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or args.batch < 1:
        parser.error("--requests must be 1..100000 and --batch at least 1")

    log_key = Ed25519PrivateKey.generate()
    log_verifier = verifier_for(ORIGIN, log_key.public_key())
    with tempfile.TemporaryDirectory() as tmp:
        witness = Witness(key=keyfile.generate("bench.example/witness"), logs=[log_verifier],
                          store=Store(Path(tmp) / "state"))
        server = make_server(witness, "127.0.0.1", 0)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        builder = merkle.TreeBuilder()
        nodes: dict[tuple[int, int], bytes] = {}
        leaves: list[bytes] = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        ok_ms: list[float] = []
        conflict_ms: list[float] = []
        cosigned = 0
        deadline = time.monotonic() + args.seconds
        try:
            for n in range(args.requests):
                if time.monotonic() > deadline:
                    break
                new = [merkle.leaf_hash(f"event {len(leaves) + i}".encode())
                       for i in range(args.batch)]
                for leaf in new:
                    for level, index, digest in merkle.perfect_nodes_completed(
                        len(leaves), leaf, lambda lv, ix: nodes[(lv, ix)]
                    ):
                        nodes[(level, index)] = digest
                    leaves.append(leaf)
                builder.extend(new)
                size = len(leaves)
                note = sign_checkpoint(Checkpoint(ORIGIN, size, builder.root()), ORIGIN, log_key)
                proof = (merkle.consistency_proof(cosigned, size, lambda lv, ix: nodes[(lv, ix)])
                         if cosigned else [])
                body = "".join([f"old {cosigned}\n",
                                *(base64.b64encode(h).decode() + "\n" for h in proof),
                                "\n", note]).encode()
                # Every tenth request first offers a stale old size: the 409 path.
                if n % 10 == 9:
                    stale = body.replace(f"old {cosigned}\n".encode(), b"old 0\n", 1)
                    stale = stale.split(b"\n", 1)[0] + b"\n\n" + note.encode()
                    start = time.perf_counter()
                    conn.request("POST", "/add-checkpoint", body=stale)
                    response = conn.getresponse()
                    response.read()
                    conflict_ms.append((time.perf_counter() - start) * 1000)
                    assert response.status == 409, response.status
                start = time.perf_counter()
                conn.request("POST", "/add-checkpoint", body=body)
                response = conn.getresponse()
                response.read()
                ok_ms.append((time.perf_counter() - start) * 1000)
                if response.status != 200:
                    raise SystemExit(f"witness answered {response.status} at size {size}")
                cosigned = size
        finally:
            conn.close()
            server.shutdown()
            server.server_close()
        assert witness.store.latest(ORIGIN).size == cosigned

    def line(name: str, values: list[float]) -> str:
        return (f"{name:<22} n={len(values):<5} p50={statistics.median(values):.2f} ms  "
                f"p99={percentile(values, 0.99):.2f} ms  max={max(values):.2f} ms")

    print(f"witness add-checkpoint on 127.0.0.1, {args.batch} leaves per checkpoint, "
          f"final tree size {cosigned}")
    print(line("200 (cosigned)", ok_ms))
    if conflict_ms:
        print(line("409 (stale old size)", conflict_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
