"""Leftovers (issue 12): files on their way in stay under the instance's folder, and what a
killed upload or job left there is gone once the instance starts again."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings
from datahub.storage import scratch
from tests.conftest import Persona
from tests.ingest.job_polling import poll

#: A process that dies (SIGKILL) in the middle of receiving an upload, as the server's would.
KILLED_UPLOAD = """
import os, sys
from pathlib import Path
from datahub.storage import scratch
with scratch.scratch_dir(Path(sys.argv[1]), "upload") as folder:
    (folder / "upload.bin").write_bytes(b"site;kwh\\nconfidentiel;42\\n" * 1000)
    print(folder, flush=True)
    os.kill(os.getpid(), 9)
"""


def test_uploads_go_under_the_instance_folder_not_the_system_temp(
    client: TestClient,
    runtime: Runtime,
    producer: Persona,
    dataset: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    # A job's copy used to be removed just after the job was recorded as succeeded: a poll
    # landing in between found it (the test failed now and then). A job's copy now lingers a
    # moment before its removal, so that order would fail every time.
    lingering = scratch.scratch_dir

    @contextmanager
    def slow(root: Path, prefix: str) -> Iterator[Path]:
        with lingering(root, prefix) as folder:
            yield folder
            if prefix == "job":
                time.sleep(0.5)

    monkeypatch.setattr(scratch, "scratch_dir", slow)
    assert runtime.temp_dir == tmp_path / "files-tmp"  # beside file://<tmp>/files
    for prefer in ({}, {"Prefer": "respond-async"}):
        response = client.post(
            f"/api/v1/datasets/{dataset}/versions",
            content=b"site;kwh\nA;1\nB;2\nC;3\n",
            headers={**producer.headers, "Content-Type": "text/csv", **prefer},
        )
        assert response.status_code in (200, 201, 202), response.text
        if response.status_code == 202:  # wait for the job: it reads a copy of its own
            assert poll(client, response.headers["Location"], producer)["state"] == "succeeded"
    assert list(system_temp.iterdir()) == []
    assert list(runtime.temp_dir.iterdir()) == []  # and nothing left once done


def test_a_killed_upload_leaves_nothing_after_restart(settings: Settings, tmp_path: Path) -> None:
    first = build_runtime(settings)
    root = first.temp_dir
    first.close()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_UPLOAD, str(root)], capture_output=True, text=True, timeout=60
    )
    assert killed.returncode == -9, killed.stderr
    left = Path(killed.stdout.strip())
    assert (left / "upload.bin").stat().st_size > 20_000  # the full copy a kill used to leave
    stray = root / "stray.part"
    stray.write_bytes(b"x")  # not named after a process: not ours to keep
    # A process still running keeps its entry (another worker's upload in flight).
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = root / f"job-{sleeper.pid}-inflight"
        alive.mkdir()
        (alive / "upload").write_bytes(b"in flight")
        restarted = build_runtime(settings)
        restarted.close()
        assert sorted(p.name for p in root.iterdir()) == [alive.name]
    finally:
        sleeper.kill()
        sleeper.wait()
    build_runtime(settings).close()
    assert list(root.iterdir()) == []


def test_the_temp_folder_can_be_set(settings: Settings, tmp_path: Path) -> None:
    chosen = tmp_path / "scratch"
    runtime = build_runtime(settings.model_copy(update={"temp_dir": str(chosen)}))
    try:
        assert runtime.temp_dir == chosen
        assert chosen.is_dir()
    finally:
        runtime.close()
