"""The wasm tier: isolation inside wasmtime, traps mapped to codes, the compile cache."""

from __future__ import annotations

import importlib.metadata

import ptclisp
from ptclisp import sandbox
from ptclisp._values.types import to_python
from ptclisp.sandbox import _wasm, _wasm_build

SHORT = ptclisp.Limits(timeout_s=0.5)


def test_the_guest_sees_no_environment_and_no_file_system(wasm, monkeypatch):
    monkeypatch.setenv("PTCLISP_TEST_SECRET", "hunter2")
    result = wasm.run("(tool/test-inspect {})", _hooks=True)
    assert result.status == "ok", result.error
    report = to_python(result.value)
    assert report["env"] == {}
    assert "No such file or directory" in report["root"]


def test_hooks_are_absent_unless_the_host_enables_them(wasm):
    assert wasm.run("(tool/test-crash {})").error.code == "tool_not_found"


def test_os_exit_inside_the_guest_is_a_sandbox_crash_and_the_next_run_works(wasm):
    result = wasm.run("(tool/test-crash {})", _hooks=True)
    assert result.error.code == "sandbox_crash"
    assert "exit" in result.error.message.lower()
    assert wasm.run("(str \"still\" \" fine\")").value == "still fine"


def test_cpu_runaway_hits_the_epoch_deadline(wasm):
    result = wasm.run("(tool/test-spin {})", limits=SHORT, _hooks=True)
    assert result.error.code == "timeout"
    assert "epoch" in result.error.message
    assert wasm.run("(inc 41)").value == 42


def test_memory_beyond_the_store_cap_is_memory_limit(wasm):
    result = wasm.run("(tool/test-hog-memory {})", _hooks=True)
    assert result.error.code == "memory_limit"
    assert wasm.run("(count (range 10))").value == 10


def test_the_compiled_component_is_cached_by_wasm_hash_version_and_config(wasm):
    path = wasm.wasm_path
    assert path.exists() and path.parent == _wasm_build.component_path().parent
    cached = _wasm.compiled_component_path(path)
    assert cached.exists()
    assert importlib.metadata.version("wasmtime") in cached.name
    assert _wasm._CONFIG_KEY in cached.name
    _, _, timings = _wasm.load_component(path)
    assert "load_s" in timings and "compile_s" not in timings  # deserialized, not recompiled


def test_the_component_name_follows_the_sources(monkeypatch, tmp_path):
    before = _wasm_build.source_key()
    guest_copy = tmp_path / "_guest_wasm"
    guest_copy.mkdir()
    for item in _wasm_build._GUEST_DIR.iterdir():
        if item.is_file():
            (guest_copy / item.name).write_bytes(item.read_bytes())
    (guest_copy / "app.py").write_text((guest_copy / "app.py").read_text() + "\n# changed\n")
    monkeypatch.setattr(_wasm_build, "_GUEST_DIR", guest_copy)
    assert _wasm_build.source_key() != before


def test_concurrent_runs_use_separate_stores(wasm):
    import threading

    results = {}

    def work(i: int) -> None:
        results[i] = wasm.run(f"(def x {i}) (* x x)")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {i: r.value for i, r in results.items()} == {i: i * i for i in range(4)}


def test_a_closed_sandbox_refuses_runs(wasm):
    box = sandbox.WasmSandbox(wasm_path=wasm.wasm_path)
    box.close()
    try:
        box.run("1")
    except sandbox.SandboxError as exc:
        assert "closed" in str(exc)
    else:
        raise AssertionError("a closed sandbox ran a program")
