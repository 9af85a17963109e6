"""Choosing an LLM from environment variables (examples, the README command, CLIs).

    SUBAGENT_LLM        openai | anthropic | scripted (default: openai when OPENAI_BASE_URL or
                        OPENAI_API_KEY is set, anthropic when ANTHROPIC_API_KEY is set, else
                        scripted)
    OPENAI_BASE_URL     e.g. http://127.0.0.1:8080/v1 (llama.cpp, vLLM, Ollama: .../v1)
    OPENAI_API_KEY      sent as a bearer token (optional for local servers)
    OPENAI_MODEL        model name (default gpt-4o-mini)
    ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_MODEL (default claude-3-5-haiku-latest)
    SUBAGENT_STREAM=1   stream tokens
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ._anthropic import AnthropicClient
from ._errors import SubAgentError
from ._llm import LLM
from ._openai import OpenAIClient
from ._scripted import ScriptedLLM

__all__ = ["llm_from_env"]


def llm_from_env(script: str | os.PathLike[str] | None = None,
                 env: Mapping[str, str] | None = None) -> LLM:
    """An LLM client configured by the environment; ``script`` is the recorded-replies file used
    when no endpoint is configured (the offline default)."""
    env = os.environ if env is None else env
    kind = env.get("SUBAGENT_LLM") or (
        "openai" if env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_KEY")
        else "anthropic" if env.get("ANTHROPIC_API_KEY") else "scripted")
    stream = env.get("SUBAGENT_STREAM", "") not in ("", "0", "false")
    if kind == "openai":
        return OpenAIClient(env.get("OPENAI_MODEL", "gpt-4o-mini"),
                            base_url=env.get("OPENAI_BASE_URL"), api_key=env.get("OPENAI_API_KEY"),
                            stream=stream)
    if kind == "anthropic":
        return AnthropicClient(env.get("ANTHROPIC_MODEL", "claude-3-5-haiku-latest"),
                               base_url=env.get("ANTHROPIC_BASE_URL"),
                               api_key=env.get("ANTHROPIC_API_KEY"), stream=stream)
    if kind == "scripted":
        if script is None:
            raise SubAgentError("no LLM configured and no recorded script given",
                                code="no_llm", hint="set OPENAI_BASE_URL / OPENAI_API_KEY")
        return ScriptedLLM.from_file(Path(script))
    raise SubAgentError(f"SUBAGENT_LLM={kind!r}: expected openai, anthropic or scripted",
                        code="no_llm")
