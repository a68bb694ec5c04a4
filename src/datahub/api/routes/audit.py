"""The audit log and licence-usage reports, for the governance committee (auditor, admin)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from datahub.accounts.caller import Caller
from datahub.api.deps import RuntimeDep, SessionDep, require
from datahub.api.formats import Negotiated, formats
from datahub.api.pagination import Page, PageDep, envelope
from datahub.audit import sealing
from datahub.audit import service as audit
from datahub.audit.keys import ALGORITHM
from datahub.audit.schemas import EventRead, PublicKeyRead, SealRead, VerifyRead
from datahub.catalog.csv_writer import iter_csv_rows
from datahub.licensing import usage
from datahub.runtime import Runtime

router = APIRouter(prefix="/audit", tags=["audit"])
AuditorDep = Annotated[Caller, Depends(require("auditor", "admin"))]
TableFormat = Annotated[Negotiated, Depends(formats("json", "csv"))]


@router.get(
    "/events",
    summary="Audit events, oldest first (JSON or CSV for archiving)",
    response_model=Page[EventRead],
    responses={200: {"content": {"text/csv": {}}}},
)
def list_events(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    _auditor: AuditorDep,
    fmt: TableFormat,
    page: PageDep,
    dataset: Annotated[str | None, Query(max_length=100)] = None,
    organization: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=48)] = None,
    outcome: Literal["allowed", "denied", "failed"] | None = None,
    basis: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> Any:
    query = audit.events_query(
        dataset=dataset,
        organization=organization,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        basis=basis,
    )
    if fmt.name == "csv":
        return StreamingResponse(
            _csv(runtime, query),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
        )
    total = audit.count(session, query)
    events = audit.page(session, query, (page.page - 1) * page.page_size, page.page_size)
    return envelope(request, [EventRead.model_validate(e) for e in events], total, page)


def _csv(runtime: Runtime, query: Any) -> Iterator[bytes]:
    with runtime.read_session() as session:
        yield from iter_csv_rows(audit.export_rows(session, query), audit.EXPORT_COLUMNS)


@router.get(
    "/verify",
    summary="Check the hash chain and its seals; names the first altered or missing event",
)
def verify(session: SessionDep, runtime: RuntimeDep, _auditor: AuditorDep) -> VerifyRead:
    return VerifyRead(**audit.verify(session, runtime.seals).as_dict())


@router.get("/seals", summary="Signed seals of the chain head, oldest first")
def list_seals(
    request: Request, session: SessionDep, runtime: RuntimeDep, _auditor: AuditorDep, page: PageDep
) -> dict[str, Any]:
    offset = (page.page - 1) * page.page_size
    seals = sealing.list_seals(session, offset, page.page_size)
    public = runtime.seals.key.existing_public()
    return envelope(
        request,
        [SealRead(**seal.as_dict()) for seal in seals],
        sealing.count_seals(session),
        page,
        key_fingerprint=public.fingerprint if public else None,
    )


@router.get("/public-key", summary="The Ed25519 public key that checks the seals")
def public_key(runtime: RuntimeDep, _auditor: AuditorDep) -> PublicKeyRead:
    key = runtime.seals.key.public()  # created on first use
    return PublicKeyRead(
        algorithm=ALGORITHM,
        fingerprint=key.fingerprint,
        public_key_pem=key.pem,
        public_key_raw=key.raw_base64,
    )


@router.get(
    "/reports/licence-usage",
    summary="Use of each dataset per licence: reads by organisation and basis, denials, grants",
    responses={200: {"content": {"text/csv": {}}}},
)
def licence_usage(
    session: SessionDep,
    _auditor: AuditorDep,
    fmt: TableFormat,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> Any:
    lines = usage.licence_usage(session, since, until)
    if fmt.name == "json":
        return {"data": lines, "meta": {"from": since, "to": until, "total": len(lines)}}
    columns = list(lines[0].keys()) if lines else ["dataset", "licence", "reads"]
    rows = [{k: audit.export_value(v) for k, v in line.items()} for line in lines]
    return StreamingResponse(
        iter_csv_rows(rows, columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="licence-usage.csv"'},
    )
