"""Links name the address `datahub serve` listens on, unless DATAHUB_BASE_URL says otherwise."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.deployment.server import Server, environment


def _links(base: str) -> list[str]:
    licence = httpx.get(f"{base}/api/v1/licenses/shared-charter-1.0", timeout=10).json()
    index = httpx.get(f"{base}/api/v1", timeout=10).json()
    graph = httpx.get(f"{base}/api/v1/catalog/dcat", timeout=10).json()["@graph"]
    (catalogue,) = (node for node in graph if node.get("@type") == "dcat:Catalog")
    return [
        licence["url"],
        index["links"]["openapi"],
        catalogue["@id"],
        catalogue["foaf:homepage"]["@id"],
    ]


@pytest.mark.parametrize("configured", [None, "https://data.agglo-larochelle.example"])
def test_links_follow_the_served_port_unless_configured(
    tmp_path: Path, configured: str | None
) -> None:
    extra = {"DATAHUB_BASE_URL": configured} if configured else {}
    env = environment(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "files", **extra)
    server = Server(env, tmp_path / "serve.log")
    try:
        server.wait_ready()
        links = _links(server.base)
    finally:
        server.stop()
    # On a free port (never 8000), every link starts with the served address or the setting.
    expected = configured or server.base
    assert links, links
    for link in links:
        assert link.startswith(expected), (link, expected)
