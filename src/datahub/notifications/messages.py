"""The hub's messages, in French: subject and body for mail, structured data for webhooks.

Messages carry metadata only (dataset ids and titles, version numbers, decisions): never rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACCESS_REQUESTED = "access_request.created"
ACCESS_DECIDED = "access_request.decided"
VERSION_PUBLISHED = "dataset.version_published"
CHAIN_BROKEN = "audit.chain_broken"


@dataclass(frozen=True)
class Message:
    event: str
    subject: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)


def _date(value: datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else "sans date de fin"


def access_requested(
    base_url: str, dataset_id: str, title: str, requester: str, organization: str, purpose: str
) -> Message:
    return Message(
        event=ACCESS_REQUESTED,
        subject=f"Demande d'accès à « {title} »",
        body=(
            f"{requester} ({organization}) demande l'accès au jeu de données « {title} ».\n\n"
            f"Finalité déclarée : {purpose}\n\n"
            f"Répondre à la demande : {base_url}/access-requests\n"
        ),
        data={"dataset": dataset_id, "requester": requester, "organization": organization},
    )


def access_decided(
    base_url: str,
    dataset_id: str,
    title: str,
    approved: bool,
    expires_at: datetime | None,
    reason: str | None,
) -> Message:
    if approved:
        verdict = f"acceptée (accès valable jusqu'au {_date(expires_at)})"
        if expires_at is None:
            verdict = "acceptée (accès sans date de fin)"
    else:
        verdict = "refusée" + (f" : {reason}" if reason else "")
    outcome = "acceptée" if approved else "refusée"
    return Message(
        event=ACCESS_DECIDED,
        subject=f"Votre demande d'accès à « {title} » a été {outcome}",
        body=(
            f"Votre demande d'accès au jeu de données « {title} » a été {verdict}.\n\n"
            f"Le jeu de données : {base_url}/datasets/{dataset_id}\n"
        ),
        data={
            "dataset": dataset_id,
            "approved": approved,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )


def version_published(base_url: str, dataset_id: str, title: str, number: int) -> Message:
    return Message(
        event=VERSION_PUBLISHED,
        subject=f"Nouvelle version de « {title} » (version {number})",
        body=(
            f"La version {number} du jeu de données « {title} » vient d'être publiée.\n\n"
            f"La consulter : {base_url}/datasets/{dataset_id}\n"
            "Vous recevez ce message parce que vous avez demandé à être prévenu des nouvelles "
            "versions ; vous pouvez vous désabonner depuis la page du jeu de données.\n"
        ),
        data={"dataset": dataset_id, "version": number},
    )


def chain_broken(base_url: str, first_broken: int | None, reason: str) -> Message:
    where = f"à partir de l'événement n° {first_broken}" if first_broken is not None else ""
    return Message(
        event=CHAIN_BROKEN,
        subject="Alerte : la chaîne du journal d'audit est rompue",
        body=(
            f"La vérification du journal d'audit a échoué {where}.\n\nMotif : {reason}\n\n"
            f"État de la chaîne : {base_url}/governance\n"
        ),
        data={"first_broken": first_broken, "reason": reason},
    )
