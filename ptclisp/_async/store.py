"""Durable storage for pending steps: the ``PendingStore`` protocol and ``SQLiteStore``.

A stored step has a status:

    pending ──claim(op)──▶ running ──complete(new step)──▶ pending
                              │    ──complete(result)────▶ done
                              └────release(op)─────────▶ pending  (the resume failed)

``claim`` is the one concurrency primitive: of any number of processes claiming ops of the same
step at once, exactly one wins; the others get ``PendingError`` ``pending_claimed`` (that op was
already claimed or delivered — do not retry) or ``pending_busy`` (another op of the step is being
resumed — retry shortly). Claiming the whole step, not just the op, is what keeps two resumes of
*different* ops from each writing a successor that lacks the other's result.

The SQL is plain enough for Postgres to run unchanged (``BLOB`` → ``BYTEA``, ``REAL`` →
``DOUBLE PRECISION``); the claim is a conditional ``UPDATE ... WHERE status = 'pending'`` whose row
count decides the winner — under Postgres READ COMMITTED the loser's UPDATE re-checks the WHERE
after the winner commits and matches no row. SQLite runs it inside ``BEGIN IMMEDIATE`` (one writer
at a time) on a WAL database, so readers are never blocked.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import msgpack

from .._result import Result
from .journal import PendingError
from .pending import PendingStep, deserialize, serialize

__all__ = ["PendingStore", "SQLiteStore", "StepStatus", "resume_stored"]

StepStatus = Literal["pending", "running", "done"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS ptclisp_steps (
    step_id     TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    blob        BLOB NOT NULL,
    result      BLOB,
    claimed_op  TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ptclisp_steps_status ON ptclisp_steps (status);
CREATE TABLE IF NOT EXISTS ptclisp_ops (
    op_id    TEXT PRIMARY KEY,
    step_id  TEXT NOT NULL REFERENCES ptclisp_steps (step_id) ON DELETE CASCADE,
    tool     TEXT NOT NULL,
    state    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ptclisp_ops_step ON ptclisp_ops (step_id);
"""

logger = logging.getLogger(__name__)


@runtime_checkable
class PendingStore(Protocol):
    """Where pending steps wait for their ops. Every method is safe across processes."""

    def save(self, step: PendingStep) -> str:
        """Store (or replace) a step as ``pending``, registering its pending ops; returns its id."""
        ...

    def load(self, step_id: str) -> PendingStep:
        """The stored step (``pending_unknown_step`` if there is none)."""
        ...

    def step_for_op(self, op_id: str) -> str:
        """The id of the step waiting for ``op_id`` (``pending_unknown_op`` if none)."""
        ...

    def list_by_status(self, status: StepStatus) -> list[str]:
        """Step ids with that status, oldest first."""
        ...

    def delete(self, step_id: str) -> None:
        """Forget a step and its ops (no error if it is already gone)."""
        ...

    def claim(self, op_id: str) -> PendingStep:
        """Take the right to resume ``op_id``; exactly one concurrent caller wins."""
        ...

    def complete(self, op_id: str, outcome: PendingStep | Result) -> None:
        """Record what resuming ``op_id`` produced: a successor step, or the final result."""
        ...

    def release(self, op_id: str) -> None:
        """Give up a claim (the resume failed): the op can be claimed again."""
        ...

    def result(self, step_id: str) -> Result | None:
        """The final result of a ``done`` step."""
        ...


