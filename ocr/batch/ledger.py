"""The run ledger: one SQLite row per page with its input hash, config hash, status and timings.

It lives in the output folder (``OUT/ledger.sqlite``). A page's row is written
only after its output files exist (they are written atomically), so after a
crash or a kill the ledger never claims work that is not on disk. Re-running
the same command skips pages done with the same input and configuration,
retries failed ones on request and redoes changed ones.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    page_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    frame INTEGER,
    input_hash TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    record TEXT NOT NULL,          -- the page's run.json entry
    runs INTEGER NOT NULL DEFAULT 1,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT
);
"""


@dataclass(frozen=True)
class Entry:
    page_id: str
    input_hash: str
    config_hash: str
    status: str
    error: str
    record: dict
    runs: int


class Ledger:
    """SQLite ledger of a run folder; used from the main process only."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def file_hash(self, path: Path) -> str:
        """SHA-256 of a file, cached by (size, mtime) so a large reel is hashed once."""
        try:
            st = path.stat()
        except OSError:
            return "missing"
        if not stat.S_ISREG(st.st_mode):
            return "special"  # a FIFO or a device: never opened here (a FIFO would block); the loader says why
        row = self.db.execute("SELECT size, mtime_ns, sha256 FROM file_hashes WHERE path = ?",
                              (str(path.resolve()),)).fetchone()
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError as e:  # unreadable (permissions, an I/O error): the page fails with the reason, not the reel
            return f"unreadable:{e.errno}"
        digest = h.hexdigest()
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?)",
                            (str(path.resolve()), st.st_size, st.st_mtime_ns, digest))
        return digest

    def get(self, page_id: str) -> Entry | None:
        row = self.db.execute("SELECT page_id, input_hash, config_hash, status, error, record, runs FROM pages "
                              "WHERE page_id = ?", (page_id,)).fetchone()
        if not row:
            return None
        return Entry(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6])

    def record(self, page_id: str, source: str, frame: int | None, input_hash: str, config_hash: str,
               status: str, error: str, record: dict) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO pages (page_id, source, frame, input_hash, config_hash, status, error, record, runs, "
                "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT(page_id) DO UPDATE SET "
                "source=excluded.source, frame=excluded.frame, input_hash=excluded.input_hash, "
                "config_hash=excluded.config_hash, status=excluded.status, error=excluded.error, "
                "record=excluded.record, runs=pages.runs + 1, updated=excluded.updated",
                (page_id, source, frame, input_hash, config_hash, status, error,
                 json.dumps(record, ensure_ascii=False), time.time()))

    def records(self) -> dict[str, dict]:
        """Every page's last recorded outcome (run.json's page entry), by page id."""
        return {pid: json.loads(rec) for pid, rec in self.db.execute("SELECT page_id, record FROM pages")}

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM pages GROUP BY status").fetchall())
