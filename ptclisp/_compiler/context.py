"""The run context: the per-run state compiled code reaches, and the run-level functions.

``RunContext`` holds what changes from run to run — the meter, the tool host, ``data/`` inputs,
the captured output, the parallel executor, and the ``*1 *2 *3`` history. A ``Namespace`` (the
``def``s of a session) owns one context, and functions compiled in that namespace read the
context *when called*, so a function defined in one turn meters against the run that calls it.

Run-level functions (``println``, ``return``, ``await``, ``pmap``, ...) are built per context.
``return``/``fail`` unwind the program with ``ReturnSignal``/``FailSignal``, which derive from
``BaseException`` so that no ``except Exception`` in a builtin can swallow them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._errors import EvalError
from .._limits import Meter, use_meter
from .._values.types import List
from .rt import iter_seq

__all__ = ["FailSignal", "Namespace", "ParallelMap", "ReturnSignal", "RunContext", "run_functions"]

ParallelMap = Callable[[Callable[[Any], Any], list[Any], int], list[Any]]


class ReturnSignal(BaseException):
    """``(return v)``: ends the run successfully with ``value``."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class FailSignal(BaseException):
    """``(fail v)``: ends the run with the failure value ``value``."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def sequential_map(fn: Callable[[Any], Any], items: list[Any], max_concurrency: int) -> list[Any]:
    """The default ``parallel_map``: one after the other (same results as a parallel one)."""
    return [fn(x) for x in items]


class RunContext:
    """Mutable per-run state; ``execute`` points it at the current run before evaluating."""

    __slots__ = ("data", "first_form", "form_hook", "history", "host", "meter", "output",
                 "parallel_map")

    def __init__(self) -> None:
        self.first_form = 0
        """The top-level form the run starts at (a resume from a checkpoint skips the others)."""
        self.form_hook: Callable[[int, Any, RunContext], None] | None = None
        """Called as each top-level form starts (index, namespace, context): checkpoints."""
        self.meter: Meter | None = None
        self.host: Any = None
        self.data: Mapping[str, Any] = {}
        self.output: list[str] = []
        self.parallel_map: ParallelMap = sequential_map
        self.history: list[Any] = []


class Namespace(dict):
    """The globals of a session: ``def``/``defn`` name → value, kept across ``execute`` calls.

    ``history`` holds the values of earlier runs (``*1`` is the last). Use one namespace per
    conversation; it is not meant to be shared by runs executing at the same time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            super().__init__(*args, **kwargs)
        self.context = RunContext()
        self.history: list[Any] = []
        self.lazy: dict[str, Any] = {}
        """Names restored from a checkpoint by reference to a journaled value, not read yet:
        name → reference, resolved by ``resolve`` when the program first reads the name (a
        resume restores k names without decoding k values)."""
        self.resolve: Callable[[Any], Any] | None = None

    def __missing__(self, name: str) -> Any:
        ref = self.lazy.get(name)
        if ref is None or self.resolve is None:
            raise KeyError(name)
        value = self.resolve(ref)
        self[name] = value
        return value

    def clear_lazy(self) -> None:
        self.lazy = {}
        self.resolve = None


def run_functions(ctx: RunContext) -> dict[str, Any]:
    """The run-level functions of one context, by ptclisp name."""
    def emit(text: str) -> None:
        meter = ctx.meter
        assert meter is not None
        meter.emit(len(text))
        meter.alloc_str(len(text))
        ctx.output.append(text)

    def println(*args: Any) -> None:
        from .._values.printer import print_str

        emit(" ".join(map(print_str, args)) + "\n")

    def print_(*args: Any) -> None:
        from .._values.printer import print_str

        emit(" ".join(map(print_str, args)))

    def prn(*args: Any) -> None:
        from .._values.printer import pr_str

        emit(" ".join(map(pr_str, args)) + "\n")

    def pr(*args: Any) -> None:
        from .._values.printer import pr_str

        emit(" ".join(map(pr_str, args)))

    def newline() -> None:
        emit("\n")

    def return_(value: Any = None) -> Any:
        raise ReturnSignal(value)

    def fail(value: Any = None) -> Any:
        raise FailSignal(value)

    def await_(value: Any) -> Any:
        return ctx.host.await_(value)

    def await_all(values: Any) -> Any:
        return ctx.host.await_all(values)

    def await_any(values: Any) -> Any:
        return ctx.host.await_any(values)

    def pmap(fn: Callable[..., Any], *colls: Any) -> List:
        if not colls:
            raise EvalError("pmap needs a function and a collection", code="arity_error",
                            hint="write (pmap f coll)")
        items: list[Any] = list(iter_seq(colls[0])) if len(colls) == 1 else \
            [tuple(t) for t in zip(*(iter_seq(c) for c in colls))]
        call = fn if len(colls) == 1 else (lambda args: fn(*args))
        return List(_in_parallel(ctx, call, items))

    def pcalls(*fns: Callable[[], Any]) -> List:
        return List(_in_parallel(ctx, lambda f: f(), list(fns)))

    return {
        "println": println, "print": print_, "prn": prn, "pr": pr, "newline": newline,
        "return": return_, "fail": fail, "await": await_, "await-all": await_all,
        "await-any": await_any, "pmap": pmap, "pcalls": pcalls,
    }


def _in_parallel(ctx: RunContext, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    meter = ctx.meter
    assert meter is not None
    meter.tick(len(items))
    meter.alloc_items(len(items))

    def task(item: Any) -> Any:
        with use_meter(meter):  # worker threads meter against the run that started them
            return fn(item)

    forked = getattr(ctx.host, "forked", None)
    if forked is not None:  # journal positions per item: replay is order-independent
        task = forked(task)
        items = list(enumerate(items))

    if meter.limits.max_depth > _PARALLEL_MAX_DEPTH:
        # The executor's threads have ordinary stacks; a run allowed to recurse deeper than
        # they hold runs its pmap in this (sized) thread instead — same results, in order.
        return sequential_map(task, items, 1)
    return ctx.parallel_map(task, items, meter.limits.max_parallel)


_PARALLEL_MAX_DEPTH = 500  # = _run._IN_THREAD_DEPTH: what an 8 MB thread stack holds safely


