"""Domain errors. Each carries its HTTP status and a stable problem type; no web framework here.

The API layer renders every :class:`DatahubError` as ``application/problem+json`` (RFC 9457).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

PROBLEM_BASE = "https://datahub.example/problems/"


@dataclass(frozen=True)
class FieldError:
    """One validation failure: ``row`` is 1-based over data rows (None for a whole-file error)."""

    row: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class DatahubError(Exception):
    """Base of every error a client can cause. ``detail`` must never carry protected data."""

    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    #: Members added to the problem body (RFC 9457 extensions), e.g. where to ask for access.
    extensions: dict[str, Any] = field(default_factory=dict)
    #: An audit event to record although the request fails (a denied attempt); the API layer
    #: writes it in its own transaction after rolling back the request's.
    audit_event: Any = None

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.code


class BadRequest(DatahubError):
    status = 400
    code = "bad-request"
    title = "Bad request"


class Unauthenticated(DatahubError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="datahub"')


class Forbidden(DatahubError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(DatahubError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DatahubError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(DatahubError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(DatahubError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


class NotAcceptable(DatahubError):
    status = 406
    code = "not-acceptable"
    title = "Not acceptable"


class ValidationFailed(DatahubError):
    """Input that is well-formed HTTP but wrong in content: 422 with ``{row, field, message}``."""

    status = 422
    code = "validation-failed"
    title = "Validation failed"


class UnitMismatch(ValidationFailed):
    code = "unit-mismatch"
    title = "Unit mismatch"
