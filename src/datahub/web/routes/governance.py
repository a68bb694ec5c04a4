"""The governance committee's page: audit events with filters and CSV export, the licence-usage
report as tables and bar charts, the chain's seals and « Vérifier maintenant » (auditor, admin).

The API's audit reads are not themselves audited, so neither is reading this page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from datahub.accounts import service as accounts
from datahub.accounts.caller import Caller
from datahub.audit import sealing
from datahub.audit import service as audit
from datahub.audit.schemas import ACTIONS
from datahub.catalog.csv_writer import iter_csv_rows
from datahub.errors import FieldError, ValidationFailed
from datahub.licensing import usage
from datahub.notifications.alerts import verify_chain
from datahub.runtime import Runtime
from datahub.web import fmt, forms
from datahub.web.charts import bar_chart
from datahub.web.deps import page_caller, runtime_of
from datahub.web.pages import PageRoute, render
from datahub.web.params import known_query_only
from datahub.web.roles import require_roles, sign_in_first

router = APIRouter(route_class=PageRoute, dependencies=[Depends(known_query_only)])
PAGE_SIZE: Final = 50
#: The « Vérifier maintenant » verdict, kept in the session between the POST and the page.
VERDICT_KEY: Final = "governance.verdict"
Text = Annotated[str | None, Query(max_length=100)]


@dataclass(frozen=True)
class EventFilters:
    """The API's filters of ``GET /audit/events``; the period is in whole days, ``to`` included."""

    dataset: str | None
    organization: str | None
    action: str | None
    outcome: Literal["allowed", "denied", "failed"] | None
    basis: str | None
    since: date | None
    until: date | None

    @property
    def since_at(self) -> datetime | None:
        return datetime.combine(self.since, time(), UTC) if self.since else None

    @property
    def until_at(self) -> datetime | None:
        """The end of the last day asked for (the API's ``to`` is exclusive)."""
        return datetime.combine(self.until + timedelta(days=1), time(), UTC) if self.until else None

    def query(self) -> Any:
        return audit.events_query(
            dataset=self.dataset,
            organization=self.organization,
            action=self.action,
            outcome=self.outcome,
            basis=self.basis,
            since=self.since_at,
            until=self.until_at,
        )

    def params(self) -> dict[str, str]:
        """The filters set, as this page's query parameters."""
        names = {"since": "from", "until": "to"}
        return {names.get(k, k): str(v) for k, v in asdict(self).items() if v}