class SQLiteStore:
    """A ``PendingStore`` in one SQLite file (stdlib ``sqlite3``, WAL mode)."""

    def __init__(
        self, path: str | Path, *, key: bytes | None = None, timeout_s: float = 30.0
    ) -> None:
        self.path = str(path)
        self.key = key
        """Optional HMAC key: blobs are signed on save and verified on load."""
        self.timeout_s = timeout_s
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    # ------------------------------------------------------------ protocol

    def save(self, step: PendingStep) -> str:
        blob = serialize(step, key=self.key)
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO ptclisp_steps (step_id, status, blob, created_at, updated_at) "
                "VALUES (?, 'pending', ?, ?, ?) "
                "ON CONFLICT (step_id) DO UPDATE SET status = 'pending', blob = excluded.blob, "
                "claimed_op = NULL, updated_at = excluded.updated_at",
                (step.step_id, blob, now, now),
            )
            self._register_ops(db, step)
        return step.step_id

    def load(self, step_id: str) -> PendingStep:
        with self._connect() as db:
            row = db.execute(
                "SELECT blob FROM ptclisp_steps WHERE step_id = ?", (step_id,)
            ).fetchone()
        if row is None:
            raise PendingError(f"no stored step {step_id!r}", code="pending_unknown_step")
        return deserialize(row[0], key=self.key)

    def step_for_op(self, op_id: str) -> str:
        with self._connect() as db:
            row = db.execute("SELECT step_id FROM ptclisp_ops WHERE op_id = ?", (op_id,)).fetchone()
        if row is None:
            raise _unknown_op(op_id)
        return str(row[0])

    def list_by_status(self, status: StepStatus) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT step_id FROM ptclisp_steps WHERE status = ? ORDER BY created_at, step_id",
                (status,),
            ).fetchall()
        return [r[0] for r in rows]

    def delete(self, step_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM ptclisp_ops WHERE step_id = ?", (step_id,))
            db.execute("DELETE FROM ptclisp_steps WHERE step_id = ?", (step_id,))

    def claim(self, op_id: str) -> PendingStep:
        with self._write() as db:
            row = db.execute(
                "SELECT o.step_id, o.state, s.status, s.blob FROM ptclisp_ops o "
                "JOIN ptclisp_steps s ON s.step_id = o.step_id WHERE o.op_id = ?",
                (op_id,),
            ).fetchone()
            if row is None:
                raise _unknown_op(op_id)
            step_id, state, status, blob = row
            if status == "done":
                raise _finished(step_id)
            if state != "pending":
                logger.info("claim of op %s refused: already claimed or delivered", op_id)
                raise _claimed(op_id)
            won = db.execute(
                "UPDATE ptclisp_steps SET status = 'running', claimed_op = ?, updated_at = ? "
                "WHERE step_id = ? AND status = 'pending'",
                (op_id, time.time(), step_id),
            ).rowcount
            if won != 1:
                logger.info("claim of op %s refused: step %s is being resumed by another "
                            "process", op_id, step_id)
                raise PendingError(
                    f"step {step_id} is being resumed by another process",
                    code="pending_busy",
                    hint="retry shortly: one op of a step is resumed at a time",
                )
            db.execute("UPDATE ptclisp_ops SET state = 'claimed' WHERE op_id = ?", (op_id,))
        return deserialize(blob, key=self.key)

    def complete(self, op_id: str, outcome: PendingStep | Result) -> None:
        now = time.time()
        with self._write() as db:
            step_id = self._claimed_step(db, op_id)
            db.execute("UPDATE ptclisp_ops SET state = 'done' WHERE op_id = ?", (op_id,))
            if isinstance(outcome, PendingStep):
                if outcome.step_id != step_id:
                    raise PendingError(
                        "the successor step must keep the step id of the one it resumed",
                        code="pending_error",
                    )
                db.execute(
                    "UPDATE ptclisp_steps SET status = 'pending', blob = ?, claimed_op = NULL, "
                    "updated_at = ? WHERE step_id = ?",
                    (serialize(outcome, key=self.key), now, step_id),
                )
                self._register_ops(db, outcome)
            else:
                result_blob = msgpack.packb(outcome.to_dict(), use_bin_type=True,
                                            unicode_errors="surrogatepass")
                db.execute(
                    "UPDATE ptclisp_steps SET status = 'done', result = ?, claimed_op = NULL, "
                    "updated_at = ? WHERE step_id = ?",
                    (result_blob, now, step_id),
                )
                db.execute(
                    "UPDATE ptclisp_ops SET state = 'done' WHERE step_id = ? AND state = 'pending'",
                    (step_id,),
                )

    def release(self, op_id: str) -> None:
        with self._write() as db:
            step_id = self._claimed_step(db, op_id)
            db.execute("UPDATE ptclisp_ops SET state = 'pending' WHERE op_id = ?", (op_id,))
            db.execute(
                "UPDATE ptclisp_steps SET status = 'pending', claimed_op = NULL, updated_at = ? "
                "WHERE step_id = ?",
                (time.time(), step_id),
            )

    def result(self, step_id: str) -> Result | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT status, result FROM ptclisp_steps WHERE step_id = ?", (step_id,)
            ).fetchone()
        if row is None:
            raise PendingError(f"no stored step {step_id!r}", code="pending_unknown_step")
        if row[0] != "done" or row[1] is None:
            return None
        return Result.from_dict(msgpack.unpackb(row[1], raw=False, strict_map_key=False,
                                                unicode_errors="surrogatepass"))

    def status(self, step_id: str) -> StepStatus | None:
        """The step's status, or ``None`` when it is not stored."""
        with self._connect() as db:
            row = db.execute(
                "SELECT status FROM ptclisp_steps WHERE step_id = ?", (step_id,)
            ).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------ plumbing

    def _claimed_step(self, db: sqlite3.Connection, op_id: str) -> str:
        row = db.execute(
            "SELECT step_id FROM ptclisp_steps WHERE claimed_op = ? AND status = 'running'",
            (op_id,),
        ).fetchone()
        if row is None:
            raise PendingError(
                f"op {op_id!r} is not claimed", code="pending_error", hint="claim(op_id) first"
            )
        return str(row[0])

    @staticmethod
    def _register_ops(db: sqlite3.Connection, step: PendingStep) -> None:
        for op_id, op in step.pending_ops.items():
            db.execute(
                "INSERT INTO ptclisp_ops (op_id, step_id, tool, state) VALUES (?, ?, ?, 'pending') "
                "ON CONFLICT (op_id) DO NOTHING",
                (op_id, step.step_id, op["tool"]),
            )

    def _connect(self) -> contextlib.closing[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        db.execute("PRAGMA foreign_keys=ON")
        return contextlib.closing(db)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so check-then-update
        is atomic."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


def resume_stored(
    store: PendingStore,
    op_id: str,
    result: Any = None,
    *,
    tools: Mapping[str, Callable[..., Any] | Any] | None,
    error: Any = None,
) -> PendingStep | Result:
    """Claim ``op_id``, resume its step with the result, and store what comes out.

    Returns the successor ``PendingStep`` (stored as pending) or the final ``Result`` (stored as
    done). If the resume itself raises, the claim is released so the op can be delivered again.
    """
    from .resume import resume

    step = store.claim(op_id)
    try:
        outcome = resume(step, op_id, result, tools=tools, error=error)
    except BaseException:
        store.release(op_id)
        raise
    store.complete(op_id, outcome)
    return outcome


def _unknown_op(op_id: str) -> PendingError:
    return PendingError(
        f"no stored step is waiting for op {op_id!r}",
        code="pending_unknown_op",
        hint="check the op id; the step may have been deleted",
    )


def _claimed(op_id: str) -> PendingError:
    return PendingError(
        f"op {op_id!r} was already claimed or resumed",
        code="pending_claimed",
        hint="each op result is delivered once; a duplicate delivery can be ignored",
    )


def _finished(step_id: str) -> PendingError:
    return PendingError(
        f"step {step_id} has already finished", code="pending_finished", hint="nothing to resume"
    )
