"""asyncio and threads: async work and blocking tools inside processes never block others."""

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ptclisp import runtime as rt


@pytest.fixture
def slow_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(0.2)
            body = b'{"answer": 42}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_an_httpx_call_in_one_process_does_not_block_the_others(slow_server):
    async def get_answer(url):  # plain asyncio code: runs as a Task via aio()
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
        return response.json()["answer"]

    async def fetch(parent):
        rt.send(parent, ("fetched", await rt.aio(get_answer(slow_server))))

    async def counter(parent):
        ticks = 0
        while ticks < 1000:
            ticks += 1
            await rt.yield_()
        rt.send(parent, ("ticks", ticks))

    async def main():
        me = rt.self_pid()
        rt.spawn(fetch, me)
        rt.spawn(counter, me)
        return [await rt.receive(timeout=10), await rt.receive(timeout=10)]

    # the counter finishes its 1000 steps while the HTTP request (200 ms) is in flight
    assert rt.run(main) == [("ticks", 1000), ("fetched", 42)]


def test_awaiting_an_asyncio_future_directly_works():
    async def main():
        await asyncio.sleep(0.001)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        loop.call_later(0.001, fut.set_result, "ready")
        return await fut

    assert rt.run(main) == "ready"


def test_blocking_tools_run_on_a_bounded_pool():
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def blocking_tool(x):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return x * 10

    async def worker(parent, x):
        rt.send(parent, await rt.run_sync(blocking_tool, x))

    async def main():
        me = rt.self_pid()
        for x in range(12):
            rt.spawn(worker, me, x)
        return sorted([await rt.receive(timeout=10) for _ in range(12)])

    assert rt.run(main, max_threads=3) == [x * 10 for x in range(12)]
    assert peak == 3


def test_an_exception_from_aio_is_raised_in_the_process():
    async def failing():
        raise LookupError("async failure")

    async def main():
        with pytest.raises(LookupError):
            await rt.aio(failing())
        return "ok"

    assert rt.run(main) == "ok"


def test_killing_a_process_cancels_its_async_work():
    cancelled = threading.Event()

    async def long_job():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def worker():
        await rt.aio(long_job())

    async def main():
        pid = rt.spawn(worker)
        await rt.sleep(0.01)
        rt.exit_process(pid, "kill")
        await rt.sleep(0.01)
        return pid.exit_reason

    assert rt.run(main) == "killed"
    assert cancelled.is_set()


def test_background_runtime_from_host_threads():
    async def doubler():
        while True:
            req = await rt.receive(rt.Request)
            rt.reply(req, req.payload * 2)

    async def boom():
        raise ValueError("host sees this")

    with rt.Runtime() as runtime:
        pid = runtime.spawn(doubler)
        runtime.register("doubler", pid)
        assert runtime.whereis("doubler") is pid
        results = []
        threads = [
            threading.Thread(target=lambda i=i: results.append(runtime.call("doubler", i)))
            for i in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [i * 2 for i in range(8)]
        with pytest.raises(ValueError):
            runtime.run(boom)
        assert runtime.process_count() == 1
        runtime.exit_process(pid, "kill")
        assert runtime.wait(pid, timeout=5) == ("killed", None)
    with pytest.raises(rt.RuntimeStopped):
        runtime.spawn(doubler)


def test_blocking_host_calls_from_the_loop_thread_are_refused_not_deadlocked():
    with rt.Runtime() as runtime:
        tool = rt.supervised_tool(lambda args: args, runtime=runtime, timeout=1)

        async def process_calling_a_sync_tool():
            return tool({"x": 1})  # would block the very loop that must answer it

        with pytest.raises(rt.ActorError) as info:
            runtime.run(process_calling_a_sync_tool, timeout=5)
        assert info.value.code == "would_deadlock"

        async def the_right_way():
            return await rt.run_sync(tool, {"x": 2})

        assert runtime.run(the_right_way, timeout=5) == {"x": 2}


def test_host_code_can_run_asyncio_work_on_the_runtime_loop():
    async def quick(tag):
        await asyncio.sleep(0.001)
        return tag

    with rt.Runtime() as runtime:
        future = runtime.submit(rt.fanout([lambda: quick("a"), lambda: quick("b")], rt.Policy.ALL))
        assert future.result(5) == ["a", "b"]
