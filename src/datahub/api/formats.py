"""One output-format negotiation for every route: ``?format=`` first, else the ``Accept`` header.

A route declares the formats it can write, ``fmt: Annotated[Negotiated, Depends(formats("json",
"csv"))]``, and answers in ``fmt.name``. ``format=`` wins (a link a person can paste); without it
the best ``Accept`` media range (RFC 9110 §12.5.1, by quality then specificity) picks one, ``*/*``
or no header picks the route's first format, and an ``Accept`` naming none of them is a 406.
"""

# No ``from __future__ import annotations``: the dependency's signature is built per route from
# local values, which FastAPI must see evaluated.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Request

from datahub.errors import NotAcceptable

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "svg": "image/svg+xml",
    "png": "image/png",
    "geojson": "application/geo+json",
    "jsonld": "application/ld+json",
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
}


@dataclass(frozen=True)
class Negotiated:
    name: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.name]


def _ranges(accept: str) -> list[tuple[float, int, str]]:
    """``(quality, specificity, media range)`` of each range in an ``Accept`` header."""
    found = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        found.append((quality, specificity, media.lower()))
    return found


def choose(accept: str | None, names: tuple[str, ...]) -> str:
    """The format ``Accept`` prefers among ``names`` (the first one when anything will do)."""
    if not accept:
        return names[0]
    best: tuple[float, int, int] | None = None
    chosen = None
    for quality, specificity, media in _ranges(accept):
        if quality <= 0:
            continue
        for order, name in enumerate(names):
            full = MEDIA_TYPES[name]
            if media in (full, "*/*") or (media.endswith("/*") and full.startswith(media[:-1])):
                key = (quality, specificity, -order)
                if best is None or key > best:
                    best, chosen = key, name
    if chosen is None:
        offered = ", ".join(MEDIA_TYPES[n] for n in names)
        raise NotAcceptable(f"this resource is served as {offered} (or ask with ?format=)")
    return chosen


def formats(*names: str) -> Callable[..., Negotiated]:
    """A dependency choosing one of ``names`` (the first is the default)."""
    unknown = set(names) - set(MEDIA_TYPES)
    assert not unknown, unknown

    def negotiate(
        request: Request,
        format: Annotated[
            str | None,
            Query(
                pattern=f"^({'|'.join(names)})$",
                description="Output format; without it, the `Accept` header decides.",
                json_schema_extra={"enum": list(names)},
            ),
        ] = None,
    ) -> Negotiated:
        return Negotiated(format or choose(request.headers.get("accept"), names))

    return negotiate
