"""A udata portal on 127.0.0.1 for tests whose connector runs in another process.

It replays the recorded data.gouv.fr answer for the "Catalogue des données de data.gouv.fr"
dataset (shared/fixtures/connectors/data_gouv), with the resource URLs rewritten to itself as
any udata portal serves its own, and the synthetic CSV standing in for the resource file (as in
tests/ingest/runner_replays.py). The connector reaches it through its ``portal`` parameter.

``hold()`` makes the next download send its headers and first bytes, then stall until
``release()``: the run is then certainly in flight, and the test can kill its process.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.ingest.runner_replays import DATASET, LOCAL, RECORDED, RID

FILE_PATH = "/resources/catalogue-des-donnees-de-data-gouv-fr/export-dataservice.csv"


class Portal:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.content = (LOCAL / "datagouv_export_dataservice_synthetic.csv").read_bytes()
        self.requests: list[str] = []
        self.download_started = threading.Event()
        self.go = threading.Event()
        self.go.set()
        meta: dict[str, Any] = json.loads(
            (RECORDED / f"data_gouv/dataset_{DATASET}.json").read_text(encoding="utf-8")
        )
        for resource in meta["resources"]:
            if resource["id"] == RID:
                resource["url"] = self.base + FILE_PATH
                resource["latest"] = f"{self.base}/fr/datasets/r/{RID}"
        self.meta = json.dumps(meta).encode()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def params(self) -> dict[str, str]:
        """The connector parameters importing the recorded dataset from this portal."""
        return {"portal": self.base, "dataset": DATASET, "resource": RID}

    def hold(self) -> None:
        self.go.clear()

    def release(self) -> None:
        self.go.set()

    def __enter__(self) -> Portal:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                portal.requests.append(self.path)
                if self.path == f"/api/1/datasets/{DATASET}/":
                    self._send(200, "application/json", portal.meta)
                elif self.path == f"/fr/datasets/r/{RID}":
                    self.send_response(302)
                    self.send_header("Location", portal.base + FILE_PATH)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == FILE_PATH:
                    self._download()
                else:
                    self._send(404, "application/json", b'{"message": "Not found"}')

            def _send(self, status: int, media_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _download(self) -> None:
                body = portal.content
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:10])
                self.wfile.flush()
                portal.download_started.set()
                portal.go.wait(120)
                try:
                    self.wfile.write(body[10:])
                except OSError:  # the client was killed meanwhile
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
