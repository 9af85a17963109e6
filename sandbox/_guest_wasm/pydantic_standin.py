"""Staged as ``pydantic`` inside the wasm guest only (see sandbox/_wasm_build.py).

pydantic's core is a C extension with no WASI build, so it cannot run in the guest. ptclisp
imports it at module level for ``Tool`` signatures (``_tools``/``_signature``), yet inside the guest
no ``Tool`` ever exists: every tool is a plain proxy to the host, where the real ``Tool`` is
validated with the real pydantic. This module lets those imports succeed; anything that would
actually *use* pydantic in the guest raises ``RuntimeError`` instead of misbehaving.
"""


class _Unavailable:
    """Any pydantic name: usable in annotations and type expressions, unusable for validation."""

    def __init__(self, *args, **kwargs):
        self._args = args

    def __class_getitem__(cls, item):
        return cls

    def __call__(self, *args, **kwargs):
        raise RuntimeError("pydantic is not available inside the wasm guest")

    @classmethod
    def model_validate(cls, *args, **kwargs):
        raise RuntimeError("pydantic is not available inside the wasm guest")


class ValidationError(Exception):
    """Never raised in the guest; exists so ``except pydantic.ValidationError`` compiles."""


def create_model(*args, **kwargs):
    raise RuntimeError("pydantic is not available inside the wasm guest")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    cls = type(name, (_Unavailable,), {})
    globals()[name] = cls
    return cls
