"""The tool host: how a run calls tools, starts async operations and awaits them.

One ``ToolHost`` per run. The evaluator calls:

- ``host.call(name, args)`` for ``(tool/name args)`` — ``args`` a ptclisp map or ``nil``;
- ``host.await_(v)``, ``host.await_all(vs)``, ``host.await_any(vs)`` for the ``await`` forms.

Every executed call goes into the ``Journal``. A host built with a journal from a ``PendingStep``
*replays*: a call already in the journal is answered from it and never executed again (that is
what makes a resume exactly-once), matched by tool name and arguments in order. When an ``await``
needs an op result nobody has delivered yet, the host raises ``Suspend``; ``_run`` turns that into
a ``PendingStep``.

``await`` on a value that is not an op handle returns the value unchanged, so a program can await
a tool's result without knowing whether the host made the tool async (``await-all`` and
``await-any`` likewise accept plain values, which count as already finished).

``await-any`` returns the value of the op whose result was *delivered* first among those given
(delivery order is journaled, so a replay picks the same one); plain values win over handles.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import difflib
import functools
import inspect
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from threading import get_ident
from typing import Any

import msgpack

from .._async.journal import Journal, PendingError, entry_value
from .._errors import EvalError, LimitExceeded, PtclispError, ToolError, error_from_dict
from .._limits import OBJECT_BYTES, SLOT_BYTES, Meter, current_meter, use_meter
from .._limits import _local as _meters
from .._result import ToolCall
from .._values.types import (
    KEYWORD_CACHE,
    Keyword,
    LazySeq,
    List,
    Map,
    OpHandle,
    Vector,
    from_python,
    to_python,
)
from .registry import Tool
from .threads import call_bounded, caller_loop, on_run_worker

__all__ = ["OpHandle", "Suspend", "ToolHost", "charge_cost", "diverged"]


class Suspend(BaseException):
    """Raised by ``await`` when a result is not known yet; unwinds the whole run.

    A ``BaseException`` so that no ``catch``/``except Exception`` in the evaluator or a builtin
    swallows it. ``op_ids`` are the ops the program is blocked on.
    """

    def __init__(self, op_ids: tuple[str, ...]) -> None:
        super().__init__(op_ids)
        self.op_ids = op_ids


class ToolHost:
    """Calls tools for one run, journals their results, replays a journal, awaits ops."""

    def __init__(
        self,
        tools: Mapping[str, Callable[..., Any] | Tool] | None,
        *,
        journal: Journal | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        step_id: str | None = None,
        host_state: dict[str, Any] | None = None,
        tool_threads: bool = True,
    ) -> None:
        self.tools: Mapping[str, Callable[..., Any] | Tool] = tools if tools is not None else {}
        self.journal = journal if journal is not None else Journal()
        self.loop = loop
        """An event loop running in another thread for ``async def`` tools (default: private)."""
        self.tool_threads = tool_threads
        """Bound synchronous tools by the run's clock: the run executes on a worker thread its
        caller waits for until the deadline (``_tools.threads``)."""
        self._calls: list[Any] = []
        """The run's calls in order: records (``ToolCall``), and journal entries (dicts or
        compact tuples) whose record is built when ``calls`` is read (from ``_built`` on)."""
        self._built = 0
        self._unrecorded = 0
        """Calls skipped by a checkpoint whose records ``calls`` has not built yet."""
        self.step_id = step_id
        """The id of the pending step this run continues (kept by its successor)."""
        self.host_state: dict[str, Any] = host_state if host_state is not None else {}
        self.awaiting: tuple[str, ...] = ()
        """The op ids of the last ``Suspend``."""
        self.damaged: PendingError | None = None
        """Set when the skipped calls' journal entries turned out damaged (``calls``)."""
        self._lock = threading.Lock()
        self._worker: int | None = None
        """The thread ``_call_here`` found to be a run worker (``on_run_worker``)."""
        self._compact = self.journal.compact_calls()
        """Where ``_call_here`` appends a successful call as a compact tuple (None: a packed
        journal, whose entries are dicts)."""
        self._replay: dict[tuple[str, bytes], collections.deque[int]] | None = None
        """Journal indexes by (tool, packed args), built at the first replayed call."""
        self._skipped = 0
        """Journal entries counted as replayed by a checkpoint (``skip_replayed``)."""
        self._at: dict[str, int] = {}
        """Journal entries by position (``_Cursor``): replay whatever order calls complete in;
        built with ``_replay``."""
        self._unreplayed_root = 0
        self._unreplayed = self.journal.ncalls()
        self._root = _Cursor("")
        """The position of the program's top level (pmap items get their own, per thread)."""
        self._local: threading.local | None = None
        """Per-thread cursors of ``pmap`` items and placed positions: made when first needed."""
        self._awaits = 0
        self._replaying = bool(self.journal.ncalls() or self.journal.awaits_done)
        self._live_since = time.monotonic()
        self.first_form = 0
        """The top-level form the run starts at (set when resuming from a checkpoint)."""
        self.mark: tuple[Any, ...] | None = None
        """The state at the start of the latest top-level form (``mark_form``)."""
        self.form_hook: Callable[[int, Any, Any], None] | None = (
            self.mark_form if self._replaying or (tools and _has_async(tools)) else None)
        """Set when the run may suspend: marks each top-level form for a checkpoint."""

    # ------------------------------------------------------------ checkpoints

    def mark_form(self, index: int, ns: dict[str, Any], ctx: Any) -> None:
        """Top-level form ``index`` starts: remember what a resume would restore to skip the
        forms before it (see ``_async.checkpoint``)."""
        meter = ctx.meter
        lazy = getattr(ns, "lazy", None)  # names restored by reference and not read yet
        self.mark = (index, dict(ns), meter.steps, meter.memory, meter.tool_calls,
                     meter.output, len(ctx.output), self.journal.ncalls() - self._unreplayed,
                     self._awaits, [self._root.calls, self._root.forks],
                     dict(lazy) if lazy else None)

    def skip_replayed(self, calls: int, awaits: int, cursor: list[int] | None = None) -> None:
        """Count the first ``calls`` journaled calls and ``awaits`` awaits as replayed (a
        resume from a checkpoint does not run the forms that made them), recording them;
        ``cursor``: the top level's ``[calls, pmaps]`` at the checkpoint (journal positions)."""
        if self._replay is not None or self._skipped or calls > self._unreplayed:
            raise diverged("the checkpoint does not match the journal")
        self._skipped = calls
        if cursor is not None:
            self._root.calls, self._root.forks = cursor
        self._unrecorded = calls  # their records are built when ``calls`` is read
        self._unreplayed -= calls
        self._awaits = awaits

    @property
    def calls(self) -> list[ToolCall]:
        """The run's tool calls in order (``Result.tool_calls``), skipped ones included."""
        calls = self._calls
        if self._unrecorded or self._built < len(calls):
            with self._lock:
                if self._unrecorded:
                    try:
                        entries = self.journal.calls[:self._unrecorded]
                    except PendingError as exc:  # a damaged packed journal: the run ends with it
                        self.damaged, entries = exc, []
                    skipped = [self._record(entry, _ReplayedCall) for entry in entries]
                    self._unrecorded = 0
                    calls[:0] = skipped
                    self._built += len(skipped)
                # the entries from _built on: their records, now (_record's, inline; a
                # compact tuple is a call that succeeded, see Journal.compact_calls)
                record, replayed = ToolCall, self._record
                calls[self._built:] = [
                    record(e[0], e[1], e[4], None, e[5], None) if type(e) is tuple else
                    record(e["tool"], e["args"], e["raw"], e["error"], e.get("duration_s", 0.0),
                           e["op_id"]) if "raw" in e else replayed(e, _ReplayedCall)
                    for e in calls[self._built:]]
                self._built = len(calls)
        return calls  # every item is a record now

    def _record(self, entry: dict[str, Any], record: type[ToolCall]) -> ToolCall:
        return record(
            name=entry["tool"], args=entry["args"],
            result=entry["raw"] if "raw" in entry else functools.partial(self._call_result, entry),
            error=entry["error"], duration_s=entry.get("duration_s", 0.0), op_id=entry["op_id"])

    # ------------------------------------------------------------ tool calls

    def call(self, name: str, args: Any) -> Any:
        """``(tool/name args)``: the tool's result as a ptclisp value, or an op handle."""
        meter = current_meter()
        meter.count_tool_call()
        host_args = _host_args(name, args, meter)
        if self._local is None and not self._unreplayed and not self._replaying:
            return self._call_here(name, host_args, meter)
        return self._call_anywhere(name, host_args, meter)

    def call_keys(self, name: str, keywords: tuple[Keyword, ...], host_args: dict[str, Any]
                  ) -> Any:
        """``(tool/name {:k v ...})`` with a literal map of keyword keys whose host keys are
        distinct: the call site built ``host_args`` (those keys → the values, in order) and
        charged the literal (``Meter.alloc_items``) instead of building the map. The same as
        ``call(name, Map(zip(keywords, host_args.values())))`` — the same charges, journal and
        result — without the map and its walk when every value is a JSON atom."""
        text = False
        for value in host_args.values():
            kind = type(value)
            if kind not in _ATOM_ARGS:
                return self.call(name, Map(zip(keywords, host_args.values())))
            if kind is str:
                text = True
        if not self._plain_call:  # a host answering calls its own way (the guest's)
            return self.call(name, Map(zip(keywords, host_args.values())))
        meter: Meter = _meters.meter  # current_meter(), inline: a run's site calls this
        if (meter.cancel is not None or meter.gc_pause == 2
                or meter.tool_calls >= meter.limits.max_tool_calls):
            meter.count_tool_call()  # (raises when it must; lets the collector run)
        else:
            meter.tool_calls += 1  # count_tool_call, inline
        meter.fuel -= len(host_args)  # then _host_args's charges of a flat map, inline
        if meter.fuel < 0:
            meter.refuel()
        meter.alloc(_ARGS_BYTES + SLOT_BYTES * len(host_args))
        if text:
            for value in host_args.values():
                if type(value) is str and len(value) > 64:
                    meter.alloc(len(value))
        if self._local is None and not self._unreplayed and not self._replaying:
            return self._call_here(name, host_args, meter)
        return self._call_anywhere(name, host_args, meter)

    _plain_call = True
    """``call`` is ``ToolHost.call`` (``call_keys`` may take its common case itself)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_call = cls.call is ToolHost.call

    def _call_here(self, name: str, host_args: dict[str, Any], meter: Meter) -> Any:
        """``call``'s common case: a first run's top level — no pmap item has run (one
        thread), nothing to replay; the same steps as ``_call_anywhere`` without the lock and
        the lookups. A plain callable, or a typed ``Tool`` whose arguments pass as they are
        (``Tool._plain_args``), on the run's own thread, runs here with ``_execute``'s steps
        inline — the same clock checks, charges, entry and record; a small flat dict result
        (``_small_map``) in one pass."""
        root = self._root
        n = root.calls
        root.calls = n + 1
        try:
            pos = _POSITIONS[n]  # str(n)
        except IndexError:
            pos = _position(n)
        tool = self.tools.get(name)
        call_args: dict[str, Any] | None = host_args
        typed = isinstance(tool, Tool)
        if typed:  # (a subclass may invoke its own way: the general steps)
            call_args = tool._plain_args(host_args) if type(tool) is Tool else None
        if call_args is None or tool is None or (
                self.tool_threads and self._worker != get_ident() and not self._on_worker()):
            general = self._execute(name, host_args, meter)  # the general steps
            general["pos"] = pos
            return self._journaled(general)
        started = _now()
        if meter.halted is not None or meter.cancel is not None or started > meter.deadline:
            meter.check_clock()  # raises (as _execute's check, whose handler raises it again)
        entry: dict[str, Any] | None = None
        try:
            if typed:
                raw = tool.fn(**call_args)  # type: ignore[union-attr]  # Tool.invoke's call
            else:
                raw = tool(call_args)  # type: ignore[operator]
            after = _now()  # also the end of the call's duration when converted in one pass
            if meter.halted is not None or meter.cancel is not None or after > meter.deadline:
                meter.check_clock()
            if type(raw) is dict and len(raw) <= _SMALL_RESULT and (
                    not typed or tool._dict_passes):  # type: ignore[union-attr]
                memory = meter.memory
                value = _small_map(raw, meter)
                if value is not None:
                    # journaled as _execute's entry would be: a compact tuple (the journal
                    # expands it when read; records are built from it), or that entry
                    spent = meter.memory - memory
                    cost = _SLOTS_COSTS[len(raw)] if spent == _SLOTS_BYTES[len(raw)] else (
                        1, spent)  # (a shared tuple unless strings were charged too)
                    compact = self._compact
                    if compact is not None:
                        call: tuple[Any, ...] = (name, host_args, value, cost, raw,
                                                 after - started, pos)
                        compact.append(call)
                        self._calls.append(call)
                        return value
                    entry = {"tool": name, "args": host_args, "value": value, "error": None,
                             "op_id": None, "cost": cost, "raw": raw,
                             "duration_s": after - started, "pos": pos}
            elif type(raw) in _ATOM_RESULTS and self._compact is not None and (
                    not typed or tool._output_passes(raw)):  # type: ignore[union-attr]
                # an atom is its own value, converted free (no "cost" in its entry)
                call = (name, host_args, raw, None, raw, after - started, pos)
                self._compact.append(call)
                self._calls.append(call)
                return raw
            if entry is None:
                entry = {"tool": name, "args": host_args, "value": None, "error": None,
                         "op_id": None}
                if type(raw) not in _PLAIN_RESULTS and inspect.isawaitable(raw):
                    raw = self._completed(tool, raw)
                self._finish(entry, name, tool, raw, typed, meter)
        except (Exception, SystemExit, Suspend) as exc:
            if entry is None:
                entry = {"tool": name, "args": host_args, "value": None, "error": None,
                         "op_id": None}
            entry["error"] = _failure(name, exc, meter)
        if "pos" not in entry:
            entry["duration_s"] = _now() - started
            entry["pos"] = pos
        return self._journaled(entry)

    def _on_worker(self) -> bool:
        """``on_run_worker()``, remembered for this thread (``_worker``) when true."""
        if on_run_worker():
            self._worker = get_ident()
            return True
        return False

    def _journaled(self, entry: dict[str, Any]) -> Any:
        """``_call_here``'s end: journal the entry (its record is built when ``calls`` is
        read), then its value or error."""
        self.journal.append_call(entry)
        self._calls.append(entry)
        if entry["error"] is not None:
            raise error_from_dict(entry["error"])
        if entry["op_id"] is not None:
            return OpHandle(entry["op_id"], entry["tool"])
        return entry["value"]

    def _call_anywhere(self, name: str, host_args: dict[str, Any], meter: Meter) -> Any:
        """``call`` in a ``pmap`` item, or replaying: positions per thread, the journal."""
        cursor = self._cursor()
        pos = cursor.next_call()
        if self._unreplayed:  # a resumed run: answer from the journal if it is there
            index = self._replayed(pos, name, host_args)
            if index is not None:
                entry = self.journal.call(index)
                charge_cost(entry.get("cost"))  # what converting its result cost the first run
                return self._answer(entry)
        if self._replaying and not cursor.forked:
            raise diverged(f"the replay called tool/{name} with arguments the first run did not")
        entry = self._execute(name, host_args, meter)
        entry["pos"] = pos
        with self._lock:
            self.journal.append_call(entry)
        return self._answer(entry)

    def _replayed(self, pos: str, name: str, host_args: dict[str, Any]) -> int | None:
        """The journal entry answering the call at ``pos`` (checked to be the same call)."""
        key = _key(name, host_args)
        with self._lock:
            replay = self._replay_index()
            index = self._at.pop(pos, None)
            if index is None:
                queue = replay.get(key)
                index = queue.popleft() if queue else None
            if index is None:
                return None
            self._unreplayed -= 1
            self._unreplayed_root -= "/" not in pos
        entry = self.journal.call(index)
        if entry.get("pos") is not None and _key(entry["tool"], entry["args"]) != key:
            raise diverged(f"the replay called tool/{name} where the first run called "
                           f"tool/{entry['tool']} (or with other arguments)")
        return index

    def _replay_index(self) -> dict[tuple[str, bytes], collections.deque[int]]:
        """Journal indexes of the calls still to replay: by position (``_at``), and by (tool,
        packed arguments) for entries written before positions existed. Built once."""
        if self._replay is not None:
            return self._replay
        index: dict[tuple[str, bytes], collections.deque[int]] = collections.defaultdict(
            collections.deque)
        for i in range(self._skipped, self.journal.ncalls()):
            entry = self.journal.call(i)
            pos = entry.get("pos")
            if pos is None:
                index[_key(entry["tool"], entry["args"])].append(i)
            else:
                self._at[pos] = i
            self._unreplayed_root += pos is None or "/" not in pos
        self._replay = index
        return index

    # ------------------------------------------------------------ positions (pmap, pcalls)

    def _cursor(self) -> _Cursor:
        local = self._local
        if local is None:
            return self._root
        cursor: _Cursor | None = getattr(local, "cursor", None)
        return cursor if cursor is not None else self._root

    def _thread_local(self) -> threading.local:
        local = self._local
        if local is None:
            with self._lock:
                if self._local is None:
                    self._local = threading.local()
                local = self._local
        return local

    def position(self) -> str:
        """Where this thread's next tool call will be (for a guest that runs the program while
        this host keeps the journal: it sends its positions, the host ``place``s them)."""
        cursor = self._cursor()
        return f"{cursor.path}:{cursor.calls}" if cursor.path else str(cursor.calls)

    def place(self, position: str) -> None:
        """Make this thread's next call (or await) happen at ``position`` (``position()`` of a
        remote run). Raises ``ValueError`` for a malformed position."""
        path, _, count = position.rpartition(":")
        if not count.isdigit() or len(position) > 4096:
            raise ValueError(f"malformed journal position {position[:80]!r}")
        if path:
            cursor = _Cursor(path, forked="/" in path)
            cursor.calls = int(count)
            self._thread_local().cursor = cursor
        else:
            self._thread_local().cursor = None
            self._root.calls = int(count)

    def forked(self, fn: Callable[[Any], Any]) -> Callable[[tuple[int, Any]], Any]:
        """``fn`` for the items of one ``pmap``/``pcalls``, called with ``(index, item)``: each
        item's calls get positions under the item's own path, so a replay answers every call
        from its own journal entry whatever order concurrent calls completed in."""
        base = self._cursor().next_fork()
        local = self._thread_local()

        def task(pair: tuple[int, Any]) -> Any:
            index, item = pair
            previous = getattr(local, "cursor", None)
            local.cursor = _Cursor(f"{base}/{index}", forked=True)
            try:
                return fn(item)
            finally:
                local.cursor = previous

        return task

    def _execute(self, name: str, host_args: dict[str, Any],
                 meter: Meter | None = None) -> dict[str, Any]:
        """Run a tool for real (once per journal): returns the journal entry. ``meter``: the
        current one (looked up when not given)."""
        if meter is None:
            meter = current_meter()
        tool = self.tools.get(name)
        if tool is None:
            tool = self._lookup(name)  # raises: unknown tool
        typed = isinstance(tool, Tool)
        call_args = _validated(tool, host_args) if typed else host_args  # type: ignore[arg-type]
        # the journal keeps the arguments as the program passed them: replay matches on those
        entry: dict[str, Any] = {"tool": name, "args": host_args, "value": None, "error": None,
                                 "op_id": None}
        started = _now()
        try:
            if self.tool_threads and not on_run_worker():
                raw, is_async = self._invoke(tool, call_args, meter)
            else:  # inline (on the run's own worker, or unbounded): _invoke's steps, inline
                if meter.halted is not None or meter.cancel is not None or (
                        started > meter.deadline):
                    meter.check_clock()  # raises
                if typed:
                    raw, is_async = tool.invoke(call_args), tool.is_async  # type: ignore[union-attr]
                else:
                    raw, is_async = tool(call_args), False  # type: ignore[operator]
                if meter.halted is not None or meter.cancel is not None or (
                        _now() > meter.deadline):
                    meter.check_clock()
            if is_async:
                if type(raw) not in _PLAIN_RESULTS and inspect.isawaitable(raw):
                    raw = self._completed(tool, raw)
                entry["op_id"] = _op_id(name, raw, self.journal)
            else:
                self._finish(entry, name, tool, raw, typed, meter)
        except (Exception, SystemExit, Suspend) as exc:
            entry["error"] = _failure(name, exc, meter)
        entry["duration_s"] = _now() - started
        return entry

    def _finish(self, entry: dict[str, Any], name: str, tool: Callable[..., Any] | Tool,
                raw: Any, typed: bool, meter: Meter) -> None:
        """A sync tool's result ``raw`` into ``entry``: awaited if a coroutine's, converted
        (charged: what it cost goes into the entry), checked against a typed tool's output
        type. Raises what ``_failure`` turns into the entry's error."""
        if type(raw) not in _PLAIN_RESULTS and inspect.isawaitable(raw):
            raw = self._completed(tool, raw)
        value = None
        if type(raw) is dict and len(raw) <= _SMALL_RESULT:  # _to_value's first case
            memory = meter.memory
            value = _small_map(raw, meter)
            if value is not None:
                entry["cost"] = (1, meter.memory - memory)
        if value is None:
            value = _to_value(name, raw, entry, meter)  # first: charged, so checking is bounded
        entry["value"] = value
        if typed:
            tool.check_output(raw)  # type: ignore[union-attr]
        entry["raw"] = raw

    def charge_arguments(self, args: Any) -> None:
        """Charge a program's argument map as the host will see it, as ``call`` does (for hosts
        that send the arguments elsewhere instead)."""
        if isinstance(args, dict):
            try:
                data = to_python(args)
            except TypeError:
                return
            _charge_expanded(data)

    def _lookup(self, name: str) -> Callable[..., Any] | Tool:
        tool = self.tools.get(name)
        if tool is not None:
            return tool
        names = sorted(self.tools)
        close = difflib.get_close_matches(name, names, n=1)
        shown = ", ".join(f"tool/{n}" for n in names[:30]) or "none"
        guess = f"did you mean tool/{close[0]}? " if close else ""
        raise ToolError(
            f"unknown tool tool/{name}",
            code="tool_not_found",
            hint=f"{guess}available tools: {shown}",
        )

    def _invoke(
        self, tool: Callable[..., Any] | Tool, host_args: dict[str, Any], meter: Meter
    ) -> tuple[Any, bool]:
        """``(result, is_async)``. No call starts after the deadline (or once the run is
        halted), and a result arriving after it is dropped. On the run's own worker thread the
        call is inline (its caller keeps the deadline); elsewhere (a ``pmap`` item's thread)
        it runs on a worker thread, waited for until the deadline (``_tools.threads``).
        ``_execute`` has the inline case's steps inline (the common case)."""
        meter.check_clock()
        if not self.tool_threads or on_run_worker():  # the run's meter is current here
            result, is_async = _call_tool(tool, host_args)
        else:
            def call() -> tuple[Any, bool]:
                with use_meter(meter):  # tool code sees the run's meter, in any thread
                    return _call_tool(tool, host_args)

            result, is_async = call_bounded(call, meter.deadline)
        meter.check_clock()
        if type(result) not in _PLAIN_RESULTS and inspect.isawaitable(result):
            result = self._completed(tool, result)
        return result, is_async

    def _completed(self, tool: Callable[..., Any] | Tool, awaitable: Any) -> Any:
        """An ``async def`` tool's result: run on its loop (or the host's, or a private one)."""
        loop = tool.loop if isinstance(tool, Tool) and tool.loop is not None else self.loop
        return self._run_awaitable(awaitable, loop or _private_loop())

    def _run_awaitable(self, awaitable: Any, loop: asyncio.AbstractEventLoop) -> Any:
        """Run an ``async def`` tool to completion on ``loop`` (never this thread's loop)."""
        if loop is _running_loop() or loop is caller_loop():
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise ToolError(
                "an async tool cannot run on the event loop that is running this program",
                hint="run ptclisp in a worker thread (asyncio.to_thread) or pass another loop",
            )
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), loop)
        remaining = current_meter().deadline - time.monotonic()
        try:
            return future.result(timeout=max(remaining, 0.0))
        except concurrent.futures.TimeoutError:
            future.cancel()
            current_meter().check_clock()
            raise

    def _answer(self, entry: dict[str, Any]) -> Any:
        """A journal entry → what the program sees (recorded in ``calls`` as it goes)."""
        # the record is built when ``calls`` is read (a replayed call's result when read then)
        self._calls.append(entry)  # list.append is atomic: safe for parallel pmap calls
        if entry["error"] is not None:
            raise error_from_dict(entry["error"])
        if entry["op_id"] is not None:
            return OpHandle(entry["op_id"], entry["tool"])
        return entry_value(entry)

    def _call_result(self, entry: dict[str, Any]) -> Any:
        if "raw" in entry:
            return entry["raw"]
        op_id = entry["op_id"]
        outcome = self.journal.result(op_id) if op_id is not None else None
        try:
            value = entry_value(outcome) if outcome else entry_value(entry)
            return to_python(value)
        except (TypeError, PendingError):
            return None

    # ------------------------------------------------------------ await

    def await_(self, value: Any) -> Any:
        """``(await h)``: the op's result; a non-handle is returned unchanged."""
        if type(value) is not OpHandle:
            return value
        self._begin_await()
        outcome = self.journal.result(value.op_id)
        if outcome is None:
            raise self._suspend((value.op_id,))
        self._awaited((value.op_id,))
        return _outcome_value(outcome)

    def await_all(self, values: Any) -> Vector:
        """``(await-all [h ...])``: a vector of every result, in order."""
        items = _sequence("await-all", values)
        handles = [v for v in items if type(v) is OpHandle]
        if not handles:
            return Vector(items)
        self._begin_await()
        unknown = tuple(h.op_id for h in handles if not self.journal.has_result(h.op_id))
        if unknown:
            raise self._suspend(tuple(dict.fromkeys(unknown)))
        self._awaited(tuple(h.op_id for h in handles))
        return Vector(
            _outcome_value(self.journal.result(v.op_id)) if type(v) is OpHandle else v
            for v in items
        )

    def await_any(self, values: Any) -> Any:
        """``(await-any [h ...])``: the result of the op delivered first (a plain value wins)."""
        items = _sequence("await-any", values)
        if not items:
            raise EvalError(
                "await-any needs at least one handle",
                code="invalid_args",
                hint="pass a non-empty vector of op handles",
            )
        for v in items:
            if type(v) is not OpHandle:
                return v
        self._begin_await()
        wanted = {h.op_id for h in items}
        for op_id, outcome in self.journal.op_results.items():  # delivery order
            if op_id in wanted:
                self._awaited((op_id,))
                return _outcome_value(outcome)
        raise self._suspend(tuple(dict.fromkeys(h.op_id for h in items)))

    def _begin_await(self) -> None:
        """The await the run last suspended at marks the end of the replay: start the clock.

        Awaits inside ``pmap`` items run concurrently, so they are not counted: the replay of
        a run that suspended there ends when an item's await gets the newest delivered result
        (``_awaited``)."""
        if self._cursor().forked:
            return
        if self._replaying and self._awaits >= self.journal.awaits_done:
            with self._lock:
                self._replay_index()
            if self._unreplayed_root:
                skipped = self._unreplayed_root
                raise diverged(f"the replay skipped {skipped} tool call(s) of the first run")
            self._go_live()

    def _awaited(self, op_ids: tuple[str, ...]) -> None:
        if not self._cursor().forked:
            self._awaits += 1
        elif self._replaying:
            newest = self.journal.newest_result()
            if newest is not None and newest in op_ids:
                with self._lock:
                    if self._replaying:
                        self._go_live()

    def _go_live(self) -> None:
        self._replaying = False
        self._live_since = time.monotonic()
        meter = current_meter()
        remaining = meter.limits.timeout_s - self.journal.time_spent_s
        meter.deadline = self._live_since + remaining
        meter.check_clock()

    def _suspend(self, op_ids: tuple[str, ...]) -> Suspend:
        self.journal.time_spent_s = self.time_spent_s()
        self.journal.awaits_done = self._awaits
        self.awaiting = op_ids
        return Suspend(op_ids)

    def time_spent_s(self) -> float:
        """Wall time the run has used so far, replays excluded."""
        if self._replaying:
            return self.journal.time_spent_s
        return self.journal.time_spent_s + (time.monotonic() - self._live_since)

    @property
    def replaying(self) -> bool:
        """Still re-executing what an earlier run already did (a resumed run only)."""
        return self._replaying

    def pending_ops(self) -> dict[str, dict[str, Any]]:
        """``{op_id: {"tool", "args"}}`` of started ops without a delivered result."""
        return self.journal.pending_ops()


