"""subagent — an LLM writes ptclisp programs turn by turn; the agent runs them against tools.

    from ptclisp.subagent import SubAgent, OpenAIClient
    agent = SubAgent(prompt="...", tools=[...], signature="(q :string) -> {n :int}")
    step = agent.run(llm=OpenAIClient("gpt-4o-mini"), context={"q": "..."})

See docs/subagent.md.
"""

from ._agent import SubAgent, pending_ops, run
from ._anthropic import AnthropicClient
from ._budget import Budget, Ledger
from ._env import llm_from_env
from ._errors import DepthLimitError, LLMError, SubAgentError
from ._events import Done, Event, Pending, Token, ToolEnd, ToolStart, TurnEnd, TurnStart
from ._extract import extract_program
from ._gate import AfterTool, AfterTurn, BeforeTool, BeforeTurn, Refuse
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
    "AnthropicClient",
    "BeforeTool",
    "BeforeTurn",
    "Budget",
    "DepthLimitError",
    "Done",
    "Event",
    "LLMError",
    "LLMResponse",
    "Ledger",
    "OpenAIClient",
    "Pending",
    "Price",
    "Refuse",
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
    "extract_program",
    "llm_from_env",
    "pending_ops",
    "price_for",
    "register_price",
    "run",
]
