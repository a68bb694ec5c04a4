"""Connectors fetch only public addresses unless the operator allows a host (no SSRF).

Real sockets on loopback stand for "the server's own network": a producer-supplied portal or
download URL pointing there, or a public page redirecting there, must be refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from datahub.ingest.contract import FatalConnectorError
from datahub.ingest.http import PublicOnlyTransport, build_http_client

AGENT = "datahub-tests (+https://example.org)"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        body = b"internal secret"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def internal_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_loopback_is_refused_and_nothing_is_read(internal_server: str) -> None:
    with build_http_client(AGENT) as client, pytest.raises(FatalConnectorError) as refused:
        client.get(f"{internal_server}/secret")
    assert "not a public address" in refused.value.detail
    assert "DATAHUB_CONNECTOR_ALLOWED_HOSTS" in refused.value.detail


def test_link_local_metadata_service_is_refused_without_connecting() -> None:
    # 169.254.169.254 is the cloud metadata service; the refusal happens before any connection.
    with build_http_client(AGENT, max_attempts=1) as client, pytest.raises(FatalConnectorError):
        client.get("http://169.254.169.254/latest/meta-data/")


def test_an_allowed_host_is_fetched_but_its_redirect_to_metadata_is_not(
    internal_server: str,
) -> None:
    allowed = frozenset({"127.0.0.1"})
    with build_http_client(AGENT, allowed_hosts=allowed) as client:
        assert client.get(f"{internal_server}/data").content == b"internal secret"
        with pytest.raises(FatalConnectorError, match="169.254.169.254"):
            client.get(f"{internal_server}/to-metadata")


def test_public_addresses_pass_through() -> None:
    # The resolver stands for DNS, beyond the network edge, answering a public address.
    seen: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text="ok")

    transport = PublicOnlyTransport(
        httpx.MockTransport(upstream), resolve=lambda host, port: ["193.55.112.1"]
    )
    with httpx.Client(transport=transport) as client:
        assert client.get("https://www.data.gouv.fr/api/1/").text == "ok"
    assert seen == ["https://www.data.gouv.fr/api/1/"]


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.10", "::1", "fd00::1", "100.64.0.1"])
def test_private_ranges_are_refused(address: str) -> None:
    transport = PublicOnlyTransport(
        httpx.MockTransport(lambda request: httpx.Response(200)), resolve=lambda h, p: [address]
    )
    with httpx.Client(transport=transport) as client, pytest.raises(FatalConnectorError):
        client.get("https://mirror.example.org/")
