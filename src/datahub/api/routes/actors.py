"""Actors: companies, public bodies and farms whose emissions datasets may name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from datahub.accounts.caller import Caller
from datahub.api.deps import SessionDep, require
from datahub.api.pagination import Page, PageDep, envelope
from datahub.territories import service
from datahub.territories.schemas import ActorCreate, ActorRead

router = APIRouter(prefix="/actors", tags=["actors"])


@router.get("", summary="List actors", response_model=Page[ActorRead])
def list_actors(
    request: Request,
    session: SessionDep,
    page: PageDep,
    territory: Annotated[str | None, Query(max_length=64)] = None,
    sector: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    reads, total = service.list_actors(
        session, territory=territory, sector=sector, page=page.page, page_size=page.page_size
    )
    return envelope(request, reads, total, page)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an actor (admin, producer)")
def create_actor(
    data: ActorCreate,
    session: SessionDep,
    _caller: Annotated[Caller, Depends(require("admin", "producer"))],
) -> ActorRead:
    return service.actor_read(service.create_actor(session, data))


@router.get("/{actor_id}", summary="One actor")
def get_actor(actor_id: str, session: SessionDep) -> ActorRead:
    return service.actor_read(service.get_actor(session, actor_id))
