"""Host tools: ``Tool``, the ``@tool`` decorator and ``ToolRegistry``.

A tool is a Python callable a program calls as ``(tool/name {:arg v ...})``. Its signature types
the arguments; they are validated *before* the call, so a wrong call costs the LLM one clear
``invalid_args`` error instead of a host exception.

Where the signature comes from (first that applies):

1. ``signature="(query :string, limit :int?) -> [{id :int}]"`` — text (``ptclisp._signature``);
2. the function's only parameter is a pydantic model — its fields;
3. the function's type hints (``def search(query: str, limit: int = 10) -> list[dict]``).

How the function is called:

- a pydantic-model parameter gets the validated model instance: ``fn(Query(...))``;
- otherwise keyword arguments: ``fn(query="x", limit=3)``; a program's kebab-case key
  (``:customer-id``) reaches a snake_case parameter (``customer_id``); ``**kwargs`` takes the rest.

Plain callables given to ``run(tools={...})`` without a ``Tool`` wrapper are *not* inspected:
they get one positional argument, the argument map as a ``dict`` with string keys.

Two kinds of "async":

- an ``async def`` function is a coroutine tool: the program blocks until it finishes (it runs on
  a private event loop thread, or on ``ToolHost(loop=...)``); to the program it is an ordinary call;
- ``is_async=True`` marks a *long-running operation* (a phone call, a human approval): calling it
  starts the operation (the function runs once, to place the call) and the program gets an
  operation handle ``#op["id"]`` at once. ``(await h)`` gives the result when the host has
  delivered it with ``resume``; until then the run suspends into a ``PendingStep``. The start
  function may return a string to choose the op id (e.g. the provider's call id, to correlate a
  webhook); ``None`` lets ptclisp generate one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Union, overload

import pydantic

from .._errors import PtclispError
from .signature import Signature, _passed_as_is, _simple_params, parse_signature

__all__ = ["Tool", "ToolRegistry", "tool"]


class ToolDefinitionError(PtclispError):
    """A tool is defined wrongly (a host-side mistake, raised at registration)."""

    code = "tool_definition"


@dataclasses.dataclass(eq=False)
class Tool:
    """A named host callable with a description and a typed signature."""

    name: str
    fn: Callable[..., Any]
    description: str = ""
    signature: Signature | str | None = None
    """Signature text or parsed ``Signature``; ``None`` derives one from the function."""
    is_async: bool = False
    """A long-running operation: calling it returns an op handle (see the module doc)."""
    loop: asyncio.AbstractEventLoop | None = None
    """For an ``async def`` fn: the event loop (running in another thread) to run it on."""
    result: str | None = None
    """For an ``is_async`` tool: the type of the op's result (``"{confirmed :bool}"``); a result
    ``resume`` delivers that does not match is refused (``pending_invalid_result``)."""

    _sig: Signature | None = dataclasses.field(init=False, repr=False, default=None)
    _model: type[pydantic.BaseModel] | None = dataclasses.field(
        init=False, repr=False, default=None
    )
    _params: frozenset[str] = dataclasses.field(init=False, repr=False, default=frozenset())
    _var_kw: bool = dataclasses.field(init=False, repr=False, default=False)
    _result_sig: Signature | None = dataclasses.field(init=False, repr=False, default=None)
    _as_is: Any = dataclasses.field(init=False, repr=False, default=None, compare=False)
    """The simple parameters (``signature._simple_params``) when ``validate`` may check
    arguments with ``_passed_as_is`` alone: each is a name the key mapping keeps as is."""
    _plain: Any = dataclasses.field(init=False, repr=False, default=None, compare=False)
    """``_plain_args``'s plan, made at its first call."""
    _dict_passes: bool = dataclasses.field(init=False, repr=False, default=False, compare=False)
    """``check_output`` passes every dict with string keys (the output type is ``:map`` or
    ``:any``)."""

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or any(c.isspace() for c in self.name):
            raise ToolDefinitionError(f"invalid tool name {self.name!r}: one word without '/'")
        if not callable(self.fn):
            raise ToolDefinitionError(f"tool {self.name!r}: fn must be callable")
        if not self.description:
            self.description = inspect.cleandoc(self.fn.__doc__ or "").split("\n\n")[0]
        self._inspect_fn()
        if isinstance(self.signature, str):
            self._sig = parse_signature(self.signature)
        elif isinstance(self.signature, Signature):
            self._sig = self.signature
        elif self.signature is None:
            self._sig = parse_signature(_derive_signature_text(self.fn, self._model))
        else:
            raise ToolDefinitionError(f"tool {self.name!r}: signature must be text or a Signature")
        self._result_sig = None if self.result is None else parse_signature(f"-> {self.result}")
        simple = _simple_params(self._sig)
        known = self._known_keys()
        if simple is not None and all(name in known for name, _, _ in simple):
            self._as_is = simple
        self._dict_passes = self._sig.returns.kind in ("map", "any")

    @property
    def fingerprint(self) -> str:
        """What a suspended run relies on: signature, kind and result type (``PendingStep``
        records it per tool used; a resume with an incompatible tool is refused)."""
        kind = " async" if self.is_async else ""
        result = f" => {self._result_sig.returns.render()}" if self._result_sig else ""
        return f"{self.signature_text}{kind}{result}"

    def check_output(self, raw: Any) -> None:
        """A sync tool's return value against its declared output type; raises ``ToolError``
        naming the mismatching field (nothing to check for ``:any``)."""
        assert self._sig is not None
        if self.is_async or self._sig.returns.kind == "any" or self._sig.accepts_as_is(raw):
            return
        try:
            self._sig.validate_return(raw)
        except PtclispError as exc:
            from .._errors import ToolError

            detail = exc.message.replace("the return value", "its result", 1)
            raise ToolError(
                f"tool {self.name} returned data that does not match its declared output "
                f"{self._sig.returns.render()}: {detail}",
                hint="a host-side bug in the tool (or its declared type); handle the failure",
            ) from None

    def _output_passes(self, raw: Any) -> bool:
        """Whether ``check_output(raw)`` certainly passes without asking the model (False:
        call it)."""
        assert self._sig is not None
        return self.is_async or self._sig.returns.kind == "any" or self._sig.accepts_as_is(raw)

    def check_result(self, value: Any) -> Any:
        """An op result delivered by ``resume`` against ``result``; returns it as host data.
        Raises ``SignatureMismatch`` naming each mismatching field."""
        if self._result_sig is None:
            return value
        return self._result_sig.validate_return(value)

    @property
    def is_coroutine(self) -> bool:
        """An ``async def`` function (awaited to completion on an event loop)."""
        return inspect.iscoroutinefunction(self.fn)

    @property
    def signature_text(self) -> str:
        """The canonical signature text, as shown to an LLM."""
        assert self._sig is not None
        return self._sig.render()

    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        """Check host-side arguments; raises ``SignatureMismatch`` (``invalid_args``)."""
        assert self._sig is not None
        if self._as_is is not None:  # what validate_args returns for such arguments
            passed = _passed_as_is(self._as_is, args)
            if passed is not None:
                return passed
        return self._sig.validate_args(self._snake_keys(args))

    def _plain_args(self, args: dict[str, Any]) -> dict[str, Any] | None:
        """``args`` when ``invoke(validate(args))`` calls ``fn`` with exactly these keyword
        arguments — they pass as they are (``_passed_as_is`` returns them: simple parameters,
        each of exactly its type, every required one, no other key) and ``fn`` takes them as
        keywords (no model, not ``is_async``); else None: ask ``validate`` and ``invoke``."""
        plan = self._plain
        if plan is None:
            plan = self._plain = self._plain_plan()
        if not plan or self.is_async:
            return None
        types, required = plan
        count = 0
        for key, value in args.items():
            spec = types.get(key)
            if spec is None or type(value) is not spec[0]:
                return None
            count += spec[1]
        return args if count == required else None

    def _plain_plan(self) -> tuple[dict[str, tuple[type, bool]], int] | tuple[()]:
        """``_plain_args``'s plan: name → (type, required) and how many are required; ``()``
        when no arguments pass as they are."""
        as_is = self._as_is
        if as_is is None or self._model is not None:
            return ()
        types = {name: (typ, not optional) for name, typ, optional in as_is}
        return types, sum(not optional for _, _, optional in as_is)

    def invoke(self, args: dict[str, Any]) -> Any:
        """Call the function with validated arguments (may return an awaitable)."""
        if self._model is not None:
            try:
                model = self._model.model_validate(args)
            except pydantic.ValidationError as exc:
                from .signature import _mismatch

                raise _mismatch(exc, "invalid_args", "arguments", self.signature_text) from None
            return self.fn(model)
        return self.fn(**args)

    def _inspect_fn(self) -> None:
        try:
            params = list(inspect.signature(self.fn).parameters.values())
        except (TypeError, ValueError):  # builtins without a signature: keywords pass through
            self._var_kw = True
            return
        self._var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        self._params = frozenset(p.name for p in params if p.kind not in variadic)
        if len(params) == 1 and params[0].kind is not params[0].VAR_KEYWORD:
            hint = _hints(self.fn).get(params[0].name)
            if isinstance(hint, type) and issubclass(hint, pydantic.BaseModel):
                self._model = hint

    def snake_keys(self, args: dict[str, Any]) -> dict[str, Any]:
        """The argument map with a program's kebab-case keys mapped as ``validate`` maps them:
        ``customer-id`` → ``customer_id`` when only the snake_case name is a parameter."""
        return self._snake_keys(args)

    def _known_keys(self) -> frozenset[str]:
        if self._model is not None:
            return frozenset(f.alias or n for n, f in self._model.model_fields.items())
        return self._params

    def _snake_keys(self, args: dict[str, Any]) -> dict[str, Any]:
        """``customer-id`` → ``customer_id`` when only the snake_case name is a parameter."""
        known = self._known_keys()
        out: dict[str, Any] = {}
        for key, value in args.items():
            snake = key.replace("-", "_")
            out[snake if key not in known and snake in known else key] = value
        return out


