"""Resource limits and the meter that enforces them.

One ``Meter`` per run carries every budget. The evaluator charges a step per function call and
loop iteration; core-library functions charge steps and bytes in proportion to the work they do
and the values they build, *before* building them, so a huge request is refused up front.

Steps are counted in chunks: the hot path is ``m.fuel -= 1; if m.fuel < 0: m.refuel()`` and the
clock is read only when a chunk runs out. Every breach raises ``LimitExceeded`` with its own code.
Memory is an estimate of the bytes of values the program created (cumulative, deterministic, so a
replayed run meters exactly like the original); the process and wasm tiers add hard OS limits.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
from collections.abc import Mapping
from typing import Any

from ._errors import HostInputError, LimitExceeded

__all__ = ["CancelToken", "Limits", "Meter", "active_meter", "charge", "current_meter", "use_meter"]

_CHUNK = 1024

_gc_pause_lock = threading.Lock()

GC_PAUSE_CAP = 100_000
"""Tracked objects allocated since the last collection (``gc.get_count()[0]``) past which a
run's pause of the collector ends (``Meter._gc_pause_step``)."""

_SLOT_BYTES = 32
SLOT_BYTES = _SLOT_BYTES
_OBJECT_BYTES = 56
OBJECT_BYTES = _OBJECT_BYTES


@dataclasses.dataclass(frozen=True)
class Limits:
    """Budgets for one run. Every field is a hard limit with its own error code."""

    max_steps: int = 1_000_000
    """Function calls, loop iterations and per-element work (``step_limit``)."""
    timeout_s: float = 5.0
    """Wall-clock seconds for the whole run, tool time included (``timeout``)."""
    max_memory: int = 64 * 2**20
    """Estimated bytes of values created (``memory_limit``)."""
    max_depth: int = 400
    """Nested function calls (``depth_limit``)."""
    max_output: int = 64 * 1024
    """Characters printed by ``println``/``prn``/``print`` (``output_limit``)."""
    max_tool_calls: int = 10_000
    """Tool calls in one run (``step_limit``)."""
    max_parallel: int = 8
    """Concurrent calls in ``pmap``/``pcalls``."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            number = (int, float) if field.name == "timeout_s" else (int,)
            if isinstance(value, bool) or not isinstance(value, number):
                kind = "a number of seconds" if field.name == "timeout_s" else "an integer"
                raise HostInputError(
                    f"Limits.{field.name}: expected {kind} > 0, got {value!r}",
                    hint=f"e.g. Limits({field.name}={field.default!r})")
            if not value > 0 or value != value:
                raise HostInputError(f"Limits.{field.name}: must be > 0, got {value!r}",
                                     hint=f"e.g. Limits({field.name}={field.default!r})")

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))  # every field is a number (asdict deep-copies: slower)

    @classmethod
    def coerce(cls, limits: Any) -> Limits | None:
        """``limits`` as given to ``run``: a ``Limits``, a dict of its fields, or ``None``;
        anything else raises ``HostInputError`` naming the argument."""
        if limits is None or isinstance(limits, Limits):
            return limits
        if isinstance(limits, Mapping):
            return cls.from_dict(dict(limits))
        raise HostInputError(f"limits: expected ptclisp.Limits or a dict of its fields, got "
                             f"{type(limits).__name__}", hint="e.g. limits={'max_steps': 10_000}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        """Limits from a dict of fields; ``HostInputError`` (a ``ValueError``) for unknown ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise HostInputError(f"unknown limit(s): {', '.join(sorted(map(str, unknown)))}",
                                 hint=f"known limits: {', '.join(sorted(known))}")
        return cls(**data)


class CancelToken:
    """Asks the runs that watch it to stop: ``cancel()`` from any thread; each run ends at its
    next meter check (every ~1,000 steps, each tool call) with ``LimitExceeded`` code
    ``cancelled``. Pass it as ``run(..., cancel=token)`` (``start``/``resume`` too)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise ``LimitExceeded`` (code ``cancelled``) if cancelled."""
        if self._event.is_set():
            raise LimitExceeded("the run was cancelled", code="cancelled",
                                hint="the host cancelled the run; nothing to fix in the program")


