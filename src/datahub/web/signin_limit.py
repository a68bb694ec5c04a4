"""Sign-in attempts per client IP, counted with ``limits`` like the API's rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem
from limits.strategies import RateLimiter

from datahub.errors import RateLimited


@dataclass(frozen=True)
class SigninLimiter:
    limiter: RateLimiter
    item: RateLimitItem

    def hit(self, client: str) -> None:
        if not self.limiter.hit(self.item, "signin", client):
            raise RateLimited("trop de tentatives de connexion ; réessayez dans une minute")
