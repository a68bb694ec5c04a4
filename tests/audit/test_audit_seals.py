"""Audit seals (contract §6): what the hash chain alone cannot see, a signed seal of its head does.

Each attack is run as an operator with database access would: on PostgreSQL the append-only
trigger is first disabled by the table's owner (``ALTER TABLE ... DISABLE TRIGGER``).
"""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient
from sqlalchemy import Executable, insert, text
from typer.testing import CliRunner

from datahub.app import create_app
from datahub.audit import chain, sealing, seals
from datahub.audit import service as audit
from datahub.audit.keys import PublicKey, SigningKey
from datahub.audit.sealer import PeriodicSealer
from datahub.cli import app as cli
from datahub.db.models import AuditEvent, AuditSeal
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from tests.api.world import World, build_world
from tests.audit.test_audit_chain import audited_reads, verify
from tests.conftest import Persona, on_postgres
from tests.s3server import S3Server


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI sees the test instance: same database, storage and key file."""
    monkeypatch.setenv("DATAHUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DATAHUB_STORAGE_URL", settings.storage_url)
    monkeypatch.setenv("DATAHUB_AUDIT_KEY_FILE", str(settings.audit_key_file))
    return settings


def tamper(runtime: Runtime, *statements: str | Executable, table: str = "audit_event") -> None:
    """Run statements as the table's owner would, past the append-only trigger."""
    with runtime.engine.begin() as connection:
        if on_postgres():
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in statements:
            connection.execute(text(statement) if isinstance(statement, str) else statement)
        if on_postgres():
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def rewrite_and_rehash(runtime: Runtime, seq: int, row_count: int) -> None:
    """Change one event, then recompute its hash and every later link and hash, so that the
    chain is valid again on its own."""
    with runtime.read_session() as session:
        events = [audit.fields_of(e) for e in session.query(AuditEvent).order_by(AuditEvent.seq)]
    statements, previous = [], chain.GENESIS
    for event in events:
        if event["seq"] == seq:
            event["row_count"] = row_count
        if event["seq"] >= seq:
            event["prev_hash"] = previous
            event["hash"] = chain.digest({k: v for k, v in event.items() if k != "hash"})
            count = "NULL" if event["row_count"] is None else event["row_count"]
            statements.append(
                f"UPDATE audit_event SET row_count = {count}, "
                f"prev_hash = '{event['prev_hash']}', hash = '{event['hash']}' "
                f"WHERE seq = {event['seq']}"
            )
        previous = event["hash"]
    tamper(runtime, *statements)


def chain_alone(runtime: Runtime) -> chain.Verdict:
    """What verification said before seals: the chain checked against itself only."""
    with runtime.read_session() as session:
        return chain.verify(
            audit.fields_of(e) for e in session.query(AuditEvent).order_by(AuditEvent.seq)
        )


def seal_with_cli() -> str:
    result = CliRunner().invoke(cli, ["audit", "seal"])
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_seal_signs_the_head_with_a_new_private_key(
    world: World, runtime: Runtime, cli_env: Settings
) -> None:
    audited_reads(world, 3)  # dataset.create, dataset.upload, 3 × dataset.read_rows
    assert not cli_env.audit_key_file.exists()
    output = seal_with_cli()
    assert "sealed event 5" in output
    # Created on first use, readable by its owner only.
    assert stat.S_IMODE(os.stat(cli_env.audit_key_file).st_mode) == 0o600
    listed = world.client.get("/api/v1/audit/seals", headers=world.headers("auditor")).json()
    assert listed["meta"]["total"] == 1
    (seal,) = listed["data"]
    events = world.client.get("/api/v1/audit/events", headers=world.headers("auditor")).json()
    assert (seal["seq"], seal["hash"]) == (5, events["data"][-1]["hash"])
    # The committee checks the seal with the published key alone, without datahub.
    published = world.client.get("/api/v1/audit/public-key", headers=world.headers("auditor"))
    assert published.status_code == 200
    key = load_pem_public_key(published.json()["public_key_pem"].encode())
    key.verify(base64.b64decode(seal["signature"]), seal["signed_message"].encode())  # type: ignore[union-attr]
    line, _, signed_at = seal["signed_message"].rpartition(" sealed_at=")
    assert line == f"datahub-audit-seal/1 seq=5 hash={seal['hash']}"
    assert datetime.fromisoformat(signed_at) == datetime.fromisoformat(seal["sealed_at"])
    assert published.json()["fingerprint"] == seal["key_fingerprint"]
    assert listed["meta"]["key_fingerprint"] == seal["key_fingerprint"]
    # The storage copy holds the same seal.
    (copy_key,) = runtime.storage.list_keys("audit/seals/")
    stored = json.loads(b"".join(runtime.storage.open_stream(copy_key)))
    assert stored["signature"] == seal["signature"]
    assert verify(world)["valid"] is True
    # A second seal signs with the same key (the file is read, not replaced).
    seal_with_cli()
    again = world.client.get("/api/v1/audit/seals", headers=world.headers("auditor")).json()
    assert {s["key_fingerprint"] for s in again["data"]} == {seal["key_fingerprint"]}


