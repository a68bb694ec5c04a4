"""Objects in an S3-compatible bucket (AWS, MinIO, Garage, moto) under ``<prefix>/<key>``.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``... or ``~/.aws``). The endpoint is
passed in by the caller (``Settings.s3_endpoint_url``); nothing is read from the environment here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from datahub.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ObjectNotFound,
    StoredObject,
    iter_file,
    validate_key,
    validate_prefix,
    write_atomically,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's floor for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_MISSING_BUCKET_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_missing(exc: ClientError) -> bool:
    return _code(exc) in _MISSING_CODES


def make_client(endpoint_url: str | None = None) -> S3Client:
    """A boto3 S3 client; with a custom endpoint, path-style addressing and checksums only when
    required, which S3-compatible servers (MinIO, Garage...) handle more reliably."""
    if endpoint_url is None:
        return boto3.client("s3")
    config = Config(
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


class S3Storage:
    """A :class:`~datahub.storage.base.Storage` on S3.

    ``put_stream`` buffers at most one part (``part_size`` bytes, plus one incoming chunk): a body
    that fits in one part is sent with ``PutObject``, a larger one with a multipart upload that is
    aborted if anything fails, so a failed write leaves neither an object nor stray parts.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        client: S3Client | None = None,
        *,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if not bucket:
            raise ValueError("S3 bucket name is empty.")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes.")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.part_size = part_size
        self.client: S3Client = client if client is not None else make_client(endpoint_url)

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def ensure_ready(self) -> bool:
        """Create the bucket when the endpoint says it is missing (``mc mb --ignore-existing``)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if _code(exc) not in _MISSING_BUCKET_CODES:
                raise
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            self.client.create_bucket(
                Bucket=self.bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
        else:
            self.client.create_bucket(Bucket=self.bucket)
        return True

    def _full(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    # -- writing -----------------------------------------------------------------------------

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> StoredObject:
        full = self._full(key)
        digest = hashlib.sha256()
        size = 0
        pending = bytearray()  # sent as is: no joined copy of the part
        upload_id: str | None = None
        parts: list[CompletedPartTypeDef] = []
        try:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                pending += chunk
                if len(pending) >= self._part_threshold(len(parts)):
                    if upload_id is None:
                        created = self.client.create_multipart_upload(Bucket=self.bucket, Key=full)
                        upload_id = created["UploadId"]
                    parts.append(self._upload_part(full, upload_id, len(parts) + 1, pending))
                    pending = bytearray()
            if upload_id is None:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=_blob(pending))
            else:
                if pending:
                    parts.append(self._upload_part(full, upload_id, len(parts) + 1, pending))
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=full,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                self._abort(full, upload_id)
            raise
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    def _part_threshold(self, parts_done: int) -> int:
        """Grow parts by one ``part_size`` every 1000 parts: S3 allows 10,000 parts, so 8 MiB
        parts would cap an object at 78 GiB; growing them lifts the cap to about 430 GiB."""
        return self.part_size * (1 + parts_done // 1000)

    def _upload_part(
        self, full: str, upload_id: str, number: int, body: bytearray
    ) -> CompletedPartTypeDef:
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=full, UploadId=upload_id, PartNumber=number, Body=_blob(body)
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    def _abort(self, full: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
        except ClientError:
            # Keep the original error; a bucket lifecycle rule should reap what is left.
            pass

    def put_file(self, key: str, path: Path) -> StoredObject:
        return self.put_stream(key, iter_file(Path(path)))

    # -- reading -----------------------------------------------------------------------------

    def open_stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        full = self._full(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectNotFound(f"No stored object {key!r}.") from None
            raise
        return _iter_body(answer["Body"], chunk_size)

    def download_to(self, key: str, path: Path) -> StoredObject:
        size, sha256 = write_atomically(Path(path), self.open_stream(key))
        return StoredObject(key=key, size=size, sha256=sha256)

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=self._full(key)))
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(f"No stored object {key!r}.")
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def delete(self, key: str) -> None:
        # DeleteObject succeeds on a missing key, which makes this idempotent.
        self.client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        base = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base + prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(base) :]


def _blob(buffer: bytearray) -> bytes:
    # botocore takes any bytes-like body (its validator accepts bytearray); the stubs say bytes.
    return cast(bytes, buffer)


def _iter_body(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
