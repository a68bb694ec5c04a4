"""A fresh clone's ``pytest`` runs on SQLite only: PostgreSQL is used when the tester names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_test_uses_a_local_postgresql_unless_told() -> None:
    # The SQLite-to-PostgreSQL move used to connect to postgres@127.0.0.1 whenever it answered
    # (CI runs one there); without DATAHUB_TEST_DATABASE_URL it must skip, whatever is listening.
    env = {k: v for k, v in os.environ.items() if k != "DATAHUB_TEST_DATABASE_URL"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-rs",
            "-p",
            "no:randomly",
            "tests/deployment/test_deployment_transfer.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" not in done.stdout, done.stdout
    assert "DATAHUB_TEST_DATABASE_URL" in done.stdout, done.stdout
