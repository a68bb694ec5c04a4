"""Trajectory bodies and charts that cost nothing twice, with ``ETag`` / ``If-None-Match``.

A rendered response (JSON, CSV or SVG) is cached under a digest of everything it was computed
from: the route and its parameters, the format, the caller's view (each dataset version usable,
how — in full or in aggregate — on which audited basis, whether the caller may know of it, its
licence and last change), the instance's ``carbon`` generation (territories, actors, targets,
facts; see :mod:`datahub.db.generation`) and the settings the maths reads. Two callers with the
same view share entries; any change of view or data makes a new key.

The generation is read before anything else, so a result is never stored under a generation
older than its data. The audit events a computation records (``dataset.trajectory_use``) are
kept with the entry without who asked, and recorded again for each caller served from the
cache — a ``304 Not Modified`` included, since the caller then uses what it holds.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from datahub.accounts.caller import RequestContext
from datahub.api.cache import ResultCache
from datahub.audit import service as audit
from datahub.carbon import service
from datahub.db import generation
from datahub.licensing.registry import LicenceRegistry
from datahub.settings import Settings

_HEAD = struct.Struct(">I")


@dataclass(frozen=True)
class Rendered:
    """A response body as cached: bytes, media type, headers, and the audit events to repeat."""

    body: bytes
    media_type: str
    headers: dict[str, str]
    events: list[dict[str, Any]] = field(default_factory=list)

    def dumps(self) -> bytes:
        head = json.dumps(
            {"media_type": self.media_type, "headers": self.headers, "events": self.events}
        ).encode("utf-8")
        return _HEAD.pack(len(head)) + head + self.body

    @classmethod
    def loads(cls, data: bytes) -> Rendered:
        (size,) = _HEAD.unpack_from(data)
        head = json.loads(data[_HEAD.size : _HEAD.size + size])
        return cls(data[_HEAD.size + size :], head["media_type"], head["headers"], head["events"])


@dataclass(frozen=True)
class Request:
    """One trajectory request: the key material besides the caller's view."""

    scope: service.Scope
    params: service.TrajectoryParams
    format: str
    dialect: str


def cache_key(
    session: Session,
    licences: LicenceRegistry,
    settings: Settings,
    ctx: RequestContext,
    request: Request,
) -> str:
    data_generation = generation.current(session)  # first: see the module docstring
    view = service.caller_view(
        session, licences, settings, ctx.caller, request.scope, request.params.approach
    )
    material = [
        1,  # bump when the rendering changes
        asdict(request.scope),
        asdict(request.params),
        request.format,
        request.dialect,
        view,
        data_generation,
        settings.model_dump(
            mode="json",
            include={
                "gwp",
                "secrecy_min_actors",
                "secrecy_max_share",
                "heating_share_residential",
                "heating_share_tertiary",
                "hdd_reference_from",
                "hdd_reference_to",
                "base_url",
            },
        ),
    ]
    encoded = json.dumps(material, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def etag_of(key: str) -> str:
    return f'"{key[:40]}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of ``If-None-Match`` with our (strong) tag."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class _InFlight:
    """One lock per key being computed in this process, so concurrent misses of the same key
    (a chart everybody asks for just after new data) compute it once; the others wait and
    find it in the cache."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._lock:
            lock, users = self._keys.get(key, (threading.Lock(), 0))
            self._keys[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._keys[key]
                if users == 1:
                    del self._keys[key]
                else:
                    self._keys[key] = (lock, users - 1)


_IN_FLIGHT = _InFlight()


def cached_or_computed(
    cache: ResultCache,
    key: str,
    session: Session,
    ctx: RequestContext,
    compute: Callable[[], Rendered],
) -> tuple[Rendered, bool]:
    """The cached entry (its audit events recorded for this caller) and True, or
    ``compute()``'s, stored with the events it recorded, and False."""
    found = cache.get(key)
    if found is None:
        with _IN_FLIGHT.hold(key):
            found = cache.get(key)
            if found is None:
                return _compute_and_store(cache, key, session, compute), False
    entry = Rendered.loads(found)
    for template in entry.events:
        audit.record(session, audit.event_for(ctx, **template))
    return entry, True


def _compute_and_store(
    cache: ResultCache, key: str, session: Session, compute: Callable[[], Rendered]
) -> Rendered:
    before = len(audit.pending_events(session))
    rendered = compute()
    events = [
        event.model_dump(mode="json", exclude=set(audit.CALLER_FIELDS))
        for event in audit.pending_events(session)[before:]
    ]
    entry = Rendered(rendered.body, rendered.media_type, rendered.headers, events)
    cache.set(key, entry.dumps())
    return entry


def response_headers(entry: Rendered, etag: str, hit: bool) -> Mapping[str, str]:
    # no-cache: clients and proxies revalidate every use, so every use is audited.
    return {
        **entry.headers,
        "ETag": etag,
        "Cache-Control": "no-cache",
        "Vary": "Authorization",
        "X-Cache": "hit" if hit else "miss",
    }
