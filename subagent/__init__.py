"""subagent — an LLM writes ptclisp programs turn by turn; the agent runs them against tools.

    from ptclisp.subagent import SubAgent, OpenAIClient
    agent = SubAgent(prompt="...", tools=[...], signature="(q :string) -> {n :int}")
    step = agent.run(llm=OpenAIClient("gpt-4o-mini"), context={"q": "..."})

See docs/subagent.md; for hosting runs durably (``AgentHost``, ``ptclisp serve``) docs/service.md.
"""

from typing import Any

from ._agent import SubAgent, pending_ops, run
from ._anthropic import AnthropicClient
from ._budget import Budget, Ledger
from ._effects import CallContext, current_call, idempotency_key
from ._env import llm_from_env
from ._errors import DepthLimitError, LLMError, SubAgentError
from ._events import Done, Event, Pending, Token, ToolEnd, ToolStart, TurnEnd, TurnStart
from ._extract import extract_program
from ._gate import AfterTool, AfterTurn, BeforeTool, BeforeTurn, Refuse
from ._host import AgentHost, HostError
from ._hoststore import (
    Delivery,
    HostStore,
    HostStoreError,
    OpRecord,
    PostgresHostStore,
    RunRecord,
    SQLiteHostStore,
    open_store,
)
from ._llm import LLM, LLMResponse, Usage
from ._openai import OpenAIClient
from ._pricing import PRICES, Price, price_for, register_price
from ._scripted import ScriptedLLM
from ._step import Step, TokenUsage, ToolCallRecord, Turn

__all__ = [
    "LLM",
    "PRICES",
    "AfterTool",
    "AfterTurn",
    "AgentHost",
    "AnthropicClient",
    "BeforeTool",
    "BeforeTurn",
    "Budget",
    "CallContext",
    "Delivery",
    "DepthLimitError",
    "Done",
    "Event",
    "HostError",
    "HostStore",
    "HostStoreError",
    "LLMError",
    "LLMResponse",
    "Ledger",
    "OpRecord",
    "OpenAIClient",
    "Pending",
    "PostgresHostStore",
    "Price",
    "Refuse",
    "RunRecord",
    "SQLiteHostStore",
    "ScriptedLLM",
    "Step",
    "SubAgent",
    "SubAgentError",
    "Token",
    "TokenUsage",
    "ToolCallRecord",
    "ToolEnd",
    "ToolStart",
    "Turn",
    "TurnEnd",
    "TurnStart",
    "Usage",
    "create_app",
    "current_call",
    "extract_program",
    "idempotency_key",
    "llm_from_env",
    "open_store",
    "pending_ops",
    "price_for",
    "register_price",
    "run",
    "sign",
]


def create_app(host: AgentHost, **options: Any) -> Any:
    """The host's Starlette ASGI app (needs the ``[serve]`` extra); see docs/service.md."""
    from ._service import create_app as make

    return make(host, **options)


def sign(secret: str | bytes, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Ptclisp-Signature`` header value for a webhook body (``t=...,v1=...``)."""
    from ._service import sign as make

    return make(secret, body, timestamp)
