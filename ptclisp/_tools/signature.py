"""Signatures: ``"(query :string, limit :int?) -> {total :float, items [{id :int}]}"``.

A signature types a tool's arguments and an agent's return value. The text parses into a
``Signature`` (``params`` and ``returns``), which builds pydantic models and validates values:

    signature := params ["->" type] | "->" type | type
    params    := "(" [field ("," field)*] ")"
    type      := base ["?"]                        "?" = optional: may be nil or absent
    base      := ":string" | ":int" | ":float" | ":bool" | ":keyword" | ":any" | ":map"
               | "[" type "]"                        a vector of that type
               | "{" [field ("," field)*] "}"        a map with those fields (extra keys kept)
    field     := name type

Commas are optional (whitespace, as in Clojure). A ``:float`` accepts an integer. Fields whose name
starts with ``_`` are *private*: a program sees and returns them, the host receives them, but the
copy of a value shown to an LLM has them redacted (``redact``) so bulk data stays out of its
context.

This module imports only ptclisp's error and value modules: the tool registry and the agent loop
share it without pulling in the evaluator.
"""

from __future__ import annotations

import dataclasses
import functools
import keyword as _pykeyword
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BeforeValidator, ConfigDict, Field, create_model

from .._errors import EvalError, PtclispError
from .._identity import by_identity
from .._values.types import Char, Keyword, LazySeq, List, Map, Set, Symbol, Vector

__all__ = [
    "Param",
    "Signature",
    "SignatureError",
    "SignatureMismatch",
    "TypeSpec",
    "parse_signature",
    "parse_type",
    "redact",
]

Kind = Literal["string", "int", "float", "bool", "keyword", "any", "map", "vector", "record"]
_SCALARS: frozenset[str] = frozenset({"string", "int", "float", "bool", "keyword", "any", "map"})
_EXAMPLE = '"(query :string, limit :int?) -> {total :float, items [{id :int}]}"'


class SignatureError(PtclispError):
    """The signature text itself is malformed (a host-side mistake, not the program's)."""

    code = "signature_error"


class SignatureMismatch(EvalError):
    """A value does not match its signature: ``invalid_args`` or ``invalid_return``."""

    code = "invalid_args"


# ---------------------------------------------------------------- the parsed form


@dataclasses.dataclass(frozen=True)
class TypeSpec:
    """One type. ``item`` for vectors, ``fields`` for records (``{...}``)."""

    kind: Kind
    optional: bool = False
    item: TypeSpec | None = None
    fields: tuple[Param, ...] = ()

    def render(self) -> str:
        mark = "?" if self.optional else ""
        if self.kind == "vector":
            assert self.item is not None
            return f"[{self.item.render()}]{mark}"
        if self.kind == "record":
            return "{" + ", ".join(f.render() for f in self.fields) + "}" + mark
        return f":{self.kind}{mark}"


@dataclasses.dataclass(frozen=True)
class Param:
    """A named, typed field of a parameter list or a record."""

    name: str
    type: TypeSpec

    @property
    def optional(self) -> bool:
        return self.type.optional

    @property
    def private(self) -> bool:
        return self.name.startswith("_")

    def render(self) -> str:
        return f"{self.name} {self.type.render()}"


