"""Organisations by name, for pages that show a producer (the API gives ids)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from datahub.accounts import service as accounts


def names(session: Session) -> dict[str, str]:
    """Every organisation's name by id (names are public: the catalogue's facets list them)."""
    return {o.id: o.name for o in accounts.list_organizations(session)}


def attribution(text: str, by_id: dict[str, str]) -> str:
    """An attribution (``<producer id> — <title> — <licence>``) with the producer's name."""
    producer, sep, rest = text.partition(" — ")
    return f"{by_id.get(producer, producer)}{sep}{rest}"
