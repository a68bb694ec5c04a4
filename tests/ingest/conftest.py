"""Fixtures for the ingest and connector tests: contexts around an ``httpx.MockTransport``.

No test here touches the network except the ``live`` ones (skipped by default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.paths import TEST_DATA

from datahub.ingest.contract import ConnectorContext
from datahub.ingest.http import build_http_client

RECORDED = TEST_DATA / "connectors"
LOCAL = Path(__file__).resolve().parent / "fixtures"
FIXED_NOW = datetime(2025, 6, 25, 16, 0, tzinfo=UTC)
USER_AGENT = "datahub-tests/0.1 (+https://datahub.example)"
LICENCE_ALIASES = {
    "lov2": "etalab-2.0",
    "fr-lo": "lo-1.0",
    "odc-odbl": "odbl-1.0",
    "cc-by": "cc-by-4.0",
}

Handler = Callable[[httpx.Request], httpx.Response]


class Run:
    """A context for one connector run plus what it recorded: requests, progress, sleeps."""

    def __init__(self, handler: Handler, previous: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.progress: list[tuple[int, int | None, str]] = []
        self.sleeps: list[float] = []

        def recording(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        self.client = build_http_client(
            USER_AGENT, transport=httpx.MockTransport(recording), sleep=self.sleeps.append
        )
        self.context = ConnectorContext(
            http=self.client,
            report_progress=lambda done, total, message: self.progress.append(
                (done, total, message)
            ),
            previous_checksum=lambda dataset_id: (previous or {}).get(dataset_id),
            licence_aliases=LICENCE_ALIASES,
            now=lambda: FIXED_NOW,
        )


@pytest.fixture
def make_run() -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []

    def factory(handler: Handler, previous: dict[str, str] | None = None) -> Run:
        run = Run(handler, previous)
        runs.append(run)
        return run

    yield factory
    for run in runs:
        run.client.close()


@pytest.fixture
def live_context() -> Iterator[ConnectorContext]:
    """A real client for ``@pytest.mark.live`` tests."""
    with build_http_client("datahub-live-tests/0.1 (+https://datahub.example)") as client:
        yield ConnectorContext(http=client, licence_aliases=LICENCE_ALIASES)


@pytest.fixture
def recorded() -> Path:
    """The real recorded responses (shared/fixtures/connectors, see its README)."""
    return RECORDED


@pytest.fixture
def local_fixtures() -> Path:
    """Synthetic fixtures for endpoints with no recording (tests/ingest/fixtures)."""
    return LOCAL