class _ReplayedCall(ToolCall):
    """The record of a call answered from the journal: its ``result`` (host data converted
    back from the journaled value — 10,000 records take milliseconds) is converted when first
    read, not on every resume; constructed with ``result`` = the converting function."""

    @property
    def result(self) -> Any:
        convert = self.__dict__.get("_convert")
        if convert is not None:
            self.__dict__["_result"] = convert()
            del self.__dict__["_convert"]
        return self.__dict__.get("_result")

    @result.setter
    def result(self, value: Any) -> None:
        if isinstance(value, functools.partial):  # from _answer: convert on demand
            self.__dict__["_convert"] = value
        else:
            self.__dict__.pop("_convert", None)
            self.__dict__["_result"] = value

    def plain(self) -> ToolCall:
        return ToolCall(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ToolCall) and self.plain() == (
            other.plain() if isinstance(other, _ReplayedCall) else other)

    __hash__ = None  # type: ignore[assignment]  # as the dataclass's

    def __reduce__(self) -> Any:  # crosses processes as a plain record
        return self.plain().__reduce__()


def _call_tool(tool: Callable[..., Any] | Tool, host_args: dict[str, Any]) -> tuple[Any, bool]:
    """``(result, is_async)`` of one call (both read on the tool's thread)."""
    if isinstance(tool, Tool):
        return tool.invoke(host_args), tool.is_async
    return tool(host_args), False


