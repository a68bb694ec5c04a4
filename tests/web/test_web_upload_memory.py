"""A 200 MB upload through the web page stays in bounded server memory (run on demand:
``DATAHUB_MEASURE_UPLOAD_MB=200 pytest tests/web/test_web_upload_memory.py -s``).

The server runs in this process (uvicorn on a thread); the client streams the file from disk,
so the growth of the process's peak RSS is the server's receiving, staging and storing.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from datahub.accounts import signin
from datahub.runtime import Runtime
from tests.conftest import Persona
from tests.liveserver import LiveServer
from tests.web.conftest import PASSWORD, csrf_of

SIZE_MB = int(os.environ.get("DATAHUB_MEASURE_UPLOAD_MB", "0"))
pytestmark = pytest.mark.skipif(SIZE_MB == 0, reason="set DATAHUB_MEASURE_UPLOAD_MB to measure")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def test_a_large_upload_from_the_page_keeps_memory_bounded(
    runtime: Runtime,
    live_server: LiveServer,
    make_user: Callable[..., Persona],
    tmp_path: Path,
) -> None:
    producer = make_user("producer", "port-atlantique", member=True)
    with runtime.transaction() as session:
        signin.accept(session, signin.invite(session, producer.email, days=1), PASSWORD)
    big = tmp_path / "big.csv"
    line = b"A-0000001;1234,5;commentaire assez long pour remplir la ligne\n"
    with big.open("wb") as out:
        out.write(b"site;kwh;note\n")
        block = line * 16384
        for _ in range((SIZE_MB << 20) // len(block) + 1):
            out.write(block)
    with httpx.Client(base_url=live_server.url, timeout=600, follow_redirects=True) as client:
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"email": producer.email, "password": PASSWORD, "csrf": token})
        token = csrf_of(client.get("/datasets/new").text)  # a new session on sign-in
        created = client.post(
            "/datasets/new",
            data={"title": "Gros fichier", "licence": "etalab-2.0", "csrf": token},
        )
        assert created.status_code == 200, created.text  # followed to the upload page
        before = _peak_mb()
        started = time.monotonic()
        with big.open("rb") as handle:
            answer = client.post(
                "/datasets/gros-fichier/upload",
                files={"file": ("big.csv", handle, "text/csv")},
                headers={"X-CSRF-Token": token},
                follow_redirects=False,
            )
        assert answer.status_code == 303, answer.text
        received = _peak_mb()
        took = time.monotonic() - started
        job = answer.headers["location"]
        deadline = time.monotonic() + 900
        while "La version 1 est enregistrée" not in client.get(job).text:
            assert time.monotonic() < deadline
            time.sleep(2)
        stored = _peak_mb()
    print(  # noqa: T201 (the figure this test is run for)
        f"\n{big.stat().st_size / 2**20:.0f} MB upload: peak RSS {before:.0f} MB before, "
        f"{received:.0f} MB once received ({took:.1f} s), {stored:.0f} MB once stored"
    )
    assert received - before < 100
