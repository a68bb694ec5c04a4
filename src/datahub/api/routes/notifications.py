"""Being told: subscriptions to a dataset's new versions, and organisations' webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import AnyHttpUrl, BaseModel, ConfigDict

from datahub.api.deps import AuthenticatedDep, ContextDep, LicencesDep, SessionDep
from datahub.audit import service as audit
from datahub.catalog import subscriptions
from datahub.errors import Forbidden
from datahub.licensing import policy
from datahub.notifications import service as notifications

router = APIRouter(tags=["notifications"])


class SubscriptionRead(BaseModel):
    dataset: str
    subscribed: bool


class WebhookCreate(BaseModel):
    url: AnyHttpUrl


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organization_id: str
    url: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str  # shown once: the receiver checks X-Datahub-Signature-256 with it


@router.get("/datasets/{dataset_id}/subscription", summary="Am I told of new versions?")
def get_subscription(
    dataset_id: str,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    _caller: AuthenticatedDep,
) -> SubscriptionRead:
    subscribed = subscriptions.is_subscribed(session, licences, ctx, dataset_id)
    return SubscriptionRead(dataset=dataset_id, subscribed=subscribed)


@router.put(
    "/datasets/{dataset_id}/subscription",
    summary="Be told of each new version by e-mail (callers who may read the data)",
)
def subscribe(
    dataset_id: str,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    _caller: AuthenticatedDep,
) -> SubscriptionRead:
    subscriptions.subscribe(session, licences, ctx, dataset_id)
    return SubscriptionRead(dataset=dataset_id, subscribed=True)


@router.delete(
    "/datasets/{dataset_id}/subscription",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop being told of new versions",
)
def unsubscribe(
    dataset_id: str,
    session: SessionDep,
    licences: LicencesDep,
    ctx: ContextDep,
    _caller: AuthenticatedDep,
) -> Response:
    subscriptions.unsubscribe(session, licences, ctx, dataset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _manage(ctx: ContextDep, organization_id: str) -> None:
    if not policy.may_manage(ctx.caller, organization_id):
        raise Forbidden("only the organisation's producers or an admin manage its webhooks")


@router.get(
    "/organizations/{org_id}/webhooks",
    summary="An organisation's webhooks (its producers, admins)",
)
def list_webhooks(
    org_id: str, session: SessionDep, ctx: ContextDep, _caller: AuthenticatedDep
) -> dict[str, Any]:
    _manage(ctx, org_id)
    found = [WebhookRead.model_validate(h) for h in notifications.list_webhooks(session, org_id)]
    return {"data": found, "meta": {"total": len(found)}}


@router.post(
    "/organizations/{org_id}/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook: the hub's events POSTed as JSON, signed with HMAC-SHA256",
)
def create_webhook(
    org_id: str,
    data: WebhookCreate,
    session: SessionDep,
    ctx: ContextDep,
    _caller: AuthenticatedDep,
) -> WebhookCreated:
    _manage(ctx, org_id)
    hook, secret = notifications.add_webhook(session, org_id, str(data.url))
    audit.record(
        session,
        audit.event_for(ctx, "webhook.create", detail={"webhook": hook.id, "url": hook.url}),
    )
    return WebhookCreated(**WebhookRead.model_validate(hook).model_dump(), secret=secret)


@router.delete(
    "/organizations/{org_id}/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a webhook",
)
def delete_webhook(
    org_id: str,
    webhook_id: int,
    session: SessionDep,
    ctx: ContextDep,
    _caller: AuthenticatedDep,
) -> Response:
    _manage(ctx, org_id)
    notifications.remove_webhook(session, org_id, webhook_id)
    audit.record(session, audit.event_for(ctx, "webhook.delete", detail={"webhook": webhook_id}))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
