"""The governance committee is told when the audit chain breaks, once per break."""

from __future__ import annotations

from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.audit import service as audit
from datahub.audit.chain import Verdict
from datahub.audit.sealing import Transaction
from datahub.audit.seals import SealKeeper
from datahub.notifications import messages, repository
from datahub.notifications.service import body_of, notify


def alert_if_broken(session: Session, verdict: Verdict) -> bool:
    """Mail the auditors and admins about a broken chain; True when a new alert was queued.

    The same break (same first broken event and reason) is told once, however often
    ``datahub audit verify`` runs.
    """
    if verdict.valid:
        return False
    message = messages.chain_broken(verdict.first_broken, verdict.reason or "")
    if repository.already_queued(session, message.event, body_of(message)):
        return False
    notify(session, message, emails=accounts.emails_with_roles(session, ("auditor", "admin")))
    return True


def verify_chain(read: Transaction, write: Transaction, keeper: SealKeeper) -> Verdict:
    """Check the chain and its seals (read-only), and tell the committee if it is broken: what
    ``datahub audit verify`` and the governance page's « Vérifier maintenant » both run."""
    with read() as session:
        verdict = audit.verify(session, keeper)
    if not verdict.valid:
        with write() as session:
            alert_if_broken(session, verdict)
    return verdict
