"""A throwaway PostgreSQL server in a temporary directory (Debian's postgresql: initdb + pg_ctl),
listening on a Unix socket only. Used by the service tests and bench/bench_service.py."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import uuid
from pathlib import Path


def pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


class PostgresServer:
    def __init__(self, root: Path, bindir: Path) -> None:
        self.root, self.bindir = root, bindir
        self.data, self.sock = root / "data", root / "sock"

    def start(self) -> None:
        self.sock.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        subprocess.run(_as_postgres([str(self.bindir / "initdb"), "-D", str(self.data),
                                     "-U", "ptclisp", "--auth=trust", "-E", "UTF8",
                                     "--no-sync"]), check=True, capture_output=True)
        options = (f"-k {self.sock} -c listen_addresses='' -c fsync=off "
                   "-c max_connections=200 -c synchronous_commit=off")
        subprocess.run(_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o",
                                     options, "-l", str(self.root / "log"), "-w", "start"]),
                       check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m",
                                     "immediate", "stop"]), capture_output=True, check=False)

    def url(self, dbname: str = "postgres") -> str:
        return f"host={self.sock} user=ptclisp dbname={dbname}"

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