class Meter:
    """The running budgets of one run. Not shared between runs."""

    __slots__ = (
        "_chunk",
        "_spent",
        "cancel",
        "deadline",
        "depth",
        "fuel",
        "gc_pause",
        "halted",
        "levels",
        "limits",
        "max_depth",
        "memory",
        "output",
        "tool_calls",
    )

    def __init__(self, limits: Limits, *, steps_spent: int = 0,
                 cancel: CancelToken | None = None) -> None:
        self.limits = limits
        max_depth = self.max_depth = limits.max_depth
        levels = _LEVELS.get(max_depth)  # the whole table, for max_depth <= _LEVELS_START
        self.levels = levels if levels is not None else _levels(min(max_depth, _LEVELS_START))
        """``(1, 2, ..., n)``, n <= ``max_depth``: a compiled fn's entry reads its call's depth
        as ``levels[caller's depth]`` — no addition, no comparison, no new int; an IndexError
        there means the limit is reached or the table is to grow (``grow_levels``)."""
        self._spent = steps_spent
        self._chunk = 0
        self.fuel = 0
        self.deadline = time.monotonic() + limits.timeout_s
        self.memory = 0
        self.depth = 0
        self.output = 0
        self.tool_calls = 0
        self.gc_pause = 0
        """0: this meter leaves the collector alone; 1: it pauses it at its first refuel (a
        run's own meter, whose end calls ``end_gc_pause``); 2: paused; 3: paused no more."""
        self.halted: tuple[str, str] | None = None
        """``(code, message)`` once the run is stopped from outside (``halt``)."""
        self.cancel: CancelToken | None = None
        # refuel(), inline (a run makes a meter: ~0.3 us): before the token is watched, since
        # a meter is made outside the run's try
        max_steps = limits.max_steps
        if steps_spent > max_steps:
            raise self._step_error()
        if time.monotonic() > self.deadline:
            self.check_clock()
        self.fuel = self._chunk = min(_CHUNK, max_steps - steps_spent)
        self.cancel = cancel
        """The token this run watches (checked with the clock and at each tool call)."""

    @property
    def steps(self) -> int:
        """Steps used so far."""
        return self._spent + self._chunk - self.fuel

    def refuel(self) -> None:
        """Close the current chunk: check the step total and the clock, open the next chunk."""
        self._spent += self._chunk - self.fuel
        self._chunk = self.fuel = 0  # the chunk is counted in _spent now (steps stay exact)
        if self._spent > self.limits.max_steps:
            raise self._step_error()
        self.check_clock()
        self._chunk = min(_CHUNK, self.limits.max_steps - self._spent)
        self.fuel = self._chunk
        if self.gc_pause:
            self._gc_pause_step()

    def _gc_pause_step(self) -> None:
        """A run past its first chunk pauses the cyclic collector until it ends (``bulk``): its
        data — a tool's table, the maps built from it — lives until then and dies by reference
        counting, so collections while it runs only re-scan live objects (~10% of a table
        program's time). A tool call lets it run while the host's code runs
        (``release_gc_pause``; the next refuel pauses it again). Once ``GC_PAUSE_CAP`` tracked
        objects are newer than the last collection (anyone's: the count is the process's), the
        collector runs as usual for the rest of the run, so cyclic garbage made meanwhile
        stays bounded."""
        if self.gc_pause == 1:
            self.pause_gc()
        elif self.gc_pause == 2 and gc.get_count()[0] > GC_PAUSE_CAP:
            self.end_gc_pause()

    def pause_gc(self) -> None:
        """Pause the collector now if this is a run's meter that has not yet (``gc_pause``
        1): at its first refuel, or when the run converts a tool's table."""
        if self.gc_pause == 1:
            from ._values.types import bulk

            with _gc_pause_lock:  # a pmap item's thread, or the run's end, at the same time
                if self.gc_pause == 1:
                    self.gc_pause = 2
                    bulk.__enter__()

    def release_gc_pause(self) -> None:
        """Let the collector run during a tool call (host code, which may run long or make
        cyclic garbage of its own); the run's next refuel pauses it again (at most once a
        chunk of steps, however many calls the chunk makes)."""
        from ._values.types import bulk

        with _gc_pause_lock:
            if self.gc_pause == 2:
                bulk.__exit__()
                self.gc_pause = 1

    def end_gc_pause(self) -> None:
        """Let the collector run again (if this meter paused it); it never pauses it again.
        Locked when the run may still be running on another thread (paused, or halted:
        abandoned), unlocked otherwise (every run ends here: a trivial one pays no lock)."""
        if self.gc_pause != 2 and self.halted is None:
            self.gc_pause = 3
            return
        from ._values.types import bulk

        with _gc_pause_lock:
            if self.gc_pause == 2:
                bulk.__exit__()
            self.gc_pause = 3

    def grow_levels(self, depth: int) -> None:
        """Make ``levels`` reach past ``depth`` (doubling, up to ``max_depth``)."""
        size = min(self.max_depth, max(2 * len(self.levels), depth + 1))
        self.levels = _levels(size)

    def tick(self, n: int = 1) -> None:
        """Charge ``n`` steps."""
        self.fuel -= n
        if self.fuel < 0:
            self.refuel()

    def check_clock(self) -> None:
        if self.cancel is not None:
            self.cancel.check()
        if self.halted is not None:
            code, message = self.halted
            raise LimitExceeded(message, code=code, hint=_HINTS.get(code, _HINTS["timeout"]))
        if time.monotonic() > self.deadline:
            raise self.timeout_error("")

    def expect(self, seconds: float) -> None:
        """Before an uninterruptible operation estimated to take ``seconds`` (one C call the
        clock cannot stop): ``timeout`` now if it would end past the deadline."""
        if time.monotonic() + seconds > self.deadline:
            self.check_clock()  # a cancellation or a halt first, as their own codes
            raise self.timeout_error(
                f" (the next operation alone would take ~{seconds:.1f}s)")

    def timeout_error(self, detail: str) -> LimitExceeded:
        """The ``timeout`` error of this run's clock, ``detail`` after its message."""
        return LimitExceeded(f"time limit of {self.limits.timeout_s}s exceeded{detail}",
                             code="timeout", hint=_HINTS["timeout"])

    def halt(self, code: str, message: str) -> None:
        """Stop the run from outside (any thread): its next check raises ``LimitExceeded``
        with ``code`` — the clock is read every ~1,000 steps and before and after each tool
        call. For a run its caller stopped waiting for (``_tools.threads``), and a budget an
        outer tier's host found spent on the run's behalf."""
        if self.halted is None:
            self.halted = (code, message)

    def recheck(self) -> None:
        """Raise if a budget of this run is spent (halted, cancelled, the clock, steps or
        memory): tells this run's breach from a limit a tool met in a run of its own."""
        self.check_clock()
        if self._spent > self.limits.max_steps:
            raise self._step_error()
        if self.memory > self.limits.max_memory:
            raise self._memory_error()

    def alloc(self, nbytes: int) -> None:
        """Charge ``nbytes`` of newly created value."""
        self.memory += nbytes
        if self.memory > self.limits.max_memory:
            raise self._memory_error()

    def _step_error(self) -> LimitExceeded:
        return LimitExceeded(f"step limit of {self.limits.max_steps} exceeded",
                             code="step_limit", hint=_HINTS["step_limit"])

    def _memory_error(self) -> LimitExceeded:
        return LimitExceeded(f"memory limit of {self.limits.max_memory} bytes exceeded",
                             code="memory_limit", hint=_HINTS["memory_limit"])

    def alloc_items(self, count: int) -> None:
        """Charge a collection of ``count`` slots (charge before building it)."""
        self.alloc(_OBJECT_BYTES + _SLOT_BYTES * count)

    def alloc_str(self, length: int) -> None:
        """Charge a string of ``length`` characters."""
        self.alloc(_OBJECT_BYTES + length)

    def enter(self) -> None:
        """Enter a function call."""
        self.depth += 1
        if self.depth > self.limits.max_depth:
            self.depth = 0  # terminal: unwinding must not trip the check again
            raise LimitExceeded(
                f"recursion depth limit of {self.limits.max_depth} exceeded",
                code="depth_limit",
                hint="recursion is too deep: use loop/recur or reduce instead",
            )

    def leave(self) -> None:
        self.depth -= 1

    def emit(self, nchars: int) -> None:
        """Charge printed output."""
        self.output += nchars
        if self.output > self.limits.max_output:
            raise LimitExceeded(
                f"output limit of {self.limits.max_output} characters exceeded",
                code="output_limit",
                hint="print less: return the data as the result instead",
            )

    def count_tool_call(self) -> None:
        if self.gc_pause == 2:  # host code runs with the collector as the host set it
            self.release_gc_pause()
        if self.cancel is not None:
            self.cancel.check()
        self.tool_calls += 1
        if self.tool_calls > self.limits.max_tool_calls:
            raise LimitExceeded(
                f"tool call limit of {self.limits.max_tool_calls} exceeded",
                code="step_limit",
                hint="make fewer tool calls: fetch in bulk where the tool allows it",
            )


