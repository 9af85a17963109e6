"""``run``: source text in, ``Result`` out — and ``execute``, the reusable core under it.

Pipeline: ``load`` (read + analyze, cached by source text) → ``execute`` (compile against a
namespace, point the run context at this run, evaluate) → ``Result``.

``execute`` is the piece other entry points build on: ``start``/``resume`` (suspendable runs)
catch the ``Suspend`` it lets through, and the subagent loop passes the same ``Namespace`` turn
after turn so ``def``s persist and ``*1 *2 *3`` see earlier results.

Termination of ``run``:

    last form evaluated          status "ok",     value = last value
    (return v)                   status "ok",     value = v
    (fail v)                     status "failed", value = v
    PtclispError (any stage)     status "error",  error = it (limits included)
    await on an unfinished op    a PendingStep (status "pending"), resumable with ``resume``
    any other Exception          status "error",  error = internal_error
    KeyboardInterrupt            propagates
"""

from __future__ import annotations

import collections
import dataclasses
import operator
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._analyzer.ast import Program
from ._compiler.context import FailSignal, Namespace, ParallelMap, ReturnSignal, sequential_map
from ._errors import EvalError, InternalError, LimitExceeded, PtclispError
from ._limits import CancelToken, Limits, Meter, use_meter
from ._result import Result
from ._values.types import Char, Keyword, LazySeq, List, Map, Vector, from_python

if TYPE_CHECKING:
    from ._async.pending import PendingStep
    from ._tools.host import ToolHost
    from ._tools.registry import Tool

_ATOMS = frozenset({int, float, str, bool, type(None), Keyword, Char})

__all__ = ["Completion", "execute", "load", "realize", "run"]

_DEFAULT_LIMITS = Limits()
_CACHE_SIZE = 256
_cache: collections.OrderedDict[tuple[str, frozenset[str]], Program] = collections.OrderedDict()
_cache_lock = threading.Lock()

# How deep Python may go. CPython 3.11 counts Python frames and C re-entries against one
# recursion limit, and a recursion that re-enters C on every frame (a builtin calling back into
# Python: sort with a comparator, printing nested values) spends ~0.7-1.3 KB of C stack per
# frame. The default 8 MB thread stack is therefore safe up to ~4,000 frames: runs whose
# max_depth fits (about 6 frames per ptclisp call level) run in the caller's thread under that
# limit; deeper ones run in a thread whose stack is sized for them, and the raised limit is put
# back when the last such run ends. Whatever runs out first — max_depth or Python's limit —
# the program ends with depth_limit, never a crash.
_FRAMES_PER_LEVEL = 6
_SAFE_FRAMES = 4_000  # for an 8 MB stack
_IN_THREAD_DEPTH = 500
_C_BYTES_PER_LEVEL = 8 * 1024
_C_BYTES_PER_FRAME = 1_536
_MAX_STACK = 512 * 2**20
_deep_lock = threading.Lock()
_deep_runs = 0


SOURCE_BYTES_PER_CHAR = 256
"""Memory charged per character of program text: reading, analysis and compilation peak at
about 250 bytes of resident memory per source character (measured, bench/bench_limits.py)."""
_CACHE_MAX_CHARS = 2_000_000  # the analysis cache's total source text (ASTs: ~100-180 B/char)
_CACHE_MAX_ENTRY = 100_000
_cache_chars = 0


def load(source: str, known_globals: Collection[str] = (), meter: Meter | None = None) -> Program:
    """Read and analyze ``source`` (cached: the same text is analyzed once).

    ``known_globals`` are names already defined in the namespace the program will run in. With
    a ``meter`` the text is charged to it first (``SOURCE_BYTES_PER_CHAR`` a character, so a
    program text too large for the memory budget is refused before it is read) and the clock is
    checked as the forms are analyzed.
    """
    if meter is not None:
        charge_source(meter, source)
    key = (source, frozenset(known_globals))
    with _cache_lock:
        program = _cache.get(key)
        if program is not None:
            _cache.move_to_end(key)
            return program
    from ._analyzer import analyze_program
    from ._reader.reader import read_forms

    forms = read_forms(source)
    if meter is not None:
        meter.check_clock()
        forms = _clocked(forms, meter)
    program = analyze_program(forms, known_globals=key[1])
    if len(source) <= _CACHE_MAX_ENTRY:
        _remember(key, program)
    return program


def charge_source(meter: Meter, source: str) -> None:
    """Charge the memory reading and analyzing ``source`` takes, before doing it."""
    if len(source) * SOURCE_BYTES_PER_CHAR > meter.limits.max_memory - meter.memory:
        raise LimitExceeded(
            f"the program text ({len(source)} characters) is too large for the memory limit "
            f"({meter.limits.max_memory // SOURCE_BYTES_PER_CHAR} characters at most)",
            code="memory_limit",
            hint="write a shorter program: pass large data as data/ inputs, not as literals",
        )
    meter.alloc(len(source) * SOURCE_BYTES_PER_CHAR)


