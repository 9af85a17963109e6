"""ptclisp values and Clojure equality.

Representation (chosen for speed: the hot paths iterate C-level tuples and dicts):

    nil            None
    true / false   True / False
    integer        int (arbitrary size)
    float          float
    string         str
    character      Char
    keyword        Keyword (interned: compare with ``is``)
    symbol         Symbol (quoted symbols only; the reader's symbols are forms)
    vector         Vector(tuple)
    list / seq     List(tuple)
    lazy seq       LazySeq (realised on demand, cached)
    map            Map(dict)  insertion-ordered, never mutated after construction
    set            Set(frozenset)
    regex          Regex
    function       any Python callable the evaluator or core library made

Collections are immutable by contract: no core function mutates a collection it did not just
create. Python's hashing merges ``1``, ``1.0`` and ``True`` as map keys and set elements; ``=``
(``equals``) follows Clojure and keeps them apart (a documented deviation for hashed keys only).
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any, ClassVar

from .._limits import OBJECT_BYTES, SLOT_BYTES, Meter, active_meter, charge, use_meter

__all__ = [
    "EMPTY_LIST",
    "EMPTY_MAP",
    "EMPTY_SET",
    "EMPTY_VECTOR",
    "KEYWORD_CACHE",
    "Char",
    "Keyword",
    "LazySeq",
    "List",
    "Map",
    "OpHandle",
    "Regex",
    "Set",
    "Symbol",
    "Vector",
    "bulk",
    "canonical_key",
    "charge_host_data",
    "charge_value",
    "equals",
    "from_python",
    "is_sequential",
    "keyword_of_str",
    "to_python",
]


class Keyword:
    """``:name`` or ``:ns/name``. Interned, so identity is equality. Callable as a map lookup.

    Interned weakly: a keyword nothing refers to any more is dropped (a tool's unique keys or a
    program's ``(keyword (str i))`` must not stay in the host's memory after the run) and made
    anew if it is met again — no one can tell the two apart."""

    __slots__ = ("__weakref__", "name", "ns")
    _table: ClassVar[dict[tuple[str | None, str], weakref.ref[Keyword]]] = {}
    _sweep_at: ClassVar[int] = 4096
    _lock: ClassVar[threading.Lock] = threading.Lock()

    ns: str | None
    name: str

    def __new__(cls, name: str, ns: str | None = None) -> Keyword:
        key = (ns, name)
        ref = cls._table.get(key)
        if ref is not None:
            found = ref()
            if found is not None:
                return found
        with cls._lock:  # one instance per name, whichever thread makes it first
            ref = cls._table.get(key)
            found = ref() if ref is not None else None
            if found is None:
                found = object.__new__(cls)
                found.ns, found.name = ns, name
                if len(cls._table) >= cls._sweep_at:
                    cls._sweep()
                cls._table[key] = weakref.ref(found)
            return found

    @classmethod
    def _sweep(cls) -> None:
        """Drop the names of dead keywords (when the table has doubled since the last sweep:
        amortized O(1) a keyword)."""
        live = {key: ref for key, ref in cls._table.items() if ref() is not None}
        cls._table = live  # readers holding the old table still find every live keyword
        cls._sweep_at = max(4096, 2 * len(live))

    @classmethod
    def parse(cls, text: str) -> Keyword:
        """``"a"`` or ``"ns/a"`` (no leading colon) → keyword."""
        ns, sep, name = text.partition("/")
        return cls(name, ns) if sep and ns and name else cls(text)

    @property
    def qualified(self) -> str:
        return f"{self.ns}/{self.name}" if self.ns else self.name

    def __call__(self, coll: Any, default: Any = None) -> Any:
        if isinstance(coll, dict):
            return coll.get(self, default)
        if isinstance(coll, frozenset):
            return self if self in coll else default
        return default

    # Interned, so identity is equality; the C-level identity hash and equality make every map
    # lookup with a keyword key run without calling Python code (a large share of pipelines).
    __hash__ = object.__hash__
    __eq__ = object.__eq__

    def __lt__(self, other: Keyword) -> bool:
        return (self.ns or "", self.name) < (other.ns or "", other.name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Keyword, (self.name, self.ns))

    def __repr__(self) -> str:
        return ":" + self.qualified


class Symbol:
    """A quoted symbol value, ``'foo`` or ``'ns/foo``."""

    __slots__ = ("name", "ns")

    def __init__(self, name: str, ns: str | None = None) -> None:
        self.ns, self.name = ns, name

    @property
    def qualified(self) -> str:
        return f"{self.ns}/{self.name}" if self.ns else self.name

    def __hash__(self) -> int:
        return hash(("sym", self.ns, self.name))

    def __eq__(self, other: object) -> bool:
        return type(other) is Symbol and other.name == self.name and other.ns == self.ns

    def __lt__(self, other: Symbol) -> bool:
        return (self.ns or "", self.name) < (other.ns or "", other.name)

    def __call__(self, coll: Any, default: Any = None) -> Any:
        if isinstance(coll, dict):
            return coll.get(self, default)
        return default

    def __repr__(self) -> str:
        return self.qualified


class Char:
    """A character, ``\\a``. Distinct from the one-character string ``"a"``."""

    __slots__ = ("ch",)

    def __init__(self, ch: str) -> None:
        self.ch = ch

    def __hash__(self) -> int:
        return hash(("char", self.ch))

    def __eq__(self, other: object) -> bool:
        return type(other) is Char and other.ch == self.ch

    def __lt__(self, other: Char) -> bool:
        return self.ch < other.ch

    def __repr__(self) -> str:
        return "\\" + self.ch


class Vector(tuple):
    """``[a b c]``. Callable with an index."""

    __slots__ = ()

    def __call__(self, index: Any, *default: Any) -> Any:
        if type(index) is int and 0 <= index < len(self):
            return self[index]
        if default:
            return default[0]
        from .._errors import EvalError

        raise EvalError(
            f"index {index!r} out of bounds for vector of {len(self)}",
            code="index_out_of_bounds",
            hint="use (get v i) to get nil for a missing index",
        )

    def __hash__(self) -> int:
        # Hashing walks the elements (nested collections recursively, shared structure once per
        # path): charged per element so a value with 2**40 leaves by sharing ends at the limit.
        charge(len(self))
        return tuple.__hash__(self)

    def __repr__(self) -> str:
        return "[" + " ".join(map(repr, self)) + "]"


class List(tuple):
    """``(a b c)``: a list or a realised sequence."""

    __slots__ = ()

    def __hash__(self) -> int:
        charge(len(self))
        return tuple.__hash__(self)

    def __repr__(self) -> str:
        return "(" + " ".join(map(repr, self)) + ")"


class Map(dict):
    """``{:a 1}``. Insertion-ordered; never mutated once built. Callable as a lookup."""

    __slots__ = ("_hash", "_weight")
    _hash: int
    _weight: int

    def __call__(self, key: Any, default: Any = None) -> Any:
        return self.get(key, default)

    def __hash__(self) -> int:  # type: ignore[override]
        # Cached, and every use charges what computing it charged (the walk of the keys and
        # values): step counts stay the same whichever run computed the hash first.
        try:
            cached = self._hash
        except AttributeError:
            meter = active_meter()
            if meter is None:  # outside a run: nothing to charge, nothing cached
                return hash(frozenset(self.items()))
            before = meter.steps
            charge(len(self))
            cached = hash(frozenset(self.items()))
            self._weight = meter.steps - before
            self._hash = cached
            return cached
        charge(self._weight)
        return cached

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r} {v!r}" for k, v in self.items()) + "}"


class Set(frozenset):
    """``#{1 2}``. Callable as a membership test returning the element.

    Iterates in a canonical order (see ``canonical_key``), not Python's hash order: string hashes
    change from process to process, and a program's result must not (replay in another process,
    every sandbox tier, a re-run of the same program).
    """

    __slots__ = ("_order", "_order_weight")
    _order: tuple[Any, ...]
    _order_weight: int

    def __iter__(self) -> Iterator[Any]:
        # The order is cached, and every use charges what computing it charged (canonical keys
        # walk nested collections): steps stay the same whichever run ordered the set first.
        try:
            order = self._order
        except AttributeError:
            meter = active_meter()
            before = meter.steps if meter is not None else 0
            order = tuple(sorted(frozenset.__iter__(self), key=canonical_key))
            if meter is not None:
                self._order_weight = meter.steps - before
                self._order = order
            return iter(order)
        if self._order_weight:
            charge(self._order_weight)
        return iter(order)

    def __call__(self, item: Any, default: Any = None) -> Any:
        return item if item in self else default

    def __repr__(self) -> str:
        return "#{" + " ".join(map(repr, self)) + "}"


class LazySeq:
    """A sequence realised element by element from an iterator, and cached.

    Producers charge the meter per element they yield, so an infinite sequence stops at the
    step or memory limit, never hangs the host.
    """

    __slots__ = ("_busy", "_cache", "_source")
    created = 0
    """How many lazy seqs were ever made: a run that made none has nothing to realize."""

    def __init__(self, source: Iterable[Any]) -> None:
        LazySeq.created += 1
        self._source: Iterator[Any] | None = iter(source)
        self._cache: list[Any] = []
        self._busy = False
        """True while its source makes an item: a read of its own items then is a cycle."""

    def __iter__(self) -> Iterator[Any]:
        cache = self._cache
        i = 0
        while True:
            if i < len(cache):
                if self._busy:
                    charge_reread()
                yield cache[i]
                i += 1
                continue
            source = self._source  # pull(), inline: this is every lazy seq's hot loop
            if source is None:
                return
            was, self._busy = self._busy, True
            try:
                item = next(source)
            except StopIteration:
                self._source = None
                return
            finally:
                self._busy = was
            cache.append(item)
            yield item  # cache[i]: nothing else can append while its source runs
            i += 1

    def pull(self) -> bool:
        """Realize one more item into the cache; False at the end of the sequence."""
        source = self._source
        if source is None:
            return False
        was, self._busy = self._busy, True
        try:
            item = next(source)
        except StopIteration:
            self._source = None
            return False
        finally:
            self._busy = was
        self._cache.append(item)
        return True

    def realized(self) -> tuple[Any, ...]:
        """The whole sequence (bounded by the limits for an infinite one)."""
        for _ in self:
            pass
        return tuple(self._cache)

    def has(self, i: int) -> bool:
        """Whether item ``i`` exists, realising the items up to it."""
        cache = self._cache
        while len(cache) <= i:  # pull(), inline: ``seq``/``first``/``next`` come through here
            source = self._source
            if source is None:
                return False
            was, self._busy = self._busy, True
            try:
                cache.append(next(source))
            except StopIteration:
                self._source = None
                return False
            finally:
                self._busy = was
        return True

    def first(self) -> Any:
        """The first item, or None."""
        return self._cache[0] if self.has(0) else None

    def __len__(self) -> int:
        return len(self.realized())

    def __bool__(self) -> bool:
        return self.has(0)

    def __hash__(self) -> int:
        items = self.realized()
        charge(len(items))
        return hash(items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, LazySeq)):
            return self.realized() == tuple(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(List(self.realized()))


def charge_reread() -> None:
    """A lazy seq read while its own source makes an item — ``(def s (lazy-seq (cons 1 s)))``
    — passes its cached items back into its own cache: no producer charges them, so each one
    is charged here (a step and a slot), and the cycle ends at a limit instead of spinning."""
    meter = active_meter()
    if meter is not None:  # meter.tick(1); meter.alloc(SLOT_BYTES), inline
        meter.fuel -= 1
        if meter.fuel < 0:
            meter.refuel()
        meter.memory += SLOT_BYTES
        if meter.memory > meter.limits.max_memory:
            meter.alloc(0)  # raises


_NOTHING = object()


@dataclasses.dataclass(frozen=True)
class Regex:
    """``#"..."``: a compiled pattern plus the source text it was written as."""

    source: str
    pattern: Any = dataclasses.field(compare=False, hash=False)

    def __repr__(self) -> str:
        return '#"' + self.source + '"'