def event_filters(
    dataset: Text = None,
    organization: Text = None,
    action: Text = None,
    outcome: Literal["allowed", "denied", "failed", ""] | None = None,
    basis: Text = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> EventFilters:
    """The filter form's fields; a field left blank (``?dataset=``) filters nothing."""
    return EventFilters(
        dataset=forms.clean(dataset),
        organization=forms.clean(organization),
        action=forms.clean(action),
        outcome=outcome or None,
        basis=forms.clean(basis),
        since=_day(since, "from"),
        until=_day(until, "to"),
    )


def _day(value: str | None, name: str) -> date | None:
    value = forms.clean(value)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = f"« {name} » doit être une date AAAA-MM-JJ"
        raise ValidationFailed(message, errors=[FieldError(None, name, message)]) from None


FiltersDep = Annotated[EventFilters, Depends(event_filters)]


def _staff(request: Request) -> Caller | None:
    """The caller, if an auditor or admin; None for anonymous (sent to sign in); 403 otherwise."""
    caller = page_caller(request)
    if not caller.authenticated:
        return None
    require_roles(caller, "auditor", "admin")
    return caller


def _usage(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's totals over all datasets, for the charts and their tables."""
    by_org: dict[str, int] = {}
    by_basis: dict[str, int] = {}
    denied_by_org: dict[str, int] = {}
    grants = dict.fromkeys(usage.NO_GRANTS, 0)
    for line in lines:
        for org, n in line["reads_by_organization"].items():
            by_org[org] = by_org.get(org, 0) + n
        for basis, n in line["reads_by_basis"].items():
            by_basis[basis] = by_basis.get(basis, 0) + n
        for org, n in line["denied_by_organization"].items():
            denied_by_org[org] = denied_by_org.get(org, 0) + n
        for state, n in line["grants"].items():
            grants[state] += n

    def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    return {
        "lines": lines,
        "reads_by_organization": ranked(by_org),
        "reads_by_basis": ranked(by_basis),
        "denied_by_organization": ranked(denied_by_org),
        "grants": list(grants.items()),
    }


def basis_label(basis: str) -> str:
    if basis.startswith("grant:"):
        return f"autorisation n° {basis.removeprefix('grant:')}"
    return fmt.BASIS_LABELS.get(basis, basis)


GRANT_LABELS: Final = {"active": "en cours", "expired": "expirées", "revoked": "révoquées"}


def _charts(report: dict[str, Any]) -> dict[str, str]:
    return {
        "by_org": bar_chart(report["reads_by_organization"], "Lectures par organisation"),
        "by_basis": bar_chart(
            [(basis_label(b), n) for b, n in report["reads_by_basis"]], "Lectures par fondement"
        ),
        "denied": bar_chart(report["denied_by_organization"], "Tentatives refusées"),
        "grants": bar_chart(
            [(GRANT_LABELS[s], n) for s, n in report["grants"]], "Autorisations d'accès"
        ),
    }


def _chain(runtime: Runtime) -> dict[str, Any]:
    with runtime.read_session() as session:
        last = sealing.last_seal(session)
        seals = sealing.count_seals(session)
    public = runtime.seals.key.existing_public()
    return {
        "last_seal": last,
        "seals": seals,
        "fingerprint": public.fingerprint if public else None,
    }


@router.get("/governance", name="web_governance")
def governance(
    request: Request,
    filters: FiltersDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    caller = _staff(request)
    if caller is None:
        return sign_in_first(request)
    runtime = runtime_of(request)
    query = filters.query()
    with runtime.read_session() as session:
        total = audit.count(session, query)
        events = audit.page(session, query, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        lines = usage.licence_usage(session, filters.since_at, filters.until_at)
        organisations = [(o.id, o.name) for o in accounts.list_organizations(session)]
    kept = filters.params()
    pages = max(1, -(-total // PAGE_SIZE))

    def page_url(number: int) -> str:
        return "/governance?" + urlencode({**kept, "page": number}) + "#evenements"

    report = _usage(lines)
    return render(
        request,
        caller,
        "governance.html",
        {
            "filters": filters,
            "events": events,
            "total": total,
            "page": page,
            "pages": pages,
            "previous_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None,
            "csv_url": "/governance/events.csv" + (f"?{urlencode(kept)}" if kept else ""),
            "actions": ACTIONS,
            "organisations": organisations,
            "report": report,
            "charts": _charts(report),
            "basis_label": basis_label,
            "grant_labels": GRANT_LABELS,
            "chain": _chain(runtime),
            "verdict": request.session.pop(VERDICT_KEY, None),
        },
    )


def _csv(runtime: Runtime, query: Any) -> Iterator[bytes]:
    with runtime.read_session() as session:
        yield from iter_csv_rows(audit.export_rows(session, query), audit.EXPORT_COLUMNS)


@router.get("/governance/events.csv", name="web_governance_csv")
def events_csv(request: Request, filters: FiltersDep) -> Response:
    """The filtered events, streamed as the API's CSV (every chained field and the hash)."""
    if _staff(request) is None:
        return sign_in_first(request)
    return StreamingResponse(
        _csv(runtime_of(request), filters.query()),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="audit-events.csv"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/governance/verify", name="web_governance_verify")
def verify_now(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """Run ``datahub audit verify`` (a broken chain alerts the committee), then show the verdict."""
    forms.check_csrf(request, csrf)
    if _staff(request) is None:
        return sign_in_first(request)
    runtime = runtime_of(request)
    verdict = verify_chain(runtime.read_session, runtime.transaction, runtime.seals)
    request.session[VERDICT_KEY] = {
        **verdict.as_dict(),
        "checked_at": datetime.now(UTC).isoformat(),
    }
    return RedirectResponse("/governance#chaine", 303)
