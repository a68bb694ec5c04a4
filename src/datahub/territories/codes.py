"""Territory codes ``<level>:<official code>`` and the order of levels in the hierarchy."""

from __future__ import annotations

import difflib
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


def suggest(code: str) -> str | None:
    """The well-formed code a person probably meant: a bare INSEE code or SIREN gets its level
    (``17300`` → ``commune:17300``, ``241700434`` → ``epci:241700434``), a misspelt or
    capitalised level is corrected (``Commune:17300``, ``comune:17300``)."""
    value = code.strip()
    level, sep, official = value.partition(":")
    if not sep:
        official = value.upper()
        for guess in ("commune", "epci", "departement", "country"):
            if re.fullmatch(_OFFICIAL[guess], official):
                return f"{guess}:{official}"
        return None
    close = difflib.get_close_matches(level.lower(), LEVELS, n=1, cutoff=0.6)
    if close and level_of(f"{close[0]}:{official.upper()}"):
        return f"{close[0]}:{official.upper()}"
    return None


def explain(code: str) -> str:
    """Why ``code`` is not a territory code, and what to write instead."""
    guess = suggest(code)
    if guess:
        return f"{code!r} is not a territory code: did you mean `{guess}`?"
    return f"{code!r} is not a territory code: write <level>:<code>, e.g. commune:17300"
