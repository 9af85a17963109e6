"""OpenTelemetry spans for agent runs. The span tree of one run:

    subagent.run            subagent.name, subagent.depth, subagent.status, subagent.turns,
    │                       llm.input_tokens, llm.output_tokens, error.code
    └── subagent.turn       subagent.turn, subagent.turn.status, ptclisp.steps, error.code
        ├── llm.call        llm.system, llm.model, llm.input_tokens, llm.output_tokens,
        │                   llm.duration_s, llm.attempts, error.code
        └── tool.call       tool.name, tool.duration_s, error.code
            └── subagent.run    (a subagent used as a tool nests here)

Spans go to the tracer provider given to ``SubAgent.run(tracer_provider=...)``, else the global one
(a no-op until the application installs an SDK provider).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, Span, Status, StatusCode

__all__ = ["Telemetry"]

_SCOPE = "subagent"


class Telemetry:
    """Opens the spans of one run."""

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        self.provider = provider
        self.tracer = (provider or trace.get_tracer_provider()).get_tracer(_SCOPE)

    @contextmanager
    def span(self, name: str, parent: Span | None = None, *, links: Sequence[Link] = (),
             **attributes: Any) -> Iterator[Span]:
        """A span under ``parent`` (or the current span); ends when the block does. ``links``:
        spans this one continues (``_trace.links_to``: a resumed run's earlier piece)."""
        context = trace.set_span_in_context(parent) if parent is not None else None
        with self.tracer.start_as_current_span(
            name, context=context, attributes=_clean(attributes), record_exception=False,
            set_status_on_exception=True, links=links,
        ) as span:
            yield span

    def start(self, name: str, parent: Span | None = None, **attributes: Any) -> Span:
        """A span to be ended by the caller (for work that starts and ends in callbacks)."""
        context = trace.set_span_in_context(parent) if parent is not None else None
        return self.tracer.start_span(name, context=context, attributes=_clean(attributes))


def set_attributes(span: Span, **attributes: Any) -> None:
    span.set_attributes(_clean(attributes))


def mark_error(span: Span, code: str | None, message: str = "") -> None:
    if code:
        span.set_attribute("error.code", code)
        span.set_status(Status(StatusCode.ERROR, message or code))


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    """OTel attribute values must be str/bool/int/float: drop ``None``s, keys use dots."""
    return {k.replace("__", "."): v for k, v in attributes.items() if v is not None}