def _has_async(tools: Mapping[str, Any]) -> bool:
    return any(isinstance(t, Tool) and t.is_async for t in tools.values())


class _Cursor:
    """Where a thread is in the program, for journal positions: ``"3"`` is the root's 4th call,
    ``"1/2:0"`` the first call of item 2 of the root's 2nd ``pmap``. Deterministic: a position
    depends only on the program and the tool results, never on timing."""

    __slots__ = ("calls", "forked", "forks", "path")

    def __init__(self, path: str, forked: bool = False) -> None:
        self.path = path
        self.forked = forked
        self.calls = 0
        self.forks = 0

    def next_call(self) -> str:
        self.calls += 1
        return f"{self.path}:{self.calls - 1}" if self.path else str(self.calls - 1)

    def next_fork(self) -> str:
        self.forks += 1
        return f"{self.path}>{self.forks - 1}" if self.path else f">{self.forks - 1}"


def diverged(message: str) -> PendingError:
    """A resumed run did not retrace its first run: stop rather than risk a wrong result."""
    return PendingError(
        message,
        code="pending_diverged",
        hint="the program behaved differently when replayed; it may depend on the iteration "
        "order of a set, which differs between processes: sort it first",
    )


# ---------------------------------------------------------------- helpers

_PLAIN_RESULTS = frozenset({dict, list, str, int, float, bool, type(None), tuple})
_ATOM_RESULTS = frozenset({int, float, bool, type(None)})  # a string result is charged


