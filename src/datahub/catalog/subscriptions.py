"""Readers who asked to hear of new versions: subscribing, and telling them when one lands.

Only a caller who may read a dataset's data can subscribe to it, and each new version is told
only to the subscribers who may still read it then (a grant may have expired since).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.accounts.caller import RequestContext
from datahub.catalog.service import authorize_data, facts, resolve
from datahub.catalog.uploads import VersionWatcher
from datahub.db.models import Dataset, DatasetVersion
from datahub.errors import Unauthenticated
from datahub.licensing import policy
from datahub.licensing.registry import LicenceRegistry
from datahub.notifications import messages
from datahub.notifications import service as notifications


def subscribe(
    session: Session, licences: LicenceRegistry, ctx: RequestContext, dataset_id: str
) -> None:
    user_id = _signed_in(ctx)
    authorize_data(session, licences, ctx, dataset_id, "dataset.subscribe")
    notifications.subscribe(session, user_id, dataset_id)


def unsubscribe(
    session: Session, licences: LicenceRegistry, ctx: RequestContext, dataset_id: str
) -> None:
    user_id = _signed_in(ctx)
    resolve(session, licences, ctx.caller, dataset_id)
    notifications.unsubscribe(session, user_id, dataset_id)


def is_subscribed(
    session: Session, licences: LicenceRegistry, ctx: RequestContext, dataset_id: str
) -> bool:
    user_id = _signed_in(ctx)
    resolve(session, licences, ctx.caller, dataset_id)
    return notifications.is_subscribed(session, user_id, dataset_id)


def _signed_in(ctx: RequestContext) -> int:
    if ctx.caller.user_id is None:
        raise Unauthenticated("subscribing to a dataset needs an API token or a session")
    return ctx.caller.user_id


class _NewVersionNotice:
    def __init__(self, session: Session, dataset: Dataset) -> None:
        self.session, self.dataset = session, dataset

    def add(self, batch: Any, first_row: int) -> None:
        return None

    def finish(self, version: DatasetVersion) -> None:
        emails: list[str] = []
        organizations: set[str] = set()
        for user_id in notifications.subscriber_ids(self.session, self.dataset.id):
            caller = accounts.caller_for(self.session, user_id)
            if caller is None or caller.email is None or caller.organization_id is None:
                continue
            if policy.decide(caller, facts(self.session, caller, self.dataset)).data:
                emails.append(caller.email)
                organizations.add(caller.organization_id)
        if emails:
            message = messages.version_published(
                self.dataset.id, self.dataset.title, version.number
            )
            # Webhooks of the subscribers' organisations hear of it too.
            notifications.notify(self.session, message, emails=emails, organizations=organizations)


def notify_new_version(session: Session, dataset: Dataset) -> VersionWatcher:
    """The upload hook that tells subscribers of each new version, in the upload's transaction."""
    return _NewVersionNotice(session, dataset)
