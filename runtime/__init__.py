"""Erlang-style actor runtime for ptclisp.

Processes are ``async def`` bodies with a mailbox, scheduled by one tight loop on an asyncio
event loop (``Runtime`` on a background thread, or ``run(main)`` in the calling thread).
Inside a process: ``spawn``/``send``/``receive``/``self_pid``, names, timers, links, monitors,
``trap_exit``; ``aio`` and ``run_sync`` for asyncio and blocking work. Around it: supervisors,
``parallel_map`` for the interpreter's ``pmap``, ``fanout`` for hosts, and retry / rate-limit /
circuit-breaker guards for tools. See docs/runtime.md.
"""

from ._agents import (
    agent_process,
    agent_server,
    run_agents,
    supervise_tools,
    supervised_tools,
)
from ._api import (
    call,
    cancel_timer,
    demonitor,
    exit_process,
    link,
    monitor,
    register,
    reply,
    reply_error,
    self_pid,
    send,
    send_after,
    spawn,
    spawn_link,
    spawn_monitor,
    trap_exit,
    unlink,
    unregister,
    whereis,
)
from ._errors import (
    ActorError,
    CallTimeout,
    CircuitOpen,
    DeadlineExceeded,
    NoProcess,
    NotInProcess,
    ProcessDown,
    RateLimited,
    ReceiveTimeout,
    RestartIntensity,
    RuntimeStopped,
    ToolCrashed,
    ToolTimeout,
)
from ._match import ANY
from ._parallel import Policy, fanout, parallel_map
from ._process import Down, Exit, Pid, Ref, Request, Timer
from ._resilience import CircuitBreaker, CircuitState, RateLimiter, Retry, guarded
from ._runtime import Runtime, run
from ._supervisor import ChildSpec, Restart, Strategy, Supervisor
from ._tools import SupervisedTool, supervised_tool
from ._traps import aio, receive, run_sync, sleep, yield_

__all__ = [
    "ANY",
    "ActorError",
    "CallTimeout",
    "ChildSpec",
    "CircuitBreaker",
    "CircuitOpen",
    "CircuitState",
    "DeadlineExceeded",
    "Down",
    "Exit",
    "NoProcess",
    "NotInProcess",
    "Pid",
    "Policy",
    "ProcessDown",
    "RateLimited",
    "RateLimiter",
    "ReceiveTimeout",
    "Ref",
    "Request",
    "Restart",
    "RestartIntensity",
    "Retry",
    "Runtime",
    "RuntimeStopped",
    "Strategy",
    "SupervisedTool",
    "Supervisor",
    "Timer",
    "ToolCrashed",
    "ToolTimeout",
    "agent_process",
    "agent_server",
    "aio",
    "call",
    "cancel_timer",
    "demonitor",
    "exit_process",
    "fanout",
    "guarded",
    "link",
    "monitor",
    "parallel_map",
    "receive",
    "register",
    "reply",
    "reply_error",
    "run",
    "run_agents",
    "run_sync",
    "self_pid",
    "send",
    "send_after",
    "sleep",
    "spawn",
    "spawn_link",
    "spawn_monitor",
    "supervise_tools",
    "supervised_tool",
    "supervised_tools",
    "trap_exit",
    "unlink",
    "unregister",
    "whereis",
    "yield_",
]
