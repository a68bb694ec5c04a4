"""The interactive docs work on an intranet: every asset comes from the instance itself."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient


class _Assets(HTMLParser):
    """Every URL a page makes the browser load: ``src`` and ``href`` attributes, and the URLs
    written into its inline script (Swagger UI's bundle and the OpenAPI document)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        self.urls += [v for k, v in attrs if k in {"src", "href"} and v]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.urls += [w.strip("'\",;()") for w in data.split() if "//" in w or w[1:2] == "/"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_same_origin_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.text)
    assets = [u for u in parser.urls if u.startswith(("/", "http:", "https:"))]
    assert any(u.endswith(".js") for u in assets), assets
    for url in assets:
        parts = urlsplit(url)
        assert not parts.netloc, f"{page} loads {url} from another host"
        assert client.get(url).status_code == 200, url
    assert "cdn" not in response.text.lower()


def test_api_index_links_to_docs_schema_and_resources(client: TestClient) -> None:
    response = client.get("/api/v1")
    assert response.status_code == 200
    links = response.json()["links"]
    assert {"docs", "redoc", "openapi", "catalogue", "licences", "territories"} <= links.keys()
    for url in links.values():
        # The index's links are absolute (base URL) and each answers on this instance.
        assert client.get(urlsplit(url).path).status_code == 200, url
