"""Run the real ``datahub`` command line in subprocesses: servers on free ports, CLI commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str, storage: Path, **extra: str) -> dict[str, str]:
    """The test process's environment with this instance's settings (and no stray DATAHUB_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAHUB_", "PROMETHEUS_"))}
    env.update(
        DATAHUB_DATABASE_URL=database_url,
        DATAHUB_STORAGE_URL=f"file://{storage}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")])),
        **extra,
    )
    return env


def cli(
    env: Mapping[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datahub.cli", *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def token_for(env: Mapping[str, str], org: str, email: str, role: str) -> str:
    created = cli(env, "orgs", "create", org, "--name", org.upper(), "--member")
    assert created.returncode == 0, created.stderr
    user = cli(env, "users", "create", email, "--org", org, "--role", role)
    assert user.returncode == 0, user.stderr
    return user.stdout.strip().splitlines()[-1]


class Server:
    """``python -m datahub.cli serve`` on a free port; its stderr goes to a log file."""

    def __init__(self, env: Mapping[str, str], log: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "datahub.cli", "serve", "--port", str(self.port), *args],
                env=dict(env),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready after {timeout} s:\n{self.output()}")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")