def canonical_key(value: Any, depth: int = 0) -> tuple[int, Any]:
    """A total, process-independent order over values: numbers, then strings, keywords, ...

    Within a kind the natural order; across kinds a fixed rank; collections element-wise.
    Past ``_KEY_DEPTH`` levels collections compare equal (no unbounded recursion). A part
    shared by a value (``[x x]`` forty levels deep) is keyed — and charged — once: its key
    is one tuple shared in turn (memo by identity for one call).
    """
    t = type(value)
    if t is bool or value is None:
        return (0, (value is None, bool(value)))
    if t is int or t is float:
        return (1, value)
    if t is str:
        return (2, value)
    if t is Keyword or t is Symbol:
        return (3 if t is Keyword else 4, (value.ns or "", value.name))
    if t is Char:
        return (5, value.ch)
    return _collection_key(value, depth, {})


def _collection_key(value: Any, depth: int, memo: dict[tuple[int, int], Any]) -> Any:
    t = type(value)
    if t is bool or value is None or t is int or t is float or t is str or t is Keyword \
            or t is Symbol or t is Char:
        return canonical_key(value)
    if depth >= _KEY_DEPTH:
        return (10, ())
    found = memo.get((id(value), depth))
    if found is not None:
        return found
    key = _computed_key(value, depth + 1, memo)
    memo[(id(value), depth)] = key  # the value is alive for the whole call: its id is stable
    return key


