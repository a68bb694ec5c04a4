"""Producers' pages: create a dataset, change its metadata or licence, delete it.

Every write is the catalogue service's, as for ``POST``/``PATCH``/``DELETE /api/v1/datasets``:
same caller, same rules, same audit events, in the page's audited transaction.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from datahub.audit import service as audit
from datahub.catalog import kinds
from datahub.catalog import service as catalog
from datahub.catalog.schemas import DatasetRead
from datahub.errors import Conflict, ValidationFailed
from datahub.territories import service as territories
from datahub.web import fmt, forms
from datahub.web.dataset_form import (
    LABELS,
    DatasetForm,
    FormErrors,
    licence_choices,
    service_errors,
)
from datahub.web.deps import context, page_caller, runtime_of, unit_of_work
from datahub.web.manage import french_refusals, managed, may_create
from datahub.web.pages import PageRoute, render

router = APIRouter(route_class=PageRoute)
SUGGESTIONS: Final = 20
#: The datalist offered before anything is typed (and to browsers without JavaScript).
FIRST_TERRITORIES: Final = 200
Field = Annotated[str, Form(max_length=20_000)]


def _form_page(
    request: Request,
    template: str,
    form: DatasetForm,
    errors: dict[str, str],
    extra: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)
    with runtime.read_transaction() as session:
        _reads, _total, places = territories.list_page(
            session, level=None, parent=None, page=1, page_size=FIRST_TERRITORIES
        )
        options = [(t.code, t.name) for t in places]
    context_ = {
        "form": form.values(),
        "errors": errors,
        "labels": LABELS,
        "kinds": [(k, fmt.KIND_LABELS.get(k, k)) for k in kinds.KINDS],
        "licence_groups": licence_choices(runtime.licences),
        "territory_options": options,
        **extra,
    }
    return render(request, page_caller(request), template, context_, status_code=status_code)


@router.get("/datasets/new", name="web_new_dataset")
def new_dataset(request: Request) -> Response:
    caller = page_caller(request)
    if (refusal := may_create(request, caller)) is not None:
        return refusal
    return _form_page(request, "dataset_new.html", DatasetForm(licence=""), {}, {})


@router.get("/datasets/new/territories", name="web_territory_suggestions")
def territory_suggestions(
    request: Request,
    territories_: Annotated[str, Query(alias="territories", max_length=20_000)] = "",
) -> Response:
    """The datalist options for the territories field (htmx swaps them in as one types): each
    completes the last code being typed, keeping the codes before it."""
    caller = page_caller(request)
    if (refusal := may_create(request, caller)) is not None:
        return refusal
    head, _, typed = territories_.rpartition(",")
    prefix = f"{head.strip()}, " if head.strip() else ""
    with runtime_of(request).read_transaction() as session:
        found = territories.autocomplete(session, typed, SUGGESTIONS)
    options = [
        (prefix + code, f"{name} ({fmt.TERRITORY_LEVELS.get(level, level)})")
        for code, name, level in found
    ]
    return render(request, caller, "_territory_options.html", {"options": options})


@router.post("/datasets/new")
def create_dataset(
    request: Request,
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Field = "",
    kind: Annotated[str, Form(max_length=64)] = "generic",
    tags: Annotated[str, Form(max_length=5000)] = "",
    territories_: Annotated[str, Form(alias="territories", max_length=20_000)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
    licence: Annotated[str, Form(max_length=300)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = page_caller(request)
    if (refusal := may_create(request, caller)) is not None:
        return refusal
    form = DatasetForm(
        title=title,
        description=description,
        kind=kind,
        tags=tags,
        territories=territories_,
        start=start,
        end=end,
        licence=licence,
    )
    runtime = runtime_of(request)
    try:
        body = form.to_create()
        with unit_of_work(runtime) as session:
            created = catalog.create(session, runtime.licences, context(request, caller), body)
    except FormErrors as exc:
        return _form_page(request, "dataset_new.html", form, exc.errors, {}, status_code=422)
    except (ValidationFailed, Conflict) as exc:
        if not (errors := service_errors(exc)):
            raise
        return _form_page(request, "dataset_new.html", form, errors, {}, status_code=422)
    return RedirectResponse(f"/datasets/{created.id}/upload?cree=1", 303)


def _licence_history(request: Request, dataset_id: str) -> list[Any]:
    """The dataset's licence changes, newest first, as the audit log holds them."""
    with runtime_of(request).read_transaction() as session:
        query = audit.events_query(dataset=dataset_id, action="dataset.licence_change")
        events = audit.page(session, query, 0, 1000)
        return [audit.fields_of(e) for e in reversed(events)]


