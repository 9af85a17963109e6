"""``ScriptedLLM``: replays recorded replies in order — for tests, offline demos, the README run.

Replies: a list; each is the reply text (a string) or ``{"content": str, "usage":
{"input_tokens": n, "output_tokens": m}}``. A reply without recorded usage gets estimated token
counts (4 characters a token), flagged ``estimated``. ``ScriptedLLM("(return 1)")`` (a bare
string) is refused: wrap one reply in a list.

File (``ScriptedLLM.from_file``): JSON, either the list itself or an object ``{"replies": [...],
"model": "name"?, ...}`` (other keys, e.g. a ``note``, are ignored).

Order: every ``complete`` call takes the next reply, whoever calls. A subagent used as a tool runs
with its parent's LLM (unless it has its own), so one script serves both, in call order: the
parent's turn-1 reply, then the child's replies (its turns run while the parent's program runs),
then the parent's next reply. Thread-safe: parallel subagents take replies in call order.

Resume: a resumed run does not ask the LLM again for the turn that suspended (its program is
replayed), so a resuming process needs only the replies after those already used — pass
``start=n`` where ``n`` is how many replies the first process consumed (its ``position``).
Passing the whole script again would answer the next turn with reply 0, re-running its tool calls.

Every call's messages are kept in ``calls`` so a test can check what the agent sent.

``per_conversation=True``: the reply is chosen by the number of assistant messages in the
conversation, so one script answers any number of runs at once, from their start (an
``AgentHost``'s offline agents); ``calls`` is not kept then.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ptclisp import HostInputError

from ._errors import LLMError
from ._llm import LLMResponse, Message, TokenCallback, Usage, estimate_tokens

__all__ = ["ScriptedLLM"]


class ScriptedLLM:
    """An LLM that answers with the next recorded reply."""

    name = "scripted"

    def __init__(self, replies: list[str | dict[str, Any]], *, model: str = "scripted",
                 start: int = 0, per_conversation: bool = False) -> None:
        if not isinstance(replies, (list, tuple)):
            raise HostInputError(
                f"ScriptedLLM(replies): expected a list of replies, got "
                f"{type(replies).__name__}",
                hint="wrap a single reply in a list: ScriptedLLM([\"(return 1)\"]); "
                "load a file with ScriptedLLM.from_file(path)")
        self.replies = [_normalize(r, i) for i, r in enumerate(replies)]
        if isinstance(start, bool) or not isinstance(start, int) or \
                not 0 <= start <= len(self.replies):
            raise HostInputError(f"ScriptedLLM(start): expected an integer from 0 to "
                                 f"{len(self.replies)}, got {start!r}",
                                 hint="start = the replies the suspended process had used")
        self.model = model
        self.position = start
        """The index of the next reply (replies used so far, ``start`` included)."""
        self.per_conversation = per_conversation
        """Answer each conversation from the start of the script: the reply is chosen by the
        number of assistant messages so far, not by a global position — one script then serves
        any number of concurrent runs (an ``AgentHost``'s offline agents)."""
        self.calls: list[list[Message]] = []
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, start: int = 0,
                  per_conversation: bool = False) -> ScriptedLLM:
        """Load a script recorded as JSON (a list, or an object with ``replies``)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        replies = data["replies"] if isinstance(data, dict) else data
        if not isinstance(replies, list):
            raise LLMError(f"{path}: expected a list of replies", code="llm_bad_response")
        return cls(replies, model=data.get("model", "scripted") if isinstance(data, dict)
                   else "scripted", start=start, per_conversation=per_conversation)

    @property
    def remaining(self) -> int:
        return len(self.replies) - self.position

    def complete(self, messages: list[Message], *, on_token: TokenCallback | None = None
                 ) -> LLMResponse:
        with self._lock:
            if self.per_conversation:
                self.position = sum(1 for m in messages if m.get("role") == "assistant")
            if self.position >= len(self.replies):
                raise LLMError(
                    f"the script is exhausted after {len(self.replies)} replies",
                    code="script_exhausted",
                    hint="record more replies, or the agent took more turns than scripted",
                )
            reply = self.replies[self.position]
            self.position += 1
            if not self.per_conversation:  # a shared script would keep every run's messages
                self.calls.append([dict(m) for m in messages])
        content = reply["content"]
        if on_token is not None:
            for piece in _pieces(content):
                on_token(piece)
        return LLMResponse(content, _usage(reply, messages), self.model, "stop")

    async def acomplete(self, messages: list[Message], *,
                        on_token: TokenCallback | None = None) -> LLMResponse:
        return self.complete(messages, on_token=on_token)


def _normalize(reply: Any, index: int) -> dict[str, Any]:
    if isinstance(reply, str):
        return {"content": reply}
    if isinstance(reply, dict) and isinstance(reply.get("content"), str):
        return reply
    raise HostInputError(f"ScriptedLLM(replies): reply {index} must be a string or a dict with "
                         f"a string 'content', got {type(reply).__name__}",
                         hint='e.g. {"content": "(return 1)", "usage": {"input_tokens": 10, '
                         '"output_tokens": 3}}')


def _usage(reply: dict[str, Any], messages: list[Message]) -> Usage:
    recorded = reply.get("usage")
    if recorded:
        return Usage(int(recorded.get("input_tokens", 0)), int(recorded.get("output_tokens", 0)),
                     1)
    prompt = sum(estimate_tokens(str(m.get("content", ""))) for m in messages)
    return Usage(prompt, estimate_tokens(reply["content"]), 1, estimated=True)


def _pieces(text: str) -> list[str]:
    """Split into word-sized fragments, as a streaming server would deliver them."""
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch.isspace() and i > start:
            pieces.append(text[start:i])
            start = i
    pieces.append(text[start:])
    return [p for p in pieces if p]
