"""Prometheus metrics of the instance, and their text exposition for ``GET /metrics``.

Labels are bounded: routes are path templates (``/api/v1/datasets/{dataset_id}``), never raw
paths. With several worker processes (``datahub serve --workers N``) each process writes its
values to files in ``PROMETHEUS_MULTIPROC_DIR`` and the exposition sums them; prometheus_client
reads that variable when it is first imported, so it must be set before the workers start
(``datahub serve`` does it for ``--workers`` > 1 and empties the folder on start).
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Request durations go up to minutes: large uploads are parsed inside the request.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

HTTP_REQUESTS = Counter(
    "datahub_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "datahub_http_request_duration_seconds",
    "Time from receiving a request to sending the last byte of its response.",
    ["method", "route"],
    buckets=DURATION_BUCKETS,
)
UPLOADS = Counter(
    "datahub_uploads_total",
    "Dataset version uploads: stored (new version), unchanged (same bytes), refused (4xx), "
    "failed (5xx or interrupted).",
    ["outcome"],
)
UPLOAD_BYTES = Counter("datahub_upload_bytes_total", "Bytes of the original files stored.")
UPLOAD_ROWS = Counter("datahub_upload_rows_total", "Rows of the dataset versions stored.")
CONNECTOR_RUNS = Counter(
    "datahub_connector_runs_total",
    "Connector runs finished, by connector and outcome (succeeded, failed).",
    ["connector", "outcome"],
)
AUDIT_EVENTS = Counter(
    "datahub_audit_events_total",
    "Audit events recorded, by action and outcome.",
    ["action", "outcome"],
)

UPLOAD_OUTCOMES = ("stored", "unchanged", "refused", "failed")


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def record_upload(outcome: str, *, size: int = 0, rows: int = 0) -> None:
    """One upload; ``size`` and ``rows`` count only for a stored version."""
    if outcome not in UPLOAD_OUTCOMES:
        raise ValueError(f"unknown upload outcome {outcome!r}")
    UPLOADS.labels(outcome).inc()
    if outcome == "stored":
        UPLOAD_BYTES.inc(size)
        UPLOAD_ROWS.inc(rows)


def record_connector_run(connector: str, outcome: str) -> None:
    """One finished connector run; ``outcome`` is ``succeeded`` or ``failed``."""
    CONNECTOR_RUNS.labels(connector, outcome).inc()


def record_audit_event(action: str, outcome: str) -> None:
    AUDIT_EVENTS.labels(action, outcome).inc()


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def reset_multiprocess_dir(folder: Path) -> None:
    """Create ``folder`` or empty it of a previous run's value files (call before workers start)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, and their content type."""
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
