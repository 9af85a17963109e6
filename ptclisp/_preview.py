"""Effect preview: what a program may do, read from its analyzed AST without running it.

``preview(source)`` lists every tool call site (with its literal arguments where the program
spells them out, and how many times it may run: once, a bounded number of times, or any number
when it sits in a loop, a ``for``, a function passed to ``map``/``pmap``/..., or recursion), the
ops it awaits, the names it defines and the ``data/`` inputs it reads. A host shows it before
approving a program ("calls charge-card at most once, then awaits approval").

Counting is conservative (an upper bound): both branches of an ``if`` count, a ``defn`` is
charged at each call site, a function value whose calls cannot be followed counts as "any
number". The walk is iterative and linear in the size of the AST, so a hostile source costs what
reading and analyzing it costs (both bounded: nesting depth, ``max_source_chars``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from ._analyzer import ast as A
from ._errors import LimitExceeded
from ._values.types import Keyword, Map, Set, Symbol, Vector, to_python

__all__ = ["AwaitUse", "Definition", "Preview", "ToolUse", "preview"]

MANY = None
"""``max_calls`` of a site that may run any number of times."""
_CAP = 1_000_000  # bounded counts above this are reported as "any number"
_SUBTREE_BUDGET = 2_000  # nodes searched for the tools an await's handles come from

Count = int | None


@dataclasses.dataclass(frozen=True)
class ToolUse:
    """One ``(tool/NAME {...})`` site, or ``tool/NAME`` passed as a function value."""

    tool: str
    args: dict[str, Any] | None
    """The arguments when the program spells them all out as literals, else None."""
    literal_args: dict[str, Any]
    """The argument entries that are literals (all of them when ``args`` is not None)."""
    computed_args: tuple[str, ...]
    """Names of the arguments computed at run time (``"*"`` when the whole map is)."""
    max_calls: Count
    """How many times this site may run: an upper bound, None for any number."""
    conditional: bool
    """The site sits in a branch (``if``/``when``/``cond``/``and``/``or``...)."""
    in_fn: str | None
    """The ``defn`` it is written in, if any."""
    line: int
    column: int

    @property
    def repeated(self) -> bool:
        return self.max_calls is None or self.max_calls > 1


@dataclasses.dataclass(frozen=True)
class AwaitUse:
    """One ``(await h)`` / ``(await-all hs)`` / ``(await-any hs)`` site."""

    kind: str
    tools: tuple[str, ...]
    """The tools whose op handles it awaits, where the program shows them."""
    max_calls: Count
    conditional: bool
    in_fn: str | None
    line: int
    column: int


@dataclasses.dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    """``"fn"`` or ``"value"``."""
    line: int
    column: int


@dataclasses.dataclass(frozen=True)
class Preview:
    """What a program may do, in source order."""

    tools: tuple[ToolUse, ...]
    awaits: tuple[AwaitUse, ...]
    defines: tuple[Definition, ...]
    data: tuple[str, ...]
    """``data/NAME`` inputs it reads."""
    may_return: bool
    may_fail: bool
    sequence: tuple[ToolUse | AwaitUse, ...] = ()
    """Tool and await sites in evaluation order (a defn's at its definition)."""

    @property
    def tool_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(u.tool for u in self.tools))

    def max_calls(self, tool: str) -> Count:
        """Upper bound of the calls of ``tool`` (0 if never; None for any number)."""
        total: Count = 0
        for use in self.tools:
            if use.tool == tool:
                total = _add(total, use.max_calls)
        return total

    def summary(self) -> str:
        """One sentence: "calls charge-card at most once, then awaits request-approval"."""
        parts: list[str] = []
        events = [("tool", e.tool) if isinstance(e, ToolUse) else
                  ("await", ", ".join(e.tools) or "an op") for e in self.sequence]
        said: set[tuple[str, str]] = set()
        never = {u.tool for u in self.tools if self.max_calls(u.tool) == 0}
        for kind, name in events:
            if (kind, name) in said or (kind == "tool" and name in never):
                continue
            said.add((kind, name))
            if kind == "tool":
                sites = [u for u in self.tools if u.tool == name]
                verb = "may call" if all(u.conditional for u in sites) else "calls"
                parts.append(f"{verb} {name} {_times(self.max_calls(name))}")
            else:
                parts.append(f"awaits {name}")
        if not parts:
            return "calls no tools"
        return ", then ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["sequence"]
        return data | {"summary": self.summary()}


