"""subagent — an LLM writes ptclisp programs turn by turn; the agent runs them against tools.

    from ptclisp.subagent import SubAgent, OpenAIClient
    agent = SubAgent(prompt="...", tools=[...], signature="(q :string) -> {n :int}")
    step = agent.run(llm=OpenAIClient("gpt-4o-mini"), context={"q": "..."})

See docs/subagent.md.
"""

from ._agent import SubAgent, pending_ops, run
from ._anthropic import AnthropicClient
from ._env import llm_from_env
from ._errors import DepthLimitError, LLMError, SubAgentError
from ._extract import extract_program
from ._llm import LLM, LLMResponse, Usage
from ._openai import OpenAIClient
from ._scripted import ScriptedLLM
from ._step import Step, TokenUsage, ToolCallRecord, Turn

__all__ = [
    "LLM",
    "AnthropicClient",
    "DepthLimitError",
    "LLMError",
    "LLMResponse",
    "OpenAIClient",
    "ScriptedLLM",
    "Step",
    "SubAgent",
    "SubAgentError",
    "TokenUsage",
    "ToolCallRecord",
    "Turn",
    "Usage",
    "extract_program",
    "llm_from_env",
    "pending_ops",
    "run",
]
