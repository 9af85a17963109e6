"""Binding forms: ``let``, ``loop``/``recur``, ``fn``, ``defn``, ``def``, and destructuring.

Destructuring is desugared here into plain ``Bind`` steps (``frame[slot] = expr``) that call the
small helpers of ``ptclisp._rt``; the compiler only ever sees slots.
"""

from __future__ import annotations

from typing import cast

from hy import models

from .._compiler import rt as _rt
from .._values.types import Keyword, Symbol
from . import ast as A
from ._dispatch import SPECIAL, analyze, analyze_body, literal_value, node, special
from ._env import Env, FnScope, SlotCounter, error, pos
from .symbols import CONSTANTS, check_not_interop

__all__ = ["analyze_fn", "bind_pairs", "destructure"]

_BIND_HINT = "bindings are a vector of name/value pairs: (let [x 1 y (inc x)] ...)"


# ---------------------------------------------------------------- destructuring


def destructure(pattern: object, value: A.Node, env: Env) -> tuple[list[A.Bind], Env]:
    """Bind ``pattern`` to ``value``: the ``Bind`` steps and the extended environment."""
    if isinstance(pattern, models.Symbol):
        name = binding_name(pattern)
        slot = env.alloc()
        return [node(A.Bind, pattern, slot, value)], env.bind(name, slot)
    if isinstance(pattern, models.List):
        return _vector_pattern(pattern, value, env)
    if isinstance(pattern, models.Dict):
        return _map_pattern(pattern, value, env)
    raise error(
        "invalid_form",
        f"cannot bind to {_describe(pattern)}",
        pattern,
        "bind a symbol, a vector pattern [a b & more] or a map pattern {:keys [a b]}",
    )


def binding_name(sym: models.Symbol) -> str:
    name = str(sym)
    if name in CONSTANTS or name == "&" or "/" in name[1:]:
        raise error("invalid_form", f"cannot bind {name} as a local name", sym,
                    "use a plain name such as x or total")
    check_not_interop(sym)
    return name


def _helper(fn: object, form: object, *args: A.Node) -> A.Node:
    return node(A.Call, form, node(A.Const, form, fn), tuple(args))


def _temp(value: A.Node, env: Env, form: object) -> tuple[A.Bind, A.Local]:
    slot = env.alloc()
    line, column = pos(form)
    return (A.Bind(slot, value, line=line, column=column),
            A.Local(slot, " tmp", line=line, column=column))


def _vector_pattern(pattern: models.List, value: A.Node, env: Env) -> tuple[list[A.Bind], Env]:
    bind, temp = _temp(value, env, pattern)
    binds = [bind]
    items = list(pattern)
    index = 0
    i = 0
    while i < len(items):
        item = items[i]
        if isinstance(item, models.Symbol) and str(item) == "&":
            if i + 1 >= len(items):
                raise error("invalid_form", "& must be followed by a name", item,
                            "write [a & more]")
            rest = _helper(_rt.nthnext, item, temp, node(A.Const, item, index))
            more, env = destructure(items[i + 1], rest, env)
            binds += more
            i += 2
        elif isinstance(item, models.Keyword) and item.name == "as":
            if i + 1 >= len(items) or not isinstance(items[i + 1], models.Symbol):
                raise error("invalid_form", ":as must be followed by a name", item,
                            "write [a b :as all]")
            slot = env.alloc()
            binds.append(node(A.Bind, item, slot, temp))
            env = env.bind(binding_name(items[i + 1]), slot)
            i += 2
        else:
            elem = _helper(_rt.nth_or_nil, item, temp, node(A.Const, item, index))
            more, env = destructure(item, elem, env)
            binds += more
            index += 1
            i += 1
    return binds, env


