"""Where the shipped data folders (licences, migrations) are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_folder(name: str) -> Path:
    """``licenses`` or ``migrations``: inside the wheel (``datahub/_data``) or the checkout root."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"datahub data folder {name!r} not found")
