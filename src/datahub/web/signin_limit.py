"""Sign-in attempts per client IP, counted with ``limits`` like the API's rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem
from limits.strategies import RateLimiter

from datahub.errors import DatahubError


class TooManyAttempts(DatahubError):
    """Over ``DATAHUB_SIGNIN_PER_MINUTE`` (its message is French, for the page)."""

    status = 429
    code = "too-many-sign-in-attempts"
    title = "Too many sign-in attempts"


@dataclass(frozen=True)
class SigninLimiter:
    limiter: RateLimiter
    item: RateLimitItem

    def hit(self, client: str) -> None:
        if not self.limiter.hit(self.item, "signin", client):
            raise TooManyAttempts("trop de tentatives de connexion ; réessayez dans une minute")