@dataclasses.dataclass(frozen=True)
class Signature:
    """Parameters and return type. ``params`` is ``None`` when the text gave only a return type."""

    params: tuple[Param, ...] | None
    returns: TypeSpec
    text: str = ""

    def render(self) -> str:
        """The canonical text, as shown in prompts."""
        if self.params is None:
            return f"-> {self.returns.render()}"
        args = ", ".join(p.render() for p in self.params)
        return f"({args}) -> {self.returns.render()}"

    @classmethod
    def from_json_schema(cls, schema: Mapping[str, Any],
                         returns: Mapping[str, Any] | None = None) -> Signature:
        """A signature from a JSON Schema of the arguments (an ``object`` schema, as MCP tools
        and OpenAI functions declare them) and, optionally, one of the return value.

        ``string`` → ``:string``, ``integer`` → ``:int``, ``number`` → ``:float``, ``boolean``
        → ``:bool``, ``array`` → ``[item]``, ``object`` with ``properties`` → a record (fields
        not ``required`` are optional), other objects → ``:map``; a ``null`` alternative makes
        the type optional; anything else (``anyOf`` of several types, no ``type``) → ``:any``.
        """
        if not isinstance(schema, Mapping):
            raise SignatureError(f"a JSON Schema must be an object, got {type(schema).__name__}")
        spec = _from_schema(schema)
        params = spec.fields if spec.kind == "record" else ()
        result = _from_schema(returns) if returns is not None else TypeSpec("any")
        made = cls(params, result)
        return cls(params, result, made.render())

    def to_json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the arguments (an ``object``); ``from_json_schema``'s inverse."""
        return _to_schema(TypeSpec("record", fields=self.params or ()))

    def input_model(self) -> type[pydantic.BaseModel]:
        """A pydantic model of the parameters (keys are the names as written)."""
        return by_identity(_MODEL_OF_ID, self, _input_model, 512)

    def output_model(self) -> type[pydantic.RootModel[Any]]:
        """A pydantic root model of the return type."""
        return by_identity(_OUTPUT_OF_ID, self, _output_model, 512)

    def validate_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Check host-side arguments (string keys, JSON-like values); returns them coerced.

        Raises ``SignatureMismatch`` (``invalid_args``) naming each bad or missing argument.
        """
        if not isinstance(args, dict):
            raise SignatureMismatch(
                f"arguments must be a map, got {_describe(args)}",
                hint=f"pass a map of arguments matching {self.render()}",
            )
        simple = _simple_params(self)
        if simple is not None:
            passed = _passed_as_is(simple, args)
            if passed is not None:
                return passed
        model = self.input_model()
        try:
            checked = model.model_validate(_checkable(args))
        except pydantic.ValidationError as exc:
            error = _mismatch(exc, "invalid_args", "arguments", self.render())
            unknown = sorted(set(args) - {p.name for p in self.params or ()})
            if unknown and self.params is not None:
                error.message += "; unknown: " + ", ".join(map(str, unknown))
                error.args = (error.message,)
            raise error from None
        return _dump(checked)

    def accepts_as_is(self, value: Any) -> bool:
        """Whether ``value`` certainly passes ``validate_return`` (a quick check for the
        common results: an atom of exactly its type, a dict with string keys for ``:map``);
        False means: ask the model."""
        spec = self.returns
        if value is None:
            return spec.optional or spec.kind == "any"
        exact = _AS_IS.get(spec.kind)
        if exact is not None:
            return type(value) is exact
        if spec.kind == "map" and type(value) is dict:
            for key in value:  # noqa: SIM110  (a loop, not all(genexpr): on every typed call)
                if type(key) is not str:
                    return False
            return True
        return spec.kind == "any"

    def validate_return(self, value: Any) -> Any:
        """Check a program's return value (ptclisp values or host data); returns host data.

        Map keys become strings, keywords become their names, extra map keys are kept. Raises
        ``SignatureMismatch`` (``invalid_return``) listing every mismatch with its path.
        """
        model = self.output_model()
        try:
            checked = model.model_validate(_checkable(value))
        except pydantic.ValidationError as exc:
            raise _mismatch(exc, "invalid_return", "the return value",
                            self.returns.render()) from None
        return _dump(checked)


# ---------------------------------------------------------------- parser


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<arrow>->)
      | (?P<punct>[()\[\]{}?])
      | (?P<kw>:[A-Za-z][\w\-]*)
      | (?P<name>[A-Za-z_*][\w\-?!*]*)
    )""",
    re.VERBOSE,
)