def _map_pattern(pattern: models.Dict, value: A.Node, env: Env) -> tuple[list[A.Bind], Env]:
    if len(pattern) % 2:
        raise error("invalid_form", "a map pattern needs key/value pairs", pattern,
                    "write {:keys [a b]} or {a :a}")
    bind, temp = _temp(_helper(_rt.as_map, pattern, value), env, pattern)
    binds = [bind]
    pairs = list(zip(pattern[::2], pattern[1::2]))
    defaults = _defaults(pairs)
    for key, val in pairs:
        if isinstance(key, models.Keyword) and key.name in ("keys", "strs", "syms"):
            for sym in _names_vector(val, key.name):
                local, lookup = _key_for(sym, key.name)
                more, env = _bind_key(sym, local, lookup, temp, defaults, env)
                binds += more
        elif isinstance(key, models.Keyword) and key.name == "as":
            if not isinstance(val, models.Symbol):
                raise error("invalid_form", ":as must be followed by a name", key, "write {:as m}")
            slot = env.alloc()
            binds.append(node(A.Bind, key, slot, temp))
            env = env.bind(binding_name(val), slot)
        elif isinstance(key, models.Keyword) and key.name == "or":
            continue
        elif isinstance(key, models.Symbol):
            more, env = _bind_key(key, binding_name(key), literal_value(val), temp, defaults, env)
            binds += more
        else:
            got = _helper(_rt.missing_to_nil, key, _helper(_rt.get_key, key, temp,
                                                         node(A.Const, val, literal_value(val))))
            more, env = destructure(key, got, env)
            binds += more
    return binds, env


def _defaults(pairs: list[tuple[object, object]]) -> dict[str, object]:
    for key, val in pairs:
        if isinstance(key, models.Keyword) and key.name == "or":
            if not isinstance(val, models.Dict) or len(val) % 2:
                raise error("invalid_form", ":or must be followed by a map of defaults", key,
                            "write {:keys [a] :or {a 0}}")
            return {str(k): v for k, v in zip(val[::2], val[1::2])}
    return {}


def _names_vector(val: object, kind: str) -> list[models.Object]:
    if not isinstance(val, models.List) or not all(
        isinstance(s, (models.Symbol, models.Keyword)) for s in val
    ):
        raise error("invalid_form", f":{kind} must be followed by a vector of names", val,
                    f"write {{:{kind} [a b]}}")
    return list(val)


def _key_for(sym: models.Object, kind: str) -> tuple[str, object]:
    text = sym.name if isinstance(sym, models.Keyword) else str(sym)
    ns, _, name = text.rpartition("/")
    if kind == "keys":
        return name, Keyword(name, ns or None)
    if kind == "strs":
        return name, name
    return name, Symbol(name, ns or None)


def _bind_key(sym: object, local: str, key: object, temp: A.Local,
              defaults: dict[str, object], env: Env) -> tuple[list[A.Bind], Env]:
    lookup = _helper(_rt.get_key, sym, temp, node(A.Const, sym, key))
    slot = env.alloc()
    binds = [node(A.Bind, sym, slot, lookup)]
    here = node(A.Local, sym, slot, local)
    if local in defaults:
        default = analyze(defaults[local], env)
        chosen = node(A.If, sym, _helper(_rt.is_missing, sym, here), default, here)
    else:
        chosen = _helper(_rt.missing_to_nil, sym, here)
    binds.append(node(A.Bind, sym, slot, chosen))
    return binds, env.bind(local, slot)


def _describe(form: object) -> str:
    return repr(form) if not isinstance(form, models.Object) else type(form).__name__.lower()


# ---------------------------------------------------------------- let / loop / recur


def binding_vector(form: models.Expression, what: str) -> list[tuple[object, object]]:
    if len(form) < 2 or not isinstance(form[1], models.List):
        raise error("invalid_form", f"{what} needs a binding vector", form, _BIND_HINT)
    vec = form[1]
    if len(vec) % 2:
        raise error("invalid_form", f"{what} bindings need an even number of forms", vec,
                    _BIND_HINT)
    return list(zip(vec[::2], vec[1::2]))


def bind_pairs(pairs: list[tuple[object, object]], env: Env) -> tuple[list[A.Bind], Env]:
    """Sequential ``let``-style bindings: each value sees the names bound before it."""
    binds: list[A.Bind] = []
    for pattern, expr in pairs:
        more, env = destructure(pattern, analyze(expr, env), env)
        binds += more
    return binds, env


