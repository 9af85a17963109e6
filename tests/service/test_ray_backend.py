"""``RayBackend`` refuses bad configuration clearly, before it touches Ray (no cluster needed;
the cluster tests are in test_ray_cluster.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ptclisp import PtclispError
from ptclisp.subagent import AgentHost, HostBackend, HostError, RayBackend, SQLiteHostStore

from .hosted_agents import Tools, approval_agent

pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[2]


def _host(tmp_path: Path, backend: RayBackend, **options: object) -> AgentHost:
    store = options.pop("store", f"sqlite:///{tmp_path / 'h.db'}")
    return AgentHost({"approval": approval_agent(Tools())}, store=store,  # type: ignore[arg-type]
                     backend=backend, **options)  # type: ignore[arg-type]


def _refused(host: AgentHost, *words: str) -> HostError:
    import ray

    with pytest.raises(HostError) as info:
        host.start()
    assert info.value.code == "invalid_backend" and info.value.hint
    assert isinstance(info.value, PtclispError)
    for word in words:
        assert word in info.value.message + (info.value.hint or "")
    assert not ray.is_initialized()  # refused before connecting to anything
    assert not host._threads  # and nothing was started
    return info.value


def test_is_a_host_backend() -> None:
    assert isinstance(RayBackend(), HostBackend)


@pytest.mark.parametrize("workers", [0, -3])
def test_workers_per_node_must_be_positive(workers: int) -> None:
    with pytest.raises(HostError) as info:
        RayBackend(workers_per_node=workers)
    assert info.value.code == "invalid_backend" and "workers_per_node" in info.value.message


def test_store_object_is_refused(tmp_path: Path) -> None:
    store = SQLiteHostStore(tmp_path / "h.db")
    _refused(_host(tmp_path, RayBackend(), store=store), "URL", "postgresql://")
    store.close()


@pytest.mark.parametrize("target, words", [
    ("no-colon", ["MODULE:ATTR"]),
    (":host", ["MODULE:ATTR"]),
    ("no_such_module_xyz:host", ["cannot load", "importable"]),
    ("examples.serve_app:missing", ["cannot load"]),
    ("examples.serve_app:REQUEST", ["not an AgentHost"]),
])
def test_bad_factory_is_refused(tmp_path: Path, target: str, words: list[str]) -> None:
    _refused(_host(tmp_path, RayBackend(factory=target)), *words)


def test_unpicklable_llm_points_to_factory(tmp_path: Path) -> None:
    error = _refused(_host(tmp_path, RayBackend(), llm=threading.Lock()), "factory=")
    assert "cannot be shipped" in error.message


def test_serve_ray_flag_needs_an_address() -> None:
    proc = subprocess.run([sys.executable, "-m", "ptclisp", "serve", "examples.serve_app:host",
                           "--insecure", "--ray"], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode == 2 and "--ray" in proc.stderr


def test_serve_ray_workers_must_be_positive() -> None:
    proc = subprocess.run([sys.executable, "-m", "ptclisp", "serve", "examples.serve_app:host",
                           "--insecure", "--ray", "auto", "--ray-workers", "0"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2 and "workers_per_node" in proc.stderr, proc.stderr
