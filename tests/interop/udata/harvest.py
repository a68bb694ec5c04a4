"""Harvest a DCAT catalogue with data.gouv.fr's own harvester (the ``udata`` package) and print
what udata stored, as JSON.

Run by the udata virtual environment's Python (``.ci/run`` makes it from ``requirements.txt``
beside this file), never by the project's: udata pins Flask, mongoengine and Celery of its own.
MongoDB is ``mongomock`` (in memory), Celery runs eagerly, and the licences are data.gouv.fr's
list as its API serves it (``tests/data/connectors/data_gouv/datasets_licenses.json``), loaded
as data.gouv.fr's database holds them.

    python harvest.py URL --licences datasets_licenses.json --organisation NAME [--preview URL]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import mongomock


class Settings:
    """udata's settings for one harvest in memory, on loopback only."""

    MONGODB_HOST = "mongodb://localhost:27017/udata"  # checked by udata; the client is below
    MONGODB_SETTINGS = {"host": MONGODB_HOST, "mongo_client_class": mongomock.MongoClient}
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    HARVESTER_BACKENDS = ["dcat"]
    URLS_ALLOW_LOCAL = True  # the hub under test listens on 127.0.0.1
    CACHE_TYPE = "flask_caching.backends.NullCache"
    CACHE_NO_NULL_WARNING = True
    SEND_MAIL = False
    DEFAULT_LANGUAGE = "fr"
    SERVER_NAME = "udata.localhost"
    # udata refuses to start without them; nothing is signed in a one-shot harvest.
    SECRET_KEY = secrets.token_hex(32)
    API_TOKEN_SECRET = secrets.token_hex(32)


def _licences(path: Path) -> None:
    from udata.core.dataset.models import License

    for item in json.loads(path.read_text(encoding="utf-8")):
        License(
            id=item["id"],
            title=item["title"],
            url=item.get("url"),
            alternate_urls=item.get("alternate_urls") or [],
            alternate_titles=item.get("alternate_titles") or [],
            maintainer=item.get("maintainer"),
            flags=item.get("flags") or [],
        ).save()


def _resource(resource: Any) -> dict[str, Any]:
    checksum = resource.checksum
    return {
        "title": resource.title,
        "url": resource.url,
        "type": resource.type,
        "format": resource.format,
        "mime": resource.mime,
        "filesize": resource.filesize,
        "checksum": {"type": checksum.type, "value": checksum.value} if checksum else None,
        "schema": resource.schema.to_mongo().to_dict() if resource.schema else None,
        "extras": resource.extras.get("dcat", {}),
    }


def _dataset(dataset: Any) -> dict[str, Any]:
    temporal = dataset.temporal_coverage
    spatial = dataset.spatial
    return {
        "remote_id": dataset.harvest.remote_id,
        "remote_url": dataset.harvest.remote_url,
        "title": dataset.title,
        "description": dataset.description,
        "licence": dataset.license.id if dataset.license else None,
        "organization": dataset.organization.name if dataset.organization else None,
        "contact_points": [{"role": c.role, "name": c.name} for c in dataset.contact_points],
        "access_type": str(dataset.access_type) if dataset.access_type else None,
        "private": dataset.private,
        "tags": list(dataset.tags),
        "temporal_coverage": (
            {"start": temporal.start.isoformat(), "end": temporal.end.isoformat()}
            if temporal
            else None
        ),
        "spatial": spatial.geom if spatial and spatial.geom else None,
        "schema": dataset.schema.to_mongo().to_dict() if dataset.schema else None,
        "extras": dataset.extras.get("dcat", {}),
        "resources": [_resource(r) for r in dataset.resources],
    }


def _job(job: Any) -> dict[str, Any]:
    return {
        "status": job.status,
        "format": (job.data or {}).get("format"),
        "errors": [e.message for e in job.errors],
        "items": [
            {
                "remote_id": item.remote_id,
                "status": item.status,
                "errors": [e.message for e in item.errors],
                "logs": [f"{log.level}: {log.message}" for log in item.logs],
            }
            for item in job.items
        ],
    }


def harvest(url: str, previews: list[str], licences: Path, organisation: str) -> dict[str, Any]:
    """Harvest ``url`` as a DCAT source of ``organisation``, then preview each of ``previews`` (a
    dry run: udata's "Prévisualiser", which stores nothing)."""
    from udata.app import create_app, standalone

    app = standalone(create_app(override=Settings))
    with app.app_context():
        from udata.core.dataset.models import Dataset
        from udata.core.organization.models import Organization
        from udata.harvest import actions
        from udata.harvest.models import HarvestJob, HarvestSource

        _licences(licences)
        owner = Organization.objects.create(name=organisation, description=organisation)

        def source(address: str) -> Any:
            return HarvestSource.objects.create(
                name=address, url=address, backend="dcat", organization=owner, active=True
            )

        harvested = source(url)
        started = time.monotonic()
        actions.run(harvested)
        seconds = time.monotonic() - started
        return {
            "seconds": round(seconds, 3),
            **_job(HarvestJob.objects(source=harvested).get()),
            "datasets": [_dataset(d) for d in Dataset.objects(organization=owner)],
            "previews": {address: _job(actions.preview(source(address))) for address in previews},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the DCAT catalogue to harvest")
    parser.add_argument("--licences", type=Path, required=True, help="data.gouv.fr's licences")
    parser.add_argument("--organisation", required=True, help="the harvest source's owner")
    parser.add_argument("--preview", action="append", default=[], help="a catalogue to preview")
    args = parser.parse_args()
    summary = harvest(args.url, args.preview, args.licences, args.organisation)
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
