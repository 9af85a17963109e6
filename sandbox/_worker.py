"""Main loop of a pool worker: a child process that runs requests under OS limits.

Started by ``sandbox._process`` with ``python -I`` (no environment variables, no user site), an
empty environment, no inherited file descriptors beyond its three pipes, and ``/`` as its
directory. It imports ptclisp once (that is the point of keeping workers warm), moves the protocol
channel off fds 0/1 so a stray print can never corrupt a frame, applies its rlimits, announces
itself, then serves runs until the host closes the channel.

Per run it lowers the soft ``RLIMIT_CPU`` to the CPU time used so far plus the run's budget, so a
runaway interpreter gets SIGXCPU (the host reports ``timeout``), and the soft ``RLIMIT_AS`` to what
the worker maps plus 1.5x the run's ``max_memory`` (+64 MiB): an allocation past it raises
``MemoryError`` (``memory_limit``). The hard ``RLIMIT_AS`` is the pool's ``address_space``.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
from typing import Any

from ptclisp.sandbox._protocol import FrameReader, write_frame

__all__ = ["main"]


def _take_channel() -> tuple[int, int]:
    read_fd, write_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # print() now lands in the stderr log, never in the protocol
    return read_fd, write_fd


def _apply_rlimits(config: dict[str, Any]) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (config["max_fds"], config["max_fds"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["max_file_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_AS, (config["address_space"],) * 2)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _arm_cpu_limit(budget_s: float) -> None:
    soft = math.ceil(_cpu_seconds() + budget_s)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _arm_memory_limit(budget: int | None, cap: int) -> None:
    """Lower the soft RLIMIT_AS to what the worker maps now plus the run's budget (raised back
    up to the hard limit, the pool's ``address_space``, run by run)."""
    size = _address_space()
    soft = cap if budget is None or not size else min(cap, size + budget)
    resource.setrlimit(resource.RLIMIT_AS, (soft, cap))


def _warm_up() -> None:
    import ptclisp

    ptclisp.run("(reduce + (map inc [1 2 3]))")


def main() -> None:
    config = json.loads(sys.argv[1])
    read_fd, write_fd = _take_channel()
    from ptclisp.sandbox import _guest  # imports ptclisp: the expensive part of a cold start

    _warm_up()
    _apply_rlimits(config)
    reader = FrameReader(read_fd)

    def call_tool(name: str, args: dict) -> dict:
        write_frame(write_fd, {"op": "tool", "name": name, "args": args})
        message = reader.read()
        return message["answer"]

    write_frame(write_fd, {"op": "ready", "pid": os.getpid()})
    while True:
        try:
            message = reader.read()
        except EOFError:
            return
        request = message["request"]
        _arm_cpu_limit(request["cpu_budget_s"])
        _arm_memory_limit(request.get("memory_budget"), config["address_space"])
        retire = False
        try:
            result = _guest.execute(request, call_tool)
        except MemoryError:
            retire = True  # the heap may be left fragmented near the cap: start afresh
            error = {"code": "memory_limit", "message": "memory limit exceeded: out of memory"}
            result = {"status": "error", "error": error}
        finally:
            _arm_memory_limit(None, config["address_space"])  # room to send the result
        write_frame(write_fd, {"op": "result", "result": result, "retire": retire})


if __name__ == "__main__":
    main()
