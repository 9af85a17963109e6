"""The source text of a fn's Python module: ``Emitter`` turns one fn node into a factory.

Used by ``_compile_source``, which compiles and caches the text and runs the kernels; see its
docstring for which fns qualify and why the result is exact. Names in the emitted text:

    v1..vn     parameters and let locals (by frame slot)     c0..   captured values (c0: itself)
    k0..       constants too big or odd for a literal        s0..   call sites (see below)
    t0..       temporaries                                   ctx    the run context
    h0..       per-call-site caches of a callee's entry (see ``Emitter.entry_call``)
    m, d       the meter and the depth of the running call (``rec``'s parameters; a kernel's or
               loop's locals when its body calls other fns' entries)
    Map Set Vector List Reduced SIMPLE UNSET MISSING KEYWORDS  from the module's globals
"""

from __future__ import annotations

import itertools
import keyword
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._analyzer import ast as A
from .._errors import PtclispError
from .._limits import _OBJECT_BYTES, SLOT_BYTES
from .._values.types import Keyword, Map
from . import rt
from .calls import (
    host_keys,
    keyword_keys,
    positioned,
    positioned_dynamic,
    tool_caller,
    tool_keys_caller,
)

if TYPE_CHECKING:
    from .compiler import Compiler

__all__ = ["Code", "Direct", "Emitter", "NotExpression"]

T = TypeVar("T")


class NotExpression(Exception):
    """The body uses a node that has no expression form here: the closure compiler takes it."""


