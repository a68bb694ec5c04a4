"""The hub's messages: what happened (an event and its data), rendered in French for mail.

The outbox stores the event and its data; mail is rendered when it is sent, with the
instance's base URL as it is then. Messages carry metadata only (dataset ids and titles, version
numbers, decisions): never rows.
"""

from __future__ import annotations

from collections.abc import Callable
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
    data: dict[str, Any] = field(default_factory=dict)


def access_requested(
    dataset_id: str, title: str, requester: str, organization: str, purpose: str
) -> Message:
    return Message(
        ACCESS_REQUESTED,
        {
            "dataset": dataset_id,
            "title": title,
            "requester": requester,
            "organization": organization,
            "purpose": purpose,
        },
    )


def access_decided(
    dataset_id: str, title: str, approved: bool, expires_at: datetime | None, reason: str
) -> Message:
    return Message(
        ACCESS_DECIDED,
        {
            "dataset": dataset_id,
            "title": title,
            "approved": approved,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "reason": reason,
        },
    )


def version_published(dataset_id: str, title: str, number: int) -> Message:
    return Message(VERSION_PUBLISHED, {"dataset": dataset_id, "title": title, "version": number})


def chain_broken(first_broken: int | None, reason: str) -> Message:
    return Message(CHAIN_BROKEN, {"first_broken": first_broken, "reason": reason})


# --- French mail ---------------------------------------------------------------------------------


def _requested(d: dict[str, Any], base: str) -> tuple[str, str]:
    return f"Demande d'accès à « {d['title']} »", (
        f"{d['requester']} ({d['organization']}) demande l'accès au jeu de données "
        f"« {d['title']} ».\n\nFinalité déclarée : {d['purpose']}\n\n"
        f"Répondre à la demande : {base}/access-requests\n"
    )


def _decided(d: dict[str, Any], base: str) -> tuple[str, str]:
    if d["approved"]:
        until = d.get("expires_at")
        when = (
            f"accès valable jusqu'au {datetime.fromisoformat(until).strftime('%d/%m/%Y')}"
            if until
            else "accès sans date de fin"
        )
        outcome, verdict = "acceptée", f"acceptée ({when})"
    else:
        outcome = "refusée"
        verdict = "refusée" + (f" : {d['reason']}" if d.get("reason") else "")
    return f"Votre demande d'accès à « {d['title']} » a été {outcome}", (
        f"Votre demande d'accès au jeu de données « {d['title']} » a été {verdict}.\n\n"
        f"Le jeu de données : {base}/datasets/{d['dataset']}\n"
    )


def _published(d: dict[str, Any], base: str) -> tuple[str, str]:
    return f"Nouvelle version de « {d['title']} » (version {d['version']})", (
        f"La version {d['version']} du jeu de données « {d['title']} » vient d'être publiée.\n\n"
        f"La consulter : {base}/datasets/{d['dataset']}\n\n"
        "Vous recevez ce message parce que vous avez demandé à être prévenu des nouvelles "
        "versions ; vous pouvez vous désabonner depuis la page du jeu de données.\n"
    )


def _broken(d: dict[str, Any], base: str) -> tuple[str, str]:
    where = f" à partir de l'événement n° {d['first_broken']}" if d["first_broken"] else ""
    return "Alerte : la chaîne du journal d'audit est rompue", (
        f"La vérification du journal d'audit a échoué{where}.\n\nMotif : {d['reason']}\n\n"
        f"État de la chaîne : {base}/governance\n"
    )


_MAIL: dict[str, Callable[[dict[str, Any], str], tuple[str, str]]] = {
    ACCESS_REQUESTED: _requested,
    ACCESS_DECIDED: _decided,
    VERSION_PUBLISHED: _published,
    CHAIN_BROKEN: _broken,
}


def render_mail(event: str, data: dict[str, Any], base_url: str) -> tuple[str, str]:
    """Subject and plain-text body of the mail telling ``event``."""
    return _MAIL[event](data, base_url.rstrip("/"))
