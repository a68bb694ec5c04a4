"""datagouv-dataset: import one data.gouv.fr dataset (metadata + one resource) as a version.

The upstream licence id (``lov2``, ``odc-odbl``…) is mapped to the hub's licence registry through
``context.licence_aliases`` (filled by the runner from the registry); an unknown licence stops
the run rather than guessing, unless ``licence`` is given. The resource is downloaded through its
``latest`` URL (a stable redirect, research note §3.1 pitfall 3) with a size cap, and skipped when
its data.gouv.fr checksum equals the one recorded with the current version.

``portal`` points the connector at another udata portal (demo.data.gouv.fr, data.public.lu…,
or a mirror): udata serves the same API everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, Field, HttpUrl

from datahub.ingest.contract import (
    Connector,
    ConnectorContext,
    FatalConnectorError,
    Kind,
    Produced,
    ProducedVersion,
    Provenance,
    raise_for_upstream,
)

DATAGOUV = "https://www.data.gouv.fr"
PREFERRED_FORMATS = ("csv", "geojson", "json", "parquet", "xlsx")
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class DatagouvDatasetParams(BaseModel):
    portal: HttpUrl = Field(
        default=HttpUrl(DATAGOUV),
        description="base URL of the udata portal (data.gouv.fr, demo.data.gouv.fr, "
        "data.public.lu...)",
    )
    dataset: str = Field(
        min_length=1,
        description="data.gouv.fr dataset id or slug",
        examples=["5d13a8b6634f41070a43dff3"],
    )
    resource: str | None = Field(
        default=None,
        description="resource id or exact title; default: the first 'main' resource in a "
        "tabular format (csv, geojson, json, parquet, xlsx)",
    )
    dataset_id: str | None = Field(
        default=None, pattern=SLUG, description="hub dataset id (default: the upstream slug)"
    )
    kind: Kind = "generic"
    licence: str | None = Field(
        default=None, description="registry licence id, overriding the upstream one"
    )
    tags: list[str] = Field(default_factory=list)
    territories: list[str] = Field(default_factory=list)
    max_bytes: int = Field(default=200_000_000, gt=0)


def pick_resource(resources: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    if wanted:
        for resource in resources:
            if wanted in (resource.get("id"), resource.get("title")):
                return resource
        raise FatalConnectorError(f"no resource {wanted!r} in this dataset")
    for fmt in PREFERRED_FORMATS:
        for resource in resources:
            if resource.get("type", "main") == "main" and (resource.get("format") or "") == fmt:
                return resource
    raise FatalConnectorError("no main resource in a tabular format; pass resource=…")


def hub_slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:120].strip("-")
    if not slug:
        raise FatalConnectorError(f"cannot make a dataset id from {value!r}; pass dataset_id")
    return slug


def _checksum(resource: dict[str, Any]) -> str | None:
    checksum = resource.get("checksum")
    if isinstance(checksum, dict) and checksum.get("value"):
        return f"{checksum.get('type', 'sha1')}:{checksum['value']}"
    return None


class DatagouvDataset:
    name = "datagouv-dataset"
    description = (
        "Imports a data.gouv.fr dataset by id or slug: its metadata and licence, and one of its "
        "resources as the version content."
    )
    licence = "etalab-2.0"  # the platform metadata; each dataset keeps its own licence
    params_model = DatagouvDatasetParams

    def run(self, params: DatagouvDatasetParams, context: ConnectorContext) -> Iterator[Produced]:
        client = context.http
        portal = str(params.portal).rstrip("/")
        meta_url = f"{portal}/api/1/datasets/{quote(params.dataset, safe='')}/"
        response = client.get(meta_url)
        if response.status_code == 404:
            raise FatalConnectorError(f"{portal} has no dataset {params.dataset!r}")
        meta = raise_for_upstream(response).json()
        upstream_licence = meta.get("license")
        licence = params.licence or context.map_licence(upstream_licence)
        if not licence:
            raise FatalConnectorError(
                f"data.gouv.fr licence {upstream_licence!r} has no alias in the licence registry;"
                " add one or pass licence=…"
            )
        resource = pick_resource(meta.get("resources") or [], params.resource)
        dataset_id = params.dataset_id or hub_slug(meta.get("slug") or meta.get("id") or "")
        upstream_checksum = _checksum(resource)
        if upstream_checksum and context.previous_checksum(dataset_id) == upstream_checksum:
            context.report_progress(1, 1, "resource unchanged since the last import")
            return
        filesize = resource.get("filesize")
        if isinstance(filesize, int) and filesize > params.max_bytes:
            raise FatalConnectorError(
                f"resource is {filesize} bytes, above max_bytes={params.max_bytes}"
            )

        url = str(resource.get("latest") or resource.get("url") or "")
        if not url:
            raise FatalConnectorError("the resource has no URL")
        context.report_progress(0, filesize if isinstance(filesize, int) else None, "downloading")
        chunks: list[bytes] = []
        size = 0
        with client.stream("GET", url) as download:
            raise_for_upstream(download)
            for chunk in download.iter_bytes():
                size += len(chunk)
                if size > params.max_bytes:
                    raise FatalConnectorError(
                        f"resource is larger than max_bytes={params.max_bytes}"
                    )
                chunks.append(chunk)
            final_url = str(download.url)
            headers = download.headers
            media_type = (headers.get("content-type") or resource.get("mime") or "").split(";")[0]
        context.report_progress(size, size, "downloaded")
        filename = urlsplit(str(resource.get("url") or final_url)).path.rsplit("/", 1)[-1]
        organization = meta.get("organization") or {}
        yield ProducedVersion(
            dataset_id=dataset_id,
            title=str(meta.get("title") or dataset_id),
            description=str(meta.get("description") or ""),
            kind=params.kind,
            licence=licence,
            attribution=organization.get("name") if isinstance(organization, dict) else None,
            tags=sorted({*params.tags, *(meta.get("tags") or [])}),
            territories=params.territories,
            content=b"".join(chunks),
            filename=filename or f"{dataset_id}.{resource.get('format') or 'bin'}",
            media_type=media_type or "application/octet-stream",
            provenance=Provenance(
                source_urls=[str(meta.get("page") or meta_url), final_url],
                retrieved_at=context.now(),
                etag=headers.get("etag"),
                last_modified=headers.get("last-modified"),
                upstream_checksum=upstream_checksum,
            ),
        )


connector: Connector[DatagouvDatasetParams] = DatagouvDataset()