def _host_args(name: str, args: Any, meter: Any = None) -> dict[str, Any]:
    """A program's argument map → host data (string keys)."""
    if args is None:
        return {}
    if type(args) is Map:
        # the common map — keyword keys, JSON atoms as values — without the general walk
        flat: dict[str, Any] = {}  # (inline: this is on every call)
        for key, value in args.items():
            if type(key) is not Keyword or type(value) not in _ATOM_ARGS:
                break
            flat[key.qualified if key.ns else key.name] = value
        else:  # charged as _charge_expanded charges a flat dict
            meter = meter if meter is not None else current_meter()
            meter.fuel -= len(flat)  # meter.tick(len(flat)), inline
            if meter.fuel < 0:
                meter.refuel()
            meter.alloc(_ARGS_BYTES + SLOT_BYTES * len(flat))
            for value in flat.values():
                if type(value) is str and len(value) > 64:
                    meter.alloc(len(value))
            return flat
    if not isinstance(args, dict):
        raise ToolError(
            f"tool/{name} takes a map of arguments, got {_describe(args)}",
            code="invalid_args",
            hint=f"call it as (tool/{name} {{:key value}})",
        )
    try:
        host_args: dict[str, Any] = to_python(args)
    except TypeError as exc:
        raise ToolError(
            f"cannot pass the arguments to tool/{name}: {exc}",
            code="invalid_args",
            hint="tool arguments must be data: maps, vectors, strings, numbers, booleans, nil",
        ) from None
    _charge_expanded(host_args)
    return host_args


