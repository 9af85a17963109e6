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
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._analyzer.ast import Program
from ._compiler.context import FailSignal, Namespace, ParallelMap, ReturnSignal, sequential_map
from ._errors import EvalError, InternalError, LimitExceeded, PtclispError, ReadError
from ._limits import CancelToken, Limits, Meter, use_meter
from ._limits import _local as _thread_meter
from ._result import Result
from ._values.types import (
    Char,
    Keyword,
    LazySeq,
    List,
    Map,
    Set,
    Vector,
    charge_value,
    from_python,
)

if TYPE_CHECKING:
    from ._async.pending import PendingStep
    from ._tools.host import ToolHost
    from ._tools.registry import Tool

_ATOMS = frozenset({int, float, str, bool, type(None), Keyword, Char})
_VALUES = frozenset({Map, Vector, List, Set})

__all__ = ["Completion", "Reusable", "execute", "load", "realize", "run", "run_loaded"]

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
_NO_GLOBALS: frozenset[str] = frozenset()


def load(source: str, known_globals: Collection[str] = (), meter: Meter | None = None) -> Program:
    """Read and analyze ``source`` (cached by its ``reading_key``: texts that differ only in
    comments, blanks ending a line and newlines ending the text share one analysis — their
    forms are the same, at the same lines and columns).

    ``known_globals`` are names already defined in the namespace the program will run in. With
    a ``meter`` the text is charged to it first (``SOURCE_BYTES_PER_CHAR`` a character, so a
    program text too large for the memory budget is refused before it is read) and the clock is
    checked as the forms are analyzed.
    """
    if not isinstance(source, str):  # before hashing it: a list would be an internal error
        raise ReadError(f"source must be text, not {type(source).__name__}",
                        hint="pass the program as one string of ptclisp source")
    if meter is not None:
        charge_source(meter, source)
    key = (source, frozenset(known_globals) if known_globals else _NO_GLOBALS)
    program = _cache.get(key)  # OrderedDict's C methods are atomic: no lock to read
    if program is None:
        normal = _keys.get(source)
        if normal is None:
            normal = (_front or _load_front())[2](source)  # reading_key: without comments...
            if normal is source:
                return _analyzed(source, key, meter)
            if len(source) <= _KEY_MAX_CHARS:  # a re-run of this text skips making its key
                if len(_keys) >= _KEYS:
                    _keys.clear()
                _keys[source] = normal
        key = (normal, key[1])
        program = _cache.get(key)
        if program is None:
            return _analyzed(source, key, meter)
    try:
        _cache.move_to_end(key)
    except KeyError:  # evicted meanwhile by another thread: still the analysis
        return program
    return program


_KEYS = 256
_KEY_MAX_CHARS = 4_096  # the texts kept here: ~1 M characters at most
_keys: dict[str, str] = {}
"""Text → its reading key, for the texts that differ from theirs (a text with a comment)."""


def _analyzed(source: str, key: tuple[str, frozenset[str]], meter: Meter | None) -> Program:
    """Read and analyze ``source``, and cache its analysis under ``key`` (its reading key)."""
    read_forms, analyze_program, _ = _front or _load_front()
    forms = read_forms(source)
    if meter is not None:
        meter.check_clock()
        program = analyze_program(forms, known_globals=key[1], source=source,
                                  clock=meter.check_clock)
    else:
        program = analyze_program(forms, known_globals=key[1], source=source)
    if len(key[0]) <= _CACHE_MAX_ENTRY:
        _remember(key, program)
    return program


_Front = tuple[Callable[..., Any], Callable[..., Any], Callable[[str], str]]
_front: _Front | tuple[()] = ()


def _load_front() -> _Front:
    """The reader, the analyzer and the reading key, imported once (a function-level import
    costs ~1 us)."""
    global _front
    from ._analyzer import analyze_program
    from ._reader.reader import read_forms, reading_key

    _front = (read_forms, analyze_program, reading_key)
    return _front


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
    code: Callable[[], Any] | None = None,
) -> Completion:
    """Evaluate an analyzed ``program``.

    - ``host``: the ``ToolHost`` answering ``(tool/...)`` and ``await``.
    - ``data``: ``data/name`` inputs, already ptclisp values.
    - ``meter``: the run's budgets; installed as the thread's current meter while running.
    - ``namespace``: the session's globals (``def``s persist into it); a fresh one when None.
      Its ``history`` gets the value appended (for ``*1 *2 *3`` of later runs).
    - ``output``: printed text is appended here as it happens (so it survives an error).
    - ``parallel_map(fn, items, max_concurrency) -> list`` runs ``pmap``/``pcalls``.

    - ``code``: ``program`` already compiled against ``namespace`` (``compile_program``), for
      re-running it in that namespace (``CompiledProgram`` does, with a cleared namespace).

    A run whose host has tools (and one allowed deeper than ``_IN_THREAD_DEPTH``) executes on
    a worker thread, its tools called inline there, and this thread waits for it at most until
    the deadline: a tool still running then ends the run with ``timeout`` on time, the worker is
    abandoned and its meter halted (``_tools.threads``). Other runs stay on this thread.

    Raises ``PtclispError`` for program errors and limit breaches, and lets ``Suspend`` (and any
    other ``BaseException``) through untouched.
    """
    return _dispatch(program, host, data, meter, namespace, output, parallel_map, code)


