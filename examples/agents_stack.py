"""The issue-13 stack in one offline script (scripted LLM): an agent whose programs run in the
process tier, with one budget, hooks, a suspension serialized and resumed, then the same agent
as a supervised runtime process, and a majority vote among agent servers.

Run: ``python examples/agents_stack.py``.
"""

from __future__ import annotations

from typing import Any

import ptclisp
from ptclisp import runtime as rt
from ptclisp.subagent import Budget, Refuse, ScriptedLLM, SubAgent


@ptclisp.tool
def lookup(id: int) -> dict:
    """A customer's name and phone."""
    return {"name": "Ada", "phone": "555-0100", "vip": id == 7}


@ptclisp.tool(is_async=True, result="{confirmed :bool}")
def place_call(number: str) -> str:
    """Start a phone call; its outcome arrives later (op id call-<number>)."""
    return f"call-{number}"


@ptclisp.tool
def refund(amount: int) -> dict:
    """Refund an amount."""
    return {"refunded": amount}


def clj(program: str, tokens: tuple[int, int] = (900, 40)) -> dict[str, Any]:
    return {"content": f"```clojure\n{program}\n```",
            "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}


PROGRAM = """
(def c (tool/lookup {:id 7}))
(def r (await (tool/place-call {:number (:phone c)})))
(return {:who (:name c) :confirmed (:confirmed r)
         :refund (tool/refund {:amount (if (:vip c) 500 50)})})
"""


def cap_refunds(name: str, args: dict[str, Any]) -> dict[str, Any] | Refuse | None:
    if name == "refund" and args["amount"] > 100:
        return {"amount": 100}  # the host caps refunds; the program never knows
    if name == "place-call" and not args["number"].startswith("555"):
        return Refuse("only local numbers")
    return None


agent = SubAgent(name="support", prompt="Confirm and refund", tools=[lookup, place_call, refund],
                 max_turns=2, tier="process", reference="compact",
                 budget=Budget(output_tokens=1000, cost_usd=1.0,
                               prices={"scripted": (2.5, 10.0)}))
llm = ScriptedLLM([clj(PROGRAM)])
pending = agent.run(llm=llm, before_tool=cap_refunds)
print("suspended on", list(pending.pending_ops), "| tools bound:", sorted(pending.tools))
print("budget so far:", {k: round(v, 4) for k, v in pending.budget["spent"].items() if v})
blob = ptclisp.serialize(pending)
step = agent.resume(ptclisp.deserialize(blob), "call-555-0100", {"confirmed": True}, llm=llm,
                    before_tool=cap_refunds)
print("result:", step.return_value)

supervised = rt.supervised_run(SubAgent(name="quick", prompt="add", max_turns=1),
                               llm=ScriptedLLM([clj("(return (+ 1 2))")]))
print("supervised run:", supervised.status, supervised.return_value)


async def voter(answer: str) -> None:
    while True:
        request = await rt.receive(rt.Request)
        rt.reply(request, answer)


async def vote() -> Any:
    servers = [rt.spawn(voter, a) for a in ("ship", "hold", "ship")]
    return await rt.majority(servers, "ship or hold?", timeout=2.0)


print("majority:", rt.run(vote))
