"""Real outlines of the demo's EPCI and its 28 communes, fetched when the network answers.

No offline source of CDA La Rochelle's outlines with a clear open licence ships in a package
registry, so ``datahub demo`` asks the IGN Géoplateforme through the hub's own
``ign-territories`` connector (ADMIN EXPRESS COG CARTO, generalised outlines, Licence Ouverte
2.0) and keeps only the outlines, simplified for maps: names, populations and parents stay the
demo's. Idempotent: once every territory of the demo has an outline, nothing is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx
from pydantic import ValidationError

from datahub.demo.loader import EPCI
from datahub.errors import DatahubError
from datahub.ingest import registry, runner
from datahub.ingest.contract import ConnectorContext, TerritoryRecord
from datahub.ingest.http import build_http_client
from datahub.runtime import Runtime
from datahub.territories import service as territories

CONNECTOR: Final = "ign-territories"
LAYERS: Final = "ADMINEXPRESS-COG-CARTO.LATEST"
#: Fail fast when offline: the demo must not hang on a network that does not answer.
TIMEOUT: Final = 15.0
ATTEMPTS: Final = 2
#: What to run later to load the outlines (printed when they could not be fetched).
LATER: Final = "relancez `datahub demo` quand le réseau répond"


@dataclass(frozen=True)
class OutlinesReport:
    loaded: list[str]  # territories given an outline by this run
    error: str | None = None  # why the outlines could not be fetched


def missing(runtime: Runtime) -> set[str]:
    """The demo's EPCI and communes that have no outline yet."""
    with runtime.read_session() as session:
        reads, _total, _rows = territories.list_page(
            session, level=None, parent=EPCI, page=1, page_size=200
        )
        epci = territories.read_many(session, [territories.get(session, EPCI)])
    return {r.code for r in [*epci, *reads] if not r.has_geometry}


def _fetch(runtime: Runtime, transport: httpx.BaseTransport | None) -> list[TerritoryRecord]:
    connector = registry.get(CONNECTOR)
    params = runner.validate_params(connector, {"territory": EPCI, "layers": LAYERS})
    with build_http_client(
        runner.user_agent(runtime.settings),
        timeout=TIMEOUT,
        max_attempts=ATTEMPTS,
        transport=transport,
        allowed_hosts=frozenset(runtime.settings.connector_allowed_hosts),
    ) as client:
        produced = connector.run(params, ConnectorContext(http=client))
        return [item for item in produced if isinstance(item, TerritoryRecord)]


def load_outlines(runtime: Runtime, transport: httpx.BaseTransport | None = None) -> OutlinesReport:
    """Give the demo's territories that lack one their IGN outline; never raises for the
    network (the report says why nothing was loaded)."""
    wanted = missing(runtime)
    if not wanted:
        return OutlinesReport([])
    try:
        records = _fetch(
            runtime, transport if transport is not None else runner.default_transport()
        )
    except (DatahubError, httpx.HTTPError, ValidationError) as exc:
        return OutlinesReport([], str(exc)[:300] or type(exc).__name__)
    loaded = []
    with runtime.transaction() as session:
        for record in records:
            if record.code in wanted and record.geometry is not None:
                try:
                    territories.set_outline(session, record.code, record.geometry)
                except DatahubError:  # an outline the hub refuses (invalid): left without
                    continue
                loaded.append(record.code)
    return OutlinesReport(sorted(loaded))