_ATOM_ARGS = frozenset({int, float, str, bool, type(None)})
_ARGS_BYTES = OBJECT_BYTES
"""A host copy of an argument container: charged as a value's (``Meter.alloc_items``). Not
charging them let a loop passing the same 2,000 small maps grow ~90 MB before its limit."""
_KEYWORDS = KEYWORD_CACHE
_now = time.monotonic


def _charge_expanded(data: Any) -> None:
    """Charge the arguments as the host will see them — journaled, copied, serialized, sent —
    with shared parts counted every time they appear: a step per element, each container's
    slots (the call's record keeps the copy for the run), the text's bytes."""
    meter = current_meter()
    stack = [data]
    while stack:
        item = stack.pop()
        items = item.values() if type(item) is dict else item
        meter.tick(len(items))
        meter.alloc(_ARGS_BYTES + SLOT_BYTES * len(items))
        for x in items:
            t = type(x)
            if t is dict or t is list:
                stack.append(x)
            elif t is str and len(x) > 64:
                meter.alloc(len(x))


def _validated(tool: Tool, host_args: dict[str, Any]) -> dict[str, Any]:
    try:
        return tool.validate(host_args)
    except PtclispError as exc:
        raise ToolError(
            f"tool/{tool.name}: {exc.message}",
            code="invalid_args",
            hint=f"tool/{tool.name} takes {tool.signature_text}",
        ) from None