def test_seals_and_key_are_for_the_governance_committee(world: World) -> None:
    for path in ("/api/v1/audit/seals", "/api/v1/audit/public-key"):
        assert world.client.get(path).status_code == 401
        assert world.client.get(path, headers=world.headers("member")).status_code == 403
        assert world.client.get(path, headers=world.headers("admin")).status_code == 200


def test_deleting_the_newest_sealed_events_fails_verify(
    world: World, runtime: Runtime, cli_env: Settings
) -> None:
    audited_reads(world, 3)
    seal_with_cli()
    tamper(runtime, "DELETE FROM audit_event WHERE seq >= 4")
    assert chain_alone(runtime).valid  # what the chain alone says: 3 intact events
    verdict = verify(world)
    assert (verdict["valid"], verdict["first_broken"]) == (False, 4)
    assert verdict["reason"] == "event 4 is missing (the seal of event 5 covers it)"
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event 4" in result.output


def test_rewriting_an_event_and_rehashing_the_rest_fails_verify(
    world: World, runtime: Runtime, cli_env: Settings
) -> None:
    audited_reads(world, 1)  # events 1-3
    seal_with_cli()  # seals event 3
    dataset_id = world.create_dataset("shared")  # events 4-5
    member = world.personas["member"]
    assert member is not None
    for _ in range(2):  # events 6-7
        world.client.get(f"/api/v1/datasets/{dataset_id}/data", headers=member.headers)
    seal_with_cli()  # seals event 7
    assert verify(world)["valid"] is True
    rewrite_and_rehash(runtime, 6, row_count=0)  # "that read returned nothing"
    assert chain_alone(runtime).valid
    verdict = verify(world)
    # The seal of event 3 still holds, so the rewrite lies in events 4 to 7.
    assert verdict == {
        "valid": False,
        "events": 7,
        "first_broken": 4,
        "reason": "events 4 to 7 differ from the seal of event 7",
    }


def _sign_with(key: Ed25519PrivateKey, seq: int, hash: str, model: seals.Seal) -> seals.Seal:
    forged = replace(model, seq=seq, hash=hash)
    signature = key.sign(forged.message)
    return replace(forged, signature=base64.b64encode(signature).decode())


def test_a_seal_signed_with_another_key_fails_verify(
    world: World, runtime: Runtime, cli_env: Settings
) -> None:
    audited_reads(world, 3)
    seal_with_cli()  # the genuine seal of event 5
    # The attacker deletes events 4-5, then seals the shortened chain with a key of their own,
    # in the database and in storage, claiming the instance key's fingerprint.
    tamper(runtime, "DELETE FROM audit_event WHERE seq >= 4")
    with runtime.read_session() as session:
        (genuine,) = sealing.list_seals(session)
        head = session.query(AuditEvent).filter_by(seq=3).one()
    forged = _sign_with(Ed25519PrivateKey.generate(), 3, head.hash, genuine)
    other = PublicKey(Ed25519PrivateKey.generate().public_key())
    assert not forged.signed_by(other)
    tamper(
        runtime,
        "DELETE FROM audit_seal",
        insert(AuditSeal).values(
            seq=3,
            hash=forged.hash,
            sealed_at=forged.sealed_at,
            key_fingerprint=forged.key_fingerprint,
            signature=forged.signature,
        ),
        table="audit_seal",
    )
    runtime.seals.delete_copy(genuine)
    runtime.seals.write_copy(forged)
    verdict = verify(world)
    assert (verdict["valid"], verdict["first_broken"]) == (False, 3)
    assert verdict["reason"] == "the seal of event 3 does not match the key"


def test_a_seal_removed_from_either_place_is_found(
    world: World, runtime: Runtime, cli_env: Settings
) -> None:
    audited_reads(world, 3)
    seal_with_cli()
    with runtime.read_session() as session:
        (genuine,) = sealing.list_seals(session)
    tamper(runtime, "DELETE FROM audit_seal", table="audit_seal")
    verdict = verify(world)
    assert (verdict["valid"], verdict["first_broken"]) == (False, 5)
    assert verdict["reason"] == "the seal of event 5 is missing from the database"
    # Deleting the events it covers as well is still seen: the storage copy vouches for them.
    tamper(runtime, "DELETE FROM audit_event WHERE seq >= 4")
    assert verify(world)["first_broken"] == 4

    runtime.seals.delete_copy(genuine)
    seal_with_cli()  # a fresh seal of event 3, then its storage copy goes
    with runtime.read_session() as session:
        (fresh,) = sealing.list_seals(session)
    runtime.seals.delete_copy(fresh)
    verdict = verify(world)
    assert verdict["reason"] == "the seal of event 3 is missing from storage"


@pytest.mark.skipif(not on_postgres(), reason="the append-only trigger is PostgreSQL's")
def test_postgres_trigger_blocks_seal_tampering_unless_the_owner_disables_it(
    world: World, runtime: Runtime, cli_env: Settings
) -> None:
    from sqlalchemy.exc import DBAPIError

    audited_reads(world, 1)
    seal_with_cli()
    with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_seal"))
    # With the triggers disabled by the owner, the tampering goes in, and verify still sees it.
    rewrite_and_rehash(runtime, 2, row_count=42)
    verdict = verify(world)
    assert (verdict["valid"], verdict["first_broken"]) == (False, 1)


