"""The licence-usage report for the governance committee: audit events plus the grants in force."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from datahub.audit import service as audit
from datahub.licensing import repository

NO_GRANTS = {"active": 0, "expired": 0, "revoked": 0}


def _grant_states(session: Session, moment: datetime) -> dict[str, dict[str, int]]:
    states: dict[str, dict[str, int]] = {}
    for grant in repository.all_grants(session):
        if grant.revoked_at is not None:
            state = "revoked"
        elif grant.expires_at is not None and grant.expires_at <= moment:
            state = "expired"
        else:
            state = "active"
        counts = states.setdefault(grant.dataset_id, dict(NO_GRANTS))
        counts[state] += 1
    return states


def licence_usage(
    session: Session, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """One line per dataset and licence it was used under: reads by organisation and by access
    basis, rows served, denied attempts, grants active/expired/revoked, counted open reads."""
    grants = _grant_states(session, datetime.now(UTC))
    levels = repository.dataset_levels(session)
    lines: dict[tuple[str, str | None], dict[str, Any]] = {}

    def line(dataset_id: str, licence: str | None) -> dict[str, Any]:
        return lines.setdefault(
            (dataset_id, licence),
            {
                "dataset": dataset_id,
                "licence": licence,
                "level": levels.get(dataset_id),
                "reads": 0,
                "rows_served": 0,
                "reads_by_organization": {},
                "reads_by_basis": {},
                "denied": 0,
                "denied_by_organization": {},
                "grants": grants.get(dataset_id, dict(NO_GRANTS)),
                "open_reads_counted": 0,
            },
        )

    for item in audit.usage(session, since, until):
        line(item.dataset, item.licence).update(
            reads=item.reads,
            rows_served=item.rows_served,
            reads_by_organization=item.reads_by_organization,
            reads_by_basis=item.reads_by_basis,
            denied=item.denied,
            denied_by_organization=item.denied_by_organization,
        )
    datasets_listed = {dataset for dataset, _ in lines}
    for dataset_id, (reads, _rows) in audit.open_reads(session, since, until).items():
        licence = next((lic for d, lic in lines if d == dataset_id), None)
        line(dataset_id, licence)["open_reads_counted"] = reads
    for dataset_id in grants.keys() - datasets_listed:
        line(dataset_id, None)
    return sorted(lines.values(), key=lambda x: (x["dataset"], x["licence"] or ""))