def _failure(name: str, exc: BaseException, meter: Meter) -> dict[str, Any]:
    """The journal entry's ``error`` for a call of tool ``name`` that raised ``exc`` (a
    ``LimitExceeded`` of this run's own budget or clock is raised again: terminal)."""
    if isinstance(exc, ToolError):
        return exc.to_dict()
    if isinstance(exc, LimitExceeded):
        meter.recheck()  # this run's own budget (or deadline): terminal
        return ToolError(f"tool {name} failed: {exc.message}").to_dict()
    if isinstance(exc, PtclispError):  # e.g. a nested run's error: the tool failed, not this run
        return ToolError(f"tool {name} failed: {exc.message}", hint=exc.hint).to_dict()
    if isinstance(exc, Suspend):
        return ToolError(
            f"tool {name} tried to suspend inside a tool call",
            hint="nested runs cannot await async operations",
        ).to_dict()
    # any other failure, a tool's sys.exit() included: the tool's, in every tier
    return ToolError(
        f"tool {name} failed: {type(exc).__name__}: {exc}",
        hint="check the arguments, or handle the failure in the program",
    ).to_dict()


def _to_value(name: str, raw: Any, entry: dict[str, Any], meter: Meter) -> Any:
    """``raw`` as a ptclisp value, charged as it is converted (bounded: heavy sharing ends at a
    limit); what it cost goes into the journal ``entry``, for a replay to charge the same."""
    t = type(raw)
    if t in _ATOM_RESULTS:
        return raw
    if t is dict and len(raw) <= _SMALL_RESULT:
        memory = meter.memory
        value = _small_map(raw, meter)
        if value is not None:
            entry["cost"] = (1, meter.memory - memory)
            return value
    steps, memory = meter.steps, meter.memory
    try:
        value = from_python(raw, meter)
        entry["cost"] = (meter.steps - steps, meter.memory - memory)
        return value
    except TypeError as exc:
        raise ToolError(
            f"tool {name} returned data ptclisp cannot hold: {exc}",
            hint="the tool must return JSON-like data (a host-side bug)",
        ) from None


