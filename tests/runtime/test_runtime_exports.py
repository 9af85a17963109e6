"""The public surface of ``runtime`` is exactly ``__all__``, sorted."""

from ptclisp import runtime

EXPECTED = sorted(runtime.__all__)


def test_all_is_sorted_and_every_name_exists():
    assert runtime.__all__ == EXPECTED
    for name in runtime.__all__:
        assert hasattr(runtime, name), name


def test_public_names_are_documented():
    undocumented = [
        name
        for name in runtime.__all__
        if callable(getattr(runtime, name)) and not (getattr(runtime, name).__doc__ or "").strip()
    ]
    assert undocumented == []
