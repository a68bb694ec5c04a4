"""`datahub init` stands up a territory's instance, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from datahub.cli import app as cli
from datahub.runtime import Runtime

LA_ROCHELLE = Path(__file__).resolve().parents[2] / "deploy" / "cda-la-rochelle-territories.geojson"


def test_init_la_rochelle_offline_is_idempotent(
    database_url: str,
    runtime: Runtime,
    client: TestClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAHUB_DATABASE_URL", database_url)
    args = [
        "init",
        "--territory",
        "epci:241700434",
        "--name",
        "CDA La Rochelle",
        "--target-year",
        "2040",
        "--from-file",
        str(LA_ROCHELLE),
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    token = first.stdout.strip().splitlines()[-1]
    assert token.startswith("dh_")
    assert "DATAHUB_INSTANCE_NAME=CDA La Rochelle" in (tmp_path / ".env").read_text()

    communes = client.get("/api/v1/territories?parent=epci:241700434&page_size=100").json()
    assert communes["meta"]["total"] == 28
    assert "commune:17300" in {t["code"] for t in communes["data"]}
    target = client.get("/api/v1/territories/epci:241700434/target").json()
    assert (target["reference_year"], target["target_year"], target["target_net"]) == (
        2019,
        2040,
        0.0,
    )
    me = client.post(
        "/api/v1/territories",
        json={"code": "commune:99999", "name": "x", "level": "commune"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.status_code == 201  # the printed token is an admin's

    with runtime.read_session() as session:
        from sqlalchemy import func, select

        from datahub.db.models import AuditEvent, Organization, Territory, User

        before = [
            session.scalar(select(func.count()).select_from(m))
            for m in (Organization, User, Territory, AuditEvent)
        ]
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "dh_" not in second.stdout
    with runtime.read_session() as session:
        after = [
            session.scalar(select(func.count()).select_from(m))
            for m in (Organization, User, Territory, AuditEvent)
        ]
    assert after == before
