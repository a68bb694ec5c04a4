"""Page-number pagination shared by the list routes: ``?page=&page_size=`` and a total."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class PageParams(BaseModel):
    page: int
    page_size: int


def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


PageDep = Annotated[PageParams, Depends(page_params)]


def envelope(
    request: Request, data: list[Any], total: int, params: PageParams, **meta: Any
) -> dict[str, Any]:
    has_next = params.page * params.page_size < total
    next_url = str(request.url.include_query_params(page=params.page + 1)) if has_next else None
    return {
        "data": data,
        "meta": {"total": total, "page": params.page, "page_size": params.page_size, **meta},
        "links": {"next": next_url},
    }


class PageMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    total: int
    page: int
    page_size: int


class PageLinks(BaseModel):
    next: str | None


class Page(BaseModel, Generic[T]):
    """The typed envelope of every paged list (so generated clients get typed items)."""

    data: list[T]
    meta: PageMeta
    links: PageLinks


class ListMeta(BaseModel):
    total: int


class Listing(BaseModel, Generic[T]):
    """An unpaged list: every item and their count."""

    data: list[T]
    meta: ListMeta
