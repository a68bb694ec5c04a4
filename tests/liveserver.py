"""The app served by a real uvicorn on a loopback port, for tests that need real sockets or
truly concurrent requests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from datahub.app import create_app
from datahub.runtime import Runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def serve(runtime: Runtime, port: int | None = None) -> Iterator[LiveServer]:
    """The app served by uvicorn on a loopback port (raw sockets need a real server); ``port``
    for a runtime whose ``base_url`` names it."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield LiveServer("127.0.0.1", port)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[LiveServer]:
    yield from serve(runtime)
