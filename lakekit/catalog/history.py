"""The query history: every run's estimate beside what the engine reported scanning.

Athena's ``DataScannedInBytes`` next to lakekit's estimate, run after run, is how the
estimate's error on real queries is seen. Runs are recorded in the catalog's area:

* a local catalog: table ``query_history`` inside its SQLite file;
* Glue: one JSON object a run under ``<warehouse>/_lakekit/history/``.

Recording is a write, so it happens only where the catalog is writable; reading
never creates anything (an absent history is an empty one).

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "catalog.db")
>>> LocalHistory(path).record(QueryRecord.new("SELECT 1", "local", 0, 10485760, 0, 0.0, 0.1, 1))
False
>>> import sqlite3; sqlite3.connect(path).close()  # the catalog exists now
>>> LocalHistory(path).record(QueryRecord.new("SELECT 1", "local", 0, 10485760, 0, 0.0, 0.1, 1))
True
>>> [(r.engine, r.bytes_scanned) for r in LocalHistory(path).list()]
[('local', 0)]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import statistics
import uuid
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

from lakekit.errors import LakekitError

if TYPE_CHECKING:  # pragma: no cover
    from lakekit.storage import Storage

HISTORY_DIR = "_lakekit/history"


def sql_hash(sql: str) -> str:
    """A short, stable hash of the SQL text with its whitespace runs folded.

    >>> sql_hash("SELECT  1\\n") == sql_hash("SELECT 1")
    True
    """
    return hashlib.sha256(" ".join(sql.split()).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class QueryRecord:
    """One run: the estimate, what the engine reported, what it cost, how long it took."""

    id: str
    started_at: str
    sql_hash: str
    sql: str
    engine: str
    #: the estimate: bytes a columnar reader must fetch, and what Athena would bill for them
    estimate_bytes_scanned: int
    estimate_bytes_billed: int
    #: what the engine reported scanning (DuckDB's read bytes, Athena's DataScannedInBytes)
    bytes_scanned: int | None
    #: dollars of the estimate at the price in force
    cost_usd: float
    seconds: float
    rows: int
    query_id: str | None = None

    @classmethod
    def new(cls, sql: str, engine: str, estimate_bytes_scanned: int, estimate_bytes_billed: int,
            bytes_scanned: int | None, cost_usd: float, seconds: float, rows: int,
            query_id: str | None = None) -> QueryRecord:
        now = dt.datetime.now(dt.UTC)
        return cls(
            id=f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}",
            started_at=now.isoformat(timespec="milliseconds"),
            sql_hash=sql_hash(sql), sql=sql, engine=engine,
            estimate_bytes_scanned=int(estimate_bytes_scanned), estimate_bytes_billed=int(estimate_bytes_billed),
            bytes_scanned=None if bytes_scanned is None else int(bytes_scanned),
            cost_usd=float(cost_usd), seconds=float(seconds), rows=int(rows), query_id=query_id,
        )

    @property
    def error(self) -> float | None:
        """The estimate's relative error against the engine's figure: (estimate - actual) / actual."""
        if self.bytes_scanned is None or self.bytes_scanned <= 0:
            return None
        return (self.estimate_bytes_scanned - self.bytes_scanned) / self.bytes_scanned

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["error"] = None if self.error is None else round(self.error, 6)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QueryRecord:
        return cls(**{f.name: d.get(f.name) for f in fields(cls)})


def error_by_engine(records: list[QueryRecord]) -> dict[str, dict[str, Any]]:
    """Per engine: runs with both figures, and the estimate's median and worst relative error."""
    out: dict[str, dict[str, Any]] = {}
    for engine in sorted({r.engine for r in records}):
        errors = [r.error for r in records if r.engine == engine and r.error is not None]
        out[engine] = {
            "runs": sum(r.engine == engine for r in records),
            "measured": len(errors),
            "median_error": round(statistics.median(errors), 6) if errors else None,
            "worst_error": round(max(errors, key=abs), 6) if errors else None,
        }
    return out


class History(Protocol):
    def record(self, record: QueryRecord) -> bool:
        """Store one run; False (nothing written) where the catalog is not writable."""

    def list(self, limit: int | None = None) -> list[QueryRecord]:
        """The newest runs first (all when ``limit`` is None)."""


_COLUMNS = [f.name for f in fields(QueryRecord)]


class LocalHistory:
    """Runs in the local catalog's SQLite file, table ``query_history``."""

    def __init__(self, catalog_path: str) -> None:
        self.path = catalog_path

    def writable(self) -> bool:
        """The catalog exists and can be written (SQLite also writes its journal beside it)."""
        folder = os.path.dirname(os.path.abspath(self.path))
        return os.path.isfile(self.path) and os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)

    def record(self, record: QueryRecord) -> bool:
        if not self.writable():
            return False
        try:
            con = sqlite3.connect(self.path, timeout=10)
            try:
                with con:
                    con.execute(
                        f"CREATE TABLE IF NOT EXISTS query_history ({', '.join(_COLUMNS)}, PRIMARY KEY (id))"
                    )
                    con.execute(
                        f"INSERT INTO query_history ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                        [getattr(record, c) for c in _COLUMNS],
                    )
            finally:
                con.close()
        except sqlite3.Error:
            return False  # a locked or read-only database: the run stands, unrecorded
        return True

    def list(self, limit: int | None = None) -> list[QueryRecord]:
        if not os.path.isfile(self.path):
            return []
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        except sqlite3.Error:
            return []
        try:
            exists = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'query_history'"
            ).fetchone()
            if not exists:
                return []
            query = f"SELECT {', '.join(_COLUMNS)} FROM query_history ORDER BY id DESC"
            rows = con.execute(query + (" LIMIT ?" if limit is not None else ""),
                               (limit,) if limit is not None else ()).fetchall()
        except sqlite3.Error as ex:
            raise LakekitError(f"cannot read the query history in {self.path}: {ex}") from ex
        finally:
            con.close()
        return [QueryRecord(**dict(zip(_COLUMNS, row))) for row in rows]


class StorageHistory:
    """Runs as JSON objects under ``<warehouse>/_lakekit/history/`` (the Glue catalog's area).

    One object a run: S3 cannot append, and concurrent runs never contend for one key.
    """

    def __init__(self, storage: Storage, warehouse: str) -> None:
        self.storage = storage
        self.prefix = warehouse.rstrip("/") + "/" + HISTORY_DIR

    def record(self, record: QueryRecord) -> bool:
        try:
            self.storage.write_bytes(f"{self.prefix}/{record.id}.json", json.dumps(record.to_dict()).encode())
        except (LakekitError, OSError):
            return False  # no write access to the warehouse: the run stands, unrecorded
        return True

    def list(self, limit: int | None = None) -> list[QueryRecord]:
        try:
            if not self.storage.exists(self.prefix):
                return []
            uris = sorted((e.uri for e in self.storage.list_files(self.prefix) if e.uri.endswith(".json")),
                          reverse=True)
        except (LakekitError, OSError):
            return []
        if limit is not None:
            uris = uris[:limit]
        out = []
        for uri in uris:
            try:
                out.append(QueryRecord.from_dict(json.loads(self.storage.read_bytes(uri))))
            except (ValueError, TypeError) as ex:
                raise LakekitError(f"history object {uri} is not a query record ({ex}); remove it") from ex
        return out