@dataclasses.dataclass
class _Token:
    kind: str
    text: str
    column: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    cleaned = text.replace(",", " ")
    while pos < len(cleaned):
        if cleaned[pos:].strip() == "":
            break
        match = _TOKEN.match(cleaned, pos)
        if match is None or match.end() == pos:
            column = pos + len(cleaned[pos:]) - len(cleaned[pos:].lstrip()) + 1
            raise _error(f"unexpected character {cleaned[column - 1]!r}", column)
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.end_column = len(text) + 1

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _error("unexpected end of signature", self.end_column)
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise _error(f"expected {text!r}, found {token.text!r}", token.column)

    def signature(self) -> tuple[tuple[Param, ...] | None, TypeSpec]:
        token = self.peek()
        if token is None:
            raise _error("empty signature", 1)
        params: tuple[Param, ...] | None = None
        if token.text == "(":
            self.take()
            params = self.fields(")")
            if self.peek() is None:
                return params, TypeSpec("any")
            self.expect("->")
        elif token.kind == "arrow":
            self.take()
        returns = self.type()
        trailing = self.peek()
        if trailing is not None:
            raise _error(f"unexpected {trailing.text!r} after the return type", trailing.column)
        return params, returns

    def fields(self, close: str) -> tuple[Param, ...]:
        fields: list[Param] = []
        seen: set[str] = set()
        while True:
            token = self.take()
            if token.text == close:
                return tuple(fields)
            if token.kind != "name":
                raise _error(f"expected a field name or {close!r}, found {token.text!r}",
                             token.column)
            if token.text in seen:
                raise _error(f"duplicate field {token.text!r}", token.column)
            seen.add(token.text)
            fields.append(Param(token.text, self.type()))

    def type(self) -> TypeSpec:
        token = self.take()
        if token.kind == "kw":
            kind = token.text[1:]
            if kind not in _SCALARS:
                known = " ".join(f":{k}" for k in sorted(_SCALARS))
                raise _error(f"unknown type {token.text} (known: {known})", token.column)
            spec = TypeSpec(kind)  # type: ignore[arg-type]
        elif token.text == "[":
            item = self.type()
            self.expect("]")
            spec = TypeSpec("vector", item=item)
        elif token.text == "{":
            spec = TypeSpec("record", fields=self.fields("}"))
        else:
            raise _error(f"expected a type, found {token.text!r}", token.column)
        following = self.peek()
        if following is not None and following.text == "?":
            self.take()
            spec = dataclasses.replace(spec, optional=True)
        return spec


_SCHEMA_SCALARS = {"string": "string", "integer": "int", "number": "float", "boolean": "bool"}


_MAX_SCHEMA_DEPTH = 32


def _from_schema(schema: Any, optional: bool = False, depth: int = 0) -> TypeSpec:
    """One JSON Schema → a ``TypeSpec`` (lenient: what it cannot express becomes ``:any``, and so
    does anything nested deeper than 32 levels)."""
    if not isinstance(schema, Mapping) or depth > _MAX_SCHEMA_DEPTH:
        return TypeSpec("any", optional=True)
    deeper = depth + 1
    kind = schema.get("type")
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if kind is None and isinstance(alternatives, list):
        non_null = [a for a in alternatives if not (isinstance(a, Mapping)
                                                    and a.get("type") == "null")]
        if len(non_null) == 1:
            return _from_schema(non_null[0], optional or len(non_null) < len(alternatives),
                                deeper)
        return TypeSpec("any", optional=True)
    if isinstance(kind, list):
        non_null_kinds = [k for k in kind if k != "null"]
        optional = optional or len(non_null_kinds) < len(kind)
        kind = non_null_kinds[0] if len(non_null_kinds) == 1 else None
    if kind in _SCHEMA_SCALARS:
        return TypeSpec(_SCHEMA_SCALARS[kind], optional=optional)  # type: ignore[arg-type]
    if kind == "array":
        return TypeSpec("vector", optional=optional,
                        item=_from_schema(schema.get("items"), False, deeper))
    if kind == "object" and isinstance(schema.get("properties"), Mapping):
        required = set(schema.get("required") or ())
        fields = tuple(Param(str(name), _from_schema(sub, name not in required, deeper))
                       for name, sub in schema["properties"].items())
        return TypeSpec("record", optional=optional, fields=fields)
    if kind == "object":
        return TypeSpec("map", optional=optional)
    return TypeSpec("any", optional=optional or kind is None)


_SCHEMA_OF_SCALAR = {"string": "string", "int": "integer", "float": "number", "bool": "boolean",
                     "keyword": "string"}


def _to_schema(spec: TypeSpec) -> dict[str, Any]:
    if spec.kind in _SCHEMA_OF_SCALAR:
        out: dict[str, Any] = {"type": _SCHEMA_OF_SCALAR[spec.kind]}
    elif spec.kind == "map":
        out = {"type": "object"}
    elif spec.kind == "vector":
        assert spec.item is not None
        out = {"type": "array", "items": _to_schema(spec.item)}
    elif spec.kind == "record":
        out = {"type": "object",
               "properties": {f.name: _to_schema(f.type) for f in spec.fields},
               "required": [f.name for f in spec.fields if not f.optional]}
    else:
        return {}
    if spec.optional:
        out["type"] = [out["type"], "null"]
    return out


def _error(message: str, column: int) -> SignatureError:
    return SignatureError(
        f"bad signature: {message}",
        hint=f"write signatures like {_EXAMPLE}",
        line=1,
        column=column,
    )