def _edit_page(
    request: Request,
    dataset: DatasetRead,
    form: DatasetForm,
    errors: dict[str, str],
    *,
    status_code: int = 200,
    changed: str | None = None,
) -> Response:
    extra = {
        "dataset": dataset,
        "history": _licence_history(request, dataset.id),
        "kinds": None,  # the nature of the rows does not change after creation
        "changed": changed,
    }
    return _form_page(request, "dataset_edit.html", form, errors, extra, status_code=status_code)


@router.get("/datasets/{dataset_id}/edit", name="web_edit_dataset")
def edit_dataset_form(
    request: Request,
    dataset_id: str,
    modifie: Annotated[str | None, Query(pattern="^(metadonnees|licence)$")] = None,
) -> Response:
    caller = page_caller(request)
    found = managed(request, caller, dataset_id)
    if isinstance(found, Response):
        return found
    return _edit_page(request, found, DatasetForm.of(found), {}, changed=modifie)


@router.post("/datasets/{dataset_id}/edit")
def edit_dataset(
    request: Request,
    dataset_id: str,
    title: Annotated[str, Form(max_length=1000)] = "",
    description: Field = "",
    tags: Annotated[str, Form(max_length=5000)] = "",
    territories_: Annotated[str, Form(alias="territories", max_length=20_000)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
    licence: Annotated[str, Form(max_length=300)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = page_caller(request)
    runtime = runtime_of(request)
    form = DatasetForm(
        title=title,
        description=description,
        tags=tags,
        territories=territories_,
        start=start,
        end=end,
        licence=licence,
    )
    ctx = context(request, caller)
    current: list[DatasetRead] = []

    def update() -> str:
        with unit_of_work(runtime) as session:
            # The API's refusal first (audited), before anything typed is looked at.
            resolved = catalog.authorize_management(
                session, runtime.licences, ctx, dataset_id, "dataset.update"
            )
            current.append(catalog.read_one(session, resolved))
            after = catalog.update(session, runtime.licences, ctx, dataset_id, form.to_update())
        return "licence" if after.licence.id != current[0].licence.id else "metadonnees"

    try:
        outcome = french_refusals(request, caller, update)
    except FormErrors as exc:
        return _edit_page(request, current[0], form, exc.errors, status_code=422)
    except ValidationFailed as exc:
        if not (errors := service_errors(exc)):
            raise
        return _edit_page(request, current[0], form, errors, status_code=422)
    if isinstance(outcome, Response):
        return outcome
    return RedirectResponse(f"/datasets/{dataset_id}/edit?modifie={outcome}", 303)


@router.get("/datasets/{dataset_id}/delete", name="web_delete_dataset")
def delete_dataset_form(request: Request, dataset_id: str) -> Response:
    caller = page_caller(request)
    found = managed(request, caller, dataset_id)
    if isinstance(found, Response):
        return found
    with runtime_of(request).read_transaction() as session:
        resolved = catalog.resolve(session, runtime_of(request).licences, caller, dataset_id)
        versions = catalog.list_versions(session, resolved)
    return render(request, caller, "dataset_delete.html", {"dataset": found, "versions": versions})


@router.post("/datasets/{dataset_id}/delete")
def delete_dataset(
    request: Request,
    dataset_id: str,
    confirm: Annotated[str, Form(max_length=10)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    forms.check_csrf(request, csrf)
    caller = page_caller(request)
    runtime = runtime_of(request)
    if confirm != "oui":
        return RedirectResponse(f"/datasets/{dataset_id}/delete", 303)
    ctx = context(request, caller)

    def delete() -> tuple[str, list[str]]:
        with unit_of_work(runtime) as session:
            title = catalog.resolve(session, runtime.licences, caller, dataset_id).dataset.title
            keys = catalog.delete(
                session, runtime.licences, ctx, dataset_id, hooks=runtime.deletion_hooks
            )
            return title, keys

    outcome = french_refusals(request, caller, delete)
    if isinstance(outcome, Response):
        return outcome
    title, keys = outcome
    for key in keys:  # after commit, as the API does: a failed delete leaves an orphan file
        runtime.storage.delete(key)
    return render(
        request, caller, "dataset_deleted.html", {"title": title, "dataset_id": dataset_id}
    )
