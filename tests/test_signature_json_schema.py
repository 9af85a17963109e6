"""``Signature.from_json_schema`` / ``to_json_schema``: mapping, round trips, hostile schemas."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ptclisp._tools.signature import Param, Signature, SignatureError, TypeSpec


def test_an_mcp_style_schema_maps_to_a_signature() -> None:
    schema = {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string"}, "days": {"type": "integer"}, "ratio": {"type": "number"},
        "exact": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
        "where": {"type": "object", "properties": {"lat": {"type": "number"}},
                  "required": ["lat"]},
        "extra": {"type": "object"}, "unit": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "free": {}}}
    sig = Signature.from_json_schema(schema, {"type": "array", "items": {"type": "integer"}})
    assert sig.render() == (
        "(city :string, days :int?, ratio :float?, exact :bool?, tags [:string]?, "
        "where {lat :float}?, extra :map?, unit :string?, either :any?, free :any?) -> [:int]")
    assert sig.validate_args({"city": "Oslo", "where": {"lat": 1.5}}) == {
        "city": "Oslo", "where": {"lat": 1.5}}


def test_to_json_schema_is_the_inverse() -> None:
    sig = Signature.from_json_schema({"type": "object", "properties": {
        "q": {"type": "string"}, "n": {"type": ["integer", "null"]}}, "required": ["q"]})
    schema = sig.to_json_schema()
    assert schema == {"type": "object", "required": ["q"], "properties": {
        "q": {"type": "string"}, "n": {"type": ["integer", "null"]}}}
    assert Signature.from_json_schema(schema).render() == sig.render()


@pytest.mark.parametrize("schema", [None, [], "object", 3])
def test_a_schema_that_is_not_an_object_is_refused(schema: Any) -> None:
    with pytest.raises(SignatureError, match="JSON Schema must be an object"):
        Signature.from_json_schema(schema)


@pytest.mark.parametrize("schema", [
    {}, {"type": "object"}, {"type": "object", "properties": []},
    {"type": "object", "properties": {"x": "not a schema"}}, {"type": 7},
    {"type": "object", "properties": {"x": {"type": ["string", "integer"]}}},
    {"type": "object", "properties": {"x": {"type": "array"}}, "required": "x"},
])
def test_odd_schemas_degrade_to_any_without_crashing(schema: dict[str, Any]) -> None:
    sig = Signature.from_json_schema(schema)
    assert isinstance(sig.render(), str)
    assert isinstance(sig.to_json_schema(), dict)


_SCALAR_KINDS = ["string", "int", "float", "bool", "any", "map"]
_names = st.text("abcdefgh_", min_size=1, max_size=6)


def _specs() -> st.SearchStrategy[TypeSpec]:
    scalar = st.builds(TypeSpec, st.sampled_from(_SCALAR_KINDS), st.booleans())
    return st.recursive(scalar, lambda inner: st.one_of(
        st.builds(lambda item, opt: TypeSpec("vector", opt, item=item), inner, st.booleans()),
        st.builds(lambda fields, opt: TypeSpec("record", opt, fields=tuple(
            Param(n, t) for n, t in fields.items())),
            st.dictionaries(_names, inner, min_size=1, max_size=3), st.booleans())),
        max_leaves=6)


def _normal(spec: TypeSpec) -> TypeSpec:
    """What survives a JSON Schema round trip: :any (the empty schema) is always optional."""
    if spec.kind == "any":
        return TypeSpec("any", True)
    if spec.kind == "vector":
        assert spec.item is not None
        return TypeSpec("vector", spec.optional, item=_normal(spec.item))
    if spec.kind == "record":
        return TypeSpec("record", spec.optional, fields=tuple(
            Param(f.name, _normal(f.type)) for f in spec.fields))
    return spec


@given(st.dictionaries(_names, _specs(), max_size=4))
def test_round_trip_through_json_schema(params: dict[str, TypeSpec]) -> None:
    sig = Signature(tuple(Param(n, t) for n, t in params.items()), TypeSpec("any"))
    again = Signature.from_json_schema(sig.to_json_schema())
    assert again.params == tuple(Param(n, _normal(t)) for n, t in params.items())


def test_a_hostile_deeply_nested_schema_is_cut_to_any() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(10_000):
        schema = {"type": "array", "items": schema}
    sig = Signature.from_json_schema({"type": "object", "properties": {"x": schema},
                                      "required": ["x"]})
    assert sig.render().count("[") == 32 and "[:any?]" in sig.render()
    wide = {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(2000)}}
    assert len(Signature.from_json_schema(wide).params or ()) == 2000