def _computed_key(value: Any, depth: int, memo: dict[tuple[int, int], Any]) -> Any:
    if isinstance(value, (tuple, dict, frozenset)):
        charge(len(value))
    if isinstance(value, (tuple, LazySeq)):
        return (6, tuple(_collection_key(x, depth, memo) for x in value))
    if isinstance(value, dict):
        pairs = ((_collection_key(k, depth, memo), _collection_key(v, depth, memo))
                 for k, v in value.items())
        return (7, tuple(sorted(pairs)))
    if isinstance(value, Set):
        return (8, tuple(sorted(_collection_key(x, depth, memo)
                                for x in frozenset.__iter__(value))))
    return (9, type(value).__name__)


_KEY_DEPTH = 24


EMPTY_VECTOR = Vector()
EMPTY_LIST = List()
EMPTY_MAP = Map()
EMPTY_SET = Set()

_SEQUENTIAL = (Vector, List, LazySeq)


def is_sequential(value: Any) -> bool:
    """Vectors, lists and lazy seqs: the collections ``=`` compares element by element."""
    return isinstance(value, _SEQUENTIAL)


def equals(a: Any, b: Any) -> bool:
    """Clojure ``=``: deep value equality; ``1`` and ``1.0`` differ, ``[1 2]`` = ``'(1 2)``."""
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is tb and ta in _ATOMIC:
        return a == b
    if isinstance(a, _SEQUENTIAL) and isinstance(b, _SEQUENTIAL):
        xs, ys = _as_tuple(a), _as_tuple(b)
        if len(xs) != len(ys):
            return False
        charge(len(xs))  # collections only: = of scalars stays free
        return all(map(equals, xs, ys))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        charge(len(a))
        missing = _NOTHING
        return all(equals(v, b.get(k, missing)) for k, v in a.items())
    if isinstance(a, frozenset) and isinstance(b, frozenset):
        if len(a) != len(b):
            return False
        charge(len(a))
        return all(x in b for x in a)
    if ta in _NUMERIC or tb in _NUMERIC or ta is bool or tb is bool:
        return False  # mixed int/float/bool never equal under =
    return ta is tb and a == b


