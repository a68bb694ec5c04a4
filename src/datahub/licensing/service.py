"""Grants and access requests: the producer's say over who reads its data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from datahub.accounts import service as accounts
from datahub.accounts.caller import Caller
from datahub.db.models import AccessRequest, Grant
from datahub.errors import Conflict, FieldError, NotFound, ValidationFailed
from datahub.licensing import repository
from datahub.licensing.policy import DatasetFacts, decide
from datahub.licensing.schemas import AccessRequestDecision, GrantCreate, GrantRead


def now() -> datetime:
    return datetime.now(UTC)


def active_grants(
    session: Session, caller: Caller, dataset_ids: Iterable[str]
) -> dict[str, tuple[int, ...]]:
    """The caller's grants in force now, per dataset."""
    if caller.user_id is None:
        return {}
    return repository.active_grants(
        session,
        dataset_ids,
        user_id=caller.user_id,
        organization_id=caller.organization_id,
        now=now(),
    )


def readers(session: Session, datasets: Sequence[DatasetFacts]) -> set[frozenset[str]]:
    """What each possible caller reads in full among ``datasets`` (their ids), as
    :func:`datahub.licensing.policy.decide` says: for every organisation, its users without a
    grant of their own (its datasets, the shared ones if it is a charter member, its grants in
    force) and each user with one (that, and the user's grants); and a charter member with
    none of those. Empty sets are left out."""
    by_org: dict[str, set[str]] = defaultdict(set)
    by_user: dict[tuple[str, int], set[str]] = defaultdict(set)
    for dataset_id, org_id, user in repository.active_grantees(
        session, [d.id for d in datasets], now=now()
    ):
        if user is None:
            by_org[org_id].add(dataset_id)
        else:
            by_user[(org_id, user)].add(dataset_id)
    callers: list[tuple[Caller, set[str]]] = [
        (Caller(user_id=0, organization_member=True, role="analyst"), set())
    ]
    for org in accounts.list_organizations(session):
        caller = Caller(
            user_id=0, organization_id=org.id, organization_member=org.member, role="producer"
        )
        callers.append((caller, by_org[org.id]))
        callers += [(caller, by_org[org.id] | g) for (o, _), g in by_user.items() if o == org.id]
    out = set()
    for caller, granted in callers:
        read = frozenset(
            d.id
            for d in datasets
            if decide(caller, replace(d, active_grants=(0,) if d.id in granted else ())).data
        )
        if read:
            out.add(read)
    return out


def _read(grant: Grant, email: str | None) -> GrantRead:
    moment = now()
    active = grant.revoked_at is None and (grant.expires_at is None or grant.expires_at > moment)
    return GrantRead(
        id=grant.id,
        dataset=grant.dataset_id,
        organization=grant.organization_id,
        user=email,
        purpose=grant.purpose,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        created_at=grant.created_at,
        active=active,
    )


def create_grant(
    session: Session, dataset_id: str, data: GrantCreate, *, created_by: int | None
) -> GrantRead:
    user_id = None
    if data.user is not None:
        user_id = repository.user_id_by_email(session, data.user)
        if user_id is None:
            raise ValidationFailed(
                "unknown user", errors=[FieldError(None, "user", "no user with this e-mail")]
            )
    if data.organization is not None:
        accounts.get_organization(session, data.organization)
    grant = Grant(
        dataset_id=dataset_id,
        organization_id=data.organization,
        user_id=user_id,
        purpose=data.purpose,
        expires_at=data.expires_at,
        created_by=created_by,
    )
    repository.add(session, grant)
    return _read(grant, data.user)


def list_grants(session: Session, dataset_id: str) -> list[GrantRead]:
    return [_read(g, email) for g, email in repository.list_grants(session, dataset_id)]


def revoke_grant(session: Session, dataset_id: str, grant_id: int) -> GrantRead:
    grant = repository.get_grant(session, grant_id)
    if grant is None or grant.dataset_id != dataset_id:
        raise NotFound(f"no grant {grant_id} on this dataset")
    if grant.revoked_at is None:
        grant.revoked_at = now()
        session.flush()
    emails = {g.id: e for g, e in repository.list_grants(session, dataset_id)}
    return _read(grant, emails.get(grant.id))


def file_request(session: Session, dataset_id: str, caller: Caller, purpose: str) -> AccessRequest:
    assert caller.user_id is not None
    assert caller.organization_id is not None
    pending = [
        r
        for r in repository.list_requests(session, dataset_id)
        if r.user_id == caller.user_id and r.status == "pending"
    ]
    if pending:
        raise Conflict(f"access request {pending[0].id} is already pending")
    request = AccessRequest(
        dataset_id=dataset_id,
        user_id=caller.user_id,
        organization_id=caller.organization_id,
        purpose=purpose,
    )
    repository.add(session, request)
    return request


def get_request(session: Session, request_id: int) -> AccessRequest:
    request = repository.get_request(session, request_id)
    if request is None:
        raise NotFound(f"no access request {request_id}")
    return request


def list_requests(session: Session, dataset_id: str) -> list[AccessRequest]:
    return list(repository.list_requests(session, dataset_id))


def requests_of(session: Session, user_id: int) -> list[tuple[AccessRequest, GrantRead | None]]:
    """The requests a user filed, newest first, each with the grant its approval created."""
    return [
        (request, _read(grant, email) if grant is not None else None)
        for request, grant, email in repository.requests_of(session, user_id)
    ]


def datasets_with_access_records(session: Session) -> list[str]:
    """Datasets that have any grant or access request (what an admin's inbox lists)."""
    return list(repository.datasets_with_access_records(session))


def decide_request(
    session: Session,
    request: AccessRequest,
    *,
    approve: bool,
    decision: AccessRequestDecision,
    decided_by: int | None,
) -> AccessRequest:
    if request.status != "pending":
        raise Conflict(f"access request {request.id} was already {request.status}")
    request.status = "approved" if approve else "denied"
    request.decided_by = decided_by
    request.decided_at = now()
    request.reason = decision.reason
    if approve:
        grant = Grant(
            dataset_id=request.dataset_id,
            organization_id=request.organization_id
            if decision.grant_to == "organization"
            else None,
            user_id=request.user_id if decision.grant_to == "user" else None,
            purpose=request.purpose,
            expires_at=decision.expires_at,
            created_by=decided_by,
        )
        repository.add(session, grant)
        request.grant_id = grant.id
    session.flush()
    return request
