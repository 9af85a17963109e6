"""An Anthropic Messages API client: ``POST {base_url}/v1/messages``.

OpenAI-format messages are translated: ``system`` messages become the top-level ``system`` text,
consecutive messages of one role are merged (the API wants user/assistant alternation).

Prompt caching: the system prompt (rules, the ~20 KB language reference, tools) is the same on
every turn, so it is sent as a text block marked ``cache_control: {"type": "ephemeral"}``
(``cache_system=False`` turns this off). Later calls read it from the cache at a fraction of the
price; ``Usage.cache_read_tokens``/``cache_write_tokens`` count those tokens, and
``Usage.input_tokens`` includes them (Anthropic's own ``input_tokens`` does not).
"""

from __future__ import annotations

from typing import Any

from ._errors import LLMError
from ._http_llm import HTTPChatClient, StreamState
from ._llm import LLMResponse, Message, TokenCallback, Usage

__all__ = ["AnthropicClient"]

API_VERSION = "2023-06-01"


class AnthropicClient(HTTPChatClient):
    """Anthropic messages over httpx; streams with ``stream=True``."""

    name = "anthropic"
    default_base_url = "https://api.anthropic.com"

    def __init__(self, model: str, *, max_tokens: int | None = 4096, cache_system: bool = True,
                 **options: Any) -> None:
        super().__init__(model, max_tokens=max_tokens, **options)
        self.cache_system = cache_system
        """Mark the system prompt for Anthropic's prompt cache."""

    def _url(self) -> str:
        return f"{self.base_url}/v1/messages"

    def _headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def _body(self, messages: list[Message], stream: bool) -> dict[str, Any]:
        system, turns = to_anthropic(messages)
        body: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens or 4096,
                                "messages": turns}
        if system and self.cache_system:
            body["system"] = [{"type": "text", "text": system,
                               "cache_control": {"type": "ephemeral"}}]
        elif system:
            body["system"] = system
        body.update(self._common_options())
        if stream:
            body["stream"] = True
        body.update(self.extra_body)
        return body

    def _parse(self, data: dict[str, Any]) -> LLMResponse:
        blocks = data.get("content")
        if not isinstance(blocks, list):
            raise LLMError(f"no content blocks in the reply: {str(data)[:300]}",
                           code="llm_bad_response")
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        usage = _usage(data.get("usage") or {})
        return LLMResponse(text, usage, data.get("model"), data.get("stop_reason"))

    def _on_event(self, event: str | None, data: dict[str, Any], state: StreamState,
                  on_token: TokenCallback | None) -> None:
        kind = data.get("type") or event
        if kind == "message_start":
            message = data.get("message") or {}
            state.model = message.get("model")
            state.usage = _usage(message.get("usage") or {})
            state.usage.output_tokens = 0
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                state.parts.append(delta["text"])
                if on_token is not None:
                    on_token(delta["text"])
        elif kind == "message_delta":
            usage = data.get("usage") or {}
            state.usage.output_tokens = int(usage.get("output_tokens") or 0)
            state.finish_reason = (data.get("delta") or {}).get("stop_reason")


def _usage(raw: dict[str, Any]) -> Usage:
    """Anthropic's counts; its ``input_tokens`` excludes cache reads and writes, ours not."""
    read = int(raw.get("cache_read_input_tokens") or 0)
    write = int(raw.get("cache_creation_input_tokens") or 0)
    return Usage(int(raw.get("input_tokens") or 0) + read + write,
                 int(raw.get("output_tokens") or 0), 1, cache_read_tokens=read,
                 cache_write_tokens=write)


def to_anthropic(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """OpenAI-format messages → (system text, alternating user/assistant turns)."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        content = str(message.get("content") or "")
        if message["role"] == "system":
            system.append(content)
            continue
        role = "assistant" if message["role"] == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + content
        else:
            turns.append({"role": role, "content": content})
    return "\n\n".join(system), turns