# ---------------------------------------------------------------- signatures from type hints


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: treat as untyped
        return {}


def _derive_signature_text(fn: Callable[..., Any], model: type[pydantic.BaseModel] | None) -> str:
    hints = _hints(fn)
    returns = _type_text(hints.get("return", Any))
    if model is not None:
        return _fields_text(model, "(", ")") + " -> " + returns
    fields: list[str] = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        text = _type_text(hints.get(p.name, Any))
        if p.default is not p.empty and not text.endswith("?"):
            text += "?"
        fields.append(f"{p.name} {text}")
    return "(" + ", ".join(fields) + ") -> " + returns


def _fields_text(model: type[pydantic.BaseModel], open_: str, close: str) -> str:
    fields = []
    for name, info in model.model_fields.items():
        text = _type_text(info.annotation)
        if not info.is_required() and not text.endswith("?"):
            text += "?"
        fields.append(f"{info.alias or name} {text}")
    return open_ + ", ".join(fields) + close


_SCALAR_TEXT = {str: ":string", int: ":int", float: ":float", bool: ":bool"}


def _type_text(hint: Any) -> str:
    """A Python type hint → signature type text (unknown shapes become ``:any``)."""
    if hint in _SCALAR_TEXT:
        return _SCALAR_TEXT[hint]
    if hint is None or hint is type(None):
        return ":any?"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        inner = _type_text(rest[0]) if len(rest) == 1 else ":any"
        optional = len(rest) < len(args)
        return inner + ("?" if optional and not inner.endswith("?") else "")
    if hint in (list, tuple, set, frozenset) or origin in (list, tuple, set, frozenset):
        item = args[0] if args and args[0] is not Ellipsis else Any
        return "[" + _type_text(item) + "]"
    if hint is dict or origin in (dict, Mapping) or hint is Mapping:
        return ":map"
    if isinstance(hint, type) and issubclass(hint, pydantic.BaseModel):
        return _fields_text(hint, "{", "}")
    return ":any"