@functools.lru_cache(maxsize=512)
def parse_signature(text: str) -> Signature:
    """Parse signature text. Raises ``SignatureError`` (``signature_error``) with the column."""
    if not isinstance(text, str):
        raise SignatureError(f"a signature must be a string, got {type(text).__name__}")
    params, returns = _Parser(text).signature()
    return Signature(params, returns, text)


def parse_type(text: str) -> TypeSpec:
    """Parse a single type, e.g. ``"[{id :int}]"``."""
    parser = _Parser(text)
    spec = parser.type()
    trailing = parser.peek()
    if trailing is not None:
        raise _error(f"unexpected {trailing.text!r} after the type", trailing.column)
    return spec


# ---------------------------------------------------------------- pydantic models


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("expected a number")
    return float(value)


def _keyword(value: Any) -> str:
    if isinstance(value, Keyword):
        return value.qualified
    if isinstance(value, str) and value:
        return value.removeprefix(":")
    raise ValueError("expected a keyword")


_Int = pydantic.StrictInt
_Float = Annotated[float, BeforeValidator(_number)]
_Keyword = Annotated[str, BeforeValidator(_keyword)]


def _python_type(spec: TypeSpec, name_hint: str) -> Any:
    base: Any
    if spec.kind == "string":
        base = pydantic.StrictStr
    elif spec.kind == "int":
        base = _Int
    elif spec.kind == "float":
        base = _Float
    elif spec.kind == "bool":
        base = pydantic.StrictBool
    elif spec.kind == "keyword":
        base = _Keyword
    elif spec.kind == "map":
        base = dict[str, Any]
    elif spec.kind == "vector":
        assert spec.item is not None
        base = list[_python_type(spec.item, name_hint + "Item")]  # type: ignore[misc]
    elif spec.kind == "record":
        base = _record_model(spec.fields, name_hint)
    else:
        base = Any
    return base | None if spec.optional else base


def _record_model(fields: tuple[Param, ...], name: str) -> type[pydantic.BaseModel]:
    definitions: dict[str, Any] = {}
    for i, param in enumerate(fields):
        py_name = _py_name(param.name, i)
        annotation = _python_type(param.type, name + _camel(param.name))
        default = None if param.optional else ...
        definitions[py_name] = (annotation, Field(default, alias=param.name))
    return create_model(
        name,
        __config__=ConfigDict(extra="allow", populate_by_name=False),
        **definitions,
    )


def _py_name(name: str, index: int) -> str:
    ident = re.sub(r"\W", "_", name).lstrip("_")
    if not ident or ident[0].isdigit() or _pykeyword.iskeyword(ident) or ident.startswith("model"):
        ident = f"f{index}_{ident}"
    return f"{ident}_{index}"


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[\W_]+", name) if part)


_SIMPLE_TYPES: dict[str, type] = {"string": str, "int": int, "float": float, "bool": bool}
_Simple = tuple[tuple[str, type, bool], ...]
_SIMPLE_OF_ID: dict[int, tuple[Signature, _Simple | None]] = {}


def _simple_params(sig: Signature) -> _Simple | None:
    """``(name, Python type, optional)`` per parameter when every parameter is a string, int,
    float or bool (the common tool), else None; cached by the signature's identity."""
    return by_identity(_SIMPLE_OF_ID, sig, _find_simple_params, 512)


def _find_simple_params(sig: Signature) -> _Simple | None:
    if sig.params is None or not all(p.type.kind in _SIMPLE_TYPES for p in sig.params):
        return None
    return tuple((p.name, _SIMPLE_TYPES[p.type.kind], p.optional) for p in sig.params)


def _passed_as_is(simple: _Simple, args: dict[str, Any]) -> dict[str, Any] | None:
    """``args`` as the model would return them, when it would return them unchanged: every
    required parameter present, each value of exactly its type (the strict types pass it
    as is; a float parameter only a float), no other key. None: ask the model."""
    out: dict[str, Any] = {}
    for name, typ, optional in simple:
        if name in args:
            value = args[name]
            if type(value) is not typ:
                return None
            out[name] = value
        elif not optional:
            return None
    return out if len(out) == len(args) else None


_AS_IS: dict[str, type] = {"string": str, "int": int, "float": float, "bool": bool}
"""Result kinds whose model passes a value of exactly this type unchanged."""
_OUTPUT_OF_ID: dict[int, tuple[Signature, type[pydantic.RootModel[Any]]]] = {}
"""Output models by the signature object's identity (as ``_MODEL_OF_ID``)."""
_MODEL_OF_ID: dict[int, tuple[Signature, type[pydantic.BaseModel]]] = {}
"""Input models by the signature object's identity (the entry holds the object, so its id is
not reused while cached)."""


