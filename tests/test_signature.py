"""The signature parser and validators (ptclisp/_signature.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp._errors import EvalError, PtclispError
from ptclisp._tools.signature import (
    Param,
    SignatureError,
    SignatureMismatch,
    TypeSpec,
    parse_signature,
    parse_type,
    redact,
)
from ptclisp._values.types import Keyword, List, Map, Vector

K = Keyword
EXAMPLE = "(query :string, limit :int?) -> {total :float, items [{id :int}]}"


def test_parses_the_issue_example() -> None:
    sig = parse_signature(EXAMPLE)
    assert sig.params is not None
    assert [p.name for p in sig.params] == ["query", "limit"]
    assert sig.params[0].type == TypeSpec("string")
    assert sig.params[1].type == TypeSpec("int", optional=True)
    assert sig.returns.kind == "record"
    items = sig.returns.fields[1]
    assert items.name == "items"
    assert items.type == TypeSpec("vector", item=TypeSpec("record", fields=(Param("id", TypeSpec("int")),)))
    assert sig.render() == EXAMPLE


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("-> :int", "-> :int"),
        ("{a :int b [:string]}", "-> {a :int, b [:string]}"),
        ("(a :int)", "(a :int) -> :any"),
        ("() -> :bool", "() -> :bool"),
        ("(a :keyword, b :map?, c :any) -> [[:float]]?", "(a :keyword, b :map?, c :any) -> [[:float]]?"),
        ("(item-count :int, _secret :string) -> :int", "(item-count :int, _secret :string) -> :int"),
    ],
)
def test_renders_canonically(text: str, rendered: str) -> None:
    assert parse_signature(text).render() == rendered


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("", 1, "empty signature"),
        ("(a :int", 8, "unexpected end"),
        ("(a :foo) -> :int", 4, "unknown type :foo"),
        ("(a :int a :int) -> :int", 9, "duplicate field 'a'"),
        (":int :int", 6, "after the return type"),
        ("(a :int) :int", 10, "expected '->'"),
        ("(a $) -> :int", 4, "unexpected character '$'"),
        ("{:a :int}", 2, "expected a field name"),
    ],
)
def test_bad_signatures_say_where(text: str, column: int, fragment: str) -> None:
    with pytest.raises(SignatureError) as info:
        parse_signature(text)
    err = info.value
    assert isinstance(err, PtclispError)
    assert err.code == "signature_error"
    assert err.column == column
    assert fragment in err.message
    assert err.hint and "->" in err.hint


def test_validate_args_coerces_and_keeps_absent_optionals_absent() -> None:
    sig = parse_signature(EXAMPLE)
    assert sig.validate_args({"query": "x"}) == {"query": "x"}
    assert sig.validate_args({"query": "x", "limit": 3, "extra": [1]}) == {
        "query": "x",
        "limit": 3,
        "extra": [1],
    }


def test_validate_args_lists_every_problem() -> None:
    sig = parse_signature(EXAMPLE)
    with pytest.raises(SignatureMismatch) as info:
        sig.validate_args({"limit": "ten"})
    err = info.value
    assert isinstance(err, EvalError)
    assert err.code == "invalid_args"
    assert "query: missing" in err.message
    assert "limit: expected an integer, got string 'ten'" in err.message
    assert EXAMPLE in (err.hint or "")


def test_validate_args_names_unknown_keys_when_it_fails() -> None:
    sig = parse_signature("(product_ids [:string]) -> :any")
    with pytest.raises(SignatureMismatch) as info:
        sig.validate_args({"ids": ["p1"]})
    assert info.value.message.endswith("product_ids: missing; unknown: ids")
    assert sig.validate_args({"product_ids": [], "extra": 1}) == {"product_ids": [], "extra": 1}


def test_validate_args_rejects_non_maps() -> None:
    with pytest.raises(SignatureMismatch, match="arguments must be a map"):
        parse_signature("(a :int) -> :int").validate_args([1])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("type_text", "good", "bad"),
    [
        (":string", "s", 1),
        (":int", 3, 3.0),
        (":int", -(2**70), True),
        (":float", 2.5, "2.5"),
        (":bool", False, 0),
        (":keyword", K("ok"), 5),
        (":map", Map({K("a"): 1}), Vector([1])),
        ("[:int]", Vector([1, 2]), Map()),
        ("{id :int}", Map({K("id"): 1}), Map({K("id"): "1"})),
        ("{id :int}", {"id": 1}, {}),
    ],
)
def test_validate_return_per_type(type_text: str, good: Any, bad: Any) -> None:
    sig = parse_signature("-> " + type_text)
    sig.validate_return(good)
    with pytest.raises(SignatureMismatch) as info:
        sig.validate_return(bad)
    assert info.value.code == "invalid_return"


def test_validate_return_gives_host_data_with_paths_in_errors() -> None:
    sig = parse_signature(EXAMPLE)
    value = Map(
        {
            K("total"): 3,
            K("items"): Vector([Map({K("id"): 1, K("tag"): K("new")})]),
            K("note"): List([K("x")]),
        }
    )
    assert sig.validate_return(value) == {
        "total": 3.0,
        "items": [{"id": 1, "tag": "new"}],
        "note": ["x"],
    }
    bad = Map({K("total"): "3", K("items"): Vector([Map({K("id"): 1.5})])})
    with pytest.raises(SignatureMismatch) as info:
        sig.validate_return(bad)
    assert "total: expected a number, got string '3'" in info.value.message
    assert "items[0].id: expected an integer, got float 1.5" in info.value.message


def test_optional_accepts_nil_and_absence() -> None:
    sig = parse_signature("-> {a :int?, b [:string]?}")
    assert sig.validate_return(Map()) == {}
    assert sig.validate_return(Map({K("a"): None})) == {"a": None}
    with pytest.raises(SignatureMismatch):
        parse_signature("-> {a :int}").validate_return(Map({K("a"): None}))


def test_private_fields_reach_the_host_and_are_redacted_for_the_llm() -> None:
    sig = parse_signature("-> {summary :string, _ids [:int]}")
    value = Map({K("summary"): "two", K("_ids"): Vector([1, 2])})
    assert sig.validate_return(value) == {"summary": "two", "_ids": [1, 2]}
    shown = redact(value)
    assert shown[K("summary")] == "two"
    assert shown[K("_ids")] == "<hidden: vector of 2>"
    nested = redact({"rows": [{"_raw": "x" * 100, "id": 1}]})
    assert nested == {"rows": [{"_raw": "<hidden: string 'xxxxxxxxxxxxxxxxxxxxxxxxxxx...'>", "id": 1}]}


def test_models_are_pydantic() -> None:
    sig = parse_signature("(_token :string, item-count :int) -> [:int]")
    model = sig.input_model()
    schema = model.model_json_schema()
    assert set(schema["properties"]) == {"_token", "item-count"}
    assert schema["required"] == ["_token", "item-count"]
    assert sig.output_model().model_validate([1, 2]).root == [1, 2]


# ---------------------------------------------------------------- properties

_names = st.from_regex(r"_?[a-z][a-z0-9\-]{0,6}\??", fullmatch=True).filter(lambda s: not s.endswith("-"))
_scalars = st.sampled_from(["string", "int", "float", "bool", "keyword", "any", "map"])


def _types() -> st.SearchStrategy[TypeSpec]:
    leaf = st.builds(TypeSpec, _scalars, st.booleans())

    def extend(inner: st.SearchStrategy[TypeSpec]) -> st.SearchStrategy[TypeSpec]:
        vectors = st.builds(lambda t, o: TypeSpec("vector", o, item=t), inner, st.booleans())
        records = st.builds(
            lambda fs, o: TypeSpec("record", o, fields=tuple(Param(n, t) for n, t in fs.items())),
            st.dictionaries(_names, inner, max_size=4),
            st.booleans(),
        )
        return vectors | records

    return st.recursive(leaf, extend, max_leaves=8)


@settings(max_examples=40, deadline=None)
@given(_types())
def test_render_then_parse_is_identity(spec: TypeSpec) -> None:
    assert parse_type(spec.render()) == spec
    sig = parse_signature(f"(x {spec.render()}) -> {spec.render()}")
    assert sig.returns == spec
    assert parse_signature(sig.render()) == sig.__class__(sig.params, sig.returns, sig.render())


def _value_for(spec: TypeSpec) -> st.SearchStrategy[Any]:
    if spec.optional:
        return st.none() | _value_for(TypeSpec(spec.kind, False, spec.item, spec.fields))
    if spec.kind == "vector":
        assert spec.item is not None
        return st.lists(_value_for(spec.item), max_size=3).map(Vector)
    if spec.kind == "record":
        return st.fixed_dictionaries({K(f.name): _value_for(f.type) for f in spec.fields}).map(Map)
    return {
        "string": st.text(max_size=5),
        "int": st.integers(),
        "float": st.floats(allow_nan=False) | st.integers(),
        "bool": st.booleans(),
        "keyword": st.sampled_from([K("a"), K("b", "ns")]),
        "any": st.integers() | st.text(max_size=3),
        "map": st.just(Map({K("k"): 1})),
    }[spec.kind]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_values_built_to_a_type_validate(data: st.DataObject) -> None:
    spec = data.draw(_types())
    value = data.draw(_value_for(spec))
    parse_signature("-> " + spec.render()).validate_return(value)
