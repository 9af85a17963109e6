"""``RayBackend``: an ``AgentHost`` whose runs are driven by Ray actors on every node of a cluster.

    host = AgentHost(agents, store="postgresql://...", backend=RayBackend("ray://head:10001"))
    ptclisp serve app:host --store postgresql://... --ray auto       # the same, from the CLI

One actor per live node (node affinity; ``workers_per_node`` threads each) holds a copy of the
host's agents and its own store connection. The front host (the process serving HTTP, any number of
them) records a run or a delivery in the store and sends "drive run R" to an actor, round-robin
over nodes; the actor takes R's lease itself, runs the agent — its tools run there — and commits to
the store. A dead node's actor takes its leases down with it: they expire, the front's sweeper
finds the run recoverable and dispatches it to a live node, which replays it from the store
(completed tool calls are answered from the journal, never executed again).

OpenTelemetry: the W3C trace context of the thread that submits or delivers travels with the
dispatch and is the parent of the run's spans on the worker. Budgets travel in the run itself (the
checkpoint holds the turns spent; the agent carries its limits).
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate

from ._agent import SubAgent
from ._host import AgentHost, HostError

__all__ = ["RayBackend"]

log = logging.getLogger("ptclisp.host.ray")


@dataclasses.dataclass
class HostSpec:
    """What a worker needs to rebuild the host (pickled once, shipped to every actor)."""

    agents: dict[str, SubAgent] | None
    llm: Any
    factory: str | None
    store: str
    deadlines: dict[str, float]
    lease_s: float
    key: bytes | None
    workers: int


class RayWorker:
    """The actor body: a local ``AgentHost`` (no sweeper) that drives the runs sent to it."""

    def __init__(self, spec: HostSpec, setup: Callable[[], None] | None) -> None:
        import ray

        if setup is not None:
            setup()
        agents, llm = spec.agents, spec.llm
        if spec.factory is not None:  # rebuild the agents here (an LLM client may not pickle)
            built = load_host(spec.factory)
            agents, llm = built.agents, built.llm
        assert agents is not None
        self.host = AgentHost(agents, llm=llm, store=spec.store,
                              deadlines=spec.deadlines, lease_s=spec.lease_s,
                              workers=spec.workers, key=spec.key)
        self.node = ray.get_runtime_context().get_node_id()
        self._renewer = threading.Thread(target=self.host._renew_loop, args=(spec.lease_s / 3,),
                                         daemon=True, name="ptclisp-ray-renew")
        self._renewer.start()

    def info(self) -> tuple[str, str]:
        """(node id, lease owner id) of this worker."""
        return self.node, self.host.owner

    def drive(self, run_id: str, carrier: Mapping[str, str]) -> str:
        """Take ``run_id``'s lease and drive it until it has nothing queued; this node's id."""
        token = otel_context.attach(propagate.extract(dict(carrier)))
        try:
            self.host._schedule(run_id, wait=True)
        finally:
            otel_context.detach(token)
        return self.node


def load_host(target: str) -> AgentHost:
    """The ``AgentHost`` named by ``"MODULE:ATTR"`` (an instance, or a function making one)."""
    import importlib

    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise HostError(f"expected MODULE:ATTR, got {target!r}", code="invalid_backend",
                        hint="e.g. examples.serve_app:host")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise HostError(f"cannot load {target}: {exc}", code="invalid_backend",
                        hint="the module must be importable on every node (installed, or on "
                             "PYTHONPATH)") from None
    if not isinstance(obj, AgentHost) and callable(obj):
        obj = obj()
    if not isinstance(obj, AgentHost):
        raise HostError(f"{target} is a {type(obj).__name__}, not an AgentHost",
                        code="invalid_backend", hint="name an AgentHost or a function making one")
    return obj


class RayBackend:
    """Drive an ``AgentHost``'s runs on a Ray cluster (``[ray]`` extra).

    ``address``: what ``ray.init`` takes (``"auto"``, ``"ray://head:10001"``, a GCS address);
    ``None`` uses the connection this process already has (or starts a local Ray).
    ``workers_per_node``: runs one node's actor drives at the same time (threads).
    ``factory``: ``"MODULE:ATTR"`` naming the host (or a function making it), imported on each
    worker to rebuild the agents and LLM there — needed when they do not pickle (an HTTP LLM
    client); ``ptclisp serve --ray`` passes its target. Without it they are pickled and shipped.
    ``worker_setup``: called once in each actor before it starts (install an OpenTelemetry
    exporter, logging, ...). ``actor_options``: extra ``.options(...)`` for the actors
    (resources, runtime_env). ``refresh_s``: how often new nodes are looked for.
    The host's store must be a URL (``postgresql://...``): every node opens its own connection.
    """

    def __init__(self, address: str | None = None, *, workers_per_node: int = 8,
                 factory: str | None = None,
                 worker_setup: Callable[[], None] | None = None,
                 actor_options: Mapping[str, Any] | None = None,
                 refresh_s: float = 2.0) -> None:
        if workers_per_node < 1:
            raise HostError("workers_per_node must be at least 1", code="invalid_backend",
                            hint="pass workers_per_node=8 (threads per node)")
        self.address = address
        self.workers_per_node = workers_per_node
        self.factory = factory
        self.worker_setup = worker_setup
        self.actor_options = dict(actor_options or {})
        self.refresh_s = refresh_s
        self.driven: collections.Counter[str] = collections.Counter()
        """Drives finished per node id (a run resumed three times counts three)."""
        self.owners: dict[str, str] = {}
        """Lease owner id of each node's worker, by node id."""
        self._host: AgentHost | None = None
        self._spec: Any = None
        self._actors: dict[str, Any] = {}
        self._round = itertools.count()
        self._lock = threading.Lock()
        self._inflight: dict[str, concurrent.futures.Future[Any]] = {}
        self._again: set[str] = set()
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._rechecker: threading.Thread | None = None
        self._recheck: queue.Queue[str | None] = queue.Queue()
        self._started_ray = False

    # ------------------------------------------------------------ lifecycle

    def start(self, host: AgentHost) -> None:
        import ray

        spec = self._spec_of(host)
        if not ray.is_initialized():
            ray.init(address=self.address, logging_level=logging.WARNING,
                     log_to_driver=False)
            self._started_ray = True
        self._host = host
        self._spec = ray.put(spec)
        self._stop.clear()
        self._recheck = queue.Queue()
        self.refresh()
        self._refresher = threading.Thread(target=self._refresh_loop, daemon=True,
                                           name="ptclisp-ray-refresh")
        self._refresher.start()
        self._rechecker = threading.Thread(target=self._recheck_loop, daemon=True,
                                           name="ptclisp-ray-recheck")
        self._rechecker.start()

    def _spec_of(self, host: AgentHost) -> HostSpec:
        """What the workers get; every problem is reported here, before Ray is touched."""
        from ray import cloudpickle

        store = host._store_arg
        if not isinstance(store, str):
            raise HostError("a Ray host needs its store as a URL: every node opens its own "
                            "connection", code="invalid_backend",
                            hint='AgentHost(..., store="postgresql://...", backend=RayBackend())')
        if self.factory is not None:
            load_host(self.factory)  # fails here, not on every worker
            spec = HostSpec(None, None, self.factory, store, dict(host.deadlines), host.lease_s,
                            host.key, self.workers_per_node)
        else:
            spec = HostSpec(dict(host.agents), host.llm, None, store, dict(host.deadlines),
                            host.lease_s, host.key, self.workers_per_node)
        try:
            cloudpickle.dumps(spec)
        except Exception as exc:
            raise HostError(f"the host's agents or LLM cannot be shipped to Ray workers: {exc}",
                            code="invalid_backend",
                            hint='pass RayBackend(factory="module:attr") naming the host, so '
                                 "each worker builds its own") from None
        return spec

    def stop(self) -> None:
        import ray

        self._stop.set()
        self._recheck.put(None)
        for thread in (self._refresher, self._rechecker):
            if thread is not None:
                thread.join(timeout=5)
        with self._lock:
            actors, self._actors = list(self._actors.values()), {}
        for actor in actors:
            ray.kill(actor)
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    def nodes(self) -> list[str]:
        """Node ids that have a worker now."""
        with self._lock:
            return sorted(self._actors)

    def refresh(self) -> None:
        """One worker actor on every live node; forget the workers of dead nodes."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
        with self._lock:
            for node in list(self._actors):
                if node not in alive:
                    del self._actors[node]
            missing = sorted(alive - set(self._actors))
        remote: Any = ray.remote(RayWorker)
        for node in missing:
            options = {"num_cpus": 0, "max_restarts": 0, "max_concurrency":
                       self.workers_per_node, **self.actor_options,
                       "scheduling_strategy": NodeAffinitySchedulingStrategy(node, soft=False)}
            actor = remote.options(**options).remote(self._spec, self.worker_setup)
            try:
                node_id, owner = ray.get(actor.info.remote(), timeout=120)
            except ray.exceptions.RayError as exc:
                log.warning("no worker on node %s: %s", node, exc)
                continue
            with self._lock:
                self._actors[node_id] = actor
                self.owners[node_id] = owner
            log.info("worker on node %s (lease owner %s)", node_id, owner)

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception:  # the cluster may be briefly unreachable: try again
                log.exception("refreshing Ray workers failed")

    # ------------------------------------------------------------ dispatch

    def busy(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._inflight

    def dispatch(self, run_id: str, *, wait: bool = False) -> bool:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        with self._lock:
            if run_id in self._inflight:
                self._again.add(run_id)  # the outstanding drive may have let go: look again
                return False
            if not self._actors:
                return False  # the sweeper retries once a worker is up
            nodes = sorted(self._actors)
            node = nodes[next(self._round) % len(nodes)]
            future = self._actors[node].drive.remote(run_id, carrier).future()
            self._inflight[run_id] = future
        future.add_done_callback(lambda f: self._done(run_id, node, f))
        if wait:
            concurrent.futures.wait([future])
        return True

    def _done(self, run_id: str, node: str, future: concurrent.futures.Future[Any]) -> None:
        import ray

        again = False
        with self._lock:
            self._inflight.pop(run_id, None)
            if run_id in self._again:
                self._again.discard(run_id)
                again = True
        try:
            node_id = future.result()
            with self._lock:
                self.driven[node_id] += 1
        except ray.exceptions.RayActorError:
            with self._lock:
                self._actors.pop(node, None)
            if not self._stop.is_set():
                log.warning("run %s: the worker on node %s died; its lease expires and the run "
                            "is recovered", run_id, node)
            again = False
        except Exception:
            log.exception("run %s: dispatch to node %s failed", run_id, node)
        if again and not self._stop.is_set():
            self._recheck.put(run_id)  # one thread reads the store (one connection), not Ray's
        if self._host is not None:
            self._host._notify()

    def _recheck_loop(self) -> None:
        while True:
            run_id = self._recheck.get()
            if run_id is None or self._stop.is_set():
                return
            if self._needs_driver(run_id):
                self.dispatch(run_id)

    def _needs_driver(self, run_id: str) -> bool:
        """Unfinished, nobody holds a live lease, and there is work (never suspended, or a
        delivery queued). A live holder needs no help: it cannot let go while a delivery is
        queued (the store checks both under the run's row lock)."""
        if self._host is None:
            return False
        store = self._host.store
        try:
            run = store.get_run(run_id)
            if run.status not in ("running", "pending"):
                return False
            if run.lease_owner is not None and (run.lease_expires or 0) > time.time():
                return False
            return run.status == "running" or store.next_delivered(run_id) is not None
        except Exception:  # the store may be briefly unavailable: let the sweeper decide
            log.exception("run %s: could not read the store", run_id)
            return False

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no dispatch is outstanding (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._inflight:
                    return True
            time.sleep(0.02)
        return False
