"""Receiving upload bodies: streamed to a temporary file, hashed on the way, size-limited.

Used by the API's ``POST /datasets/{id}/versions`` and the web page ``/datasets/{id}/upload``.
The body is never held in memory. A declared ``Content-Length`` over the limit is refused before
reading anything; a body that grows over it is cut off at the limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from datahub.catalog.uploads import Upload
from datahub.errors import BadRequest, PayloadTooLarge

CHUNK = 1 << 20


def check_declared_size(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        if size > limit:
            raise PayloadTooLarge(f"the upload is larger than {limit // (1 << 20)} MiB")


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"the upload is larger than {limit // (1 << 20)} MiB")
        yield chunk


@dataclass(frozen=True)
class Received:
    """The uploaded file, and the multipart body's text fields (a web form's CSRF token)."""

    upload: Upload
    fields: dict[str, str] = field(default_factory=dict)


async def receive(request: Request, folder: Path, limit: int) -> Upload:
    """The uploaded file: multipart field ``file``, or the raw body with its Content-Type."""
    return (await receive_form(request, folder, limit)).upload


async def receive_form(request: Request, folder: Path, limit: int) -> Received:
    """As :func:`receive`, with the multipart body's other (text) fields."""
    check_declared_size(request, limit)
    fields: dict[str, str] = {}
    content_type = request.headers.get("content-type", "")
    target = folder / "upload.bin"
    digest, size = hashlib.sha256(), 0
    if content_type.startswith("multipart/form-data"):
        parser = MultiPartParser(request.headers, _limited(request, limit), max_files=1)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise BadRequest(f"malformed multipart body: {exc.message}") from None
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise BadRequest("the multipart body has no file field named 'file'")
        with target.open("wb") as out:
            while chunk := await part.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        await form.close()
        filename, media_type = part.filename, part.content_type
    else:
        with target.open("wb") as out:
            async for chunk in _limited(request, limit):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        filename = request.headers.get("x-filename") or request.query_params.get("filename")
        media_type = content_type.split(";")[0].strip() or None
    if size == 0:
        raise BadRequest("the upload is empty")
    upload = Upload(
        path=target,
        filename=filename or "upload",
        media_type=media_type,
        size=size,
        sha256=digest.hexdigest(),
    )
    return Received(upload, fields)