@special("let")
def analyze_let(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (let [pattern value ...] body...)
    binds, inner = bind_pairs(binding_vector(form, "let"), env)
    body = analyze_body(form[2:], inner, tail, form)
    return node(A.Let, form, tuple(binds), body) if binds else body


@special("loop")
def analyze_loop(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (loop [pattern init ...] body...)  -- recur rebinds the patterns
    entry: list[A.Bind] = []
    prologue: list[A.Bind] = []
    slots: list[int] = []
    for pattern, expr in binding_vector(form, "loop"):
        value = analyze(expr, env)
        if isinstance(pattern, models.Symbol):
            slot = env.alloc()
            entry.append(node(A.Bind, pattern, slot, value))
            env = env.bind(binding_name(pattern), slot)
        else:
            slot = env.alloc()
            entry.append(node(A.Bind, pattern, slot, value))
            more, env = destructure(pattern, node(A.Local, pattern, slot, " loop"), env)
            entry += more
            prologue += more
        slots.append(slot)
    body = analyze_body(form[2:], env.with_recur(tuple(slots)), True, form)
    return node(A.Loop, form, tuple(slots), tuple(entry), tuple(prologue), body)


@special("recur")
def analyze_recur(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (recur args...) -- only in tail position of a loop or fn
    if env.recur is None:
        raise error("invalid_form", "recur is only allowed inside loop or fn", form,
                    "wrap the repeated part in (loop [x init] ... (recur next-x))")
    if not tail:
        raise error("invalid_form", "recur must be in tail position", form,
                    "recur must be the last thing evaluated; "
                    "for other recursion call the fn by name")
    args = tuple(analyze(a, env) for a in form[1:])
    if len(args) != len(env.recur):
        raise error("arity_error", f"recur expects {len(env.recur)} arguments, got {len(args)}",
                    form, "pass one value per loop binding / fn parameter")
    return node(A.Recur, form, env.recur, args)


# ---------------------------------------------------------------- fn / defn / def


@special("fn", "fn*")
def analyze_fn_form(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (fn name? [params] body...) | (fn name? ([params] body...) ...)
    rest = list(form[1:])
    name = None
    if rest and isinstance(rest[0], models.Symbol):
        name = binding_name(rest.pop(0))
    return analyze_fn(form, name, rest, env)


def analyze_fn(form: models.Expression, name: str | None, rest: list[object], env: Env,
               *, global_name: bool = False) -> A.Fn:
    """Analyze fn arities ``rest`` (either ``[params] body...`` or ``([params] body...)...``)."""
    if rest and isinstance(rest[0], models.List):
        clauses = [(rest[0], rest[1:])]
    elif rest and all(isinstance(c, models.Expression) and c and isinstance(c[0], models.List)
                      for c in rest):
        arities = cast(list[models.Expression], rest)
        clauses = [(c[0], list(c[1:])) for c in arities]
    else:
        raise error("invalid_form", "fn needs a parameter vector", form,
                    "write (fn [x y] body) or (fn ([x] ...) ([x y] ...))")
    scope = FnScope(env, named=name is not None)
    arities = [_arity(params, body, name, scope, env, form) for params, body in clauses]
    _check_arities(arities, form)
    return node(A.Fn, form, name, tuple(scope.captures), tuple(arities), name is not None)


def _arity(params: models.List, body: list[object], name: str | None, scope: FnScope,
           outer: Env, form: object) -> A.Arity:
    names: dict[str, A.Node] = {}
    if name is not None:
        names[name] = A.Captured(0, name)
    env = Env(outer.root, scope, SlotCounter(1), names, None)
    fixed, rest = _split_params(params)
    slots = [env.alloc() for _ in fixed]
    rest_slot = env.alloc() if rest is not None else None
    prologue: list[A.Bind] = []
    for slot, pattern in zip(slots, fixed):
        env, prologue = _bind_param(pattern, slot, env, prologue)
    if rest is not None and rest_slot is not None:
        env, prologue = _bind_param(rest, rest_slot, env, prologue)
        slots.append(rest_slot)
    recur_env = env.with_recur(tuple(slots))
    body_node = analyze_body(body, recur_env, True, form)
    return node(A.Arity, params, len(fixed), rest is not None, tuple(prologue), body_node,
                env.slots.high)


def _bind_param(pattern: object, slot: int, env: Env,
                prologue: list[A.Bind]) -> tuple[Env, list[A.Bind]]:
    if isinstance(pattern, models.Symbol):
        return env.bind(binding_name(pattern), slot), prologue
    more, env = destructure(pattern, node(A.Local, pattern, slot, " param"), env)
    return env, prologue + more


def _split_params(params: models.List) -> tuple[list[object], object | None]:
    items = list(params)
    for i, p in enumerate(items):
        if isinstance(p, models.Symbol) and str(p) == "&":
            if len(items) != i + 2:
                raise error("invalid_form", "& must be followed by exactly one name", p,
                            "write [a b & more]")
            return items[:i], items[i + 1]
    return items, None


def _check_arities(arities: list[A.Arity], form: object) -> None:
    fixed = [a.nparams for a in arities if not a.variadic]
    variadic = [a for a in arities if a.variadic]
    if len(set(fixed)) != len(fixed):
        raise error("invalid_form", "two arities with the same number of parameters", form,
                    "give each arity a different parameter count")
    if len(variadic) > 1:
        raise error("invalid_form", "only one arity may be variadic (&)", form,
                    "merge the variadic arities into one")
    if variadic and fixed and max(fixed) > variadic[0].nparams:
        raise error("invalid_form", "a fixed arity has more parameters than the variadic one",
                    form, "the variadic arity must take the most fixed parameters")


def def_name(form: models.Expression, what: str) -> str:
    if len(form) < 2 or not isinstance(form[1], models.Symbol):
        raise error("invalid_form", f"{what} needs a name", form,
                    f"write ({what} name ...)" if what == "def"
                    else "write (defn name [args] body)")
    sym = form[1]
    name = str(sym)
    if name in SPECIAL or name in CONSTANTS or name in ("return", "fail"):
        raise error("invalid_form", f"cannot redefine {name}: it is a special form", sym,
                    "choose another name")
    if "/" in name[1:]:
        raise error("invalid_form", f"cannot define the qualified name {name}", sym,
                    "define a plain name such as my-fn; tool/ and data/ are provided by the host")
    check_not_interop(sym)
    return name


@special("def", "defonce")
def analyze_def(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (def name value?) | (def name "doc" value)
    name = def_name(form, "def")
    if len(form) > 4:
        raise error("arity_error", "def takes a name and one value", form, "write (def name value)")
    if len(form) == 4 and not isinstance(form[2], models.String):
        raise error("arity_error", "def takes a name and one value", form, "write (def name value)")
    env.root.globals.add(name)
    value = analyze(form[-1], env) if len(form) > 2 else node(A.Const, form, None)
    return node(A.Def, form, name, value)


@special("defn", "defn-")
def analyze_defn(form: models.Expression, env: Env, tail: bool) -> A.Node:
    # (defn name "doc"? {attrs}? [params] body...) | (defn name "doc"? ([params] body...) ...)
    name = def_name(form, "defn")
    env.root.globals.add(name)
    rest = list(form[2:])
    if rest and isinstance(rest[0], models.String):
        rest.pop(0)
    if rest and isinstance(rest[0], models.Dict):
        rest.pop(0)
    fn = analyze_fn(form, name, rest, env)
    return node(A.Def, form, name, fn)


@special("declare")
def analyze_declare(form: models.Expression, env: Env, tail: bool) -> A.Node:
    """``(declare a b)``: the names are known before their def (defs are hoisted anyway)."""
    for sym in form[1:]:
        if not isinstance(sym, models.Symbol):
            raise error("invalid_form", "declare takes names", form, "write (declare name ...)")
        check_not_interop(sym)
        env.root.globals.add(str(sym))
    return node(A.Const, form, None)
