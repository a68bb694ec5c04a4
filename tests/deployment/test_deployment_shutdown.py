"""Graceful shutdown: SIGTERM lets an upload in flight finish (or, past the graceful timeout,
cancels it with nothing stored), then the server exits 0."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deployment.server import Server, environment, token_for

CHUNKS = 12
CHUNK_PAUSE = 0.25  # seconds between chunks: the upload lasts about 3 s
SIGTERM_AFTER = 3  # chunks sent before the server is told to stop


def rows_body() -> list[bytes]:
    """A French CSV sent in chunks: the header, then one row per chunk."""
    return [b"site;kwh\n"] + [f"S{i:02d};{i},5\n".encode() for i in range(1, CHUNKS)]


@dataclass
class SlowUpload:
    """A streamed upload in a thread, one chunk every ``CHUNK_PAUSE`` seconds."""

    url: str
    headers: dict[str, str]
    chunks: list[bytes] = field(default_factory=rows_body)
    sent: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    result: dict[str, Any] = field(default_factory=dict)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run)
        thread.start()
        return thread

    def _body(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            yield chunk
            self.sent.release()
            time.sleep(CHUNK_PAUSE)

    def _run(self) -> None:
        try:
            self.result["response"] = httpx.post(
                self.url,
                content=self._body(),
                headers={**self.headers, "Content-Type": "text/csv"},
                timeout=60,
            )
        except Exception as exc:  # noqa: BLE001 - reported by the test's assertions
            self.result["error"] = exc

    def wait_chunks(self, count: int) -> None:
        for _ in range(count):
            assert self.sent.acquire(timeout=30)


def start_instance(
    tmp_path: Path, *serve_args: str
) -> tuple[Server, dict[str, str], dict[str, str]]:
    env = environment(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "files")
    token = token_for(env, "cda-lr", "ana@cda.example.org", "producer")
    auth = {"Authorization": f"Bearer {token}"}
    server = Server(env, tmp_path / "server-1.log", *serve_args)
    server.wait_ready()
    created = httpx.post(
        f"{server.base}/api/v1/datasets",
        json={"id": "conso", "title": "Consommations", "licence": "etalab-2.0"},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    return server, env, auth


def stop_mid_upload(server: Server, upload: SlowUpload) -> threading.Thread:
    thread = upload.start()
    upload.wait_chunks(SIGTERM_AFTER)
    server.terminate()
    time.sleep(1.0)
    # The server has stopped listening: new connections are refused while it drains.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base}/api/v1/health", timeout=2)
    assert not upload.result, "the upload ended before all its chunks were sent"
    return thread


def test_sigterm_finishes_the_upload_in_flight_then_exits_0(tmp_path: Path) -> None:
    server, env, auth = start_instance(tmp_path, "--graceful-timeout", "30")
    try:
        upload = SlowUpload(f"{server.base}/api/v1/datasets/conso/versions", auth)
        stopped_at = time.monotonic()
        stop_mid_upload(server, upload).join(timeout=60)
        assert "error" not in upload.result, upload.result.get("error")
        response: httpx.Response = upload.result["response"]
        assert response.status_code == 201, response.text
        # 12 chunks = the header + 11 rows.
        assert response.json()["row_count"] == CHUNKS - 1
        assert server.wait(timeout=30) == 0, server.output()
        assert time.monotonic() - stopped_at < 30
    finally:
        server.stop()

    again = Server(env, tmp_path / "server-2.log")
    try:
        again.wait_ready()
        versions = httpx.get(f"{again.base}/api/v1/datasets/conso/versions", headers=auth).json()
        assert [v["number"] for v in versions["data"]] == [1]
        original = httpx.get(f"{again.base}/api/v1/datasets/conso/versions/1/file", headers=auth)
        assert original.status_code == 200
        whole = b"".join(upload.chunks)
        assert hashlib.sha256(original.content).hexdigest() == hashlib.sha256(whole).hexdigest()
        data = httpx.get(
            f"{again.base}/api/v1/datasets/conso/data", params={"sort": "site"}, headers=auth
        ).json()
        # The last row sent was "S11;11,5": the decimal comma read as 11.5.
        assert len(data["data"]) == CHUNKS - 1
        assert (data["data"][-1]["site"], data["data"][-1]["kwh"]) == ("S11", 11.5)
    finally:
        again.stop()
    assert again.wait(timeout=30) == 0, again.output()


def test_an_upload_outlasting_the_graceful_timeout_is_cancelled_with_nothing_stored(
    tmp_path: Path,
) -> None:
    # 9 chunks remain at SIGTERM (over 2 s) against a 1 s graceful timeout: uvicorn cancels it.
    server, env, auth = start_instance(tmp_path, "--graceful-timeout", "1")
    try:
        upload = SlowUpload(f"{server.base}/api/v1/datasets/conso/versions", auth)
        stop_mid_upload(server, upload).join(timeout=60)
        response = upload.result.get("response")
        assert response is None or response.status_code >= 500, response
        assert server.wait(timeout=30) == 0, server.output()
    finally:
        server.stop()

    again = Server(env, tmp_path / "server-2.log")
    try:
        again.wait_ready()
        versions = httpx.get(f"{again.base}/api/v1/datasets/conso/versions", headers=auth).json()
        assert versions["data"] == []
        dataset = httpx.get(f"{again.base}/api/v1/datasets/conso", headers=auth).json()
        assert dataset["current_version"] is None
    finally:
        again.stop()
