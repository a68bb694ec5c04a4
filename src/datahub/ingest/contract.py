"""The connector plugin contract: what a connector is, what it is given, what it yields.

A connector is any object matching :class:`Connector`, registered under the
``datahub.connectors`` entry-point group. The runner validates the parameters against
``params_model``, builds one :class:`ConnectorContext` per run (with an ``httpx.Client`` that
already has timeouts, retries, per-host rate limits and a User-Agent), iterates ``run()`` and
stores what comes out:

- :class:`ProducedVersion`: a new version of a catalogue dataset (deduplicated by SHA-256);
- :class:`TerritoryRecord`: a territory to upsert (parents are always yielded before children);
- :class:`ActorRecord`: an actor to upsert.

Connectors import only this module and :mod:`datahub.errors` (an import-linter contract says so).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Protocol, TypeAlias, TypeVar, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from datahub.errors import DatahubError
from datahub.vocabulary import sector_for_naf as sector_for_naf

Kind: TypeAlias = Literal[
    "emissions",
    "activity",
    "emission_factors",
    "land_use",
    "land_use_change",
    "sequestration_factors",
    "climate",
    "generic",
]
Approach: TypeAlias = Literal["territorial", "footprint"]
TerritoryLevel: TypeAlias = Literal["commune", "epci", "departement", "region", "country", "other"]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TERRITORY_CODE_PATTERN = r"^(commune|epci|departement|region|country|other):[0-9A-Za-z_-]+$"


# --- errors -----------------------------------------------------------------------------------


class ConnectorError(DatahubError):
    """A connector run failed. ``detail`` says why in words an operator can act on."""

    status = 502
    code = "connector-failed"
    title = "Connector failed"
    retriable: ClassVar[bool] = False


class RetriableConnectorError(ConnectorError):
    """Upstream is unavailable for now (5xx, 429, timeouts): running again later may succeed."""

    status = 503
    code = "connector-upstream-unavailable"
    title = "Upstream source unavailable"
    retriable = True


class FatalConnectorError(ConnectorError):
    """Running again will not help: bad parameters, unknown id, unexpected upstream format."""

    code = "connector-fatal"
    title = "Connector failed"


def raise_for_upstream(response: httpx.Response) -> httpx.Response:
    """Map an upstream HTTP error to the connector error types; return the response when OK.

    429 and 5xx are retriable; other 4xx are fatal. The body is quoted (trimmed) because
    upstream APIs explain themselves there (WFS ExceptionReport, API Géo plain text...).
    """
    status = response.status_code
    if status < 400:
        return response
    try:
        body = response.text[:300].strip()
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        body = ""
    message = f"{response.request.method} {response.request.url} answered HTTP {status}"
    if body:
        message += f": {body}"
    if status == 429 or status >= 500:
        raise RetriableConnectorError(message)
    raise FatalConnectorError(message)


# --- what a connector yields ------------------------------------------------------------------


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(_Record):
    """Where a version came from, so it can be traced and re-fetched."""

    source_urls: list[str] = Field(min_length=1)
    retrieved_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    upstream_checksum: str | None = Field(
        default=None, description="the upstream's own checksum, e.g. 'sha1:ac6f…' (data.gouv.fr)"
    )

    @field_validator("retrieved_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("retrieved_at must be timezone-aware")
        return value


class ProducedVersion(_Record):
    """A new version of the catalogue dataset ``dataset_id`` (created if missing)."""

    dataset_id: str = Field(pattern=SLUG_PATTERN, max_length=120)
    title: str = Field(min_length=1)
    description: str = ""
    kind: Kind = "generic"
    licence: str = Field(min_length=1, description="a licence id of the registry, e.g. etalab-2.0")
    attribution: str | None = None
    tags: list[str] = Field(default_factory=list)
    territories: list[str] = Field(default_factory=list)
    approach: Approach | None = None
    content: bytes
    filename: str = Field(min_length=1)
    media_type: str = Field(min_length=1)
    provenance: Provenance

    @field_validator("territories")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            _check_territory_code(code)
        return value

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class TerritoryRecord(_Record):
    """A territory to upsert. ``geometry`` is GeoJSON in EPSG:4326, lon/lat order."""

    code: str = Field(pattern=TERRITORY_CODE_PATTERN)
    name: str = Field(min_length=1)
    level: TerritoryLevel
    parents: list[str] = Field(default_factory=list)
    geometry: dict[str, Any] | None = None
    population: int | None = None

    @field_validator("parents")
    @classmethod
    def _parent_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            _check_territory_code(code)
        return value


class ActorRecord(_Record):
    """An actor (company, public body, farm) to upsert; ``territory`` is where it is located."""

    id: str = Field(min_length=1, description="e.g. 'siren:130025265' or 'siret:13002526500013'")
    siren: str | None = Field(default=None, pattern=r"^\d{9}$")
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    name: str = Field(min_length=1)
    naf: str | None = None
    sector: str | None = None
    territory: str | None = Field(default=None, pattern=TERRITORY_CODE_PATTERN)
    lon: float | None = None
    lat: float | None = None


Produced: TypeAlias = ProducedVersion | TerritoryRecord | ActorRecord


def _check_territory_code(code: str) -> None:
    if not re.match(TERRITORY_CODE_PATTERN, code):
        raise ValueError(f"not a territory code: {code!r} (expected e.g. 'commune:17300')")


# --- what a connector is given ----------------------------------------------------------------


def _no_progress(done: int, total: int | None, message: str) -> None:
    return None


def _no_previous(dataset_id: str) -> str | None:
    return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConnectorContext:
    """Everything a run gets from the runner. Tests build one around an ``httpx.MockTransport``.

    - ``report_progress(done, total, message)``: progress for the job (total may be unknown);
    - ``previous_checksum(dataset_id)``: the ``provenance.upstream_checksum`` recorded with the
      dataset's current version, or None; lets a connector skip an unchanged upstream file (the
      runner also deduplicates by SHA-256 of the content);
    - ``licence_aliases``: upstream licence id or URL → registry id
      (``{"lov2": "etalab-2.0", "odc-odbl": "odbl-1.0", ...}``), filled by the runner;
    - ``now()``: the clock used for ``retrieved_at``.
    """

    http: httpx.Client
    report_progress: Callable[[int, int | None, str], None] = _no_progress
    previous_checksum: Callable[[str], str | None] = _no_previous
    licence_aliases: Mapping[str, str] = field(default_factory=dict)
    now: Callable[[], datetime] = _utc_now

    def map_licence(self, upstream: str | None) -> str | None:
        """Registry licence id for an upstream licence id/URL, or None when unknown."""
        if not upstream:
            return None
        return self.licence_aliases.get(upstream) or self.licence_aliases.get(upstream.lower())


# --- the connector itself ---------------------------------------------------------------------

P = TypeVar("P", bound=BaseModel)


@runtime_checkable
class Connector(Protocol[P]):
    """A source of datasets, territories or actors.

    ``params_model`` validates the run parameters (its JSON schema is what ``GET /connectors``
    shows); ``licence`` is the registry id of what the connector produces; ``run`` is a
    generator, so the runner can store items as they come and report progress.
    """

    name: str
    description: str
    licence: str
    params_model: type[P]

    def run(self, params: P, context: ConnectorContext) -> Iterator[Produced]: ...


def parameters_schema(connector: Connector[Any]) -> dict[str, Any]:
    """The JSON schema of a connector's parameters (for ``GET /connectors``)."""
    params_model: type[BaseModel] = connector.params_model
    return params_model.model_json_schema()