_LEVELS_START = 512
_LEVELS: dict[int, tuple[int, ...]] = {}


def _levels(size: int) -> tuple[int, ...]:
    """``(1, ..., size)``; the small ones shared between meters."""
    levels = _LEVELS.get(size)
    if levels is None:
        levels = tuple(range(1, size + 1))
        if size <= _LEVELS_START:
            _LEVELS[size] = levels
    return levels


_HINTS = {
    "timeout": "the program ran too long: do less work or fewer slow tool calls",
    "step_limit": "the program does too much work: bound loops, avoid infinite sequences",
    "memory_limit": "the program builds values that are too large: aggregate instead of "
    "materialising, or take fewer elements",
}

_local = threading.local()


def active_meter() -> Meter | None:
    """The meter of the run executing on this thread, or None outside a run."""
    return getattr(_local, "meter", None)


def charge(n: int) -> None:
    """Charge ``n`` steps to this thread's run, if any (work that walks data: ``=``, hashing)."""
    meter: Meter | None = getattr(_local, "meter", None)
    if meter is not None:
        meter.fuel -= n
        if meter.fuel < 0:
            meter.refuel()


def current_meter() -> Meter:
    """The meter of the run executing on this thread."""
    meter: Meter | None = getattr(_local, "meter", None)
    if meter is None:
        raise RuntimeError("no ptclisp run is active on this thread")
    return meter


class use_meter:
    """Make ``meter`` current on this thread for the block; restores the previous one (nesting)."""

    __slots__ = ("_previous", "meter")

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self._previous: Meter | None = None

    def __enter__(self) -> Meter:
        self._previous = getattr(_local, "meter", None)
        _local.meter = self.meter
        return self.meter

    def __exit__(self, *exc: object) -> None:
        _local.meter = self._previous
