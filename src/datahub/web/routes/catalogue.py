"""The catalogue and dataset pages: search with facets, metadata, preview, access requests."""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from datahub.accounts.caller import Caller
from datahub.catalog import access, kinds, rows
from datahub.catalog import service as catalog
from datahub.errors import FieldError, Unauthenticated, ValidationFailed
from datahub.licensing import policy
from datahub.licensing.levels import AccessLevel
from datahub.runtime import Runtime
from datahub.territories import service as territories
from datahub.web import fmt, forms, organisations
from datahub.web.deps import context, page_caller, runtime_of, unit_of_work
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)
PAGE_SIZE: Final = 20
PREVIEW_ROWS: Final = 25
#: Query parameters of the dataset page that are not row filters.
PAGE_PARAMS: Final = {"sort", "after", "col", "op", "val", "demande"}
Text = Annotated[str | None, Query(max_length=200)]


def _facets(runtime: Runtime, caller: Caller) -> dict[str, Any]:
    with runtime.read_session() as session:
        names = organisations.names(session)
        places, _total, _rows = territories.list_page(
            session, level=None, parent=None, page=1, page_size=200
        )
    return {
        "levels": fmt.LEVEL_LABELS,
        "licences": runtime.licences.all(),
        "kinds": [(k, fmt.KIND_LABELS.get(k, k)) for k in kinds.KINDS],
        "producers": list(names.items()),
        "names": names,
        "places": [(t.code, t.name) for t in places],
    }


@router.get("/datasets", name="web_datasets")
def datasets(
    request: Request,
    q: Text = None,
    level: AccessLevel | None = None,
    licence: Text = None,
    kind: Text = None,
    producer: Text = None,
    territory: Text = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    caller = page_caller(request)
    runtime = runtime_of(request)
    chosen = {
        "q": forms.clean(q),
        "level": level,
        "licence": forms.clean(licence),
        "kind": forms.clean(kind),
        "producer": forms.clean(producer),
        "territory": forms.clean(territory),
    }
    filters = catalog.SearchFilters(**chosen)
    with unit_of_work(runtime) as session:
        found, total = catalog.search(
            session, runtime.licences, caller, filters, page=page, page_size=PAGE_SIZE
        )
    kept = {k: v for k, v in chosen.items() if v}
    pages = max(1, -(-total // PAGE_SIZE))

    def page_url(number: int) -> str:
        return "/datasets?" + urlencode({**kept, "page": number})

    return render(
        request,
        caller,
        "datasets.html",
        {
            "found": found,
            "total": total,
            "chosen": chosen,
            "page": page,
            "pages": pages,
            "previous_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None,
            **_facets(runtime, caller),
        },
    )


def _preview(request: Request, runtime: Runtime, caller: Caller, dataset_id: str) -> dict[str, Any]:
    """The dataset, its versions and, when the caller may read the data, a page of rows."""
    params = request.query_params
    ctx = context(request, caller)
    with unit_of_work(runtime) as session:
        resolved = catalog.resolve(session, runtime.licences, caller, dataset_id)
        read = catalog.read_one(session, resolved)
        versions = catalog.list_versions(session, resolved)
        names = organisations.names(session)
        page: dict[str, Any] = {
            "dataset": read,
            "versions": versions,
            "preview": None,
            "producer": names.get(read.producer, read.producer),
        }
        if not (resolved.decision.data and read.current_version):
            return page
        resolved = catalog.authorize_data(
            session, runtime.licences, ctx, dataset_id, "dataset.read_rows"
        )
        version = catalog.get_version(session, resolved, None)
        filters = rows.parse_filters(params, PAGE_PARAMS)
        sort = forms.clean(params.get("sort"), 200)
        prepared = rows.prepare(
            version, rows.RowQuery(filters, sort, params.get("after"), PREVIEW_ROWS)
        )
        found = rows.fetch_page(session, prepared, PREVIEW_ROWS)
        catalog.record_read(session, ctx, resolved, version, "dataset.read_rows", len(found.rows))
    page["preview"] = {
        "columns": [c["name"] for c in version.columns],
        "rows": found.rows,
        "total": found.total,
        "filters": filters,
        "sort": sort,
        "next_url": str(request.url.include_query_params(after=found.next_cursor))
        if found.next_cursor
        else None,
        "query": [(k, v) for k, v in params.multi_items() if k not in PAGE_PARAMS],
    }
    return page


def _with_filter(request: Request, col: str, op: str, val: str) -> str:
    """The page URL with one more ``<col>__<op>=<val>`` filter (the row API's syntax)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGE_PARAMS]
    kept.append((f"{col}__{op}", val))
    if sort := request.query_params.get("sort"):
        kept.append(("sort", sort))
    return f"{request.url.path}?{urlencode(kept)}"


@router.get("/datasets/{dataset_id}", name="web_dataset")
def dataset(request: Request, dataset_id: str) -> Response:
    params = request.query_params
    if (col := params.get("col")) and (op := params.get("op")) in rows.OPERATORS:
        return RedirectResponse(_with_filter(request, col, op, params.get("val", "")), 303)
    caller = page_caller(request)
    runtime = runtime_of(request)
    page = _preview(request, runtime, caller, dataset_id)
    template = "_preview.html" if request.headers.get("hx-request") else "dataset.html"
    return render(
        request,
        caller,
        template,
        {
            **page,
            "operators": fmt.OPERATOR_LABELS,
            "requested": params.get("demande") == "envoyee",
            "manages": policy.may_manage(caller, page["dataset"].producer),
            "licence_text": runtime.licences.get(page["dataset"].licence.id),
        },
    )


@router.post("/datasets/{dataset_id}/access-requests", name="web_request_access")
def request_access(
    request: Request,
    dataset_id: str,
    purpose: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = page_caller(request)
    if not caller.authenticated:
        raise Unauthenticated("connectez-vous pour demander l'accès")
    why = forms.clean(purpose, 2000)
    if why is None:
        message = "indiquez l'usage prévu des données"
        raise ValidationFailed(message, errors=[FieldError(None, "purpose", message)])
    runtime = runtime_of(request)
    ctx = context(request, caller, purpose=why)
    with unit_of_work(runtime) as session:
        access.request_access(session, runtime.licences, ctx, dataset_id, why)
    return RedirectResponse(f"/datasets/{dataset_id}?demande=envoyee", 303)
