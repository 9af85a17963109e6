"""``ptclisp.compile``: read and analyze a program once, run it many times.

    >>> import ptclisp
    >>> total = ptclisp.compile("(reduce + (map :amount data/orders))")
    >>> total.run(data={"orders": [{"amount": 2}, {"amount": 3}]}).value
    5
    >>> total.run(data={"orders": []}).value
    0

``compile`` raises the program's ``ReadError``/``AnalysisError`` at once (a ``run`` of the same
text returns them in its ``Result``). ``run`` and ``start`` then behave exactly as
``ptclisp.run``/``ptclisp.start`` on the same text — same values, errors, steps and memory —
without reading and analyzing it again; ``run`` also keeps the code it compiled (a few
namespaces' worth, one per concurrent run) and reuses it, cleared, for the next run, so no
definition of one run is visible to another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._analyzer.ast import Program
from ._compiler.context import ParallelMap
from ._limits import CancelToken, Limits
from ._result import Result
from ._run import Reusable, load, run_loaded

if TYPE_CHECKING:
    from ._async.pending import PendingStep
    from ._tools.registry import Tool

    Tools = Mapping[str, Callable[..., Any] | Tool] | None

__all__ = ["CompiledProgram", "compile"]


class CompiledProgram:
    """A program read and analyzed once (see ``compile``); run it any number of times."""

    __slots__ = ("_program", "_reusable", "source")

    source: str
    """The program text (what a ``PendingStep`` of ``start`` records, and ``resume`` reads)."""

    def __init__(self, source: str, program: Program) -> None:
        self.source = source
        self._program = program
        self._reusable = Reusable(program)

    def run(
        self,
        *,
        tools: Tools = None,
        data: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        parallel_map: ParallelMap | None = None,
        cancel: CancelToken | None = None,
    ) -> Result | PendingStep:
        """``ptclisp.run(self.source, ...)``, without reading and analyzing the text again."""
        return run_loaded(self.source, self._program, tools=tools, data=data, limits=limits,
                          parallel_map=parallel_map, reusable=self._reusable, cancel=cancel)

    def start(
        self,
        *,
        tools: Tools = None,
        data: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        host_state: dict[str, Any] | None = None,
        cancel: CancelToken | None = None,
    ) -> Result | PendingStep:
        """``ptclisp.start(self.source, ...)``: a ``Result``, or a ``PendingStep`` to
        ``ptclisp.resume`` when the program awaits an operation that has not finished."""
        from ._host_input import check_tools
        from ._tools.host import ToolHost

        tools = check_tools(tools)
        host = ToolHost(tools, host_state=host_state)
        return run_loaded(self.source, self._program, tools=tools, data=data, limits=limits,
                          host=host, reusable=self._reusable, cancel=cancel)

    def __repr__(self) -> str:
        text = self.source if len(self.source) <= 60 else self.source[:57] + "..."
        return f"CompiledProgram({text!r})"


def compile(source: str) -> CompiledProgram:  # the public name, like re.compile
    """Read and analyze ``source`` once; returns a ``CompiledProgram`` to ``run``/``start``.

    Raises ``ReadError`` (``parse_error``...) or ``AnalysisError`` (``unbound_symbol``...) for
    a program that cannot run, with its position and a hint; a non-text ``source`` is a
    ``ReadError`` too. Analysis is cached by text (comments aside), so compiling the same text
    again is cheap.
    """
    return CompiledProgram(source, load(source))
