"""A real S3-compatible server for tests: moto in server mode on a loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from moto.server import ThreadedMotoServer

from datahub.storage.s3 import make_client

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

BUCKET = "datahub-test"

# Dummy credentials and no shared config: the tests must never reach a real AWS account.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str
    env: dict[str, str]

    def client(self) -> S3Client:
        return make_client(self.endpoint_url)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on a free loopback port, with the test bucket created."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in AWS_ENV.items():
            mp.setenv(name, value)
        mp.delenv("AWS_PROFILE", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            s3 = S3Server(endpoint_url=f"http://{host}:{port}", bucket=BUCKET, env=dict(AWS_ENV))
            s3.client().create_bucket(Bucket=BUCKET)
            yield s3
        finally:
            server.stop()