class _clocked(list[Any]):
    """The forms, reading the run's clock as the analyzer walks them, one per top-level form."""

    def __init__(self, forms: list[Any], meter: Meter) -> None:
        super().__init__(forms)
        self.meter = meter

    def __iter__(self) -> Iterator[Any]:
        check = self.meter.check_clock
        for form in list.__iter__(self):
            check()
            yield form


def _remember(key: tuple[str, frozenset[str]], program: Program) -> None:
    global _cache_chars
    with _cache_lock:
        if key in _cache:
            return
        _cache[key] = program
        _cache_chars += len(key[0])
        while len(_cache) > _CACHE_SIZE or _cache_chars > _CACHE_MAX_CHARS:
            old, _ = _cache.popitem(last=False)
            _cache_chars -= len(old[0])


@dataclasses.dataclass
class Completion:
    """How ``execute`` ended when it did not raise: normally/``return`` ("ok") or ``fail``."""

    status: Literal["ok", "failed"]
    value: Any
    namespace: Namespace
    returned: bool = False
    """Ended by ``(return v)`` (not by reaching the last form)."""


def execute(
    program: Program,
    *,
    host: Any,
    data: Mapping[str, Any],
    meter: Meter,
    namespace: Namespace | None = None,
    output: list[str] | None = None,
    parallel_map: ParallelMap | None = None,
) -> Completion:
    """Evaluate an analyzed ``program``.

    - ``host``: the ``ToolHost`` answering ``(tool/...)`` and ``await``.
    - ``data``: ``data/name`` inputs, already ptclisp values.
    - ``meter``: the run's budgets; installed as the thread's current meter while running.
    - ``namespace``: the session's globals (``def``s persist into it); a fresh one when None.
      Its ``history`` gets the value appended (for ``*1 *2 *3`` of later runs).
    - ``output``: printed text is appended here as it happens (so it survives an error).
    - ``parallel_map(fn, items, max_concurrency) -> list`` runs ``pmap``/``pcalls``.

    Raises ``PtclispError`` for program errors and limit breaches, and lets ``Suspend`` (and any
    other ``BaseException``) through untouched.
    """
    depth = meter.limits.max_depth
    args = (program, host, data, meter, namespace, output, parallel_map)
    if depth <= _IN_THREAD_DEPTH:
        _ensure_recursion_limit(_SAFE_FRAMES)
        return _execute(*args)
    return _on_big_stack(lambda: _execute(*args), depth)


def _execute(
    program: Program,
    host: Any,
    data: Mapping[str, Any],
    meter: Meter,
    namespace: Namespace | None,
    output: list[str] | None,
    parallel_map: ParallelMap | None,
) -> Completion:
    from ._compiler.compiler import compile_program

    ns = namespace if namespace is not None else Namespace()
    ctx = ns.context
    ctx.meter, ctx.host, ctx.data = meter, host, data
    ctx.output = output if output is not None else []
    ctx.parallel_map = parallel_map or sequential_map
    code = compile_program(program, ns)
    # Without lazy seqs made in this run, or inherited through a namespace, the value is final.
    lazy_before = LazySeq.created
    with use_meter(meter):
        returned = False
        try:
            value = code()
            status: Literal["ok", "failed"] = "ok"
        except ReturnSignal as signal:
            value, status, returned = signal.value, "ok", True
        except FailSignal as signal:
            value, status = signal.value, "failed"
        except RecursionError:
            raise LimitExceeded("recursion too deep", code="depth_limit",
                                hint="recursion is too deep: use loop/recur or reduce instead"
                                ) from None
        if namespace is not None or LazySeq.created != lazy_before:
            value = realize(value)
    if status == "ok":
        ns.history.append(value)
        del ns.history[:-3]
    return Completion(status, value, ns, returned)


def realize(value: Any) -> Any:
    """Realize every lazy sequence inside ``value`` (under the run's meter) into a list.

    Returns ``value`` itself when nothing inside is lazy; the atom checks run in C
    (``issuperset`` over the element types), since results are often 10k-record tables.
    """
    t = type(value)
    if t in _ATOMS:
        return value
    if t is LazySeq:
        return List(map(realize, value.realized()))
    if t is Vector or t is List:
        if _ATOMS.issuperset(map(type, value)):
            return value
        items = [realize(x) for x in value]
        return value if all(map(operator.is_, items, value)) else t(items)
    if t is Map:
        if _ATOMS.issuperset(map(type, value.values())):
            return value
        values = [realize(v) for v in value.values()]
        if all(map(operator.is_, values, value.values())):
            return value
        return Map(zip(value.keys(), values))
    return value


def _ensure_recursion_limit(wanted: int) -> None:
    if sys.getrecursionlimit() < wanted:
        sys.setrecursionlimit(wanted)


