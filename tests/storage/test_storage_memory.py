"""put_stream must stream: pushing 64 MiB through it allocates a small, bounded amount.

tracemalloc counts every Python allocation in the process. For S3 the moto server runs in this
process (a thread) and keeps the whole object in memory, so the S3 upload is measured in a child
process that talks to that server over loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from datahub.storage.local import LocalStorage

if TYPE_CHECKING:
    from tests.storage.conftest import S3Server

MiB = 1024 * 1024
TOTAL = 64 * MiB


def zero_chunks(total: int, chunk: int) -> Iterator[bytes]:
    for _ in range(total // chunk):
        yield bytes(chunk)


# SHA-256 of 64 MiB of zero bytes, from `head -c 67108864 /dev/zero | sha256sum`.
SHA256_64MIB_ZEROS = "3b6a07d0d404fab4e23b6d34bc6696a6a312dd92821332385e5af7c01c421351"


def test_storage_local_put_stream_memory_is_bounded(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    tracemalloc.start()
    try:
        stored = storage.put_stream("big.bin", zero_chunks(TOTAL, MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (stored.size, stored.sha256) == (TOTAL, SHA256_64MIB_ZEROS)
    # One 1 MiB chunk in flight (plus the one being built): 4 MiB leaves room for allocator noise
    # and is 1/16 of what holding the file would cost.
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"


CHILD = """
import json, sys, tracemalloc
from datahub.storage.s3 import S3Storage, make_client

endpoint, bucket, total, part = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
storage = S3Storage(bucket, "memory", client=make_client(endpoint), part_size=part)
chunk = 1024 * 1024
tracemalloc.start()
stored = storage.put_stream("big.bin", (bytes(chunk) for _ in range(total // chunk)))
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"size": stored.size, "sha256": stored.sha256, "peak": peak,
                  "remote_size": storage.size("big.bin")}))
"""


def test_storage_s3_put_stream_memory_is_bounded(s3_server: S3Server) -> None:
    part = 8 * MiB  # the default part size
    env = {**os.environ, **s3_server.env}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            s3_server.endpoint_url,
            s3_server.bucket,
            str(TOTAL),
            str(part),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["size"], report["sha256"]) == (TOTAL, SHA256_64MIB_ZEROS)
    assert report["remote_size"] == TOTAL  # 8 parts of 8 MiB really arrived
    # One part buffered (8 MiB) plus the incoming 1 MiB chunk, about 9 MiB; 16 MiB leaves room for
    # boto's own buffers and is a quarter of the 64 MiB that buffering the whole body would take.
    assert report["peak"] < 16 * MiB, f"peak {report['peak'] / MiB:.1f} MiB"