def _dispatch(
    program: Program,
    host: Any,
    data: Mapping[str, Any],
    meter: Meter,
    namespace: Namespace | None,
    output: list[str] | None,
    parallel_map: ParallelMap | None,
    code: Callable[[], Any] | None,
) -> Completion:
    """``execute``, its arguments positional (``run`` calls it so: keywords cost per run)."""
    depth = meter.limits.max_depth
    if depth <= _IN_THREAD_DEPTH and not _bounded_tools(host):
        if sys.getrecursionlimit() < _SAFE_FRAMES:
            sys.setrecursionlimit(_SAFE_FRAMES)
        return _execute(program, host, data, meter, namespace, output, parallel_map, code)
    args = (program, host, data, meter, namespace, output, parallel_map, code)
    return _on_worker(lambda: _execute(*args), depth, meter)


def _execute(
    program: Program,
    host: Any,
    data: Mapping[str, Any],
    meter: Meter,
    namespace: Namespace | None,
    output: list[str] | None,
    parallel_map: ParallelMap | None,
    code: Callable[[], Any] | None = None,
) -> Completion:
    ns = namespace if namespace is not None else Namespace()
    ctx = ns.context
    ctx.meter, ctx.host, ctx.data = meter, host, data
    ctx.output = output if output is not None else []
    ctx.parallel_map = parallel_map or sequential_map
    ctx.form_hook = getattr(host, "form_hook", None)  # a ToolHost marks forms for checkpoints
    ctx.first_form = getattr(host, "first_form", 0)
    if code is None:
        from ._compiler.compiler import compile_program

        code = compile_program(program, ns)
    # Without lazy seqs made in this run, or inherited through a namespace, the value is final.
    lazy_before = LazySeq.created
    previous = getattr(_thread_meter, "meter", None)  # use_meter(meter), inline: ~0.3 us a run
    _thread_meter.meter = meter
    try:
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
    finally:
        _thread_meter.meter = previous
    if status == "ok":
        ns.history.append(value)
        del ns.history[:-3]
    return Completion(status, value, ns, returned)


def realize(value: Any) -> Any:
    """Realize every lazy sequence inside ``value`` (under the run's meter) into a list.

    Returns ``value`` itself when nothing inside is lazy; the atom checks run in C
    (``issuperset`` over the element types), since results are often 10k-record tables. A
    collection met again is realized once (memo by identity): shared structure stays shared and
    a value with 2**40 leaves by sharing takes 40 steps, not 2**40.
    """
    t = type(value)
    if t in _ATOMS:
        return value
    return _realize(value, {})


def _realize(value: Any, memo: dict[int, Any]) -> Any:
    t = type(value)
    if t in _ATOMS:
        return value
    if t is Vector or t is List:
        if _ATOMS.issuperset(map(type, value)):
            return value
    elif t is Map:
        if _ATOMS.issuperset(map(type, value.values())):
            return value
    elif t is not LazySeq:
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    out: Any
    if t is LazySeq:
        out = List([_realize(x, memo) for x in value.realized()])
    elif t is Map:
        values = [_realize(v, memo) for v in value.values()]
        out = value if all(map(operator.is_, values, value.values())) else \
            Map(zip(value.keys(), values))
    else:
        items = [_realize(x, memo) for x in value]
        out = value if all(map(operator.is_, items, value)) else t(items)
    memo[id(value)] = out
    return out


def _ensure_recursion_limit(wanted: int) -> None:
    if sys.getrecursionlimit() < wanted:
        sys.setrecursionlimit(wanted)


def _bounded_tools(host: Any) -> bool:
    """Whether the run's tools must be bounded by its clock: a ``ToolHost`` with tools (and
    ``tool_threads``) — the run then executes on a worker thread its caller waits for."""
    return bool(getattr(host, "tool_threads", False) and getattr(host, "tools", None))