@functools.lru_cache(maxsize=512)
def _input_model(sig: Signature) -> type[pydantic.BaseModel]:
    return _record_model(sig.params or (), "Args")


@functools.lru_cache(maxsize=512)
def _output_model(sig: Signature) -> type[pydantic.RootModel[Any]]:
    root: Any = pydantic.RootModel  # parametrised by a type built at run time
    return root[_python_type(sig.returns, "Return")]


def _dump(model: pydantic.BaseModel) -> Any:
    return _plain(model.model_dump(mode="python", by_alias=True, exclude_unset=True))


def _plain(value: Any) -> Any:
    """Keywords left in ``:any``/``:map`` positions become their names (host data is JSON-like)."""
    if isinstance(value, Keyword):
        return value.qualified
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(x) for x in value]
    return value


# ---------------------------------------------------------------- values in, errors out


def _checkable(value: Any) -> Any:
    """ptclisp values → what the models check: str-keyed dicts and lists; keywords kept."""
    if isinstance(value, dict):
        return {_key(k): _checkable(v) for k, v in value.items()}
    if isinstance(value, (Vector, List, LazySeq, list, tuple)):
        return [_checkable(x) for x in value]
    if isinstance(value, (Set, frozenset, set)):
        return [_checkable(x) for x in value]
    if isinstance(value, Char):
        return value.ch
    if isinstance(value, Symbol):
        return value.qualified
    return value


def _key(key: Any) -> str:
    if isinstance(key, (Keyword, Symbol)):
        return key.qualified
    return key if isinstance(key, str) else repr(key)


def _mismatch(exc: pydantic.ValidationError, code: str, what: str,
              expected: str) -> SignatureMismatch:
    problems = [_describe_error(e) for e in exc.errors(include_url=False)]
    shown = problems[:8] + ([f"... and {len(problems) - 8} more"] if len(problems) > 8 else [])
    return SignatureMismatch(
        f"{what} do not match the signature: " + "; ".join(shown)
        if what == "arguments"
        else f"{what} does not match the signature: " + "; ".join(shown),
        code=code,
        hint=f"the expected shape is {expected}",
    )


def _describe_error(error: Any) -> str:
    path = _path(error["loc"])
    where = f"{path}: " if path else ""
    if error["type"] == "missing":
        return f"{where}missing"
    expected = _EXPECTED.get(error["type"], str(error["msg"]).removeprefix("Value error, "))
    return f"{where}{expected}, got {_describe(error.get('input'))}"


_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected a boolean",
    "list_type": "expected a vector",
    "dict_type": "expected a map",
    "model_type": "expected a map",
    "model_attributes_type": "expected a map",
}


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("function-after", "function-before") or str(item).startswith(
            ("function-", "nullable", "constrained", "union")
        ):
            continue
        elif isinstance(item, str) and not item[:1].isupper():
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def _describe(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"string {shown!r}"
    if isinstance(value, Keyword):
        return f"keyword {value!r}"
    if isinstance(value, dict):
        return f"a map with {len(value)} keys"
    if isinstance(value, (list, tuple)):
        return f"a vector of {len(value)}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------- private fields


def redact(value: Any) -> Any:
    """A copy of ``value`` for an LLM's eyes: every ``_``-prefixed map entry's value is replaced
    by a short description (``"<hidden: vector of 120>"``). Works on ptclisp values and host data.
    """
    return _redact(value, {})


def _redact(value: Any, memo: dict[int, Any]) -> Any:
    """``redact`` with a memo by identity: shared parts are redacted once and stay shared."""
    if not isinstance(value, (dict, tuple, list, LazySeq)):
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    out: Any = value
    if isinstance(value, dict):
        items = (
            (k, _hidden(v) if _key(k).startswith("_") else _redact(v, memo))
            for k, v in value.items()
        )
        out = Map(items) if isinstance(value, Map) else dict(items)
    elif isinstance(value, Vector):
        out = Vector(_redact(x, memo) for x in value)
    elif isinstance(value, (List, LazySeq)):
        out = List(_redact(x, memo) for x in value)
    elif isinstance(value, list):
        out = [_redact(x, memo) for x in value]
    memo[id(value)] = out
    return out


def _hidden(value: Any) -> str:
    return f"<hidden: {_describe(value).removeprefix('a ')}>"
