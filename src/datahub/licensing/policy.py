"""Who may see a dataset's metadata and read its data (contract §2, normative).

One pure function decides; every route and every trajectory goes through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from datahub.accounts.caller import Caller
from datahub.errors import DatahubError, Forbidden, NotFound, Unauthenticated
from datahub.licensing.levels import AccessLevel


@dataclass(frozen=True)
class DatasetFacts:
    """What the policy needs to know of a dataset."""

    id: str
    level: AccessLevel
    producer: str
    #: Ids of the caller's grants on this dataset that are active now (user's or organisation's).
    active_grants: tuple[int, ...] = ()


@dataclass(frozen=True)
class Decision:
    metadata: bool
    data: bool
    #: Why data may be read: open, member, producer, grant:<id>, admin; None when it may not.
    basis: str | None
    #: The status a refused data read gets: 401, 403 or 404.
    denial_status: int | None

    def denial(self, what: str = "dataset", dataset_id: str | None = None) -> DatahubError:
        if self.denial_status == 401:
            return Unauthenticated(f"this {what} is shared with members of the data charter")
        if self.denial_status == 403:
            detail = f"your organisation has no access to the data of this {what}"
            if dataset_id is None:
                return Forbidden(detail)
            # Say where to go next: the producer grants access on request.
            href = f"/api/v1/datasets/{dataset_id}/access-requests"
            return Forbidden(
                f"{detail}; ask its producer with POST {href} and a purpose",
                headers={"Link": f'<{href}>; rel="access-request"'},
                extensions={"access_request": {"href": href, "method": "POST"}},
            )
        return NotFound(f"no {what} with this id")


def decide(caller: Caller, dataset: DatasetFacts) -> Decision:
    if caller.is_admin:
        return Decision(True, True, "admin", None)
    if dataset.level == "open":
        return Decision(True, True, "open", None)
    if not caller.authenticated:
        if dataset.level == "shared":
            return Decision(True, False, None, 401)
        return Decision(False, False, None, 404)
    if caller.role != "auditor" and caller.organization_id == dataset.producer:
        return Decision(True, True, "producer", None)
    if dataset.active_grants:
        return Decision(True, True, f"grant:{min(dataset.active_grants)}", None)
    if dataset.level == "shared" and caller.organization_member and caller.role != "auditor":
        return Decision(True, True, "member", None)
    return Decision(True, False, None, 403)


def may_manage(caller: Caller, producer: str) -> bool:
    """Producers (of the producing organisation) and admins manage a dataset."""
    return caller.is_admin or (caller.role == "producer" and caller.organization_id == producer)