def _on_worker(fn: Callable[[], Completion], depth: int, meter: Meter) -> Completion:
    """Run ``fn`` on a worker thread (``_tools.threads.run_on_worker``) whose C stack fits
    ``depth`` call levels, waited for until the run's deadline; re-raise what it raises."""
    from ._tools.threads import RUN_STACK, run_on_worker

    if depth <= _IN_THREAD_DEPTH:
        return run_on_worker(fn, meter, RUN_STACK, fallback=fn)
    stack = min(64 * 2**20 + depth * _C_BYTES_PER_LEVEL, _MAX_STACK)
    frames = min(depth * _FRAMES_PER_LEVEL + 2_000, stack // _C_BYTES_PER_FRAME)

    def deep() -> Completion:
        _deep_enter(frames)
        try:
            return fn()
        finally:
            _deep_leave()

    def in_place() -> Completion:  # no sized thread here (e.g. in wasm): the in-thread
        _ensure_recursion_limit(_SAFE_FRAMES)  # limit holds; max_depth may end as Python's
        return fn()

    return run_on_worker(deep, meter, stack, fallback=in_place)


def _deep_enter(frames: int) -> None:
    """A run allowed ``frames`` Python frames starts (on its sized stack): raise the limit."""
    global _deep_runs
    with _deep_lock:
        _deep_runs += 1
        if sys.getrecursionlimit() < frames:
            sys.setrecursionlimit(frames)


def _deep_leave() -> None:
    """The raised limit is put back when the last deep run ends."""
    global _deep_runs
    with _deep_lock:
        _deep_runs -= 1
        if _deep_runs == 0:
            sys.setrecursionlimit(max(_SAFE_FRAMES, 1_000))


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
    one call at a time, with the same results. The journal records each call at its position
    in the program (``pmap`` item paths), so a resumed run replays the same results whatever
    order concurrent calls completed in. ``cancel``: a ``CancelToken``; cancelling it (from
    any thread) ends the run at its next meter check with ``LimitExceeded`` code ``cancelled``.
    """
    return run_loaded(source, None, tools=tools, data=data, limits=limits, host=host,
                      parallel_map=parallel_map, cancel=cancel)


_compiler: Any = None


def _load_compiler() -> Any:
    """The compiler module, imported once; its ``compile_program`` is looked up per use (tests
    patch it to compare compile modes)."""
    global _compiler
    from ._compiler import compiler

    _compiler = compiler
    return _compiler


class Reusable:
    """Where a ``CompiledProgram`` keeps compiled code between runs: ``take`` a namespace and
    the program compiled against it (compiling when none is free), ``give`` it back cleared."""

    def __init__(self, program: Program, *, keep_first: bool = True) -> None:
        self.program = program
        self._free: list[tuple[Namespace, Callable[[], Any]]] = []
        self._keep = keep_first
        """Keep the code of the next run given back. ``run`` keeps none of a text's first
        run: most texts an agent sends run once, and holding their code costs more (memory,
        garbage-collector work) than compiling the few that run again."""

    def take(self) -> tuple[Namespace, Callable[[], Any]]:
        free = self._free
        if free:  # (a raised IndexError costs more than the check, on every new program)
            try:
                return free.pop()  # atomic: concurrent runs never share a namespace
            except IndexError:
                pass
        ns = Namespace()
        return ns, (_compiler or _load_compiler()).compile_program(self.program, ns)

    def give(self, ns: Namespace, code: Callable[[], Any]) -> None:
        """Clear ``ns`` (kept or not: a program fn in it refers back to it through its
        compiler, so an uncleared namespace is cyclic garbage that holds the run's data — a
        tool's table — until a full collection) and keep it with ``code`` for the next run."""
        ns.clear()  # nothing of one run is visible to the next
        ns.clear_lazy()
        ns.history.clear()
        ctx = ns.context
        ctx.meter, ctx.host, ctx.data, ctx.output = None, None, {}, []
        ctx.form_hook, ctx.first_form = None, 0
        if not self._keep:
            self._keep = True
            return
        if len(self._free) < 4:
            self._free.append((ns, code))


def run_loaded(
    source: str,
    program: Program | None,
    *,
    tools: Mapping[str, Callable[..., Any] | Tool] | None = None,
    data: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    host: ToolHost | None = None,
    parallel_map: ParallelMap | None = None,
    reusable: Reusable | None = None,
    checkpoint: dict[str, Any] | None = None,
    cancel: CancelToken | None = None,
) -> Result | PendingStep:
    """``run`` of ``source``, analyzed already when ``program`` is given, on code compiled by
    an earlier run of the program (``reusable``; looked up for a ``source`` it loads) in a
    cleared namespace. ``checkpoint``: the namespace, meter and output to resume from (the
    host skips the forms before it; ``_async.checkpoint``)."""
    started = time.perf_counter()
    if tools is not None or data is not None or limits is not None:
        check_data, check_limits, check_tools = _checks or _load_checks()
        tools, data = check_tools(tools), check_data(data)
        limits = check_limits(limits)
    limits = limits or _DEFAULT_LIMITS
    if host is None:
        host = _tool_host()(tools) if tools or data else _no_tools_host()
    meter = Meter(limits, cancel=cancel)
    output: list[str] = []
    status: str = "error"
    value: Any = None
    returned = False
    error: PtclispError | None = None
    reused = None
    pause_ends_here = True
    try:
        if cancel is not None:
            cancel.check()
        if program is None:
            program = load(source, meter=meter)
            reusable = _reusable_for(program)
        else:
            charge_source(meter, source)
        if reusable is not None:
            reused = reusable.take()
        if checkpoint is not None and reused is not None:
            from ._async.checkpoint import restore

            meter = restore(checkpoint, program, limits, reused[0], host.journal, cancel)
            output.append(checkpoint["output"])
        meter.gc_pause = 1  # ended below, whatever happens
        namespace, code = reused if reused is not None else (None, None)
        completion = _dispatch(program, host, _convert_data(data, meter), meter, namespace,
                               output, parallel_map, code)
        status, value, returned = completion.status, completion.value, completion.returned
        pause_ends_here = False
    except PtclispError as exc:
        error = exc
        pause_ends_here = False
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        from ._tools.host import Suspend

        if isinstance(exc, Suspend):
            from ._async.checkpoint import make_checkpoint
            from ._async.resume import pending_step  # lead's decision: run() may return a step

            marked = make_checkpoint(program, getattr(host, "mark", None), output,
                                     host.journal) if program is not None else None
            return pending_step(source, data=data, limits=limits, host=host,
                                steps=meter.steps, output="".join(output), checkpoint=marked)
        else:
            error = _unexpected(exc)
            pause_ends_here = False
    finally:  # an abandoned run may still be using its namespace: never reuse it
        if reused is not None and reusable is not None and meter.halted is None:
            reusable.give(*reused)
        if pause_ends_here:  # a step or a raise leaves here; a Result, below
            meter.end_gc_pause()
    # status, value, returned, output, tool_calls, steps, memory, duration_s, error
    # (positional: keywords cost ~0.2 us a run)
    result = Result(status, value, returned, "".join(output),  # type: ignore[arg-type]
                    list(host.calls), meter.steps, meter.memory,
                    time.perf_counter() - started, error)
    if meter.gc_pause != 2 and meter.halted is None:  # end_gc_pause's fast path, inline
        meter.gc_pause = 3
    else:
        host = None  # its journal holds the tool results: freed before the collector resumes
        meter.end_gc_pause()
    return result


def _reusable_for(program: Program) -> Reusable:
    """The compiled code kept for a loaded program (as long as the program is cached)."""
    found = _reusables.get(id(program))
    if found is not None and found.program is program:
        return found
    if len(_reusables) >= _REUSABLES:
        _reusables.clear()
    made = _reusables[id(program)] = Reusable(program, keep_first=False)
    return made


_REUSABLES = 64
_reusables: dict[int, Reusable] = {}
"""id(program) → its ``Reusable`` (which holds the program: the id is not reused meanwhile)."""


_checks: tuple[Callable[[Any], Any], ...] = ()


def _load_checks() -> tuple[Callable[[Any], Any], ...]:
    """The host-input checks, imported once (a function-level import costs ~1 us per run)."""
    global _checks
    from ._host_input import check_data, check_limits, check_tools

    _checks = (check_data, check_limits, check_tools)
    return _checks


def _tool_host() -> type[ToolHost]:
    """``ToolHost``, imported once (a function-level import costs ~1 us per run)."""
    global _TOOL_HOST
    if _TOOL_HOST is None:
        from ._tools.host import ToolHost

        _TOOL_HOST = ToolHost
    return _TOOL_HOST


_TOOL_HOST: type[ToolHost] | None = None


def _no_tools_host() -> ToolHost:
    """One host shared by the runs given neither tools nor data: no call of theirs gets past
    the unknown-tool error and nothing they hold can be an op handle, so they never record a
    call, journal or suspend — the state a host keeps per run (only the position counters of
    those failing calls move, and no one reads them)."""
    global _NO_TOOLS
    if _NO_TOOLS is None:
        _NO_TOOLS = _tool_host()(None)
    return _NO_TOOLS


_NO_TOOLS: ToolHost | None = None


def _convert_data(data: Mapping[str, Any] | None, meter: Meter | None = None
                  ) -> Mapping[str, Any]:
    """``data`` as ptclisp values, charged to ``meter`` (if given) as they are converted."""
    if not data:
        return {}
    if meter is not None:
        with use_meter(meter):  # non-string keys are charged to the active meter
            return _converted(data, meter)
    return _converted(data, None)


def _converted(data: Mapping[str, Any], meter: Meter | None) -> dict[str, Any]:
    converted = {}
    for name, value in data.items():
        try:
            if meter is not None and type(value) in _VALUES:  # already ptclisp: charged as
                charge_value(value, meter)  # the host data it stands for
            converted[str(name)] = from_python(value, meter)
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
