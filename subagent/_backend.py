"""Where an ``AgentHost`` drives its runs: the seam between the host and an execution engine.

``AgentHost(backend=None)`` drives runs in its own threads. A backend (``RayBackend``) drives them
elsewhere; the store stays the only shared truth, so a backend needs just three things: start with
the host, dispatch "drive this run" somewhere (the worker that receives it takes the run's lease
itself, or does nothing when someone else holds it), and say whether a dispatch is outstanding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._host import AgentHost

__all__ = ["HostBackend"]


@runtime_checkable
class HostBackend(Protocol):
    """Drives an ``AgentHost``'s runs somewhere else than the host's threads."""

    def start(self, host: AgentHost) -> None:
        """Bind to ``host`` (its agents, store URL, lease length) and start the workers."""

    def dispatch(self, run_id: str, *, wait: bool = False) -> bool:
        """Ask a worker to drive ``run_id`` (``wait``: until it stops); False if none was asked
        (one is outstanding already: it will look again; or no worker is alive yet)."""

    def busy(self, run_id: str) -> bool:
        """Is a dispatch of ``run_id`` outstanding?"""

    def stop(self) -> None:
        """Stop the workers this backend started."""