_SMALL_RESULT = 16

_POSITIONS: list[str] = []
"""``str(n)`` for the first positions of the top level (``_position`` extends it)."""
_positions_lock = threading.Lock()


def _position(n: int) -> str:
    """``str(n)``, kept in ``_POSITIONS`` for later runs while it has fewer than 100,000."""
    with _positions_lock:
        if n == len(_POSITIONS) < 100_000:
            _POSITIONS.append(str(n))
    return str(n)



def _small_map(raw: dict[Any, Any], meter: Meter) -> Map | None:
    """``from_python(raw, meter)`` for a small dict of string keys already seen (their keyword
    in the cache) and atom values — a step and ``alloc_items(len(raw))``, as ``from_python``
    charges a dict of atoms (its strings their length) — without the general walk; None for any
    other dict."""
    out = Map()  # built in place (no dict to copy); no one sees it before it is returned
    text = False
    for key, value in raw.items():
        kind = type(value)
        if kind not in _ATOM_ARGS:
            return None
        keyword = _KEYWORDS.get(key) if type(key) is str else None
        if keyword is None:
            return None
        if kind is str:
            text = True
        out[keyword] = value
    fuel = meter.fuel = meter.fuel - 1  # meter.tick(1); meter.alloc_items(len(raw)), inline
    if fuel < 0:
        meter.refuel()
    memory = meter.memory = meter.memory + _SLOTS_BYTES[len(raw)]
    if memory > meter.limits.max_memory:
        meter.alloc(0)  # raises
    if text:  # then each string its length, in order (as from_python: the same limit point)
        for value in out.values():
            if type(value) is str:
                meter.alloc(len(value))
    return out


