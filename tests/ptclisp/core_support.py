"""Shared helpers of the core-library tests: call builtins directly under an active meter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ptclisp._core import BUILTINS
from ptclisp._errors import EvalError
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._values.types import Keyword, List, Vector

K = Keyword


def V(*xs: Any) -> Vector:
    return Vector(xs)


def L(*xs: Any) -> List:
    return List(xs)


@pytest.fixture(autouse=True)
def _meter() -> Iterator[Meter]:
    """Builtins charge the current meter: every test runs under a fresh default one."""
    with use_meter(Meter(Limits())) as m:
        yield m


def call(name: str, *args: Any) -> Any:
    return BUILTINS[name](*args)


def code_of(name: str, *args: Any) -> str:
    """The error code ``(name args...)`` fails with."""
    with pytest.raises(EvalError) as e:
        call(name, *args)
    return e.value.code
