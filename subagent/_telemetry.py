"""OpenTelemetry spans and metrics for agent runs, per the OpenTelemetry GenAI semantic conventions.

Library code uses only ``opentelemetry-api``: without an SDK installed and configured by the
application, every span and instrument is a no-op. The span tree of one run:

    invoke_agent {agent}     gen_ai.operation.name=invoke_agent, gen_ai.agent.name,
    │                        gen_ai.provider.name, gen_ai.request.model,
    │                        gen_ai.usage.input_tokens/output_tokens (the run's totals),
    │                        ptclisp.agent.depth/resumed/status/turns, error.type
    └── ptclisp.turn         ptclisp.turn.number, ptclisp.turn.status, ptclisp.steps,
        │                    ptclisp.tier, error.type
        ├── chat {model}     SpanKind.CLIENT; gen_ai.operation.name=chat, gen_ai.provider.name,
        │                    gen_ai.request.model, gen_ai.response.model,
        │                    gen_ai.response.finish_reasons, gen_ai.usage.input_tokens/
        │                    output_tokens, gen_ai.usage.cache_read.input_tokens,
        │                    ptclisp.llm.attempts, error.type
        └── execute_tool {tool}   gen_ai.operation.name=execute_tool, gen_ai.tool.name,
            │                     gen_ai.tool.type=function, gen_ai.tool.call.id (the op id of
            │                     an async tool), ptclisp.tool.async, error.type
            └── invoke_agent {child}   (a subagent used as a tool nests here)

Metrics (histograms, per ``chat`` call): ``gen_ai.client.token.usage`` (``{token}``, with
``gen_ai.token.type`` = ``input``/``output``) and ``gen_ai.client.operation.duration`` (``s``),
attributed with ``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
``gen_ai.response.model`` and ``error.type`` on failure.

Spans go to the tracer provider given to ``SubAgent.run(tracer_provider=...)`` (metrics to
``meter_provider=...``), else the global ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

__all__ = ["Telemetry", "mark_error", "set_attributes"]

_SCOPE = "ptclisp.subagent"
_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                  16777216, 67108864]
_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                     40.96, 81.92]


class Telemetry:
    """Opens the spans of one run and records its GenAI metrics."""

    def __init__(self, provider: trace.TracerProvider | None = None,
                 meter_provider: metrics.MeterProvider | None = None) -> None:
        self.provider = provider
        self.tracer = (provider or trace.get_tracer_provider()).get_tracer(_SCOPE)
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(_SCOPE)
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS)
        self.operation_duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS)

    @contextmanager
    def span(self, name: str, parent: Span | None = None, *, kind: SpanKind = SpanKind.INTERNAL,
             links: Sequence[Link] = (), **attributes: Any) -> Iterator[Span]:
        """A span under ``parent`` (or the current span); ends when the block does. ``links``:
        spans this one continues (``_trace.links_to``: a resumed run's earlier piece)."""
        context = trace.set_span_in_context(parent) if parent is not None else None
        with self.tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=_clean(attributes),
            record_exception=False, set_status_on_exception=True, links=links,
        ) as span:
            yield span

    def start(self, name: str, parent: Span | None = None, *,
              kind: SpanKind = SpanKind.INTERNAL, **attributes: Any) -> Span:
        """A span to be ended by the caller (for work that starts and ends in callbacks)."""
        context = trace.set_span_in_context(parent) if parent is not None else None
        return self.tracer.start_span(name, context=context, kind=kind,
                                      attributes=_clean(attributes))

    # ------------------------------------------------------------ GenAI operations

    def agent_span(self, agent: str, llm: Any, parent: Span | None = None, *,
                   links: Sequence[Link] = (), **attributes: Any) -> Any:
        """``invoke_agent {agent}``; ``links``: the run it continues (``_trace``)."""
        return self.span(f"invoke_agent {agent}", parent, links=links,
                         gen_ai__operation__name="invoke_agent",
                         gen_ai__agent__name=agent, gen_ai__provider__name=provider_name(llm),
                         gen_ai__request__model=getattr(llm, "model", None), **attributes)

    def chat_span(self, llm: Any, parent: Span | None) -> Any:
        """``chat {model}`` (SpanKind.CLIENT)."""
        model = getattr(llm, "model", None)
        return self.span(f"chat {model}" if model else "chat", parent, kind=SpanKind.CLIENT,
                         gen_ai__operation__name="chat", gen_ai__provider__name=provider_name(llm),
                         gen_ai__request__model=model)

    def tool_span(self, tool: Any, parent: Span | None) -> Span:
        """``execute_tool {tool}`` (ended by the caller)."""
        return self.start(f"execute_tool {tool.name}", parent,
                          gen_ai__operation__name="execute_tool", gen_ai__tool__name=tool.name,
                          gen_ai__tool__type="function",
                          gen_ai__tool__description=tool.description or None,
                          ptclisp__tool__async=tool.is_async)

    def record_chat(self, span: Span, llm: Any, reply: Any | None, duration_s: float,
                    error_code: str | None = None) -> None:
        """Attributes of a finished ``chat`` span, and its metrics."""
        common = _clean({"gen_ai__operation__name": "chat",
                         "gen_ai__provider__name": provider_name(llm),
                         "gen_ai__request__model": getattr(llm, "model", None)})
        if reply is not None:
            usage = reply.usage
            common.update(_clean({"gen_ai__response__model": reply.model}))
            set_attributes(span, gen_ai__response__model=reply.model,
                           gen_ai__response__finish_reasons=(
                               [reply.finish_reason] if reply.finish_reason else None),
                           gen_ai__usage__input_tokens=usage.input_tokens,
                           gen_ai__usage__output_tokens=usage.output_tokens,
                           gen_ai__usage__cache_read__input_tokens=(
                               getattr(usage, "cache_read_tokens", 0) or None),
                           ptclisp__llm__attempts=reply.attempts)
            self.token_usage.record(usage.input_tokens, {**common, "gen_ai.token.type": "input"})
            self.token_usage.record(usage.output_tokens,
                                    {**common, "gen_ai.token.type": "output"})
        if error_code:
            common["error.type"] = error_code
        self.operation_duration.record(duration_s, common)


def provider_name(llm: Any) -> str | None:
    """``gen_ai.provider.name``: ``openai``, ``anthropic``, ``scripted`` (the client's name)."""
    name = getattr(llm, "name", None)
    return str(name) if name else None


def set_attributes(span: Span, **attributes: Any) -> None:
    span.set_attributes(_clean(attributes))


def mark_error(span: Span, code: str | None, message: str = "") -> None:
    if code:
        span.set_attribute("error.type", code)
        span.set_status(Status(StatusCode.ERROR, message or code))


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    """OTel attribute values must be str/bool/int/float (or lists): drop ``None``s; ``__`` in a
    keyword becomes ``.`` in the attribute name."""
    return {k.replace("__", "."): v for k, v in attributes.items() if v is not None}
