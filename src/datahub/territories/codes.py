"""Territory codes ``<level>:<official code>`` and the order of levels in the hierarchy."""

from __future__ import annotations

import re
from typing import Literal

Level = Literal["commune", "epci", "departement", "region", "country"]
LEVELS: tuple[Level, ...] = ("commune", "epci", "departement", "region", "country")

_OFFICIAL = {
    "commune": r"(\d[0-9AB]\d{3}|97\d{3})",  # INSEE code, Corsica 2A/2B
    "epci": r"\d{9}",  # SIREN
    "departement": r"(\d{2}|2A|2B|97\d)",
    "region": r"\d{2}",
    "country": r"[A-Z]{2}",
}
CODE_PATTERN = r"^(commune|epci|departement|region|country):[0-9A-Za-z]{2,9}$"


def level_of(code: str) -> Level | None:
    """The level of a well-formed code, or None."""
    level, _, official = code.partition(":")
    if level not in _OFFICIAL or not re.fullmatch(_OFFICIAL[level], official):
        return None
    return level  # type: ignore[return-value]


def rank(level: Level) -> int:
    return LEVELS.index(level)
