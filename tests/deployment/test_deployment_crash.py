"""Crash safety: SIGKILL in the middle of a large upload, restart, and the catalogue is as it
was — no half-written version, no stray stored file, no stray rows table, a valid audit chain."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, inspect

from tests.deployment.server import Server, cli, environment, token_for


def _big_csv(rows: int) -> bytes:
    lines = ["year,territory,sector,value,unit"]
    lines += [f"{2000 + i % 30},commune:17300,residential,{i}.5,tCO2e" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_sigkill_mid_upload_leaves_the_catalogue_consistent(
    tmp_path: Path, database_url: str
) -> None:
    env = environment(database_url, tmp_path / "files", DATAHUB_ORPHAN_GRACE_MINUTES="0")
    token = token_for(env, "cda-lr", "ana@cda.example.org", "producer")
    auth = {"Authorization": f"Bearer {token}"}
    server = Server(env, tmp_path / "server-1.log")
    try:
        server.wait_ready()
        base = f"{server.base}/api/v1"
        created = httpx.post(
            f"{base}/datasets",
            json={
                "id": "inventaire",
                "title": "Inventaire",
                "licence": "etalab-2.0",
                "kind": "emissions",
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        small = _big_csv(10)
        first = httpx.post(
            f"{base}/datasets/inventaire/versions",
            content=small,
            headers={**auth, "Content-Type": "text/csv"},
        )
        assert first.status_code == 201, first.text
        # A large upload; the server is killed while it receives or ingests it.
        body = _big_csv(400_000)
        with httpx.Client(timeout=2.0) as http:
            try:
                http.post(
                    f"{base}/datasets/inventaire/versions",
                    content=body,
                    headers={**auth, "Content-Type": "text/csv"},
                )
            except httpx.TimeoutException:
                pass
        time.sleep(0.5)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        server.stop()

    again = Server(env, tmp_path / "server-2.log")
    try:
        again.wait_ready()
        base = f"{again.base}/api/v1"
        meta = httpx.get(f"{base}/datasets/inventaire", headers=auth).json()
        versions = httpx.get(f"{base}/datasets/inventaire/versions", headers=auth).json()["data"]
        data = httpx.get(f"{base}/datasets/inventaire/data", headers=auth).json()
        if meta["current_version"] == 1:
            # Killed before the commit: nothing of the big upload is visible.
            assert [v["number"] for v in versions] == [1]
            assert data["meta"]["total"] == 10
        else:
            # Killed after the commit: the whole version is there.
            assert [v["number"] for v in versions] == [1, 2]
            assert data["meta"]["total"] == 400_000
        stored = sorted(p for p in (tmp_path / "files").rglob("*") if p.is_file())
        assert len(stored) == len(versions), stored  # one file per version, no orphan
        assert (
            httpx.get(f"{base}/datasets/inventaire/versions/1/file", headers=auth).content == small
        )
        engine = create_engine(database_url)
        tables = [t for t in inspect(engine).get_table_names() if t.startswith("rows_")]
        engine.dispose()
        assert len(tables) == len(versions), tables  # no rows table of a rolled-back version
    finally:
        again.stop()
    # The audit chain survived the crash.
    verdict = cli(environment(database_url, tmp_path / "files"), "audit", "verify")
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
