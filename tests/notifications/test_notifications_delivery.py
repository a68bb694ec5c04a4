"""Notifications through a real SMTP server (aiosmtpd) and a real HTTP receiver for webhooks.

Messages are written to the outbox in the event's transaction and delivered afterwards by the
same :class:`Delivery` a serving process runs in its sender thread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, text
from typer.testing import CliRunner

from datahub.app import create_app
from datahub.cli import app as cli
from datahub.db.models import Notification
from datahub.runtime import Runtime, build_runtime, notification_delivery
from datahub.settings import Settings
from tests.api.world import World, build_world
from tests.conftest import Persona


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@pytest.fixture
def hook_server() -> Iterator[tuple[list[Received], str]]:
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers["Content-Length"])
            received.append(Received(dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def notify_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    return settings.model_copy(
        update={
            "smtp_url": SecretStr(f"smtp://127.0.0.1:{smtp[1]}"),
            "mail_from": "Hub <hub@territoire.example.org>",
            "webhook_allowed_hosts": ["127.0.0.1"],
        }
    )


@pytest.fixture
def notify_runtime(notify_settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(notify_settings)
    yield runtime
    runtime.close()


@pytest.fixture
def world(
    notify_runtime: Runtime, make_user: Callable[..., Persona], admin: Persona
) -> Iterator[World]:
    with TestClient(create_app(runtime=notify_runtime), raise_server_exceptions=False) as client:
        yield build_world(client, make_user, admin)


def _deliver(runtime: Runtime, now: datetime | None = None) -> int:
    delivery = notification_delivery(runtime)
    try:
        return delivery.run_once(now)
    finally:
        delivery.http.close()


def _new_version(world: World, dataset_id: str, body: str) -> None:
    producer = world.personas["producer"]
    assert producer is not None
    response = world.client.post(
        f"/api/v1/datasets/{dataset_id}/versions",
        content=body.encode(),
        headers={**producer.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text


def test_a_subscriber_who_may_read_is_mailed_each_new_version(
    world: World, notify_runtime: Runtime, smtp: tuple[Inbox, int]
) -> None:
    inbox, _port = smtp
    shared = world.create_dataset("shared")
    member = world.personas["member"]
    assert member is not None
    assert world.client.put(
        f"/api/v1/datasets/{shared}/subscription", headers=member.headers
    ).json() == {"dataset": shared, "subscribed": True}
    # Nothing is sent by the upload request itself: the message waits in the outbox.
    _new_version(world, shared, "site;kwh\nA;3\n")
    assert inbox.messages == []
    assert _deliver(notify_runtime) == 1
    (mail,) = inbox.to(member.email)
    assert mail["From"] == "Hub <hub@territoire.example.org>"
    assert mail["Subject"] == f"Nouvelle version de « Consommations shared {shared} » (version 2)"
    assert f"/datasets/{shared}" in mail.get_payload(decode=True).decode()
    # Delivered once: a second round sends nothing more.
    assert _deliver(notify_runtime) == 0


def test_only_callers_who_may_read_the_data_subscribe(world: World) -> None:
    shared = world.create_dataset("shared")
    anonymous = world.client.put(f"/api/v1/datasets/{shared}/subscription")
    assert anonymous.status_code == 401
    refused = world.client.put(
        f"/api/v1/datasets/{shared}/subscription", headers=world.headers("non_member")
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_subscriber_who_lost_access_is_not_told(
    world: World, notify_runtime: Runtime, smtp: tuple[Inbox, int]
) -> None:
    inbox, _port = smtp
    restricted = world.create_dataset("restricted")
    grant = world.grant(restricted, "grantee")
    grantee = world.personas["grantee"]
    assert grantee is not None
    subscribed = world.client.put(
        f"/api/v1/datasets/{restricted}/subscription", headers=grantee.headers
    )
    assert subscribed.status_code == 200, subscribed.text
    revoked = world.client.delete(
        f"/api/v1/datasets/{restricted}/grants/{grant}", headers=world.headers("producer")
    )
    assert revoked.status_code in (200, 204), revoked.text
    _new_version(world, restricted, "site;kwh\nA;4\n")
    assert _deliver(notify_runtime) == 0
    assert inbox.to(grantee.email) == []


def test_webhooks_are_signed_and_carry_no_rows(
    world: World, notify_runtime: Runtime, hook_server: tuple[list[Received], str]
) -> None:
    received, url = hook_server
    member = world.personas["member"]
    assert member is not None
    created = world.client.post(
        f"/api/v1/organizations/{member.organization}/webhooks",
        json={"url": url},
        headers=world.headers("admin"),
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    listed = world.client.get(
        f"/api/v1/organizations/{member.organization}/webhooks", headers=world.headers("admin")
    ).json()
    assert [h["url"] for h in listed["data"]] == [url]
    assert "secret" not in listed["data"][0]
    # Another organisation's analyst may not see or add them.
    assert (
        world.client.get(
            f"/api/v1/organizations/{member.organization}/webhooks",
            headers=world.headers("non_member"),
        ).status_code
        == 403
    )

    shared = world.create_dataset("shared")
    world.client.put(f"/api/v1/datasets/{shared}/subscription", headers=member.headers)
    _new_version(world, shared, "site;kwh\nSECRET-ROW;9\n")
    assert _deliver(notify_runtime) == 2  # the member's e-mail and its organisation's webhook
    (call,) = received
    expected = "sha256=" + hmac.new(secret.encode(), call.body, hashlib.sha256).hexdigest()
    assert call.headers["X-Datahub-Signature-256"] == expected
    assert call.headers["X-Datahub-Event"] == "dataset.version_published"
    assert json.loads(call.body) == {
        "event": "dataset.version_published",
        "data": {"dataset": shared, "title": f"Consommations shared {shared}", "version": 2},
    }
    assert b"SECRET-ROW" not in call.body


def test_a_failed_delivery_is_retried_later_and_then_sent(
    world: World, notify_runtime: Runtime, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    shared = world.create_dataset("shared")
    member = world.personas["member"]
    assert member is not None
    world.client.put(f"/api/v1/datasets/{shared}/subscription", headers=member.headers)
    _new_version(world, shared, "site;kwh\nA;5\n")
    broken = notify_runtime.settings.model_copy(
        update={"smtp_url": SecretStr(f"smtp://127.0.0.1:{_free_port()}")}  # nobody listens
    )
    down = build_runtime(broken)
    try:
        assert _deliver(down) == 0
    finally:
        down.close()
    with notify_runtime.transaction() as session:
        (row,) = session.scalars(select(Notification)).all()
        assert (row.attempts, row.sent_at) == (1, None)
        assert row.last_error
        assert "Connection" in row.last_error
        assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)  # back-off
    assert _deliver(notify_runtime) == 0  # not due yet
    assert _deliver(notify_runtime, datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert len(inbox.to(member.email)) == 1


def test_webhooks_to_private_addresses_are_refused_unless_allowed(
    world: World, notify_runtime: Runtime, hook_server: tuple[list[Received], str]
) -> None:
    received, url = hook_server
    member = world.personas["member"]
    assert member is not None
    world.client.post(
        f"/api/v1/organizations/{member.organization}/webhooks",
        json={"url": url},
        headers=world.headers("admin"),
    )
    shared = world.create_dataset("shared")
    world.client.put(f"/api/v1/datasets/{shared}/subscription", headers=member.headers)
    _new_version(world, shared, "site;kwh\nA;6\n")
    closed = build_runtime(notify_runtime.settings.model_copy(update={"webhook_allowed_hosts": []}))
    try:
        _deliver(closed)
    finally:
        closed.close()
    assert received == []
    with notify_runtime.transaction() as session:
        hook = session.scalars(select(Notification).where(Notification.channel == "webhook")).one()
        assert hook.last_error
        assert "not a public address" in hook.last_error


def test_a_serving_process_delivers_on_its_own(
    notify_settings: Settings, world: World, smtp: tuple[Inbox, int]
) -> None:
    inbox, _port = smtp
    shared = world.create_dataset("shared")
    member = world.personas["member"]
    assert member is not None
    world.client.put(f"/api/v1/datasets/{shared}/subscription", headers=member.headers)
    _new_version(world, shared, "site;kwh\nA;7\n")
    serving = build_runtime(
        notify_settings.model_copy(update={"notification_interval_seconds": 0.1}), serving=True
    )
    try:
        deadline = time.monotonic() + 10
        while not inbox.to(member.email) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        serving.close()
    assert len(inbox.to(member.email)) == 1


def test_an_access_request_is_mailed_to_the_producers_and_the_decision_to_the_requester(
    world: World, notify_runtime: Runtime, smtp: tuple[Inbox, int]
) -> None:
    inbox, _port = smtp
    restricted = world.create_dataset("restricted")
    producer, analyst, asker = (
        world.personas[w] for w in ("producer", "producer_analyst", "non_member")
    )
    assert producer is not None
    assert analyst is not None
    assert asker is not None
    filed = world.client.post(
        f"/api/v1/datasets/{restricted}/access-requests",
        json={"purpose": "Bilan carbone de la zone d'activités"},
        headers=asker.headers,
    )
    assert filed.status_code == 201, filed.text
    assert _deliver(notify_runtime) == 1
    (asked,) = inbox.to(producer.email)
    assert asked["Subject"] == f"Demande d'accès à « Consommations restricted {restricted} »"
    text = asked.get_payload(decode=True).decode()
    assert "Bilan carbone de la zone d'activités" in text
    assert asker.email in text
    assert inbox.to(analyst.email) == []  # an analyst of the producer does not decide

    approved = world.client.post(
        f"/api/v1/access-requests/{filed.json()['id']}/approve",
        json={"expires_at": "2027-03-31T12:00:00Z"},
        headers=producer.headers,
    )
    assert approved.status_code == 200, approved.text
    assert _deliver(notify_runtime) == 1
    (answer,) = inbox.to(asker.email)
    assert answer["Subject"] == (
        f"Votre demande d'accès à « Consommations restricted {restricted} » a été acceptée"
    )
    assert "jusqu'au 31/03/2027" in answer.get_payload(decode=True).decode()


def test_a_broken_chain_is_mailed_to_the_auditors_once(
    world: World,
    notify_runtime: Runtime,
    notify_settings: Settings,
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, _port = smtp
    auditor = world.personas["auditor"]
    assert auditor is not None
    world.create_dataset("shared")
    with notify_runtime.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        connection.execute(text("UPDATE audit_event SET row_count = 999 WHERE seq = 1"))
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    monkeypatch.setenv("DATAHUB_DATABASE_URL", notify_settings.database_url)
    monkeypatch.setenv("DATAHUB_STORAGE_URL", notify_settings.storage_url)
    for _ in range(2):  # a cron job running verify twice tells the committee once
        result = CliRunner().invoke(cli, ["audit", "verify"])
        assert result.exit_code == 1, result.output
    assert _deliver(notify_runtime) >= 1
    (alert,) = inbox.to(auditor.email)
    assert alert["Subject"] == "Alerte : la chaîne du journal d'audit est rompue"
    assert "à partir de l'événement n° 1" in alert.get_payload(decode=True).decode()
