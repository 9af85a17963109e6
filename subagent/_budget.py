"""One budget ledger for a whole agent run: across turns, suspends and resumes, and subagents.

``Budget`` is what the caller allows; ``Ledger`` is what the run has spent. The ledger travels in
``PendingStep.budget`` while a run is suspended (waiting does not count: wall time is charged only
while a ``run``/``resume`` call works), and a subagent draws from its parent's ledger (the same
object; its wall time is already inside the parent's).

Exhaustion ends the run with ``budget_exhausted`` naming the budget. It is checked before every
LLM call and after every turn; inside a turn the program's own limits are clamped to what is left
(steps, tool calls, seconds), so a program cannot overrun the run's budget by much either.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ptclisp import Limits

from ._errors import SubAgentError

__all__ = ["BUDGETS", "Budget", "BudgetExhausted", "Ledger"]

BUDGETS = ("wall_s", "steps", "tool_calls", "input_tokens", "output_tokens", "cost_usd")


class BudgetExhausted(SubAgentError):
    """A run used up one of its budgets; ``budget`` names it (``steps``, ``output_tokens``...)."""

    code = "budget_exhausted"

    def __init__(self, message: str, *, budget: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.budget = budget


class Budget(BaseModel):
    """Limits for one whole run (``None``: unlimited). ``prices``: model name → USD per million
    ``(input, output)`` tokens, overriding the price table (``subagent.price_for``); a model
    priced nowhere adds no cost (``Ledger.priced`` says whether every call was priced)."""

    model_config = ConfigDict(frozen=True)

    wall_s: float | None = Field(None, gt=0)
    steps: int | None = Field(None, ge=0)
    tool_calls: int | None = Field(None, ge=0)
    input_tokens: int | None = Field(None, ge=0)
    output_tokens: int | None = Field(None, ge=0)
    cost_usd: float | None = Field(None, ge=0)
    prices: dict[str, tuple[float, float]] = Field(default_factory=dict)


@dataclasses.dataclass
class Ledger:
    """What a run has spent, against its ``Budget``. Thread-safe (pmap'd subagents share it)."""

    budget: Budget
    spent: dict[str, float] = dataclasses.field(
        default_factory=lambda: dict.fromkeys(BUDGETS, 0))
    priced: bool = True
    _live_since: float | None = dataclasses.field(default=None, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    _budget_dict: dict[str, Any] | None = dataclasses.field(default=None, repr=False)

    # ------------------------------------------------------------ charging

    def begin(self) -> None:
        """A ``run``/``resume`` call starts working: the wall clock runs."""
        with self._lock:
            self._live_since = time.monotonic()

    def pause(self) -> None:
        """The call ends (finished or suspended): bank the wall time; waiting is free."""
        with self._lock:
            if self._live_since is not None:
                self.spent["wall_s"] += time.monotonic() - self._live_since
                self._live_since = None

    def charge_llm(self, model: str | None, usage: Any) -> None:
        """One LLM call's ``Usage`` (tokens; its cost where the model's price is known)."""
        from ._pricing import cost_of

        own = self.budget.prices.get(model or "")
        if own is not None:
            cost: float | None = (usage.input_tokens * own[0]
                                  + usage.output_tokens * own[1]) / 1e6
        else:
            cost = cost_of(model, usage)
        with self._lock:
            self.spent["input_tokens"] += usage.input_tokens
            self.spent["output_tokens"] += usage.output_tokens
            if cost is None:
                self.priced = False
            else:
                self.spent["cost_usd"] += cost

    def charge_program(self, steps: int, tool_calls: int) -> None:
        with self._lock:
            self.spent["steps"] += steps
            self.spent["tool_calls"] += tool_calls

    # ------------------------------------------------------------ reading

    def used(self, name: str) -> float:
        if name == "wall_s":
            with self._lock:
                live = time.monotonic() - self._live_since if self._live_since else 0.0
                return self.spent["wall_s"] + live
        return self.spent[name]

    def remaining(self, name: str) -> float | None:
        limit = getattr(self.budget, name)
        return None if limit is None else limit - self.used(name)

    def exhausted(self) -> str | None:
        """The first budget used up, or ``None``."""
        for name in BUDGETS:
            left = self.remaining(name)
            if left is not None and left <= 0:
                return name
        return None

    def error(self, name: str) -> BudgetExhausted:
        limit = getattr(self.budget, name)
        return BudgetExhausted(
            f"the run's {name} budget is exhausted: used {self.used(name):g} of {limit:g}",
            budget=name, hint=f"raise Budget({name}=...), or give the agent a smaller task")

    def clamp(self, limits: Limits) -> Limits:
        """The program limits of one turn, cut to what the run has left."""
        changes: dict[str, Any] = {}
        for budget, field, kind in (("steps", "max_steps", int),
                                    ("tool_calls", "max_tool_calls", int),
                                    ("wall_s", "timeout_s", float)):
            left = self.remaining(budget)
            current = getattr(limits, field)
            if left is not None and (current is None or left < current):
                changes[field] = kind(max(left, 1 if kind is int else 0.001))
        return dataclasses.replace(limits, **changes) if changes else limits

    # ------------------------------------------------------------ carrying

    def to_dict(self) -> dict[str, Any]:
        if self._budget_dict is None:  # the budget is frozen: dump it once
            self._budget_dict = self.budget.model_dump(mode="json")
        return {"budget": self._budget_dict, "spent": dict(self.spent), "priced": self.priced}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        try:
            budget = Budget.model_validate(data["budget"])
            spent = {name: float(data["spent"].get(name, 0)) for name in BUDGETS}
            return cls(budget, spent, bool(data.get("priced", True)))
        except Exception as exc:
            raise SubAgentError(f"the pending step's budget ledger is malformed: {exc}",
                                code="pending_corrupt",
                                hint="the stored step is unusable; start the run again") from None