_SLOTS_BYTES = tuple(OBJECT_BYTES + SLOT_BYTES * n for n in range(_SMALL_RESULT + 1))
"""What ``Meter.alloc_items(n)`` charges, for the sizes ``_small_map`` converts."""
_SLOTS_COSTS = tuple((1, nbytes) for nbytes in _SLOTS_BYTES)
"""The journaled cost of such a map without strings (one tuple per size, shared)."""


def _op_id(name: str, raw: Any, journal: Journal) -> str:
    """The id of a started op: the start function's string, or a fresh one."""
    if raw is None:
        return f"{name}-{uuid.uuid4().hex[:16]}"
    if not isinstance(raw, str) or not raw:
        raise ToolError(
            f"async tool {name} returned {type(raw).__name__}; expected an op id string or None",
            hint="a host-side bug in the tool's start function",
        )
    if journal.is_started(raw):
        raise ToolError(f"async tool {name} returned op id {raw!r}, which is already in use")
    return raw


def _outcome_value(outcome: dict[str, Any] | None) -> Any:
    if outcome is None:  # callers check the result is there first
        raise KeyError("no delivered result")
    if outcome.get("error") is not None:
        raise error_from_dict(outcome["error"])
    charge_cost(outcome.get("cost"))  # converting it when delivered, charged to the run here
    return entry_value(outcome)


def charge_cost(cost: Any) -> None:
    """Charge the run a recorded conversion ``cost`` (``(steps, bytes)``; None: nothing)."""
    if cost:
        meter = current_meter()
        meter.tick(cost[0])
        meter.alloc(cost[1])


def _sequence(form: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, (Vector, List)):
        return tuple(values)
    if isinstance(values, LazySeq):
        return values.realized()
    raise EvalError(
        f"{form} takes a vector of op handles, got {_describe(values)}",
        code="type_error",
        hint=f"({form} [h1 h2])",
    )


def _describe(value: Any) -> str:
    name = _TYPE_NAMES.get(type(value), type(value).__name__.lower())
    return name if value is None else f"a {name}" if name[0] not in "aeiou" else f"an {name}"


_TYPE_NAMES = {
    type(None): "nil",
    bool: "boolean",
    int: "integer",
    float: "float",
    str: "string",
    Map: "map",
    Vector: "vector",
    List: "list",
    LazySeq: "sequence",
    OpHandle: "op handle",
}


def _key(name: str, host_args: Any) -> tuple[str, bytes]:
    try:
        packed = msgpack.packb(host_args, use_bin_type=True)
    except (TypeError, OverflowError, ValueError):
        packed = repr(host_args).encode()
    return (name, packed)


# ---------------------------------------------------------------- async def tools


_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _private_loop() -> asyncio.AbstractEventLoop:
    """One event loop in a daemon thread, shared by every run, for ``async def`` tools."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="ptclisp-async-tools", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable
