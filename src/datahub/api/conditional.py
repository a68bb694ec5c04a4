"""Validators for cacheable reads (RFC 9110 §8.8, §13): ``ETag``, ``Last-Modified`` and 304.

A version's rows never change once stored, so a response is identified by the version's checksum,
its licence (headers and ``meta`` name it) and the query that shaped it. Crawlers (data.gouv.fr's
among them) revalidate with ``If-None-Match`` / ``If-Modified-Since`` instead of downloading again.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request, Response, status


def etag(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f'"{digest}"'


def http_date(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return format_datetime(aware.astimezone(UTC).replace(microsecond=0), usegmt=True)


def validators(tag: str, modified: datetime) -> dict[str, str]:
    return {"ETag": tag, "Last-Modified": http_date(modified)}


def _matches(header: str, tag: str) -> bool:
    candidates = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in candidates or tag in candidates


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """A 304 carrying ``headers`` when the client's copy is current, else None.

    ``If-None-Match`` takes precedence; ``If-Modified-Since`` is read only without it.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    match = request.headers.get("if-none-match")
    fresh = False
    if match is not None:
        fresh = _matches(match, headers["ETag"])
    elif since := request.headers.get("if-modified-since"):
        try:
            fresh = parsedate_to_datetime(headers["Last-Modified"]) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            fresh = False
    if not fresh:
        return None
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