def _times(n: Count) -> str:
    if n is None:
        return "any number of times"
    return "at most once" if n == 1 else f"at most {n} times"


def _add(a: Count, b: Count) -> Count:
    if a is None or b is None:
        return None
    return a + b if a + b <= _CAP else None


def _mul(a: Count, b: Count) -> Count:
    if a == 0 or b == 0:
        return 0
    if a is None or b is None:
        return None
    return a * b if a * b <= _CAP else None


def preview(source: str, *, known_globals: tuple[str, ...] = (),
            max_source_chars: int = 1_000_000) -> Preview:
    """The effects ``source`` may have, from its analyzed AST; nothing runs.

    Raises the program's ``ReadError``/``AnalysisError`` if it does not read or analyze, and
    ``LimitExceeded`` for a source over ``max_source_chars`` or nested beyond the analyzer.
    """
    if isinstance(source, str) and len(source) > max_source_chars:
        raise LimitExceeded(f"source of {len(source)} characters is over the preview's "
                            f"{max_source_chars}", code="memory_limit",
                            hint="preview smaller programs, or raise max_source_chars")
    from ._run import load

    try:
        program = load(source, known_globals)
    except RecursionError:
        raise LimitExceeded("program nested too deeply to analyze", code="depth_limit",
                            hint="write fewer nested forms (e.g. long -> chains)") from None
    return _Walker(program).run()


# ---------------------------------------------------------------- the walk


@dataclasses.dataclass(frozen=True)
class _Ctx:
    scope: str | None  # the defn the code is in (None: top level or an anonymous context)
    many: bool  # may run more than once per entry into the scope
    conditional: bool
    frame: int  # id of the enclosing Fn node (0 at top level), to key its slots


