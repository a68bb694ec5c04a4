"""The README's production walkthrough, run literally: PostgreSQL + PostGIS, a local S3 server,
`datahub init` for CDA La Rochelle, the demo, two API workers, and the curl calls it shows.

Only what must differ on a shared test machine is rewritten: the database name, the ports, the
path of the territories file (the script runs in a scratch folder so `.env` lands there), and the
`pip install` line (the test environment has everything already).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.deployment.server import ROOT, free_port

pytestmark = pytest.mark.skipif(
    PG_URL is None
    or (make_url(PG_URL).host, make_url(PG_URL).username) != ("127.0.0.1", "postgres"),
    reason="the walkthrough talks to postgres@127.0.0.1 (set DATAHUB_TEST_DATABASE_URL)",
)


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("For one territory, offline")
    match = re.search(r"```sh\n(.*?)```", readme[start:], flags=re.DOTALL)
    assert match, "the README lost its production walkthrough"
    return match.group(1)


def test_readme_production_walkthrough_gives_la_rochelle_with_trajectories(
    tmp_path: Path,
) -> None:
    database = f"datahub_readme_{uuid.uuid4().hex[:10]}"
    s3_port, api_port = free_port(), free_port()
    script = walkthrough()
    assert "pip install" in script.splitlines()[0]
    script = "\n".join(script.splitlines()[1:])
    script = (
        script.replace("datahub_lr", database)
        .replace("9000", str(s3_port))
        .replace("8000", str(api_port))
        .replace("--host 0.0.0.0", "--host 127.0.0.1")
        .replace("deploy/", f"{ROOT}/deploy/")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAHUB_", "AWS_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    # Stop the servers the script leaves in the background, whatever happens.
    wrapped = f"set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}"
    # A session of its own, so the servers it starts in the background die with it.
    script_process = subprocess.Popen(
        ["bash", "-c", wrapped],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = script_process.communicate(timeout=240)
        assert script_process.returncode == 0, stderr[-3000:]
        lines = stdout.splitlines()
        assert "28 communes" in lines
        # The CSV in French dialect: BOM, ';' separators, decimal commas, sectors by year.
        csv_header = next(line for line in lines if line.lstrip("\ufeff").startswith("year;"))
        assert csv_header.startswith("\ufeffyear;key;value")
        assert any(re.fullmatch(r"20\d\d;industry;-?\d+,\d+;.*", line) for line in lines)
        chart = (tmp_path / "chart.svg").read_text(encoding="utf-8")
        assert chart.startswith("<?xml")
        assert "<svg" in chart
        env_file = (tmp_path / ".env").read_text(encoding="utf-8")
        assert f"DATAHUB_S3_ENDPOINT_URL=http://127.0.0.1:{s3_port}" in env_file
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script_process.pid, signal.SIGKILL)
        script_process.wait()
        subprocess.run(
            [
                "psql",
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            ],
            check=False,
            capture_output=True,
        )