def test_no_key_file_means_no_seal_is_trusted(
    world: World, runtime: Runtime, cli_env: Settings
) -> None:
    audited_reads(world, 1)
    seal_with_cli()
    cli_env.audit_key_file.unlink()
    verdict = verify(world)
    assert verdict["reason"] == "the seal of event 3 does not match the key (no key file)"
    assert not cli_env.audit_key_file.exists()  # verification never creates a key


def test_the_periodic_sealer_seals_only_what_waited_long_enough(runtime: Runtime) -> None:
    for n in range(3):
        with runtime.transaction() as session:
            audit.record(session, audit.EventIn(action="dataset.read_rows", detail={"n": n}))
    patient = PeriodicSealer(runtime.transaction, runtime.seals, minutes=60)
    assert patient.seal_if_due() is None  # the oldest unsealed event is seconds old
    eager = PeriodicSealer(runtime.transaction, runtime.seals, minutes=0.0001)
    made = eager.seal_if_due()
    assert made is not None
    assert made.seq == 3
    assert eager.seal_if_due() is None  # nothing new since
    with runtime.read_session() as session:
        assert audit.verify(session, runtime.seals).valid


@pytest.fixture
def quick_sealing(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings.model_copy(update={"audit_seal_minutes": 0.002}))  # 0.12 s
    yield rt
    rt.close()


def test_the_server_seals_on_its_own_and_stops_cleanly(
    quick_sealing: Runtime, make_user: Callable[..., Persona]
) -> None:
    admin = make_user("admin", "hub-operator", member=True)
    with TestClient(create_app(runtime=quick_sealing)) as client:
        client.post("/api/v1/users/1/tokens", headers=admin.headers)  # one audited event
        deadline = time.monotonic() + 20
        seals_seen: list[dict[str, object]] = []
        while time.monotonic() < deadline and not seals_seen:
            time.sleep(0.1)
            seals_seen = client.get("/api/v1/audit/seals", headers=admin.headers).json()["data"]
        assert [s["seq"] for s in seals_seen] == [1]
    threads = [t.name for t in threading.enumerate()]
    assert "datahub-audit-sealer" not in threads


def test_seal_copies_on_s3(
    database_url: str, s3_server: S3Server, tmp_path: Path, make_user: Callable[..., Persona]
) -> None:
    prefix = f"instance-seals-{database_url[-8:]}"
    settings = Settings(
        database_url=database_url,
        storage_url=f"s3://{s3_server.bucket}/{prefix}",
        s3_endpoint_url=s3_server.endpoint_url,
        audit_key_file=tmp_path / "key.pem",
        _env_file=None,  # type: ignore[call-arg]
    )
    s3_runtime = build_runtime(settings)
    try:
        with s3_runtime.transaction() as session:
            audit.record(session, audit.EventIn(action="dataset.read_rows"))
        made = sealing.seal(s3_runtime.transaction, s3_runtime.seals)
        assert made is not None
        listed = s3_server.client().list_objects_v2(
            Bucket=s3_server.bucket, Prefix=f"{prefix}/audit/seals/"
        )
        assert [o["Key"] for o in listed["Contents"]] == [f"{prefix}/{made.storage_key}"]
        with s3_runtime.read_session() as session:
            assert audit.verify(session, s3_runtime.seals).valid
        s3_runtime.seals.delete_copy(made)
        with s3_runtime.read_session() as session:
            verdict = audit.verify(session, s3_runtime.seals)
        assert verdict.reason == "the seal of event 1 is missing from storage"
    finally:
        s3_runtime.close()


def test_two_processes_creating_the_key_at_once_share_one(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.pem"
    first, second = SigningKey(path), SigningKey(path)
    assert first.public().fingerprint == second.public().fingerprint
    assert [p.name for p in path.parent.iterdir()] == ["audit.pem"]  # no temporary file left


def test_export_and_import_carry_the_seals(
    world: World, runtime: Runtime, template_url: str, tmp_path: Path
) -> None:
    from datahub import transfer
    from tests.conftest import fresh_database

    audited_reads(world, 1)
    assert sealing.seal(runtime.transaction, runtime.seals) is not None
    manifest = transfer.export_instance(runtime, tmp_path / "export")
    assert manifest["seal_copies"] == 1
    url, drop = fresh_database(template_url, tmp_path)
    target = build_runtime(
        Settings(
            database_url=url,
            storage_url=f"file://{tmp_path / 'moved-files'}",
            audit_key_file=runtime.settings.audit_key_file,  # the key moves with the operator
            _env_file=None,  # type: ignore[call-arg]
        )
    )
    try:
        transfer.import_instance(target, tmp_path / "export")
        with target.read_session() as session:
            verdict = audit.verify(session, target.seals)
            assert (verdict.valid, sealing.count_seals(session)) == (True, 1)
        assert len(list(target.storage.list_keys("audit/seals/"))) == 1
    finally:
        target.close()
        drop()
