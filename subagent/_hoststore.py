"""Durable storage for an ``AgentHost``: the ``HostStore`` protocol, SQLite and PostgreSQL.

What a store holds, per run:

- the run row: agent, input, status, the latest checkpoint (a serialized ``PendingStep``), the
  number of effects the checkpoint already covers (``effects_base``), the final result, and a
  *lease* (owner + expiry) held by the worker driving the run;
- its effects: every completed LLM reply and tool call, by index (``run_id``, ``idx``) — the
  first record of an index wins, so a replay answers it and never repeats it;
- its ops: every pending operation (nested subagents' included), addressable by op id, with
  ``since``/``deadline`` and the first delivered outcome.

Op states: ``pending`` → ``delivered`` (an outcome was recorded; first one wins) → ``done`` (the
run was resumed with it and the checkpoint committed). ``closed`` when the run ended first.

Concurrency: every write runs in one transaction that locks the run row (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: ``SELECT ... FOR UPDATE``), so "record a delivery" and "release the lease
if nothing is queued" serialize and a delivery is never stranded. Commits are guarded by lease
ownership: a worker whose lease was taken over gets ``lease_lost`` and its work is discarded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ._errors import SubAgentError

__all__ = [
    "Delivery",
    "HostStore",
    "HostStoreError",
    "OpRecord",
    "PostgresHostStore",
    "RunRecord",
    "SQLiteHostStore",
    "open_store",
]

FINAL = ("ok", "failed", "error", "cancelled")


class HostStoreError(SubAgentError):
    """A store refused an operation: ``lease_lost``, ``unknown_run``, ``unknown_op``,
    ``op_conflict`` (an op id already used by another run), ``store_url``."""

    code = "store_error"


@dataclasses.dataclass
class RunRecord:
    run_id: str
    agent: str
    input: dict[str, Any]
    status: str
    checkpoint: bytes | None
    effects_base: int
    result: dict[str, Any] | None
    lease_owner: str | None
    lease_expires: float | None
    created_at: float
    updated_at: float


@dataclasses.dataclass
class OpRecord:
    op_id: str
    run_id: str
    tool: str
    args: Any
    agent: str | None
    state: str
    since: float
    deadline: float | None
    outcome: dict[str, Any] | None = None
    status: str | None = None
    """A live status an observer reported (``AgentHost.set_op_status``), e.g. an MCP task's
    ``input_required``; not stored."""
    status_message: str | None = None


@dataclasses.dataclass
class Delivery:
    """What ``deliver`` did: ``accepted`` (this outcome was the first) or not, and the first
    outcome recorded for the op."""

    op_id: str
    run_id: str
    accepted: bool
    outcome: dict[str, Any]
    state: str


@runtime_checkable
class HostStore(Protocol):
    """Where an ``AgentHost`` keeps runs, effects, ops and leases. Safe across processes."""

    def setup(self) -> None: ...
    def create_run(self, run_id: str, agent: str, input: dict[str, Any], owner: str,
                   ttl_s: float) -> None: ...
    def get_run(self, run_id: str) -> RunRecord: ...
    def list_runs(self, status: str | None = None) -> list[str]: ...
    def acquire_lease(self, run_id: str, owner: str, ttl_s: float) -> bool: ...
    def renew_lease(self, run_id: str, owner: str, ttl_s: float) -> bool: ...
    def release_lease(self, run_id: str, owner: str) -> bool: ...
    def record_effect(self, run_id: str, idx: int, kind: str, name: str, args: Any,
                      result: Any) -> Any: ...
    def effects(self, run_id: str, since: int) -> dict[int, tuple[str, str, Any, Any]]: ...
    def commit_step(self, run_id: str, owner: str, op_id: str | None, checkpoint: bytes,
                    effects_base: int, ops: list[OpRecord]) -> None: ...
    def commit_final(self, run_id: str, owner: str, op_id: str | None, status: str,
                     result: dict[str, Any]) -> None: ...
    def deliver(self, op_id: str, outcome: dict[str, Any]) -> Delivery: ...
    def get_op(self, op_id: str) -> OpRecord: ...
    def run_ops(self, run_id: str) -> list[OpRecord]: ...
    def snapshot(self, run_id: str) -> tuple[RunRecord, list[OpRecord]]: ...
    def inbox(self) -> list[OpRecord]: ...
    def next_delivered(self, run_id: str) -> OpRecord | None: ...
    def cancel_run(self, run_id: str) -> str: ...
    def expired_ops(self, now: float) -> list[str]: ...
    def recoverable_runs(self) -> list[str]: ...
    def close(self) -> None: ...


_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS ptclisp_host_runs (
        run_id TEXT PRIMARY KEY, agent TEXT NOT NULL, input TEXT NOT NULL, status TEXT NOT NULL,
        checkpoint {blob}, effects_base INTEGER NOT NULL DEFAULT 0, result TEXT,
        lease_owner TEXT, lease_expires {real}, created_at {real} NOT NULL,
        updated_at {real} NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ptclisp_host_runs_status ON ptclisp_host_runs (status)",
    """CREATE TABLE IF NOT EXISTS ptclisp_host_effects (
        run_id TEXT NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        args TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (run_id, idx))""",
    """CREATE TABLE IF NOT EXISTS ptclisp_host_ops (
        op_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, tool TEXT NOT NULL, args TEXT NOT NULL,
        agent TEXT, state TEXT NOT NULL, since {real} NOT NULL, deadline {real},
        outcome TEXT, delivered_at {real})""",
    "CREATE INDEX IF NOT EXISTS ptclisp_host_ops_run ON ptclisp_host_ops (run_id, state)",
    "CREATE INDEX IF NOT EXISTS ptclisp_host_ops_state ON ptclisp_host_ops (state)",
]

_RUN_COLUMNS = ("run_id, agent, input, status, checkpoint, effects_base, result, lease_owner, "
                "lease_expires, created_at, updated_at")
_OP_COLUMNS = "op_id, run_id, tool, args, agent, state, since, deadline, outcome"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _loads(text: Any) -> Any:
    return None if text is None else json.loads(text)


def _run_record(row: Any) -> RunRecord:
    return RunRecord(
        run_id=row[0], agent=row[1], input=json.loads(row[2]), status=row[3],
        checkpoint=None if row[4] is None else bytes(row[4]), effects_base=int(row[5]),
        result=_loads(row[6]), lease_owner=row[7], lease_expires=row[8],
        created_at=float(row[9]), updated_at=float(row[10]))


def _op_record(row: Any) -> OpRecord:
    return OpRecord(op_id=row[0], run_id=row[1], tool=row[2], args=json.loads(row[3]),
                    agent=row[4], state=row[5], since=float(row[6]),
                    deadline=None if row[7] is None else float(row[7]), outcome=_loads(row[8]))


class _Tx:
    """A cursor-like view of one transaction, with ``?`` placeholders on every backend."""

    def __init__(self, conn: Any, placeholder: str) -> None:
        self.conn = conn
        self.placeholder = placeholder

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        if self.placeholder != "?":
            sql = sql.replace("?", self.placeholder)
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(self.execute(sql, params).fetchall())


class _SQLHostStore:
    """The protocol in portable SQL; subclasses supply connections and row locking."""

    lock_suffix = ""
    snapshot_sql = ""

    # ------------------------------------------------------------ plumbing (subclasses)

    def _tx(self, write: bool = True) -> contextlib.AbstractContextManager[_Tx]:
        raise NotImplementedError

    def _lock_run(self, tx: _Tx, run_id: str) -> Any:
        return tx.one(f"SELECT status, lease_owner, lease_expires FROM ptclisp_host_runs "
                      f"WHERE run_id = ?{self.lock_suffix}", (run_id,))

    # ------------------------------------------------------------ runs

    def create_run(self, run_id: str, agent: str, input: dict[str, Any], owner: str,
                   ttl_s: float) -> None:
        now = time.time()
        with self._tx() as tx:
            tx.execute(f"INSERT INTO ptclisp_host_runs ({_RUN_COLUMNS}) "
                       "VALUES (?, ?, ?, 'running', NULL, 0, NULL, ?, ?, ?, ?)",
                       (run_id, agent, _dumps(input), owner, now + ttl_s, now, now))

    def get_run(self, run_id: str) -> RunRecord:
        with self._tx(write=False) as tx:
            row = tx.one(f"SELECT {_RUN_COLUMNS} FROM ptclisp_host_runs WHERE run_id = ?",
                         (run_id,))
        if row is None:
            raise HostStoreError(f"no run {run_id!r}", code="unknown_run",
                                 hint="check the run id (GET /runs/{run_id})")
        return _run_record(row)

    def list_runs(self, status: str | None = None) -> list[str]:
        with self._tx(write=False) as tx:
            if status is None:
                rows = tx.all("SELECT run_id FROM ptclisp_host_runs ORDER BY created_at, run_id")
            else:
                rows = tx.all("SELECT run_id FROM ptclisp_host_runs WHERE status = ? "
                              "ORDER BY created_at, run_id", (status,))
        return [r[0] for r in rows]

    # ------------------------------------------------------------ leases

    def acquire_lease(self, run_id: str, owner: str, ttl_s: float) -> bool:
        now = time.time()
        with self._tx() as tx:
            row = self._lock_run(tx, run_id)
            if row is None or row[0] in FINAL:
                return False
            if row[1] is not None and row[1] != owner and (row[2] or 0) > now:
                return False
            tx.execute("UPDATE ptclisp_host_runs SET lease_owner = ?, lease_expires = ? "
                       "WHERE run_id = ?", (owner, now + ttl_s, run_id))
            return True

    def renew_lease(self, run_id: str, owner: str, ttl_s: float) -> bool:
        with self._tx() as tx:
            cur = tx.execute("UPDATE ptclisp_host_runs SET lease_expires = ? "
                             "WHERE run_id = ? AND lease_owner = ?",
                             (time.time() + ttl_s, run_id, owner))
            return bool(cur.rowcount == 1)

    def release_lease(self, run_id: str, owner: str) -> bool:
        """Give the lease back unless work is queued (then keep it and return False)."""
        with self._tx() as tx:
            row = self._lock_run(tx, run_id)
            if row is None or row[1] != owner:
                return True
            queued = tx.one("SELECT COUNT(*) FROM ptclisp_host_ops WHERE run_id = ? "
                            "AND state = 'delivered'", (run_id,))[0]
            if queued and row[0] not in FINAL:
                return False
            tx.execute("UPDATE ptclisp_host_runs SET lease_owner = NULL, lease_expires = NULL "
                       "WHERE run_id = ?", (run_id,))
            return True

    def _check_owner(self, tx: _Tx, run_id: str, owner: str) -> str:
        row = self._lock_run(tx, run_id)
        if row is None:
            raise HostStoreError(f"no run {run_id!r}", code="unknown_run")
        if row[1] != owner:
            raise HostStoreError(f"run {run_id} is leased by another worker now",
                                 code="lease_lost",
                                 hint="this worker's lease expired; its work is discarded")
        return str(row[0])

    # ------------------------------------------------------------ effects

    def record_effect(self, run_id: str, idx: int, kind: str, name: str, args: Any,
                      result: Any) -> Any:
        """Store effect ``idx`` unless one is stored already; returns the stored result."""
        with self._tx() as tx:
            row = tx.one("SELECT result FROM ptclisp_host_effects WHERE run_id = ? AND idx = ?",
                         (run_id, idx))
            if row is not None:
                return json.loads(row[0])
            tx.execute("INSERT INTO ptclisp_host_effects (run_id, idx, kind, name, args, result) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       (run_id, idx, kind, name, _dumps(args), _dumps(result)))
        return result

    def effects(self, run_id: str, since: int) -> dict[int, tuple[str, str, Any, Any]]:
        with self._tx(write=False) as tx:
            rows = tx.all("SELECT idx, kind, name, args, result FROM ptclisp_host_effects "
                          "WHERE run_id = ? AND idx >= ? ORDER BY idx", (run_id, since))
        return {int(r[0]): (r[1], r[2], json.loads(r[3]), json.loads(r[4])) for r in rows}

    # ------------------------------------------------------------ checkpoints

    def commit_step(self, run_id: str, owner: str, op_id: str | None, checkpoint: bytes,
                    effects_base: int, ops: list[OpRecord]) -> None:
        now = time.time()
        with self._tx() as tx:
            if self._check_owner(tx, run_id, owner) in FINAL:
                return
            tx.execute("UPDATE ptclisp_host_runs SET status = 'pending', checkpoint = ?, "
                       "effects_base = ?, updated_at = ? WHERE run_id = ?",
                       (checkpoint, effects_base, now, run_id))
            if op_id is not None:
                tx.execute("UPDATE ptclisp_host_ops SET state = 'done' WHERE op_id = ?", (op_id,))
            for op in ops:
                self._register_op(tx, op)

    def _register_op(self, tx: _Tx, op: OpRecord) -> None:
        row = tx.one("SELECT run_id FROM ptclisp_host_ops WHERE op_id = ?", (op.op_id,))
        if row is not None:
            if row[0] != op.run_id:
                raise HostStoreError(f"op id {op.op_id!r} is already used by run {row[0]}",
                                     code="op_conflict",
                                     hint="async tools must return op ids unique in the store")
            return
        tx.execute(f"INSERT INTO ptclisp_host_ops ({_OP_COLUMNS}) "
                   "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, NULL)",
                   (op.op_id, op.run_id, op.tool, _dumps(op.args), op.agent, op.since,
                    op.deadline))

    def commit_final(self, run_id: str, owner: str, op_id: str | None, status: str,
                     result: dict[str, Any]) -> None:
        now = time.time()
        with self._tx() as tx:
            if self._check_owner(tx, run_id, owner) in FINAL:
                return
            tx.execute("UPDATE ptclisp_host_runs SET status = ?, result = ?, checkpoint = NULL, "
                       "lease_owner = NULL, lease_expires = NULL, updated_at = ? "
                       "WHERE run_id = ?", (status, _dumps(result), now, run_id))
            if op_id is not None:
                tx.execute("UPDATE ptclisp_host_ops SET state = 'done' WHERE op_id = ?", (op_id,))
            tx.execute("UPDATE ptclisp_host_ops SET state = 'closed' WHERE run_id = ? "
                       "AND state IN ('pending', 'delivered')", (run_id,))

    # ------------------------------------------------------------ ops

    def deliver(self, op_id: str, outcome: dict[str, Any]) -> Delivery:
        """Record ``outcome`` as the op's result if it is the first; else return the first."""
        with self._tx() as tx:
            row = tx.one("SELECT run_id FROM ptclisp_host_ops WHERE op_id = ?", (op_id,))
            if row is None:
                raise _unknown_op(op_id)
            self._lock_run(tx, row[0])
            state, first = tx.one("SELECT state, outcome FROM ptclisp_host_ops WHERE op_id = ?",
                                  (op_id,))
            if state != "pending":
                return Delivery(op_id, row[0], False, _loads(first) or {}, state)
            tx.execute("UPDATE ptclisp_host_ops SET state = 'delivered', outcome = ?, "
                       "delivered_at = ? WHERE op_id = ?", (_dumps(outcome), time.time(), op_id))
        return Delivery(op_id, row[0], True, outcome, "delivered")

    def get_op(self, op_id: str) -> OpRecord:
        with self._tx(write=False) as tx:
            row = tx.one(f"SELECT {_OP_COLUMNS} FROM ptclisp_host_ops WHERE op_id = ?", (op_id,))
        if row is None:
            raise _unknown_op(op_id)
        return _op_record(row)

    def snapshot(self, run_id: str) -> tuple[RunRecord, list[OpRecord]]:
        """The run and its ops as of one instant (one read transaction, one snapshot)."""
        with self._tx(write=False) as tx:
            if self.snapshot_sql:
                tx.execute(self.snapshot_sql)
            row = tx.one(f"SELECT {_RUN_COLUMNS} FROM ptclisp_host_runs WHERE run_id = ?",
                         (run_id,))
            ops = tx.all(f"SELECT {_OP_COLUMNS} FROM ptclisp_host_ops WHERE run_id = ? "
                         "ORDER BY since, op_id", (run_id,))
        if row is None:
            raise HostStoreError(f"no run {run_id!r}", code="unknown_run",
                                 hint="check the run id (GET /runs/{run_id})")
        return _run_record(row), [_op_record(r) for r in ops]

    def run_ops(self, run_id: str) -> list[OpRecord]:
        with self._tx(write=False) as tx:
            rows = tx.all(f"SELECT {_OP_COLUMNS} FROM ptclisp_host_ops WHERE run_id = ? "
                          "ORDER BY since, op_id", (run_id,))
        return [_op_record(r) for r in rows]

    def inbox(self) -> list[OpRecord]:
        with self._tx(write=False) as tx:
            rows = tx.all(f"SELECT {_OP_COLUMNS} FROM ptclisp_host_ops WHERE state = 'pending' "
                          "ORDER BY since, op_id")
        return [_op_record(r) for r in rows]

    def next_delivered(self, run_id: str) -> OpRecord | None:
        with self._tx(write=False) as tx:
            row = tx.one(f"SELECT {_OP_COLUMNS} FROM ptclisp_host_ops WHERE run_id = ? AND "
                         "state = 'delivered' ORDER BY delivered_at, op_id", (run_id,))
        return None if row is None else _op_record(row)

    def cancel_run(self, run_id: str) -> str:
        """Cancel a run that has not finished; returns its status afterwards."""
        with self._tx() as tx:
            row = self._lock_run(tx, run_id)
            if row is None:
                raise HostStoreError(f"no run {run_id!r}", code="unknown_run")
            if row[0] in FINAL:
                return str(row[0])
            result = {"status": "cancelled", "error": {"code": "cancelled",
                                                       "message": "the run was cancelled"}}
            tx.execute("UPDATE ptclisp_host_runs SET status = 'cancelled', result = ?, "
                       "checkpoint = NULL, lease_owner = NULL, lease_expires = NULL, "
                       "updated_at = ? WHERE run_id = ?", (_dumps(result), time.time(), run_id))
            tx.execute("UPDATE ptclisp_host_ops SET state = 'closed' WHERE run_id = ? "
                       "AND state IN ('pending', 'delivered')", (run_id,))
        return "cancelled"

    def expired_ops(self, now: float) -> list[str]:
        with self._tx(write=False) as tx:
            rows = tx.all("SELECT op_id FROM ptclisp_host_ops WHERE state = 'pending' AND "
                          "deadline IS NOT NULL AND deadline < ? ORDER BY deadline", (now,))
        return [r[0] for r in rows]

    def recoverable_runs(self) -> list[str]:
        """Unfinished runs nobody holds a live lease on that have work: never suspended yet
        (``running``) or with a delivered op waiting."""
        with self._tx(write=False) as tx:
            rows = tx.all(
                "SELECT r.run_id FROM ptclisp_host_runs r WHERE r.status IN ('running', "
                "'pending') AND (r.lease_owner IS NULL OR r.lease_expires < ?) AND "
                "(r.status = 'running' OR EXISTS (SELECT 1 FROM ptclisp_host_ops o WHERE "
                "o.run_id = r.run_id AND o.state = 'delivered')) ORDER BY r.created_at",
                (time.time(),))
        return [r[0] for r in rows]


