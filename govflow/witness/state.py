"""What the witness remembers, in SQLite: per log, the latest checkpoint it cosigned.

SQLite in WAL mode with ``synchronous=FULL`` makes a commit durable before it returns, so
a witness killed with SIGKILL (or a power cut) after answering 200 still holds the
checkpoint it cosigned. ``BEGIN IMMEDIATE`` takes the database's write lock before the
stored size is read: the check of the old size and the update are one atomic step, which
tlog-witness requires (otherwise two racing requests could roll the log back).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Signed requests the witness refused for a reason other than "you are behind": a fork at
-- the same size or a consistency proof that does not verify. Signed by the log's key, they
-- are evidence of log misbehaviour (tlog-witness allows keeping them).
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Latest:
    size: int
    root: bytes | None  # None while the witness has cosigned nothing for the log
    note: str | None


class Store:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "witness.sqlite3"
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE below).
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _thread_connection(self) -> sqlite3.Connection:
        # One connection per server thread (a keep-alive client keeps its thread), so a
        # request does not pay for opening the database; sqlite3 objects stay in-thread.
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        db = self._thread_connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield Transaction(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def latest(self, origin: str) -> Latest:
        db = self._connect()
        try:
            return Transaction(db).latest(origin)
        finally:
            db.close()

    def evidence(self, origin: str) -> list[tuple[int, str, str]]:
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT status, reason, request FROM evidence WHERE origin = ? ORDER BY id",
                (origin,),
            )
            return [(int(s), str(r), str(q)) for s, r, q in rows]
        finally:
            db.close()


class Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def latest(self, origin: str) -> Latest:
        row = self.db.execute(
            "SELECT size, root, note FROM checkpoints WHERE origin = ?", (origin,)
        ).fetchone()
        if row is None:
            return Latest(0, None, None)
        return Latest(int(row[0]), bytes(row[1]), str(row[2]))

    def record(self, origin: str, size: int, root: bytes, note: str) -> None:
        self.db.execute(
            "INSERT INTO checkpoints (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root,"
            " note = excluded.note, updated_at = excluded.updated_at",
            (origin, size, root, note, int(time.time())),
        )

    def keep_evidence(self, origin: str, status: int, reason: str, request: str) -> None:
        self.db.execute(
            "INSERT INTO evidence (origin, received_at, status, reason, request)"
            " VALUES (?, ?, ?, ?, ?)",
            (origin, int(time.time()), status, reason, request),
        )
