"""subagent — an LLM writes ptclisp programs turn by turn; the agent runs them against tools.

    from subagent import SubAgent, OpenAIClient
    agent = SubAgent(prompt="...", tools=[...], signature="(q :string) -> {n :int}")
    step = agent.run(llm=OpenAIClient("gpt-4o-mini"), context={"q": "..."})

See docs/subagent.md.
"""

from ._agent import SubAgent, pending_ops, run
from ._anthropic import AnthropicClient
from ._effects import CallContext, current_call, idempotency_key
from ._env import llm_from_env
from ._errors import DepthLimitError, LLMError, SubAgentError
from ._extract import extract_program
from ._host import AgentHost, HostError
from ._hoststore import (
    HostStore,
    HostStoreError,
    PostgresHostStore,
    SQLiteHostStore,
    open_store,
)
from ._llm import LLM, LLMResponse, RateLimiter, RetryPolicy, Usage
from ._openai import OpenAIClient
from ._scripted import ScriptedLLM


def create_app(host: AgentHost, **options: object) -> object:
    """The host's Starlette ASGI app (``[serve]`` extra); see ``subagent._service``."""
    from ._service import create_app as make

    return make(host, **options)  # type: ignore[arg-type]


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Ptclisp-Signature`` header value for a webhook body."""
    from ._service import sign as make

    return make(secret, body, timestamp)

from ._step import Step, TokenUsage, ToolCallRecord, Turn

__all__ = [
    "LLM",
    "AgentHost",
    "AnthropicClient",
    "CallContext",
    "DepthLimitError",
    "HostError",
    "HostStore",
    "HostStoreError",
    "LLMError",
    "LLMResponse",
    "OpenAIClient",
    "PostgresHostStore",
    "RateLimiter",
    "RetryPolicy",
    "SQLiteHostStore",
    "ScriptedLLM",
    "Step",
    "SubAgent",
    "SubAgentError",
    "TokenUsage",
    "ToolCallRecord",
    "Turn",
    "Usage",
    "create_app",
    "current_call",
    "extract_program",
    "idempotency_key",
    "llm_from_env",
    "open_store",
    "pending_ops",
    "run",
    "sign",
]
