"""A longer schemathesis campaign than the test suite's: more examples per operation, any backend.

    python bench/fuzz.py                     # 100 examples per operation, role and mode, SQLite
    python bench/fuzz.py --examples 500 --postgres postgresql+psycopg://postgres@127.0.0.1/postgres

It runs tests/hardening/test_hardening_fuzz.py (every operation of /openapi.json, as anonymous,
admin, producer, analyst and auditor) with ``DATAHUB_FUZZ_EXAMPLES`` raised, across CPU cores
when pytest-xdist is installed, and prints each failure (operation, role, the curl command to
reproduce it). Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/hardening/test_hardening_fuzz.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation, role and mode")
    parser.add_argument("--postgres", metavar="URL", help="server for the test databases")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (or 0)")
    args = parser.parse_args()

    env = {**os.environ, "DATAHUB_FUZZ_EXAMPLES": str(args.examples)}
    if args.postgres:
        env["DATAHUB_TEST_DATABASE_URL"] = args.postgres
    command = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:randomly", "--tb=short"]
    if importlib.util.find_spec("xdist") is not None and args.workers != "0":
        command += ["-n", args.workers]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"schemathesis, {args.examples} examples per operation/role/mode, {backend}")
    started = time.monotonic()
    status = subprocess.call(command, cwd=ROOT, env=env)
    print(f"{time.monotonic() - started:.0f} s, exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
