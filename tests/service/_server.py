"""A real uvicorn server on 127.0.0.1 in a thread, and a snapshot of a store's tables."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def snapshot(store: Any) -> dict[str, Any]:
    """Every row of every host table (lease expiry excluded: renewals move it)."""
    out = {}
    with store._tx(write=False) as tx:
        for table in ("ptclisp_host_runs", "ptclisp_host_ops", "ptclisp_host_effects"):
            rows = tx.all(f"SELECT * FROM {table}")
            out[table] = sorted(repr(tuple(bytes(v) if isinstance(v, memoryview) else v
                                           for i, v in enumerate(r)
                                           if not (table == "ptclisp_host_runs" and i == 8)))
                                for r in rows)
    return out
