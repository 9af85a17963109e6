"""One trace across suspensions: a ``PendingStep`` carries its run's span context (W3C
``traceparent``), and the span of the run that resumes it links to that span — so a trace viewer
shows one story even when the pieces ran days apart in different processes. A nested subagent's
resumed run links to its own previous run and is the child of its parent's resumed span."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import Link, Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["links_to", "trace_context"]

_PROPAGATOR = TraceContextTextMapPropagator()


def trace_context(span: Span) -> dict[str, str]:
    """The span's context as plain strings (``{"traceparent": ...}``); empty when not recording."""
    if not span.get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


def links_to(carrier: dict[str, str] | None) -> list[Link]:
    """A link to the span a stored ``trace_context`` names (none for an empty or bad one)."""
    if not carrier:
        return []
    try:
        context = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
    except Exception:  # a hostile or damaged carrier: no link rather than no run
        return []
    if not context.is_valid:
        return []
    return [Link(context, {"ptclisp.link": "resumes"})]