# ---------------------------------------------------------------- decorator and registry


@overload
def tool(
    fn: Callable[..., Any],
    /,
    *,
    name: str | None = None,
    description: str = "",
    signature: str | None = None,
    is_async: bool = False,
    result: str | None = None,
) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str = "",
    signature: str | None = None,
    is_async: bool = False,
    result: str | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str = "",
    signature: str | None = None,
    is_async: bool = False,
    result: str | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a ``Tool`` from a function: ``@tool`` or ``@tool(name=..., is_async=True)``.

    The name defaults to the function name with ``_`` → ``-`` (``get_orders`` → ``get-orders``).
    """

    def make(f: Callable[..., Any]) -> Tool:
        return Tool(
            name or f.__name__.replace("_", "-"),
            f,
            description=description,
            signature=signature,
            is_async=is_async,
            result=result,
        )

    return make(fn) if fn is not None else make


class ToolRegistry(Mapping[str, Tool]):
    """Named tools; a ``Mapping`` so it can be passed as ``run(tools=registry)``."""

    def __init__(self, tools: Iterator[Tool] | list[Tool] | tuple[Tool, ...] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.add(t)

    def add(self, t: Tool) -> Tool:
        if t.name in self._tools:
            raise ToolDefinitionError(f"a tool named {t.name!r} is already registered")
        self._tools[t.name] = t
        return t

    def register(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        **options: Any,
    ) -> Any:
        """Decorator: ``@registry.register`` or ``@registry.register(is_async=True)``."""
        if fn is not None:
            return self.add(tool(fn, **options) if options else tool(fn))
        return lambda f: self.add(tool(**options)(f))

    def describe(self) -> str:
        """One line per tool: ``tool/name (args) -> ret  — description`` (for LLM prompts)."""
        lines = []
        for t in self._tools.values():
            kind = " [async: returns a handle, use await]" if t.is_async else ""
            line = f"tool/{t.name} {t.signature_text}{kind} — {t.description}"
            lines.append(line.rstrip(" —"))
        return "\n".join(lines)

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)