def _on_big_stack(fn: Callable[[], Completion], depth: int) -> Completion:
    """Run ``fn`` in a thread whose C stack fits ``depth`` call levels; re-raise what it raises."""
    global _deep_runs
    stack = min(64 * 2**20 + depth * _C_BYTES_PER_LEVEL, _MAX_STACK)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc

    worker = None
    with _deep_lock:
        try:
            previous = threading.stack_size(stack)
        except (ValueError, RuntimeError):  # no sized thread stacks (e.g. in wasm):
            pass  # the in-thread limit holds; max_depth may then end as Python's limit
        else:
            try:
                limit = sys.getrecursionlimit()
                sys.setrecursionlimit(max(limit, min(
                    depth * _FRAMES_PER_LEVEL + 2_000, stack // _C_BYTES_PER_FRAME)))
                worker = threading.Thread(target=target, name="ptclisp-deep-run", daemon=True)
                worker.start()
                _deep_runs += 1
            except RuntimeError:  # "can't start new thread" (CPython on WASI): run in place
                worker = None
                if _deep_runs == 0:
                    sys.setrecursionlimit(limit)
            finally:
                threading.stack_size(previous)
    if worker is None:
        _ensure_recursion_limit(_SAFE_FRAMES)
        return fn()
    try:
        worker.join()
    finally:
        with _deep_lock:
            _deep_runs -= 1
            if _deep_runs == 0:
                sys.setrecursionlimit(max(_SAFE_FRAMES, 1_000))
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# Once, at import: runs with default limits never change it (hypothesis and pytest notice).
_ensure_recursion_limit(_SAFE_FRAMES)


def run(
    source: str,
    *,
    tools: Mapping[str, Callable[..., Any] | Tool] | None = None,
    data: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    host: ToolHost | None = None,
    parallel_map: ParallelMap | None = None,
    cancel: CancelToken | None = None,
) -> Result | PendingStep:
    """Run a ptclisp program and return its ``Result``; never raises for a program's fault.

    ``tools``: name → Python callable taking one dict of arguments (string keys) and returning
    JSON-like data (or a ``ptclisp.Tool``); a ``ToolRegistry`` or a list of ``Tool``s also do.
    ``data``: name → JSON-like value, read as ``data/name``. ``limits``: budgets (default
    ``Limits()``; a dict of ``Limits`` fields also does). Arguments of the wrong kind raise
    ``HostInputError`` naming the argument (a host bug, not a program error).

    A run that awaits an unfinished async operation returns a ``PendingStep`` (``.status ==
    "pending"``) instead of a ``Result``. ``host`` is for ``ptclisp.start``/``resume`` (a
    prepared ``ToolHost`` carrying a journal). ``parallel_map(fn, items, max_concurrency) -> list``
    runs ``pmap``/``pcalls`` concurrently (e.g. ``runtime.parallel_map``); without it they run
    one call at a time, with the same results. ``start``/``resume`` always run them in order:
    a replay must meet the tool calls in the order of the first run. ``cancel``: a
    ``CancelToken``; cancelling it (from any thread) ends the run at its next meter check with
    ``LimitExceeded`` code ``cancelled``.
    """
    from ._host_input import check_data, check_limits, check_tools

    started = time.perf_counter()
    tools, data = check_tools(tools), check_data(data)
    limits = check_limits(limits) or _DEFAULT_LIMITS
    if host is None:
        from ._tools.host import ToolHost

        host = ToolHost(tools)
    meter = Meter(limits, cancel=cancel)
    output: list[str] = []
    status: str = "error"
    value: Any = None
    returned = False
    error: PtclispError | None = None
    try:
        program = load(source, meter=meter)
        completion = execute(program, host=host, data=_convert_data(data), meter=meter,
                             output=output, parallel_map=parallel_map)
        status, value, returned = completion.status, completion.value, completion.returned
    except PtclispError as exc:
        error = exc
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        from ._tools.host import Suspend

        if isinstance(exc, Suspend):
            from ._async.resume import pending_step  # lead's decision: run() may return a step

            return pending_step(source, data=data, limits=limits, host=host,
                                steps=meter.steps, output="".join(output))
        else:
            error = _unexpected(exc)
    return Result(
        status=status,  # type: ignore[arg-type]
        value=value,
        returned=returned,
        output="".join(output),
        tool_calls=list(host.calls),
        steps=meter.steps,
        memory=meter.memory,
        duration_s=time.perf_counter() - started,
        error=error,
    )


def _convert_data(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not data:
        return {}
    converted = {}
    for name, value in data.items():
        try:
            converted[str(name)] = from_python(value)
        except (TypeError, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                exc = TypeError("nested too deeply or refers to itself")
            raise EvalError(f"data/{name}: {exc}", code="invalid_args",
                            hint="host data must be JSON-like: dict, list, str, numbers, bool, None"
                            ) from None
    return converted


def _unexpected(exc: BaseException) -> PtclispError:
    if isinstance(exc, RecursionError):
        return LimitExceeded("recursion too deep", code="depth_limit",
                             hint="recursion is too deep: use loop/recur or reduce instead")
    if isinstance(exc, MemoryError):
        return LimitExceeded("out of memory", code="memory_limit",
                             hint="build smaller values: aggregate instead of materialising")
    return InternalError(f"{type(exc).__name__}: {exc}",
                         hint="this is a ptclisp bug; try another way to compute the value")