def _unknown_op(op_id: str) -> HostStoreError:
    return HostStoreError(f"no op {op_id!r}", code="pending_unknown_op",
                          hint="check the op id (GET /inbox lists pending ops)")


class SQLiteHostStore(_SQLHostStore):
    """The host store in one SQLite file (WAL; one writer at a time via ``BEGIN IMMEDIATE``)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 60.0) -> None:
        self.path = str(path)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self.setup()

    def setup(self) -> None:
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA:
            conn.execute(statement.format(blob="BLOB", real="REAL"))

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _tx(self, write: bool = True) -> Iterator[_Tx]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield _Tx(conn, "?")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresHostStore(_SQLHostStore):
    """The host store in PostgreSQL (psycopg 3; the ``[postgres]`` extra). One connection per
    thread; row locks (``FOR UPDATE``) serialize the writes of one run."""

    lock_suffix = " FOR UPDATE"
    snapshot_sql = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"

    def __init__(self, conninfo: str) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise HostStoreError("PostgreSQL needs psycopg", code="store_url",
                                 hint="pip install 'ptclisp[postgres]'") from None
        self._psycopg = psycopg
        self.conninfo = conninfo
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self.setup()

    def setup(self) -> None:
        with self._tx() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(72657301)")  # concurrent setups
            for statement in _SCHEMA:
                tx.execute(statement.format(blob="BYTEA", real="DOUBLE PRECISION"))

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._psycopg.connect(self.conninfo, autocommit=True)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def _tx(self, write: bool = True) -> Iterator[_Tx]:
        conn = self._conn()
        with conn.transaction():
            yield _Tx(conn, "%s")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def open_store(url: str) -> HostStore:
    """``sqlite:///PATH`` (or a plain path), ``postgresql://...``/``postgres://...``."""
    if url.startswith(("postgresql://", "postgres://", "host=")):
        return PostgresHostStore(url)
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if path.startswith("/") and not path.startswith("//"):
            path = path[1:]  # sqlite:///rel.db -> rel.db, sqlite:////abs.db -> /abs.db
        if not path:
            raise HostStoreError(f"no path in {url!r}", code="store_url",
                                 hint="sqlite:///ptclisp.db or sqlite:////abs/path.db")
        return SQLiteHostStore(path)
    if "://" in url:
        raise HostStoreError(f"unsupported store URL {url!r}", code="store_url",
                             hint="use sqlite:///PATH or postgresql://...")
    return SQLiteHostStore(url)
