"""The runtime's error tree, rooted in ``ptclisp.PtclispError``.

    PtclispError
    └── ActorError            actor_error        root of every runtime error (also
        │                     would_deadlock     a blocking host call made on the loop thread)
        ├── NotInProcess      not_in_process     an actor-only call made outside a process
        ├── NoProcess         noproc             a name is not registered / the process is gone
        ├── ReceiveTimeout    receive_timeout    ``receive(timeout=...)`` saw no matching message
        ├── CallTimeout       call_timeout       ``call`` got no reply before its deadline
        ├── ProcessDown       process_down       the called process exited before replying
        ├── RestartIntensity  restart_intensity  a supervisor restarted too often and gave up
        ├── DeadlineExceeded  deadline_exceeded  a fan-out did not finish before its deadline
        ├── CircuitOpen       circuit_open       a circuit breaker refuses calls for now
        ├── RateLimited       rate_limited       no rate-limiter token before the timeout
        ├── RuntimeStopped    runtime_stopped    the runtime is not running
        ├── ToolCrashed       tool_crashed       a supervised tool crashed (also a ToolError)
        └── ToolTimeout       tool_timeout       a supervised tool timed out (also a ToolError)
"""

from __future__ import annotations

from typing import Any

from ptclisp import PtclispError, ToolError

__all__ = [
    "ActorError",
    "CallTimeout",
    "CircuitOpen",
    "DeadlineExceeded",
    "NoProcess",
    "NotInProcess",
    "ProcessDown",
    "RateLimited",
    "ReceiveTimeout",
    "RestartIntensity",
    "RuntimeStopped",
    "ToolCrashed",
    "ToolTimeout",
]


class ActorError(PtclispError):
    """Root of every error raised by the actor runtime."""

    code = "actor_error"


class NotInProcess(ActorError):
    """An actor-only operation (``receive``, ``self_pid``...) was called outside a process."""

    code = "not_in_process"


class NoProcess(ActorError):
    """The destination name is not registered, or the process no longer exists."""

    code = "noproc"


class ReceiveTimeout(ActorError):
    """``receive(timeout=...)`` found no matching message in time."""

    code = "receive_timeout"


class CallTimeout(ActorError):
    """A request/reply ``call`` got no reply before its timeout."""

    code = "call_timeout"


class ProcessDown(ActorError):
    """The process a ``call`` was waiting on exited before it replied."""

    code = "process_down"

    def __init__(self, message: str, *, reason: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class RestartIntensity(ActorError):
    """A supervisor exceeded its restart intensity and shut itself down (escalation)."""

    code = "restart_intensity"


class DeadlineExceeded(ActorError):
    """A fan-out produced no acceptable result before its deadline."""

    code = "deadline_exceeded"


class CircuitOpen(ActorError):
    """A circuit breaker is open: the guarded call was refused without running."""

    code = "circuit_open"


class RateLimited(ActorError):
    """No rate-limiter token became available before the caller's timeout."""

    code = "rate_limited"


class RuntimeStopped(ActorError):
    """The runtime was stopped (or never started) when it was asked to do something."""

    code = "runtime_stopped"


class ToolCrashed(ActorError, ToolError):
    """A tool running as a supervised process crashed; its supervisor restarts it."""

    code = "tool_crashed"


class ToolTimeout(ActorError, ToolError):
    """A tool running as a supervised process did not answer before its deadline."""

    code = "tool_timeout"