_BIG = 2**64
_NUMERIC_OPS = {"+": "+", "-": "-", "*": "*", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_INC_DEC = {"inc": "+ 1", "dec": "- 1"}


class Code:
    """A Python expression and whether it always yields a Python bool."""

    __slots__ = ("boolean", "text")

    def __init__(self, text: str, boolean: bool = False) -> None:
        self.text, self.boolean = text, boolean


class Direct:
    """A self-recursive fn's body with direct self-calls (``Emitter.direct_variant``): the
    body, each direct call's (line, column, name), and whether the body calls out."""

    __slots__ = ("body", "calls", "calls_out", "ints")

    def __init__(self, body: Code, calls: list[tuple[int, int, str]], calls_out: bool,
                 ints: tuple[list[int], Code] | None = None) -> None:
        self.body, self.calls, self.calls_out = body, calls, calls_out
        self.ints = ints
        """The tested parameters and the body for int arguments with int arithmetic on ints
        (``Emitter.int_copy``), when the body certainly yields an int for them."""


class Emitter:
    """Turns the body of one fn into a Python expression, collecting constants and call sites."""

    def __init__(self, node: A.Fn | A.For) -> None:
        self.node = node
        self.for_slots: set[int] | None = None
        """For a ``for``: the slots it binds (Python locals); any other slot is read from the
        enclosing frame ``f`` (constant while the ``for`` runs), a capture from ``f[0]``."""
        self.consts: list[Any] = []
        self.sites: list[Callable[[Compiler], Any]] = []
        self._temps = itertools.count()
        self.pure = True
        """No effect, no program code: evaluating the body twice is the same as once."""
        self.assume_maps = False
        """Read keywords with ``coll.get(k)`` alone: an AttributeError says coll is no map."""
        self.reads_keys = False
        self.direct: list[tuple[int, int, str]] | None = None
        """While ``direct_variant`` emits: the (line, column, name) of each direct self-call."""
        self.loop_slots: tuple[int, ...] | None = None
        """For a ``loop``: its slots (``recur`` rebinds them, as Python locals)."""
        self.loop_at = ""
        """For a ``loop``: the constant holding its (line, column)."""
        self.calls_out = False
        """``direct_variant``'s body calls a site that may run program code or read the depth
        (anything but a pure site: a global, a builtin as a value, a numeric fallback)."""
        self.int_slots: set[int] | None = None
        """While ``int_copy`` emits: the parameters known to hold Python ints."""
        self.holders = 0
        """Call sites of other fns' entries (``entry_call``): each has a cache ``hN``."""
        self.body_calls_out = True
        """Whether the plain body (not ``direct_variant``'s) calls out (see ``calls_out``)."""
        self.self_calls = False
        """A call of capture 0 with the fn's arity was emitted (``direct_variant`` has work)."""

    @property
    def fn(self) -> A.Fn:
        """The fn being emitted: ``module`` is for fns (a ``for`` only emits clauses)."""
        assert isinstance(self.node, A.Fn)
        return self.node

    def fast_variant(self, body: A.Node) -> Code | None:
        """The body again, reading every keyword as from a map, when that is worth having and
        safe to undo: a pure body whose fast kernel failed is simply run again exactly."""
        return self._assuming_maps(lambda: self.expr(body))

    def direct_variant(self, body: A.Node) -> Direct | None:
        """The body again, for a named fn that calls itself by name with its own arity: each
        such call becomes ``rec(args, m, d, at)``, a Python call of the fn's entry
        (``_rec_lines``) instead of a call site and the closure; ``at`` is the constant
        holding the call's (line, column, name). None when the body has no such call."""
        if not (isinstance(self.node, A.Fn) and self.node.named and self.self_calls):
            return None
        self.direct, self.calls_out = [], False
        try:
            code = self.expr(body)
            if not self.direct:
                return None
            ints = self.int_copy(body, code.text)
            return Direct(code, self.direct, self.calls_out, ints)
        finally:
            self.direct = None

    def int_copy(self, body: A.Node, text: str) -> tuple[list[int], Code] | None:
        """For ``direct_variant``: the body again for calls whose tested parameters (``type(vN)
        is int`` in ``text``) hold ints, when it then certainly yields an int (``int_valued``,
        assuming the same of each direct self-call with such arguments: by induction on the
        calls, it holds). ``+``, ``-``, ``inc``, ``dec`` and comparisons with an int constant
        of such values need no type test there: Python's int arithmetic is theirs."""
        nparams = self.fn.arities[0].nparams
        tested = [i for i in range(1, nparams + 1) if f"type(v{i}) is int" in text]
        if not tested:
            return None
        self.int_slots = set(tested)
        try:
            if not self.int_valued(body):
                return None
            return tested, self.expr(body)
        finally:
            self.int_slots = None

    def int_valued(self, node: A.Node) -> bool:
        """While ``int_copy`` emits: whether ``node`` certainly yields a Python int (a bool is
        not one)."""
        slots = self.int_slots
        if slots is None:
            return False
        if isinstance(node, A.Const):
            return type(node.value) is int
        if isinstance(node, A.Local):
            return node.slot in slots
        if isinstance(node, A.If):
            return self.int_valued(node.then) and self.int_valued(node.orelse)
        if isinstance(node, A.Do):
            return bool(node.body) and self.int_valued(node.body[-1])
        if not isinstance(node, A.Call):
            return False
        fn, args = node.fn, node.args
        if isinstance(fn, A.Builtin):
            arity = 2 if fn.name in ("+", "-") else 1 if fn.name in _INC_DEC else 0
            return len(args) == arity and all(self.int_valued(a) for a in args)
        if isinstance(fn, A.Captured) and fn.index == 0 and self.direct is not None and \
                len(args) == self.fn.arities[0].nparams:  # a direct self-call
            return all(self.int_valued(args[slot - 1]) for slot in slots)
        return False

    def fast_for(self, node: A.For) -> tuple[int, Code, str] | None:
        """``for_clause`` again with keywords read as from maps (see ``fast_variant``)."""
        return self._assuming_maps(lambda: self.for_clause(node))

    def _assuming_maps(self, emit: Callable[[], T]) -> T | None:
        if not (self.pure and self.reads_keys):
            return None
        self.assume_maps = True
        try:
            return emit()
        finally:
            self.assume_maps = False

    def loop_body(self, node: A.Loop) -> Code:
        """A ``loop``'s body as one expression: ``recur`` becomes assignments to the loop's
        slots (Python locals) and yields ``RECUR``; other slots are read from the frame ``f``
        the closure loop ran in. Only loops without destructuring (no ``prologue``)."""
        if node.prologue:
            raise NotExpression("loop with destructuring")
        self.loop_slots = node.slots
        self.for_slots = set(node.slots)
        body = self.expr(node.body)
        self.loop_at = self.const((node.line, node.column))  # the text stays position-free
        return body

    def loop_module(self, body: Code) -> str:
        """A module whose ``factory(...)()`` is ``loop_(f)``: the loop from the values its
        slots hold in ``f`` (the closure loop hands over between two iterations), charging a
        step per ``recur`` as the closure loop does (a limit error at the loop's position)."""
        loop = self.node
        assert isinstance(loop, A.Loop)
        consts = "".join(f", k{i}" for i in range(len(self.consts)))
        sites = "".join(f", s{i}" for i in range(len(self.sites)))
        lines = [f"def factory(ctx, ns{consts}{sites}):", "    def make():",
                 *self._holder_lines(), "        def loop_(f):",
                 "            m = ctx.meter"]
        if self.holders:
            lines.append("            d = m.depth")
        lines += [f"            v{slot} = f[{slot}]" for slot in loop.slots]
        lines += ["            while True:",
                  f"                r = {body.text}",
                  "                if r is not RECUR:",
                  "                    return r",
                  "                m.fuel -= 1",
                  "                if m.fuel < 0:",
                  f"                    refuel_at(m, *{self.loop_at})",
                  "        return loop_",
                  "    return make"]
        return "\n".join(lines) + "\n"

    def recur(self, node: A.Recur) -> Code:
        """``recur`` in the loop being emitted: every argument is evaluated, then the slots are
        assigned (as the closure's ``recur``), and the value is ``RECUR``."""
        if self.loop_slots is None or node.slots != self.loop_slots:
            raise NotExpression("recur")
        if not node.args:
            return Code("RECUR")
        *first, last = [self.expr(a).text for a in node.args]
        temps = [self.temp() for _ in first]
        parts = [f"({t} := {text}) is not UNSET" for t, text in zip(temps, first)]
        parts.append(f"(v{node.slots[-1]} := {last}) is not UNSET")
        parts += [f"(v{slot} := {t}) is not UNSET" for slot, t in zip(node.slots, temps)]
        return Code(f"(RECUR if {' and '.join(parts)} else RECUR)")

    def for_module(self, clause: tuple[int, Code, str],
                   fast: tuple[int, Code, str] | None) -> str:
        """A module whose ``factory(...)()`` is ``for_each(part, xs, f)``: the items of a
        collecting ``for`` over the batch, with the enclosing frame ``f``."""
        consts = "".join(f", k{i}" for i in range(len(self.consts)))
        sites = "".join(f", s{i}" for i in range(len(self.sites)))
        lines = [f"def factory(ctx, ns{consts}{sites}):", "    def make():",
                 *self._holder_lines(), "        def for_each(part, xs, f):",
                 *self._entry_prelude()]
        if fast is not None:
            lines += ["            try:", f"                return {_comprehension(fast, 'part')}",
                      "            except Exception:", "                pass"]
        lines += [f"            return {_comprehension(clause, 'xs')}", "        return for_each",
                  "    return make"]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------ the module text

    def module(self, kind: str, body: Code, fast: Code | None,
               direct: Direct | None = None) -> str | None:
        """The text of a module whose ``factory(ctx, ns, *consts, *sites)`` returns
        ``make(*captured)``, which returns the fn (``kind="fn"``) or one of its kernels; None
        when the fn has no such kernel. A kernel's ``make`` takes a named fn's own value as c0;
        the fn's ``make`` defines it."""
        nparams = self.fn.arities[0].nparams
        if kind in ("fn", "hot"):  # hot: a closure's stand-in (its value stays the named c0)
            lines = self._rec_lines(direct, body, named=kind == "fn")
        elif kind == "fold" and nparams == 2:
            lines = self._fold_lines(body)
        elif kind in ("keep", "each", "find") and nparams == 1:
            lines = self._one_param_lines(kind, body, fast)
        else:
            return None
        consts = "".join(f", k{i}" for i in range(len(self.consts)))
        sites = "".join(f", s{i}" for i in range(len(self.sites)))
        first = 1 if self.fn.named and kind == "fn" else 0
        last = len(self.fn.captures) + (1 if self.fn.named else 0)
        captured = ", ".join(f"c{i}" for i in range(first, last))
        head = [f"def factory(ctx, ns{consts}{sites}):", f"    def make({captured}):",
                *self._holder_lines()]
        made = "fn" if kind == "hot" else kind
        return "\n".join(head + lines + [f"        return {made}", "    return make"]) + "\n"

    def _holder_lines(self) -> list[str]:
        """``make``'s per-site caches of the entries its calls of other fns reach
        (``entry_call``): (callee, entry), none at first."""
        return [f"        h{i} = [NOHIT]" for i in range(self.holders)]

    def _entry_prelude(self) -> list[str]:
        """A kernel's meter and depth (constant while it runs: every call returns to it),
        for the calls its body makes of other fns' entries (``entry_call``)."""
        return ["            m = ctx.meter", "            d = m.depth"] if self.holders else []

    def _rec_lines(self, direct: Direct | None, body: Code, named: bool) -> list[str]:
        """A fn as its *entry* ``rec(args, m, d, at_)`` and ``fn``, the value's Python function,
        which enters it. ``rec`` charges a call as a closure does — a level of depth, a step
        (``d`` is the caller's depth; ``m.levels[d]`` the call's, which its calls pass on: past
        the end of that table, ``deeper`` charges the step and raises ``depth_limit``, or grows
        the table and makes the call again; ``f``, assigned next, is unbound only then) — and
        converts
        an error escaping it as the closure's call site does, at ``at_`` (the call's (line,
        column, name), None when entered from ``fn``: the caller's site positions it). The
        body's direct self-calls enter it again (``direct_variant``), and compiled calls of
        other fns enter their entries (``entry_call``): one Python frame per ptclisp call.
        ``m.depth`` holds the depth while the body runs, as the closure's increment does,
        unless nothing in the body reads it (no call out but pure sites and direct self-calls,
        ``Direct.calls_out``): then only ``d`` tracks it. ``fn.ptclisp_entry`` offers the
        entry to the call sites of other compiled fns; ``rec.ctx`` tells them whose it is."""
        params = ", ".join(f"v{i}" for i in range(1, self.fn.arities[0].nparams + 1))
        comma = ", " if params else ""
        lines: list[str] = []
        if direct is None:
            lines += self._rec_function(self.body_calls_out, "rec",
                                        [f"                r = {body.text}"])
        else:
            if direct.ints and "rec_i(" in direct.ints[1].text:  # the int copy's own function
                lines += self._rec_function(direct.calls_out, "rec_i", _int_lines(
                    direct.ints[1].text, direct.ints[0]))
            lines += self._rec_function(direct.calls_out, "rec", (
                _int_lines(direct.ints[1].text, direct.ints[0], direct.body) if direct.ints else
                _int_specialized(direct.body.text, self.fn.arities[0].nparams)))
        lines += [
            f"        def fn({params}):",
            "            m = ctx.meter",
            f"            return rec({params}{comma}m, m.depth, None)",
            "        fn.ptclisp_entry = rec",
            "        rec.ctx = ctx",
        ]
        return [*lines, "        c0 = fn"] if named and self.fn.named else lines

    def _rec_function(self, keep: bool, name: str, body: list[str]) -> list[str]:
        """``rec`` (or ``rec_i``, entered only with ints in the tested parameters: the int
        copy's calls with such arguments) with ``body`` (``r = ...`` lines) inside; ``keep``:
        the depth is kept on the meter while the body runs."""
        params = ", ".join(f"v{i}" for i in range(1, self.fn.arities[0].nparams + 1))
        if not keep:  # nothing to do after the body: return its value from inside the try
            body = [line.replace("r = ", "return ", 1) if line.lstrip().startswith("r = ")
                    else line for line in body]
        comma, tail = (", ", ",") if params else ("", "")
        return [
            f"        def {name}({params}{comma}m, d, at_):",
            "            try:",
            "                d = m.levels[d]",
            "                f = m.fuel = m.fuel - 1",
            "                if f < 0:",
            "                    m.refuel()",
            *(["                m.depth = d"] if keep else []),
            *body,
            "            except PtclispError as e:",
            "                if at_ is None:",
            "                    raise",
            "                raise e.at(at_[0], at_[1]) from None",
            "            except Exception as e:",
            "                if type(e) is IndexError and 'f' not in locals():  # levels[d]",
            f"                    return deeper({name}, ({params}{tail}), m, d, at_)",
            "                if at_ is None:",
            "                    raise",
            "                me = getattr(fn, 'ptclisp_self', fn)",
            ("                raise convert_exception(e, getattr(me, 'ptclisp_name', None) or "
             f"at_[2], at_[0], at_[1], me, ({params}{tail})) from e"),
            *(["            m.depth = d - 1", "            return r"] if keep else []),
        ]

    def _fold_lines(self, body: Code) -> list[str]:
        return [
            "        def fold(part, xs, v1):",
            *self._entry_prelude(),
            "            for v2 in xs:",
            f"                v1 = {body.text}",
            "                if type(v1) is Reduced:",
            "                    break",
            "            return v1",
        ]

    def _one_param_lines(self, kind: str, body: Code, fast: Code | None) -> list[str]:
        """keep and each: comprehensions (C-level appends) over the batch iterator ``xs``;
        find (some, every?): a loop that stops at the first value of the wanted truth. The
        analyzer never rebinds a parameter's slot (only recur would), so the loop variable v1
        is never assigned inside. A fast variant runs first, over the batch tuple ``part``; any
        exception sends the batch to the exact loop (the body is pure)."""
        if kind == "find":
            truth = f"(r_ := {body.text}) is not None and r_ is not False"
            return [
                "        def find(part, xs, want):",
                *self._entry_prelude(),
                "            for v1 in xs:",
                f"                if ({truth}) is want:",
                "                    return r_",
                "            return UNSET",
            ]
        signature = "keep(part, xs, want)" if kind == "keep" else "each(part, xs)"
        lines = [f"        def {signature}:", *self._entry_prelude()]
        if fast is not None:
            lines += ["            try:"]
            lines += ["    " + line for line in self._comprehension(kind, fast, "part")]
            lines += ["            except Exception:", "                pass"]
        return lines + self._comprehension(kind, body, "xs")

    def _comprehension(self, kind: str, body: Code, items: str) -> list[str]:
        if kind == "each":
            return [f"            return [{body.text} for v1 in {items}]"]
        test = self.truthy(body)
        return [
            "            if want:",
            f"                return [v1 for v1 in {items} if {test}]",
            f"            return [v1 for v1 in {items} if not {test}]",
        ]

    # ------------------------------------------------------------ helpers

    def temp(self) -> str:
        return f"t{next(self._temps)}"

    def const(self, value: Any) -> str:
        if value is None or type(value) is bool:
            return repr(value)
        if (type(value) is int and abs(value) < 2**63) or (type(value) is str and len(value) < 80):
            return repr(value)  # a literal in the source; huge ones stay arguments
        if type(value) is float and math.isfinite(value):
            return repr(value)
        for i, known in enumerate(self.consts):
            if known is value:
                return f"k{i}"
        self.consts.append(value)
        return f"k{len(self.consts) - 1}"

    def site(self, make: Callable[[Compiler], Any], pure: bool = False) -> str:
        """A call site; ``pure``: calling it has no effect and runs no program code."""
        self.pure = self.pure and pure
        self.calls_out = self.calls_out or not pure
        self.sites.append(make)
        return f"s{len(self.sites) - 1}"

    def truthy(self, code: Code) -> str:
        if code.boolean:
            return code.text
        t = self.temp()
        return f"(({t} := {code.text}) is not None and {t} is not False)"

    def bound(self, code: Code) -> tuple[str, str]:
        """(name, binding) so the value can be used twice: a bare name needs no temp."""
        if code.text.isidentifier() and not keyword.iskeyword(code.text):  # not None/True
            return code.text, code.text
        t = self.temp()
        return t, f"({t} := {code.text})"

    # ------------------------------------------------------------ nodes

    def expr(self, node: A.Node) -> Code:
        method = _NODES.get(type(node))
        if method is None:
            raise NotExpression(type(node).__name__)
        return method(self, node)

    def const_node(self, node: A.Const) -> Code:
        return Code(self.const(node.value), type(node.value) is bool)

    def local(self, node: A.Local) -> Code:
        if self.for_slots is not None and node.slot not in self.for_slots:
            return Code(f"f[{node.slot}]")
        return Code(f"v{node.slot}")

    def captured(self, node: A.Captured) -> Code:
        if self.for_slots is not None:
            return Code(f"f[0][{node.index}]")
        return Code(f"c{node.index}")

    def reference(self, node: A.Global | A.DataRef) -> Code:
        site = self.site(_reader(node), pure=True)
        if isinstance(node, A.Global):  # read in place; the site raises the unbound error
            t = self.temp()
            return Code(f"({t} if ({t} := ns.get({node.name!r}, UNSET)) is not UNSET "
                        f"else {site}(None))")
        return Code(f"{site}(None)")

    def builtin(self, node: A.Builtin | A.RunFn) -> Code:
        if node.name in ("*1", "*2", "*3"):
            raise NotExpression(node.name)
        return Code(self.site(_resolved(node), pure=True))

    def if_(self, node: A.If) -> Code:
        test = self.truthy(self.expr(node.test))
        then, orelse = self.expr(node.then), self.expr(node.orelse)
        return Code(f"({then.text} if {test} else {orelse.text})",
                     then.boolean and orelse.boolean)

    def and_(self, node: A.And) -> Code:
        return self._chain(node.items, falsy_stops=True)

    def or_(self, node: A.Or) -> Code:
        return self._chain(node.items, falsy_stops=False)

    def _chain(self, items: tuple[A.Node, ...], falsy_stops: bool) -> Code:
        """and/or: Python's own operator where the tested value is a bool (then Python's and
        Clojure's truthiness agree), an explicit nil/false test elsewhere."""
        codes = [self.expr(i) for i in items]
        text = codes[-1].text
        for code in reversed(codes[:-1]):
            if code.boolean:
                text = f"({code.text} {'and' if falsy_stops else 'or'} {text})"
                continue
            t = self.temp()
            stop = f"({t} := {code.text}) is None or {t} is False"
            if not falsy_stops:
                stop = f"({t} := {code.text}) is not None and {t} is not False"
            text = f"({t} if {stop} else {text})"
        return Code(text, all(c.boolean for c in codes))

    def do(self, node: A.Do) -> Code:
        codes = [self.expr(n) for n in node.body]
        if len(codes) == 1:
            return codes[0]
        return Code("(" + ", ".join(c.text for c in codes) + ")[-1]", codes[-1].boolean)

    def let(self, node: A.Let) -> Code:
        binds = self._binds(node.binds)
        body = self.expr(node.body)
        return Code(f"({body.text} if {' and '.join(binds)} else UNSET)", body.boolean)

    def _binds(self, binds: tuple[A.Bind, ...] | list[A.Bind]) -> list[str]:
        """``_bind`` of each, a destructured key's two binds (its lookup, then nil for a
        missing key) as one (``_key_bind``)."""
        out, i = [], 0
        while i < len(binds):
            fused = self._key_bind(binds[i], binds[i + 1]) if i + 1 < len(binds) else None
            if fused is not None:
                out.append(fused)
                i += 2
                continue
            out.append(self._bind(binds[i]))
            i += 1
        return out

    def _key_bind(self, lookup: A.Bind, nil: A.Bind) -> str | None:
        """``{:keys [a]}``'s ``a`` := ``get_key(m, :a)`` then ``a`` := ``missing_to_nil(a)``
        (no ``:or`` default) as one bind: ``m.get(:a)`` when ``m`` is a map (nil when
        missing, as the pair gives), else the pair through the helper."""
        call, after = lookup.expr, nil.expr
        if not (type(call) is A.Call and type(call.fn) is A.Const and
                call.fn.value is rt.get_key and len(call.args) == 2 and
                type(call.args[1]) is A.Const and type(call.args[1].value) in (Keyword, str, int)
                and type(after) is A.Call and type(after.fn) is A.Const and
                after.fn.value is rt.missing_to_nil and len(after.args) == 1 and
                type(after.args[0]) is A.Local and after.args[0].slot == lookup.slot == nil.slot):
            return None
        coll, bind = self.bound(self.expr(call.args[0]))
        k, t = self.const(call.args[1].value), self.temp()
        helper = rt.get_key
        site = self.site(_known_call(lambda compiler: helper, _name_of(helper), call))
        if self.for_slots is not None:
            self.for_slots.add(lookup.slot)
        return (f"(v{lookup.slot} := ({coll}.get({k}) if type({bind}) is Map else "
                f"(None if ({t} := {site}({coll}, {k})) is MISSING else {t}))) is not UNSET")

    def _bind(self, bind: A.Bind) -> str:
        """``(vN := expr) is not UNSET``: always true, binds slot N for what follows."""
        text = self.expr(bind.expr).text
        if self.for_slots is not None:
            self.for_slots.add(bind.slot)
        return f"(v{bind.slot} := {text}) is not UNSET"

    def for_clause(self, node: A.For) -> tuple[int, Code, str]:
        """A collecting ``for`` over one binding (destructuring or not), with :let/:when after
        it, as the parts of a comprehension: (binding slot, body, condition or "")."""
        binding, *modifiers = node.clauses
        if not (node.collect and isinstance(binding, A.ForBinding)):
            raise NotExpression("for")
        assert self.for_slots is not None
        self.for_slots.add(binding.slot)
        # a destructuring binding's prologue runs first, as binds (charging nothing, as there)
        conditions = self._binds(binding.prologue)
        for clause in modifiers:
            if isinstance(clause, A.ForLet):
                conditions += self._binds(clause.binds)
            elif isinstance(clause, A.ForWhen):
                conditions.append(self.truthy(self.expr(clause.test)))
            else:
                raise NotExpression(type(clause).__name__)  # :while, a second binding
        return binding.slot, self.expr(node.body), " and ".join(conditions)

    def vector_lit(self, node: A.VectorLit) -> Code:
        return self._literal("Vector", node.items)

    def set_lit(self, node: A.SetLit) -> Code:
        return self._literal("Set", node.items)

    def _literal(self, cls: str, items: tuple[A.Node, ...]) -> Code:
        self.pure = False  # charges memory
        parts = "".join(self.expr(i).text + ", " for i in items)
        return Code(f"(ctx.meter.alloc({_items_bytes(len(items))}) or {cls}(({parts})))")

    def map_lit(self, node: A.MapLit) -> Code:
        self.pure = False  # charges memory
        # a dict display (keys and values evaluated in order; a repeated key keeps its first
        # object and its last value, as the pairs did): one dict less than Map(pairs)
        parts = ", ".join(f"{self.expr(k).text}: {self.expr(v).text}" for k, v in node.pairs)
        return Code(f"(ctx.meter.alloc({_items_bytes(2 * len(node.pairs))}) or Map({{{parts}}}))")

    def tool_call(self, node: A.ToolCall) -> Code:
        arg = node.arg
        keywords = keyword_keys(arg)
        if keywords is not None:  # the tool's argument dict instead of the map
            site = self.site(_tool_keys_caller(node, keywords))
            if isinstance(arg, A.Const):  # a constant map of atoms: a new dict per call
                pairs = tuple(zip(host_keys(keywords), arg.value.values()))
                return Code(f"{site}(dict({self.const(pairs)}))")
            keys = [self.const(k) for k in host_keys(keywords)]
            assert isinstance(arg, A.MapLit)
            self.pure = False  # charges memory
            items = ", ".join(f"{k}: {self.expr(v).text}" for k, (_, v) in zip(keys, arg.pairs))
            return Code(f"(ctx.meter.alloc({_items_bytes(2 * len(arg.pairs))}) or "
                        f"{site}({{{items}}}))")
        text = self.expr(arg).text if arg is not None else "None"
        return Code(f"{self.site(_tool_caller(node))}({text})")

    # ------------------------------------------------------------ calls

    def call(self, node: A.Call) -> Code:
        fn = node.fn
        if isinstance(fn, A.Const) and type(fn.value) is Keyword and 1 <= len(node.args) <= 2:
            return self._keyword_call(fn.value, node.args)
        if isinstance(fn, A.Const) and _is_helper(fn.value):
            inlined = self._destructuring(fn.value, node)
            if inlined is not None:
                return inlined
        if isinstance(fn, A.Builtin) and fn.name not in ("*1", "*2", "*3"):
            inlined = self._inline_builtin(fn.name, node)
            if inlined is not None:
                return inlined
        if isinstance(fn, (A.Builtin, A.RunFn)):
            if fn.name in ("*1", "*2", "*3"):
                raise NotExpression(fn.name)
            site = self.site(_known_call(_resolved(fn), fn.name, node))
            return Code(f"{site}({self._args(node.args)})")
        if isinstance(fn, A.Const):
            value = fn.value
            site = self.site(_known_call(lambda compiler: value, _name_of(value), node))
            return Code(f"{site}({self._args(node.args)})")
        if isinstance(fn, A.Captured) and fn.index == 0 and isinstance(self.node, A.Fn) and \
                len(node.args) == self.fn.arities[0].nparams:
            self.self_calls = True
        if self.direct is not None and isinstance(fn, A.Captured) and fn.index == 0 and \
                len(node.args) == self.fn.arities[0].nparams:
            self.direct.append((node.line, node.column, fn.name))
            # the position is a factory constant: the module text does not depend on where
            # the fn sits in the program
            at = self.const((node.line, node.column, fn.name))
            args = self._args(node.args)
            # in the int copy, ints in the tested parameters enter rec_i (no type test)
            slots = self.int_slots
            rec = "rec_i" if slots and all(self.int_valued(node.args[i - 1]) for i in slots) \
                else "rec"
            return Code(f"{rec}({args}{', ' if args else ''}m, d, {at})")
        if isinstance(fn, (A.Global, A.Local, A.Captured)):
            return self.entry_call(fn, node)
        callee = self.expr(fn).text
        name = fn.name if isinstance(fn, (A.Global, A.Local, A.Captured)) else "fn"
        site = self.site(_dynamic_call(name, node))
        args = self._args(node.args)
        return Code(f"{site}({callee}{', ' if args else ''}{args})")

    def entry_call(self, fn: A.Global | A.Local | A.Captured, node: A.Call) -> Code:
        """A call of a fn held by a name: straight into the callee's entry (``_rec_lines``)
        when the site's cache ``hN`` holds this callee, else through ``_entry_miss``, which
        calls it as the closure compiler's site does and caches the callee's entry when it
        has one for this run context and argument count (or the site itself, for any other
        callee). The callee is evaluated first, then the arguments, as by the site. The call
        counts as a call out (the entry may keep the depth on the meter)."""
        h = f"h{self.holders}"
        self.holders += 1
        self.calls_out = True
        miss = self.site(_entry_miss(fn.name, node))
        at = self.const((node.line, node.column, fn.name))
        g, t = self.temp(), self.temp()
        callee = self.expr(fn).text
        args = self._args(node.args)
        rest = f"{args}{', ' if args else ''}m, d, {at}"
        return Code(f"({t}[1]({rest}) if ({t} := {h}[0])[0] is ({g} := {callee}) "
                    f"else {miss}({h}, {g}, {rest}))")

    def _args(self, args: tuple[A.Node, ...]) -> str:
        return ", ".join(self.expr(a).text for a in args)

    def _keyword_call(self, key: Keyword, args: tuple[A.Node, ...]) -> Code:
        self.reads_keys = True
        k = self.const(key)
        if self.assume_maps:
            default = f", {self.expr(args[1]).text}" if len(args) == 2 else ""
            return Code(f"{self.expr(args[0]).text}.get({k}{default})")
        coll, bind = self.bound(self.expr(args[0]))
        if len(args) == 1:
            return Code(f"({coll}.get({k}) if type({bind}) is Map else {k}({coll}))")
        default, dbind = self.bound(self.expr(args[1]))
        # & (not and): the default is evaluated whatever the collection is, after it
        return Code(f"({coll}.get({k}, {default}) if (type({bind}) is Map) & "
                     f"({dbind} is not UNSET) else {k}({coll}, {default}))")

    def _inline_builtin(self, name: str, node: A.Call) -> Code | None:
        args = node.args
        if name == "=" and len(args) == 2:
            return self._equals(args, node)
        if name in _NUMERIC_OPS and len(args) == 2:
            return self._numeric(name, args, node)
        if name in _INC_DEC and len(args) == 1:
            if self.int_valued(args[0]):  # int_copy: an int
                return Code(f"({self.expr(args[0]).text} {_INC_DEC[name]})")
            x, bind = self.bound(self.expr(args[0]))
            tt, slow = self.temp(), self._slow(name, node)
            return Code(f"({x} {_INC_DEC[name]} if ({tt} := type({bind})) is int or {tt} is float "
                         f"else {slow}({x}))")
        if name == "not" and len(args) == 1:
            code = self.expr(args[0])
            if code.boolean:
                return Code(f"(not {code.text})", True)
            t = self.temp()
            return Code(f"(({t} := {code.text}) is None or {t} is False)", True)
        if name in ("nil?", "some?") and len(args) == 1:
            op = "is" if name == "nil?" else "is not"
            return Code(f"({self.bound(self.expr(args[0]))[1]} {op} None)", True)
        if name == "get" and len(args) in (2, 3):
            return self._get(node)
        if name == "keyword" and len(args) == 1:
            x, bind = self.bound(self.expr(args[0]))
            t, slow = self.temp(), self._charging("keyword", node)
            # the cache holds keyword_of_str's answers: the same interned keyword
            return Code(f"(({t} := KEYWORDS.get({x})) or {slow}({x}) if type({bind}) is str "
                        f"else {slow}({x}))")
        if name == "assoc" and len(args) == 3:
            key = args[1]
            if isinstance(key, A.Const) and _simple_const(key):  # the key's test made here
                site = self.site(_assoc_site(_resolved(A.Builtin("assoc")), node, key.value))
                return Code(f"{site}({self.expr(args[0]).text}, {self.expr(args[2]).text})")
            site = self.site(_assoc_site(_resolved(A.Builtin("assoc")), node))
            return Code(f"{site}({self._args(args)})")
        return None

    def _get(self, node: A.Call) -> Code:
        """``(get m k)``/``(get m k d)``: ``m.get`` on a map and a key whose hash charges
        nothing (the builtin does the same); anything else calls the builtin. Every argument
        is evaluated, in order, before either (``&`` evaluates both sides)."""
        slow = self._charging("get", node)
        parts = [self._operand(a) for a in node.args]
        names = [name for name, _ in parts]
        (m, mb), kb = parts[0], parts[1][1]
        test = f"(type({mb}) is Map)"
        if not _simple_const(node.args[1]):
            test += f" & (type({kb}) in SIMPLE)"
        if len(parts) == 3 and not isinstance(node.args[2], A.Const):
            test += f" & ({parts[2][1]} is not UNSET)"
        return Code(f"({m}.get({', '.join(names[1:])}) if {test} "
                    f"else {slow}({', '.join(names)}))")

    def _operand(self, node: A.Node) -> tuple[str, str]:
        """``bound``, a constant as its literal (reading it has no effect: no temp needed)."""
        if isinstance(node, A.Const):
            text = self.const(node.value)
            return text, text
        return self.bound(self.expr(node))

    def _destructuring(self, helper: Any, node: A.Call) -> Code | None:
        """The destructuring helpers of ``_rt`` for the cases that are one Python test: a map
        stays itself, a key is read with ``get``, MISSING becomes nil."""
        args = node.args
        if helper is rt.missing_to_nil and len(args) == 1:
            x, bind = self.bound(self.expr(args[0]))
            return Code(f"(None if {bind} is MISSING else {x})")
        if helper is rt.is_missing and len(args) == 1:
            return Code(f"({self.expr(args[0]).text} is MISSING)", True)
        site = self.site(_known_call(lambda compiler: helper, _name_of(helper), node))
        if helper is rt.as_map and len(args) == 1:
            x, bind = self.bound(self.expr(args[0]))
            return Code(f"({x} if type({bind}) is Map else {site}({x}))")
        if helper is rt.get_key and len(args) == 2 and isinstance(args[1], A.Const) and \
                type(args[1].value) in (Keyword, str, int):
            coll, bind = self.bound(self.expr(args[0]))
            k = self.const(args[1].value)
            return Code(f"({coll}.get({k}, MISSING) if type({bind}) is Map "
                        f"else {site}({coll}, {k}))")
        if helper is rt.nth_or_nil and len(args) == 2 and isinstance(args[1], A.Const) and \
                type(args[1].value) is int and args[1].value >= 0:
            coll, bind = self.bound(self.expr(args[0]))
            i, t = args[1].value, self.temp()
            return Code(f"({coll}[{i}] if (({t} := type({bind})) is Vector or {t} is List) "
                        f"and len({coll}) > {i} else {site}({coll}, {i}))")
        return Code(f"{site}({self._args(args)})")

    def _slow(self, name: str, node: A.Call) -> str:
        """The builtin for the types an inlined operator leaves to it. Numeric builtins only
        check types and compute; ``=`` may realize a lazy seq (running program code)."""
        return self.site(_known_call(_resolved(A.Builtin(name)), name, node), pure=name != "=")

    def _charging(self, name: str, node: A.Call) -> str:
        """The builtin as a site that is not pure: it may charge steps (hashing a collection
        key), so a body calling it has no fast variant (which may run an item twice)."""
        return self.site(_known_call(_resolved(A.Builtin(name)), name, node))

    def _equals(self, args: tuple[A.Node, ...], node: A.Call) -> Code:
        left, right = args
        if isinstance(left, A.Const) and not isinstance(right, A.Const):
            left, right = right, left  # = is symmetric, and reading a constant has no effect
        if isinstance(right, A.Const):
            value = right.value
            if type(value) is str:  # only an equal str is == to a str among ptclisp values
                return Code(f"({self.expr(left).text} == {self.const(value)})", True)
            x = self.bound(self.expr(left))[1]  # never a literal left of "is"
            if value is None or type(value) in (bool, Keyword):  # interned: identity
                return Code(f"({x} is {self.const(value)})", True)
            if type(value) in (int, float):
                t, slow = self.temp(), self._slow("=", node)
                k = self.const(value)
                return Code(f"({t} == {k} if type({t} := {x}) is {type(value).__name__} "
                             f"else {slow}({t}, {k}))")
        (a, x), (b, y) = self.bound(self.expr(left)), self.bound(self.expr(right))
        ta, slow = self.temp(), self._slow("=", node)
        # "or a is b": an identical NaN is = to itself, as in the closure compiler and Clojure
        return Code(f"({a} == {b} or {a} is {b} if ({ta} := type({x})) is type({y}) "
                     f"and {ta} in SIMPLE else {slow}({a}, {b}))")

    def _numeric(self, name: str, args: tuple[A.Node, ...], node: A.Call) -> Code:
        op, slow = _NUMERIC_OPS[name], self._slow(name, node)
        left, right = args
        boolean = op in ("<", ">", "<=", ">=")
        if name == "*":
            return self._multiply(args, slow)
        if self.int_valued(left) and self.int_valued(right):  # int_copy: two ints
            return Code(f"({self.expr(left).text} {op} {self.expr(right).text})", boolean)
        if isinstance(right, A.Const) and type(right.value) in (int, float):
            (a, x), k = self.bound(self.expr(left)), self.const(right.value)
            return Code(f"({a} {op} {k} if type({x}) is {type(right.value).__name__} "
                         f"else {slow}({a}, {k}))", boolean)
        (a, x), (b, y) = self.bound(self.expr(left)), self.bound(self.expr(right))
        ta = self.temp()
        return Code(f"({a} {op} {b} if ({ta} := type({x})) is type({y}) "
                     f"and ({ta} is int or {ta} is float) else {slow}({a}, {b}))", boolean)

    def _multiply(self, args: tuple[A.Node, ...], slow: str) -> Code:
        """``*`` inline for floats and ints under 2**64; big ints go to the builtin, which
        checks the product's size and charges its time before the C multiplication."""
        (a, x), (b, y) = self.bound(self.expr(args[0])), self.bound(self.expr(args[1]))
        ta = self.temp()
        return Code(f"({a} * {b} if ({ta} := type({x})) is type({y}) and ({ta} is float or "
                    f"({ta} is int and -{_BIG} < {a} < {_BIG} and -{_BIG} < {b} < {_BIG})) "
                    f"else {slow}({a}, {b}))")


def _simple_const(node: A.Node) -> bool:
    """A constant whose type is in SIMPLE (its hash charges nothing)."""
    return isinstance(node, A.Const) and type(node.value) in (int, str, float, Keyword)


def _items_bytes(count: int) -> int:
    """What ``Meter.alloc_items(count)`` charges, computed once here (one call less)."""
    return _OBJECT_BYTES + SLOT_BYTES * count


def _int_specialized(body: str, nparams: int) -> list[str]:
    """``r = body`` in ``rec``, preceded by a copy for int arguments where the body tests
    them: ``type(vN) is int`` is then ``True`` (parameters are never rebound), so Python
    drops those tests — fib's parameter is tested three times per call."""
    tested = [f"type(v{i}) is int" for i in range(1, nparams + 1) if f"type(v{i}) is int" in body]
    if not tested or "'" in body or '"' in body:  # a string literal could hold the text
        return [f"                r = {body}"]
    fast = body
    for test in tested:
        fast = fast.replace(test, "True")
    return [f"                if {' and '.join(tested)}:", f"                    r = {fast}",
            "                else:", f"                    r = {body}"]


def _int_lines(ints: str, tested: list[int], body: Code | None = None) -> list[str]:
    """``r = ints`` (``int_copy``'s body, its remaining tests of the tested parameters
    ``True`` as in ``_int_specialized``): alone in ``rec_i``; in ``rec``, for int arguments,
    with ``r = body`` for any others."""
    tests = [f"type(v{i}) is int" for i in tested]
    fast = ints
    if "'" not in fast and '"' not in fast:  # a string literal could hold the text
        for test in tests:
            fast = fast.replace(test, "True")
    if body is None:
        return [f"                r = {fast}"]
    return [f"                if {' and '.join(tests)}:", f"                    r = {fast}",
            "                else:", f"                    r = {body.text}"]


def _is_helper(value: Any) -> bool:
    return any(value is h for h in (rt.as_map, rt.get_key, rt.missing_to_nil, rt.is_missing,
                                    rt.nth_or_nil))


_NO_KEY: Any = object()  # _assoc_site without a constant key


def _assoc_site(resolve: Callable[[Compiler], Any], node: A.Node,
                key: Any = _NO_KEY) -> Callable[[Compiler], Any]:
    """``(assoc m k v)`` on a map and a key whose hash charges nothing: the builtin's charge
    (``charge_copy``) and copy in one frame; anything else calls the builtin. A limit error
    gets the call's position, as through ``positioned``. With a constant ``key`` (of a type
    in ``_SIMPLE``), the site takes ``(m, v)``."""
    line, column = node.line, node.column

    def make(compiler: Compiler) -> Any:
        slow = positioned(resolve(compiler), "assoc", node)
        ctx = compiler.ctx
        if key is not _NO_KEY:
            return _assoc_key(ctx, slow, key, line, column)

        def assoc(coll: Any, k: Any, v: Any) -> Any:
            if type(coll) is not Map or type(k) not in _SIMPLE:
                return slow(coll, k, v)
            n = len(coll)
            m: Any = ctx.meter  # Meter.alloc, then Meter.tick, inline (set while running)
            m.memory += 64 + (n >> 3)
            if m.memory > m.limits.max_memory:
                _charged(m, line, column, memory=True)  # raises
            m.fuel -= 1 + (n >> 10)
            if m.fuel < 0:
                _charged(m, line, column)
            out = Map(coll)
            out[k] = v
            return out

        return assoc

    return make


def _assoc_key(ctx: Any, slow: Callable[..., Any], k: Any, line: int | None,
               column: int | None) -> Callable[[Any, Any], Any]:
    """``_assoc_site``'s ``assoc`` for a constant simple key ``k`` (its charge written out
    again, not called: this runs once per item of a kernel, where a call costs ~8%)."""

    def assoc(coll: Any, v: Any) -> Any:
        if type(coll) is not Map:
            return slow(coll, k, v)
        n = len(coll)
        m: Any = ctx.meter  # Meter.alloc, then Meter.tick, inline (set while running)
        m.memory += 64 + (n >> 3)
        if m.memory > m.limits.max_memory:
            _charged(m, line, column, memory=True)  # raises
        m.fuel -= 1 + (n >> 10)
        if m.fuel < 0:
            _charged(m, line, column)
        out = Map(coll)
        out[k] = v
        return out

    return assoc


_SIMPLE = frozenset({int, str, float, Keyword})


def _charged(m: Any, line: int | None, column: int | None, memory: bool = False) -> None:
    """After an inline charge went over: ``Meter.alloc(0)`` (raises as ``alloc`` would have:
    the memory is over) or ``Meter.refuel()``, with the call's position on its error."""
    try:
        if memory:
            m.alloc(0)
        else:
            m.refuel()
    except PtclispError as exc:
        raise exc.at(line, column) from None


def _comprehension(clause: tuple[int, Code, str], items: str) -> str:
    slot, body, condition = clause
    test = f" if {condition}" if condition else ""
    return f"[{body.text} for v{slot} in {items}{test}]"


_NODES: dict[type[Any], Callable[[Emitter, Any], Code]] = {
    A.Const: Emitter.const_node,
    A.Local: Emitter.local,
    A.Captured: Emitter.captured,
    A.Global: Emitter.reference,
    A.DataRef: Emitter.reference,
    A.Builtin: Emitter.builtin,
    A.RunFn: Emitter.builtin,
    A.If: Emitter.if_,
    A.And: Emitter.and_,
    A.Or: Emitter.or_,
    A.Do: Emitter.do,
    A.Let: Emitter.let,
    A.VectorLit: Emitter.vector_lit,
    A.SetLit: Emitter.set_lit,
    A.MapLit: Emitter.map_lit,
    A.ToolCall: Emitter.tool_call,
    A.Call: Emitter.call,
    A.Recur: Emitter.recur,
}


# ---------------------------------------------------------------- call sites
#
# A site is made per compile (it may need the namespace or the run context) and is what the
# generated code calls where the closure compiler would have a closure: same errors, same
# positions.


def _resolved(node: A.Builtin | A.RunFn) -> Callable[[Compiler], Any]:
    return lambda compiler: compiler.compile(node)([])


def _reader(node: A.Global | A.DataRef) -> Callable[[Compiler], Any]:
    return lambda compiler: compiler.compile(node)  # their closures ignore the frame


def _known_call(resolve: Callable[[Compiler], Any], name: str,
                node: A.Node) -> Callable[[Compiler], Any]:
    return lambda compiler: positioned(resolve(compiler), name, node)


def _dynamic_call(name: str, node: A.Node) -> Callable[[Compiler], Any]:
    return lambda compiler: positioned_dynamic(name, node)


def _entry_miss(name: str, node: A.Node) -> Callable[[Compiler], Any]:
    return lambda compiler: entry_miss(compiler.ctx, positioned_dynamic(name, node))


_ABSENT: Any = object()


def entry_miss(ctx: Any, site: Callable[..., Any]) -> Callable[..., Any]:
    """``miss(holder, g, *args, m, d, at_)``: a compiled call of ``g`` whose site cache
    ``holder`` (a one-item list) holds another callee. A program fn made by this run context
    with a compiled entry taking these arguments is cached and entered (``m, d, at_``: the
    caller's meter, the call's depth and position); any other callee is called through
    ``site`` as the closure compiler calls it, and cached as such unless it is a closure that
    may still hand over to a source fn (``ptclisp_entry`` None)."""

    def miss(holder: list[Any], g: Any, *rest: Any) -> Any:
        entry = getattr(g, "ptclisp_entry", _ABSENT)
        if entry is None:  # a closure not yet hot
            return site(g, *rest[:-3])
        if entry is not _ABSENT and entry is not False and \
                getattr(entry, "ctx", None) is ctx and \
                entry.__code__.co_argcount == len(rest):
            holder[0] = (g, entry)
            return entry(*rest)

        def through_site(*args: Any) -> Any:
            return site(g, *args[:-3])

        holder[0] = (g, through_site)
        return site(g, *rest[:-3])

    return miss


def _tool_caller(node: A.ToolCall) -> Callable[[Compiler], Any]:
    return lambda compiler: tool_caller(compiler.ctx, node.name, node.line, node.column)


def _tool_keys_caller(node: A.ToolCall, keywords: tuple[Keyword, ...]
                      ) -> Callable[[Compiler], Any]:
    return lambda compiler: tool_keys_caller(compiler.ctx, node.name, keywords, node.line,
                                             node.column)


def _name_of(value: Any) -> str:
    return getattr(value, "ptclisp_name", None) or repr(value)