class _Walker:
    def __init__(self, program: A.Program) -> None:
        self.program = program
        self.sites: list[tuple[ToolUse, str | None]] = []
        self.awaits: list[tuple[AwaitUse, str | None]] = []
        self.defines: dict[str, Definition] = {}
        self.data: dict[str, None] = {}
        self.edges: dict[str | None, list[tuple[str, bool]]] = {None: []}
        self.slot_tools: dict[tuple[int, int], tuple[str, ...]] = {}
        self.global_tools: dict[str, tuple[str, ...]] = {}
        self.sequence: list[ToolUse | AwaitUse] = []
        self.may_return = self.may_fail = False

    def run(self) -> Preview:
        top = _Ctx(None, False, False, 0)
        stack: list[tuple[A.Node, _Ctx]] = [(f, top) for f in reversed(self.program.forms)]
        while stack:
            node, ctx = stack.pop()
            stack.extend(reversed(list(self._visit(node, ctx))))
        invocations = self._invocations()
        effects: list[tuple[ToolUse | AwaitUse, str | None]] = [*self.sites, *self.awaits]
        final: dict[int, ToolUse | AwaitUse] = {
            id(u): dataclasses.replace(u, max_calls=_mul(u.max_calls, invocations.get(s, 0)))
            for u, s in effects}
        tools = tuple(final[id(u)] for u, _ in self.sites)
        awaits = tuple(final[id(a)] for a, _ in self.awaits)
        sequence = tuple(final[id(e)] for e in self.sequence)
        return Preview(tools, awaits, tuple(self.defines.values()), tuple(self.data),  # type: ignore[arg-type]
                       self.may_return, self.may_fail, sequence)

    # -------------------------------------------------------- one node

    def _visit(self, node: A.Node, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
        t = type(node)
        if t is _AwaitDone:
            self.awaits.append((node.use, ctx.scope))  # type: ignore[attr-defined]
            self.sequence.append(node.use)  # type: ignore[attr-defined]
            return
        if isinstance(node, (A.ToolCall, A.ToolRef)):
            self._site(node.name, node, ctx)
        elif t is A.DataRef:
            self.data[node.name] = None  # type: ignore[attr-defined]
        elif t is A.Global:
            self._edge(ctx, node.name, many=True)  # type: ignore[attr-defined]
        elif t is A.Def:
            yield from self._def(node, ctx)  # type: ignore[arg-type]
            return
        elif t is A.Fn:
            yield from self._fn(node, dataclasses.replace(ctx, many=True))  # type: ignore[arg-type]
            return
        elif t is A.Call:
            yield from self._call(node, ctx)  # type: ignore[arg-type]
            return
        elif t is A.Bind:
            self._bind(node, ctx)  # type: ignore[arg-type]
        yield from _children(node, ctx)

    def _def(self, node: A.Def, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
        is_fn = type(node.expr) is A.Fn
        tools = () if is_fn else self._tools_in((node.expr,), ctx)
        if tools:
            self.global_tools[node.name] = tools
        self.defines.setdefault(node.name, Definition(node.name, "fn" if is_fn else "value",
                                                      node.line, node.column))
        if is_fn:
            self.edges.setdefault(node.name, [])  # called only where a call site says so
            inner = _Ctx(node.name, False, False, id(node.expr))
            yield from self._fn(node.expr, inner, captures_ctx=ctx)  # type: ignore[arg-type]
            return
        yield node.expr, ctx

    def _fn(self, fn: A.Fn, ctx: _Ctx, captures_ctx: _Ctx | None = None
            ) -> Iterator[tuple[A.Node, _Ctx]]:
        outer = captures_ctx or ctx
        for c in fn.captures:
            yield c, outer
        body = dataclasses.replace(ctx, frame=id(fn))
        for arity in fn.arities:
            yield arity, body

    def _call(self, node: A.Call, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
        f = node.fn
        if type(f) is A.Fn:  # ((fn [x] ...) 1): the body runs once per call
            yield from self._fn(f, ctx)
        elif type(f) is A.Global:
            self._edge(ctx, f.name, many=ctx.many)
        elif type(f) in (A.Captured, A.Local) and f.name in self.edges:  # type: ignore[attr-defined]
            self._edge(ctx, f.name, many=ctx.many)  # type: ignore[attr-defined]  # a defn's self-call
        elif type(f) is not A.RunFn:
            yield f, ctx
        for arg in node.args:
            yield arg, ctx
        if type(f) is A.RunFn:
            yield from self._run_fn(node, f.name, ctx)

    def _run_fn(self, node: A.Call, name: str, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
        if name == "return":
            self.may_return = True
        elif name == "fail":
            self.may_fail = True
        elif name in ("await", "await-all", "await-any"):
            tools = self._tools_in(node.args, ctx)
            use = AwaitUse(name, tools, MANY if ctx.many else 1, ctx.conditional, ctx.scope,
                           node.line, node.column)
            yield _AwaitDone(use), ctx  # recorded after its arguments, in evaluation order

    def _bind(self, node: A.Bind, ctx: _Ctx) -> None:
        tools = self._tools_in((node.expr,), ctx)
        if tools:
            self.slot_tools[(ctx.frame, node.slot)] = tools

    def _tools_in(self, nodes: tuple[A.Node, ...], ctx: _Ctx) -> tuple[str, ...]:
        """Tools called in ``nodes`` (or bound to locals they read): whose handles an await gets."""
        found: dict[str, None] = {}
        stack = list(reversed(nodes))
        budget = _SUBTREE_BUDGET
        while stack and budget > 0:
            budget -= 1
            n = stack.pop()
            if type(n) is A.ToolCall or type(n) is A.ToolRef:
                found[n.name] = None
                continue  # its arguments are not what is awaited
            if type(n) is A.Local:
                found.update(dict.fromkeys(self.slot_tools.get((ctx.frame, n.slot), ())))
            elif type(n) is A.Global:
                found.update(dict.fromkeys(self.global_tools.get(n.name, ())))
            stack.extend(reversed([c for c, _ in _children(n, ctx)]))
        return tuple(found)

    # -------------------------------------------------------- sites and the call graph

    def _site(self, name: str, node: A.ToolCall | A.ToolRef, ctx: _Ctx) -> None:
        """A call site; ``tool/NAME`` as a value (passed to map, pmap...) may run any number
        of times with arguments computed at run time."""
        if type(node) is A.ToolRef:
            literal: dict[str, Any] = {}
            computed: tuple[str, ...] = ("*",)
        else:
            literal, computed = _arguments(node.arg)  # type: ignore[union-attr]
        many = ctx.many or type(node) is A.ToolRef
        use = ToolUse(name, None if computed else dict(literal), literal, computed,
                      MANY if many else 1, ctx.conditional, ctx.scope, node.line, node.column)
        self.sites.append((use, ctx.scope))
        self.sequence.append(use)

    def _edge(self, ctx: _Ctx, callee: str, *, many: bool) -> None:
        self.edges.setdefault(ctx.scope, []).append((callee, many or ctx.many))

    def _invocations(self) -> dict[str | None, Count]:
        """How many times each scope (defn) may run from the top level, through the call graph:
        strongly connected components (recursion) that are reached run any number of times."""
        graph: dict[str | None, list[str | None]] = {
            s: [c for c, _ in es if c in self.edges] for s, es in self.edges.items()}
        counts: dict[str | None, Count] = dict.fromkeys(self.edges, 0)
        counts[None] = 1
        for component in reversed(_tarjan(graph)):  # callers before callees
            members = set(component)
            cyclic = len(component) > 1 or any(c in members for c in graph[component[0]])
            for scope in component:
                if cyclic and counts[scope] != 0:
                    counts.update(dict.fromkeys(component, MANY))
                    break
            for scope in component:
                for callee, many in self.edges[scope]:
                    if callee in members or callee not in counts:
                        continue
                    counts[callee] = _add(counts[callee], _mul(counts[scope], MANY if many else 1))
        return counts


@dataclasses.dataclass(slots=True, unsafe_hash=True)  # as A.Node (not frozen)
class _AwaitDone(A.Node):
    """A marker on the walk's stack: the await's arguments are done, record it now."""

    use: AwaitUse


def _children(node: A.Node, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
    """The sub-nodes of ``node`` with the context they run in (loops repeat, branches may not)."""
    t = type(node)
    if t is A.If:
        yield node.test, ctx  # type: ignore[attr-defined]
        branch = dataclasses.replace(ctx, conditional=True)
        yield node.then, branch  # type: ignore[attr-defined]
        yield node.orelse, branch  # type: ignore[attr-defined]
    elif t is A.And or t is A.Or:
        items = node.items  # type: ignore[attr-defined]
        if items:
            yield items[0], ctx
            branch = dataclasses.replace(ctx, conditional=True)
            yield from ((i, branch) for i in items[1:])
    elif t is A.Loop:
        yield from ((b, ctx) for b in node.entry)  # type: ignore[attr-defined]
        again = dataclasses.replace(ctx, many=True)
        yield from ((b, again) for b in node.prologue)  # type: ignore[attr-defined]
        yield node.body, again  # type: ignore[attr-defined]
    elif t is A.For:
        yield from _for_children(node, ctx)  # type: ignore[arg-type]
    elif t is A.Case or t is A.Condp:
        yield from _branching_children(node, ctx)
    else:
        yield from _generic_children(node, ctx)


def _for_children(node: A.For, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
    again = dataclasses.replace(ctx, many=True)
    for i, clause in enumerate(node.clauses):
        if i == 0 and type(clause) is A.ForBinding:
            yield clause.coll, ctx
            yield from ((b, again) for b in clause.prologue)
        else:
            yield from _generic_children(clause, again)
    yield node.body, again


def _branching_children(node: A.Node, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
    branch = dataclasses.replace(ctx, conditional=True)
    if type(node) is A.Case:
        yield node.expr, ctx
        yield from ((b, branch) for b in node.branches)
    else:
        assert type(node) is A.Condp
        yield node.pred, ctx
        yield node.expr, ctx
        for test, result, _arrow in node.clauses:
            yield test, branch
            yield result, branch
    if node.default is not None:
        yield node.default, branch


def _generic_children(node: A.Node, ctx: _Ctx) -> Iterator[tuple[A.Node, _Ctx]]:
    for field in dataclasses.fields(node):
        if field.name in ("line", "column"):
            continue
        value = getattr(node, field.name)
        if isinstance(value, A.Node):
            yield value, ctx
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, A.Node):
                    yield item, ctx
                elif isinstance(item, tuple):
                    yield from ((x, ctx) for x in item if isinstance(x, A.Node))


# ---------------------------------------------------------------- literal arguments

_NOT_LITERAL = object()


def _arguments(arg: A.Node | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(literal entries as host data, names of computed entries) of a tool's argument map."""
    if arg is None:
        return {}, ()
    if type(arg) is not A.MapLit:
        value = _literal(arg)
        if isinstance(value, dict):
            return _host_map(value), ()
        return {}, ("*",)
    literal: dict[str, Any] = {}
    computed: list[str] = []
    for k, v in arg.pairs:
        key = _literal(k)
        if key is _NOT_LITERAL:
            computed.append("*")
            continue
        name = _key_name(key)
        value = _literal(v)
        if value is _NOT_LITERAL:
            computed.append(name)
        else:
            literal[name] = _to_host(value)
    return literal, tuple(computed)


def _literal(node: A.Node, depth: int = 0) -> Any:
    """The value of a node built only from constants, else ``_NOT_LITERAL``."""
    if depth > 64:
        return _NOT_LITERAL
    t = type(node)
    if t is A.Const:
        value = node.value  # type: ignore[attr-defined]
        plain = isinstance(value, (Keyword, Symbol, dict, frozenset, tuple, str))
        return _NOT_LITERAL if callable(value) and not plain else value
    if t is A.VectorLit or t is A.SetLit:
        items = [_literal(i, depth + 1) for i in node.items]  # type: ignore[attr-defined]
        if any(i is _NOT_LITERAL for i in items):
            return _NOT_LITERAL
        return Vector(items) if t is A.VectorLit else Set(items)
    if t is A.MapLit:
        pairs = [(_literal(k, depth + 1), _literal(v, depth + 1))
                 for k, v in node.pairs]  # type: ignore[attr-defined]
        if any(k is _NOT_LITERAL or v is _NOT_LITERAL for k, v in pairs):
            return _NOT_LITERAL
        try:
            return Map(pairs)
        except TypeError:
            return _NOT_LITERAL
    return _NOT_LITERAL


def _key_name(key: Any) -> str:
    if type(key) is Keyword or type(key) is Symbol:
        return key.qualified
    return key if type(key) is str else repr(key)


def _to_host(value: Any) -> Any:
    try:
        return to_python(value)
    except (TypeError, RecursionError):
        return repr(value)


def _host_map(value: dict[Any, Any]) -> dict[str, Any]:
    return {_key_name(k): _to_host(v) for k, v in value.items()}


def _tarjan(graph: dict[str | None, list[str | None]]) -> list[list[str | None]]:
    """Strongly connected components, callees first (iterative Tarjan)."""
    index: dict[str | None, int] = {}
    low: dict[str | None, int] = {}
    on_stack: set[str | None] = set()
    stack: list[str | None] = []
    out: list[list[str | None]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str | None, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            edges = graph[v]
            if i > 0:
                low[v] = min(low[v], low[edges[i - 1]])
            while i < len(edges) and edges[i] in index:
                if edges[i] in on_stack:
                    low[v] = min(low[v], index[edges[i]])
                i += 1
            if i < len(edges):
                work.append((v, i + 1))
                work.append((edges[i], 0))
                continue
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                out.append(component)
    return out