_ATOMIC = frozenset({int, float, str, bool, type(None), Keyword, Char, Symbol})
_NUMERIC = frozenset({int, float})


def _as_tuple(seq: Any) -> tuple[Any, ...]:
    return seq.realized() if isinstance(seq, LazySeq) else seq


# ---------------------------------------------------------------- host data conversion


def from_python(obj: Any, meter: Meter | None = None) -> Any:
    """JSON-like host data → ptclisp values. Object keys that are strings become keywords.

    With a ``meter`` (host data entering a run: tool results, ``data``, op results) every
    container is charged as it is met, before it is converted: a step and the bytes of its slots
    (``Meter.alloc_items``), a part met twice charged twice. Data with heavy sharing — 40 levels
    of ``x = [x, x]`` is 2**40 leaves — ends with ``step_limit``, ``memory_limit`` or ``timeout``
    instead of being expanded. Numbers are not charged; a string that is the whole value (a tool
    returning a document) is charged as a string (``alloc_str``), a string inside a container its
    length (the container already charged its slot), and a key longer than ``LONG_KEY`` its
    length too: a tool's 34 MB text nested in a map ends with ``memory_limit`` as in the outer
    tiers, which must copy it."""
    t = type(obj)
    if t in _PASS_THROUGH:
        if t is str and meter is not None:
            meter.alloc_str(len(obj))
        return obj
    if meter is not None:
        if active_meter() is meter:
            return _charged(obj, meter)
        with use_meter(meter):  # non-string keys are charged to the active meter
            return _charged(obj, meter)
    if t is dict:  # the hot case (tool results, data inputs): one comprehension per object
        atoms, key_of = _JSON_ATOMS, _keyword_of_key
        return Map(
            {
                key_of(k): (v if type(v) in atoms else from_python(v))
                for k, v in obj.items()
            }
        )
    if t is list:
        records = _flat_records(obj)
        if records is not None:
            return records
        atoms = _JSON_ATOMS
        return Vector([x if type(x) in atoms else from_python(x) for x in obj])
    if isinstance(obj, dict):
        return Map((_keyword_of_key(k), from_python(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return Vector(map(from_python, obj))
    if isinstance(obj, (set, frozenset)):
        return Set(map(from_python, obj))
    if hasattr(obj, "model_dump"):  # a pydantic model
        return from_python(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return from_python(dataclasses.asdict(obj))
    raise TypeError(f"cannot convert {type(obj).__name__} to a ptclisp value")


def _charged(obj: Any, meter: Meter) -> Any:
    """``from_python(obj)``, each container charged to ``meter`` before it is converted (the
    charge inline: this is on every tool result's path)."""
    t = type(obj)
    if t is str:  # inside a container: its text (meter.alloc(len(obj)), inline)
        meter.memory += len(obj)
        if meter.memory > meter.limits.max_memory:
            meter.alloc(0)
        return obj
    if t in _PASS_THROUGH:
        return obj
    if t is dict:
        meter.fuel -= 1  # meter.tick(1); meter.alloc_items(len(obj)), inline
        if meter.fuel < 0:
            meter.refuel()
        meter.memory += OBJECT_BYTES + SLOT_BYTES * len(obj)
        if meter.memory > meter.limits.max_memory:
            meter.alloc(0)
        atoms, key_of = _NUMBERS, _keyword_of_key
        return Map({key_of(k): (v if type(v) in atoms else _charged(v, meter))
                    for k, v in obj.items()})
    if t is list:
        records = _flat_records(obj, meter)
        if records is not None:
            return records
        text = _atoms_text(obj)
        meter.fuel -= 1  # meter.tick(1); meter.alloc_items(len(obj)), inline
        if meter.fuel < 0:
            meter.refuel()
        meter.memory += OBJECT_BYTES + SLOT_BYTES * len(obj) + (text or 0)
        if meter.memory > meter.limits.max_memory:
            meter.alloc(0)
        if text is not None:  # atoms only: charged at once (their text included), kept as is
            return Vector(obj)
        atoms = _NUMBERS
        return Vector([x if type(x) in atoms else _charged(x, meter) for x in obj])
    if isinstance(obj, (dict, list, tuple, set, frozenset)):
        elements = _elements(obj, meter)
        if isinstance(obj, dict):
            return Map((_keyword_of_key(k), _charged(v, meter)) for k, v in elements)
        convert = [_charged(x, meter) for x in elements]
        return Set(convert) if isinstance(obj, (set, frozenset)) else Vector(convert)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # field by field (``asdict`` would copy shared parts in full, uncharged)
        return _charged({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, meter)
    if hasattr(obj, "model_dump"):  # a pydantic model: charge its fields before dumping them
        _charge_fields(obj, meter)
        return _charged(obj.model_dump(mode="json"), meter)
    raise TypeError(f"cannot convert {type(obj).__name__} to a ptclisp value")


def _elements(obj: Any, meter: Meter) -> Iterable[Any]:
    """Charge a container (a step, its slots) and give its elements (a dict's items). A subclass
    of dict, list, tuple or set runs its own ``len`` and iteration, which may lie or never end:
    its slots are charged one by one as they come."""
    meter.tick(1)
    items = obj.items() if isinstance(obj, dict) else obj
    if type(obj) in _EXACT_CONTAINERS:
        meter.alloc_items(len(obj))
        return items
    meter.alloc(OBJECT_BYTES)
    return _slot_by_slot(items, meter)


def _slot_by_slot(items: Iterable[Any], meter: Meter) -> Iterator[Any]:
    for x in items:
        meter.alloc(SLOT_BYTES)
        yield x


_EXACT_CONTAINERS = frozenset({dict, list, tuple, set, frozenset})


def _charge_fields(obj: Any, meter: Meter) -> None:
    """Charge the containers an object's attributes hold (as ``_charged`` would), expanded."""
    stack = [getattr(obj, "__dict__", {})]
    while stack:
        item = stack.pop()
        items = list(item.values()) if isinstance(item, dict) else list(item)
        meter.tick(1)
        meter.alloc_items(len(items))
        for x in items:
            if isinstance(x, (dict, list, tuple, set, frozenset)):
                stack.append(x)
            elif hasattr(x, "model_dump") and hasattr(x, "__dict__"):
                stack.append(x.__dict__)


class _Bulk:
    """``with bulk:`` pauses the cyclic garbage collector while a large table of new maps is
    built. Building 10,000 maps with keyword keys (GC-tracked containers) otherwise triggers
    collections that re-scan the young objects and, now and then, the whole heap: ~1/3 of the
    time. Nothing built here forms a cycle; the collector resumes (if it ran before) when the
    outermost ``with`` ends, in any thread."""

    _lock = threading.Lock()
    _depth = 0
    _was_enabled = False

    def __enter__(self) -> None:
        with _Bulk._lock:
            if _Bulk._depth == 0:
                _Bulk._was_enabled = gc.isenabled()
                gc.disable()
            _Bulk._depth += 1

    def __exit__(self, *exc: object) -> None:
        with _Bulk._lock:
            _Bulk._depth -= 1
            if _Bulk._depth == 0 and _Bulk._was_enabled:
                gc.enable()


bulk = _Bulk()
BULK_MIN = 1_000
"""Tables at least this long are built ``with bulk``."""


def _flat_records(obj: list[Any], meter: Meter | None = None) -> Vector | None:
    """A list of flat dicts sharing one key order (the usual tool result: rows of a table), or
    ``None``. Every check runs in C (``map``), and each row becomes a map by one generated
    ``Map({K0: d["id"], ...})`` (``_record_builder``): the keys are converted once for the whole
    list instead of once per key per row. Same values, key order included, as the general path;
    with a ``meter``, charged as the general path charges them (at once, before building)."""
    if meter is None:  # nothing to charge: the check alone (no string lengths)
        if not _is_table(obj):
            return None
    else:
        laid_out = _table_text(obj)
        if laid_out is None:
            return None
        text, columns = laid_out
        _charge_table(obj, meter, text)
        if meter.gc_pause == 1 and len(obj) >= BULK_MIN:
            meter.pause_gc()  # a run's table lives until the run ends: see Meter.pause_gc
        if 0 < len(obj[0]) <= 48:  # the columns are laid out already: rows built from them
            positional = _record_builder(tuple(obj[0]), positional=True)
            if len(obj) < BULK_MIN:
                return Vector(map(positional, *columns))
            with bulk:
                return Vector(map(positional, *columns))
    build = _record_builder(tuple(obj[0]))
    try:
        if len(obj) < BULK_MIN:
            return Vector(map(build, obj))
        with bulk:
            return Vector(map(build, obj))
    except KeyError:  # a key object equal to a string it is not (a host object's own __eq__)
        raise TypeError("cannot convert a row whose keys are not plain strings") from None


def _record_builder(names: tuple[str, ...], positional: bool = False) -> Callable[..., Map]:
    """``row → Map`` for rows with exactly these keys in this order: one store per key into a
    new map (no per-pair tuples, no intermediate dict: ~25% faster than ``Map(zip(keys,
    row.values()))``, ~8% faster than ``Map({K0: d["id"], ...})``), compiled once per key
    tuple. The names enter the text only as ``repr`` string literals."""
    build = _BUILDERS.get((names, positional))
    if build is not None:
        return build
    keys = tuple(map(_keyword_of_key, names))
    if len(names) > 48:
        def build(row: dict[str, Any]) -> Map:
            return Map(zip(keys, row.values()))
    else:  # positional: one argument a column (``map(build, *columns)``), no lookup by name
        stores = "".join(f"    m[K{i}] = {f'a{i}' if positional else f'd[{name!r}]'}\n"
                         for i, name in enumerate(names))
        params = ", ".join(f"a{i}" for i in range(len(names))) if positional else "d"
        namespace: dict[str, Any] = {"Map": Map, **{f"K{i}": k for i, k in enumerate(keys)}}
        exec(f"def build({params}):\n    m = Map()\n{stores}    return m\n", namespace)
        build = namespace["build"]  # (our own text: the names enter it only as repr literals)
    if len(_BUILDERS) >= 256:
        _BUILDERS.clear()
    _BUILDERS[(names, positional)] = build
    return build


_BUILDERS: dict[tuple[tuple[str, ...], bool], Callable[..., Map]] = {}


def _table_text(obj: list[Any]) -> tuple[int, list[list[Any]]] | None:
    """``None`` unless ``obj`` is a table (``_table_names``) whose values are JSON atoms, else
    the total length of its string values (what the general path charges for them) and its
    columns. Every check runs in C: the values are laid out flat as the keys are, so column
    ``j`` is the stride slice ``[j::width]``."""
    names = _table_names(obj)
    if names is None:
        return None
    width = len(names)
    values = [*chain.from_iterable(map(_dict_values, obj))]
    text = 0
    columns = []
    for j in range(width):
        column = values[j::width]
        types = set(map(type, column))
        if not types <= _JSON_ATOMS:
            return None
        if str in types:
            text += _column_text(column, types)
        columns.append(column)
    return text, columns


def _is_table(obj: list[Any]) -> bool:
    """Whether ``obj`` converts by the table path (as ``_table_text``, without the lengths)."""
    return _table_names(obj) is not None and _JSON_ATOMS.issuperset(
        map(type, chain.from_iterable(map(_dict_values, obj))))


def _table_names(obj: list[Any]) -> list[str] | None:
    """The key names of a table's rows — at least two flat dicts with the same string keys
    (none longer than ``LONG_KEY``) in one order — else ``None`` (checks in C).

    One key order: the rows' keys, concatenated, are the first row's keys repeated once per
    row. That implies it (a row's keys are distinct, so no row is longer than the first; as
    many keys as rows times its length, so none is shorter and each starts where the last
    ended) and, unlike ``tuple(row) == names`` per row, allocates no tuple per row."""
    rows = len(obj)
    if rows < 2 or type(obj[0]) is not dict:
        return None
    names = [*obj[0]]
    if not _all_dicts(map(type, obj)) or sum(map(len, obj)) != len(names) * rows:
        return None  # (the count first: the repeated keys are then no longer than the rows')
    if [*chain.from_iterable(obj)] != names * rows:
        return None
    if not _STR_ONLY.issuperset(map(type, names)) or (names and max(map(len, names)) > LONG_KEY):
        return None
    return names


def _column_text(column: list[Any], types: set[type]) -> int:
    """The total length of the strings among atoms (``types``: the atoms' types)."""
    if len(types) == 1:  # all strings: str.join sums them in C, 3x faster than map(len) — and
        # copies them, transiently: no more than is charged right after (so at most the limit,
        # unless the host's own data is over it already)
        return len("".join(column))
    return sum(map(len, filter(_IS_STR, column)))


def _atoms_text(items: list[Any]) -> int | None:
    """The total length of the strings in a list of JSON atoms; ``None`` if it holds anything
    else (a container, another type)."""
    types = set(map(type, items))
    if not types <= _JSON_ATOMS:
        return None
    return _column_text(items, types) if str in types else 0


def _charge_table(obj: list[Any], meter: Meter, text: int) -> None:
    rows = len(obj)
    meter.tick(1 + rows)
    meter.alloc(OBJECT_BYTES * (1 + rows) + SLOT_BYTES * rows * (1 + len(obj[0])) + text)


def charge_value(value: Any, meter: Meter) -> None:
    """Charge ``meter`` for a ptclisp value handed to a run as data, as converting the host data
    it stands for would (a step and the slots of each collection, expanded): the outer tiers
    carry sets and big integers as ptclisp values, and they must cost what they cost in
    process."""
    if type(value) is str:  # a string that is the whole value: as from_python charges it
        meter.alloc_str(len(value))
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if not isinstance(item, (Map, Vector, List, Set)):
            continue
        meter.tick(1)
        if isinstance(item, dict):
            meter.alloc_items(len(item))
            meter.alloc(sum(len(k.qualified) for k in item
                            if type(k) is Keyword and len(k.qualified) > LONG_KEY))
            meter.alloc(sum(map(len, filter(_IS_STR, item.values()))))
            stack.extend(k for k in item if isinstance(k, _COLLECTIONS))
            stack.extend(v for v in item.values() if isinstance(v, _COLLECTIONS))
        else:
            meter.alloc_items(len(item))
            meter.alloc(sum(map(len, filter(_IS_STR, item))))
            stack.extend(x for x in item if isinstance(x, _COLLECTIONS))


_COLLECTIONS = (Map, Vector, List, Set)


def charge_host_data(obj: Any, meter: Meter) -> None:
    """Charge ``meter`` what ``from_python(obj, meter)`` charges, building nothing: for a host
    that must know host data fits a run's budget before it serializes it (the outer tiers)."""
    if active_meter() is not meter:
        with use_meter(meter):
            return charge_host_data(obj, meter)
    if type(obj) is str:  # a string that is the whole value: charged (as by from_python)
        meter.alloc_str(len(obj))
        return None
    return _charge_walk(obj, meter)


def _charge_walk(obj: Any, meter: Meter) -> None:
    """Charge ``obj`` (not a whole-value string) as ``_charged`` does, in the same order."""
    t = type(obj)
    if t is str:
        meter.alloc(len(obj))
        return
    if t in _PASS_THROUGH:
        return
    if t is list:
        laid_out = _table_text(obj)
        if laid_out is not None:
            _charge_table(obj, meter, laid_out[0])
            return
        text = _atoms_text(obj)
        if text is not None:
            meter.tick(1)
            meter.alloc(OBJECT_BYTES + SLOT_BYTES * len(obj) + text)
            return
    if isinstance(obj, (dict, list, tuple, set, frozenset)):
        elements = _elements(obj, meter)
        if isinstance(obj, dict):
            for k, v in elements:
                if type(k) is not str:
                    _charge_walk(k, meter)
                elif len(k) > LONG_KEY:
                    meter.alloc(len(k))
                if type(v) not in _NUMBERS:
                    _charge_walk(v, meter)
            return
        for x in elements:
            if type(x) not in _NUMBERS:
                _charge_walk(x, meter)
        return
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        _charge_walk({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, meter)
    elif hasattr(obj, "model_dump"):
        _charge_fields(obj, meter)
        _charge_walk(obj.model_dump(mode="json"), meter)


def _all_dicts(types: Iterator[type]) -> bool:
    return _DICT_ONLY.issuperset(types)


_DICT_ONLY = frozenset({dict})
_STR_ONLY = frozenset({str})
_IS_STR = str.__instancecheck__
LONG_KEY = 256
"""A host map key longer than this is charged its length (it becomes a keyword's text) and
never cached; shorter keys are not charged (keywords are shared)."""
_dict_values = dict.values

_KEYWORD_OF_STR: dict[str, Keyword] = {}
KEYWORD_CACHE = _KEYWORD_OF_STR
"""``str → Keyword`` as ``keyword_of_str`` answers it (read-only for others: compiled code looks
keywords up here first)."""


def _keyword_of_key(key: Any) -> Any:
    if type(key) is not str:  # a number, or a tuple: charged to the run converting it, if any
        return from_python(key, active_meter())
    found = _KEYWORD_OF_STR.get(key)
    if found is None:
        if len(key) > LONG_KEY:  # never cached: charged to the run converting it, every time
            meter = active_meter()
            if meter is not None:
                meter.alloc(len(key))
            return Keyword.parse(key)
        found = Keyword.parse(key)
        if len(_KEYWORD_OF_STR) >= 100_000:  # bounded: keys come from host data; started
            _KEYWORD_OF_STR.clear()  # afresh, so a flood of one-off keys cannot freeze it
        _KEYWORD_OF_STR[key] = found
    return found


def keyword_of_str(text: str) -> Keyword:
    """``Keyword.parse(text)`` (``""`` → ``:``), cached for the strings seen most."""
    found = _KEYWORD_OF_STR.get(text)
    return found if found is not None else _keyword_of_key(text)


_PASS_THROUGH = frozenset(
    {int, float, str, bool, type(None), Keyword, Char, Symbol, Vector, List, Map, Set, Regex}
)


def to_python(value: Any) -> Any:
    """ptclisp values → JSON-like host data (dict with str keys, list, str, numbers, None).

    A collection met twice is converted once and shared in the result (a value of 40 nested
    ``[x x]`` vectors gives 40 lists, not 2**40)."""
    t = type(value)
    if t in _JSON_ATOMS:
        return value
    return _to_python(value, {})


def _to_python(value: Any, memo: dict[int, Any]) -> Any:
    t = type(value)
    if t in _JSON_ATOMS:
        return value
    if t is Keyword or t is Symbol:
        return value.qualified
    if t is Char:
        return value.ch
    done = memo.get(id(value))
    if done is not None:
        return done
    if isinstance(value, dict):
        out: Any = {_key_to_python(k): _to_python(v, memo) for k, v in value.items()}
    elif isinstance(value, (tuple, LazySeq, frozenset)):
        out = [_to_python(x, memo) for x in value]
    elif t is Regex:
        return value.source
    else:
        raise TypeError(f"a {_type_name(value)} cannot be passed to the host")
    memo[id(value)] = out
    return out


_JSON_ATOMS = frozenset({int, float, str, bool, type(None)})
_NUMBERS = frozenset({int, float, bool, type(None)})
"""The atoms conversion passes without charging (a string is charged its length)."""


def _key_to_python(key: Any) -> str:
    if type(key) is str:
        return key
    if type(key) in (Keyword, Symbol):
        return key.qualified
    converted = to_python(key)
    return converted if type(converted) is str else repr(key)


def _type_name(value: Any) -> str:
    return "function" if callable(value) else type(value).__name__


class OpHandle:
    """The value an async tool call returns: a reference to a pending operation."""

    __slots__ = ("op_id", "tool")

    def __init__(self, op_id: str, tool: str) -> None:
        self.op_id, self.tool = op_id, tool

    def __eq__(self, other: object) -> bool:
        return type(other) is OpHandle and other.op_id == self.op_id

    def __hash__(self) -> int:
        return hash(("op", self.op_id))

    def __repr__(self) -> str:
        return f'#op["{self.op_id}"]'

    __pr_str__ = __repr__
