"""Headers that say under which licence data is served (contract §3)."""

from __future__ import annotations

from datahub.api.header_values import header_text
from datahub.catalog.service import Resolved, attribution


def licence_headers(resolved: Resolved) -> dict[str, str]:
    """``Link: <licence>; rel="license"`` and an attribution header (ASCII-folded, one line:
    see :mod:`datahub.api.header_values`; the exact text is in the JSON ``meta``)."""
    return {
        "Link": f'<{resolved.licence.url}>; rel="license"',
        "X-Attribution": header_text(attribution(resolved), 500),
        "X-Licence": resolved.licence.id,
    }
