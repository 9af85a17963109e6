"""The issue-13 stack in one offline script (scripted LLM): an agent whose programs run in the
process tier, with one budget, hooks, a suspension serialized and resumed; a run whose LLM
client crashes, restarted by its supervisor from the last turn (every run is a supervised
runtime process); and a majority vote among agent servers.

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


class FlakyClient(ScriptedLLM):
    """An LLM client with a bug: its second call raises (a crash, not an LLMError)."""

    attempts = 0

    def complete(self, messages: Any, on_token: Any = None) -> Any:
        self.attempts += 1
        if self.attempts == 2:
            raise ConnectionResetError("client bug")
        return super().complete(messages, on_token=on_token)


# Every run is a supervised runtime process on this thread; a crash restarts it from its last
# turn checkpoint (here kept in a dict that could as well be a durable mapping).
pids: list[Any] = []
checkpoints: dict[str, Any] = {}
quick = SubAgent(name="quick", prompt="add", max_turns=3)
supervised = quick.run(llm=FlakyClient([clj("(def x (+ 1 2))\nx"), clj("(return x)")]),
                       before_turn=lambda number, messages: pids.append(rt.self_pid()),
                       supervision=rt.Supervision(checkpoints=checkpoints, key="quick-1"))
print("supervised run:", supervised.status, supervised.return_value,
      "| turns:", [t.status for t in supervised.turns],
      "| process:", type(pids[0]).__name__, "| restarts:", len(pids) - len(supervised.turns))


async def voter(answer: str) -> None:
    while True:
        request = await rt.receive(rt.Request)
        rt.reply(request, answer)


async def vote() -> Any:
    servers = [rt.spawn(voter, a) for a in ("ship", "hold", "ship")]
    return await rt.majority(servers, "ship or hold?", timeout=2.0)


print("majority:", rt.run(vote))
