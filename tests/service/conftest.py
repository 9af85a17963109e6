"""Fixtures for the durable service tests: a real PostgreSQL server started here (initdb +
pg_ctl in a temporary directory, Unix socket only), and ``store_url`` parametrized over SQLite and
PostgreSQL. Postgres tests skip only when Debian's ``postgresql`` package is absent."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .pgserver import PostgresServer, pg_bindir


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian package: postgresql)")
    pytest.importorskip("psycopg")
    root = Path(tempfile.mkdtemp(prefix="ptclisp-pg-"))
    os.chmod(root, 0o755)
    server = PostgresServer(root, bindir)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr!r} {log}") from None
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'host.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()
