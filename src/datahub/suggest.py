""" "Did you mean": the closest known word to what a person typed, ignoring case and accents."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping


def fold(value: str) -> str:
    """Lower case, no accents, ``_``/``-``/spaces alike: ``Résidentiel`` → ``residentiel``."""
    decomposed = unicodedata.normalize("NFKD", value.strip().casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("_", " ").replace("-", " ").split())


def closest(value: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The choice nearest to ``value`` (difflib ratio over folded words), or None."""
    folded = {fold(choice): choice for choice in choices}
    found = difflib.get_close_matches(fold(value), list(folded), n=1, cutoff=cutoff)
    return folded[found[0]] if found else None


def closest_key(value: str, names: Mapping[str, str], *, cutoff: float = 0.6) -> str | None:
    """The key whose own spelling or whose name (e.g. a French label) is nearest to ``value``."""
    spellings = {key: key for key in names} | {name: key for key, name in names.items()}
    found = closest(value, spellings, cutoff=cutoff)
    return spellings[found] if found else None


def did_you_mean(value: str | None) -> str:
    """The phrase appended to an error message (empty without a suggestion)."""
    return f"; did you mean `{value}`?" if value else ""
