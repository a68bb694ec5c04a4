"""Poll ``GET /jobs/{id}`` until the job ends, as an API client would."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Persona


def poll(client: TestClient, url: str, persona: Persona, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url, headers=persona.headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)
