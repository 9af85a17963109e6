"""The subagent error tree, rooted in ``ptclisp.PtclispError``.

    PtclispError
    └── SubAgentError          agent_error        a usage mistake: bad agent definition, bad resume
        ├── LLMError           llm_error          the LLM call failed (after retries)
        │                      llm_http_error, llm_timeout, llm_rate_limited, llm_bad_response,
        │                      script_exhausted
        └── DepthLimitError    depth_limit        subagents nested deeper than ``max_depth``

Errors *inside* a turn (a program's error, a return value that does not match the signature)
are not raised: they are fed back to the LLM and recorded on the turn. Only failures the loop
cannot hand to the LLM — the LLM itself failing, a malformed resume — are raised.
"""

from __future__ import annotations

from ptclisp import PtclispError

__all__ = ["DepthLimitError", "LLMError", "SubAgentError"]


class SubAgentError(PtclispError):
    """A usage mistake or an unrecoverable failure of an agent run."""

    code = "agent_error"


class LLMError(SubAgentError):
    """The LLM could not be reached or answered with something unusable."""

    code = "llm_error"

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, code=code, hint=hint)
        self.status = status


class DepthLimitError(SubAgentError):
    """Subagents called each other deeper than the agent's ``max_depth``."""

    code = "depth_limit"
