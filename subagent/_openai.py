"""An OpenAI-compatible chat-completions client (OpenAI, vLLM, llama.cpp, Ollama, LM Studio, ...).

``POST {base_url}/chat/completions``; ``base_url`` includes the version prefix
(``https://api.openai.com/v1``, ``http://127.0.0.1:8080/v1``).

Reasoning models (``o1``, ``o3``, ``o4-mini``, ``gpt-5`` ...; or ``reasoning=True``) get
``max_completion_tokens`` instead of ``max_tokens`` (which they reject) and no ``temperature``.
Cached prompt tokens (``usage.prompt_tokens_details.cached_tokens``) are counted as
``Usage.cache_read_tokens``; OpenAI caches long prompt prefixes by itself.
"""

from __future__ import annotations

import re
from typing import Any

from ._errors import LLMError
from ._http_llm import HTTPChatClient, StreamState
from ._llm import LLMResponse, Message, TokenCallback, Usage

__all__ = ["OpenAIClient"]


class OpenAIClient(HTTPChatClient):
    """Chat completions over httpx. Streams with ``stream=True`` (usage via ``include_usage``)."""

    name = "openai"
    default_base_url = "https://api.openai.com/v1"

    def __init__(self, model: str, *, reasoning: bool | None = None, **options: Any) -> None:
        super().__init__(model, **options)
        self.reasoning = is_reasoning_model(model) if reasoning is None else reasoning
        """Send ``max_completion_tokens`` (and no ``temperature``): an OpenAI reasoning model."""

    def _url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _body(self, messages: list[Message], stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.max_tokens is not None:
            body["max_completion_tokens" if self.reasoning else "max_tokens"] = self.max_tokens
        if not self.reasoning:
            body.update(self._common_options())
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(self.extra_body)
        return body

    def _parse(self, data: dict[str, Any]) -> LLMResponse:
        try:
            choice = data["choices"][0]
            content = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LLMError(f"no choices[0].message in the reply: {str(data)[:300]}",
                           code="llm_bad_response") from None
        return LLMResponse(content, _usage(data.get("usage")), data.get("model"),
                           choice.get("finish_reason"))

    def _on_event(self, event: str | None, data: dict[str, Any], state: StreamState,
                  on_token: TokenCallback | None) -> None:
        state.model = data.get("model") or state.model
        if data.get("usage"):
            state.usage = _usage(data["usage"])
        for choice in data.get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            if text:
                state.parts.append(text)
                if on_token is not None:
                    on_token(text)
            if choice.get("finish_reason"):
                state.finish_reason = choice["finish_reason"]


_REASONING = re.compile(r"^(o\d|gpt-5)")


def is_reasoning_model(model: str) -> bool:
    """OpenAI reasoning models by name: ``o1``, ``o3-mini``, ``o4-mini``, ``gpt-5`` ..."""
    return bool(_REASONING.match(model.rsplit("/", 1)[-1]))


def _usage(raw: dict[str, Any] | None) -> Usage:
    raw = raw or {}
    details = raw.get("prompt_tokens_details") or {}
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0), 1,
                 cache_read_tokens=int(details.get("cached_tokens") or 0))
