"""Serve the SIMULATED agent (`evals.simulator`) on a thread of this process.

For `manage.py demo` when no simulator process is running, and for tests that want one
without a subprocess. It is the same server `python -m evals.simulator` runs; its numbers
describe a simulator profile, never a real model.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def simulator_in_process(profile: str = "default", **options) -> Iterator[tuple[str, object]]:
    """Yield (base URL, server); ``options`` are `ServerOptions` fields (latency_ms,
    fault_429_rate, malformed_rate, ...). The server counts requests in ``.requests``."""
    from evals.simulator.model import SimulatedModel
    from evals.simulator.profiles import load_profile
    from evals.simulator.server import ServerOptions, SimulatorServer

    server = SimulatorServer(SimulatedModel(load_profile(profile)), ServerOptions(**options))
    loop = asyncio.new_event_loop()
    ready, port = threading.Event(), []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        port.append(loop.run_until_complete(server.start("127.0.0.1", 0)))
        ready.set()
        loop.run_forever()
        server.server.close()
        loop.run_until_complete(server.server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, name=f"simulator-{profile}", daemon=True)
    thread.start()
    if not ready.wait(timeout=10):
        raise RuntimeError("the in-process simulator did not start")
    try:
        yield f"http://127.0.0.1:{port[0]}/v1", server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
