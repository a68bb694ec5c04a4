"""User text made safe for HTTP headers: titles, attributions, file names.

Header values are Latin-1 at best and end at CR or LF: a dataset title holding ``\\r\\n`` used
to make every response naming it invalid (the server sent an empty reply), and one holding
``X-Header: value`` could have added a header. Text is ASCII-folded (``Aytré`` → ``Aytre``) and
every control character becomes a space; a file name also travels in full, UTF-8 and
percent-encoded, in RFC 6266 / RFC 5987 ``filename*``.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

from text_unidecode import unidecode

_NOT_PRINTABLE_ASCII: Final = re.compile(r"[^\x20-\x7e]+")
_NOT_IN_QUOTED_NAME: Final = re.compile(r'["\\;]+')


def header_text(value: str, limit: int = 500) -> str:
    """``value`` as printable ASCII on one line, at most ``limit`` characters."""
    folded = _NOT_PRINTABLE_ASCII.sub(" ", unidecode(value))
    return " ".join(folded.split())[:limit]


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, when it differs, the exact ``filename*``."""
    fallback = _NOT_IN_QUOTED_NAME.sub("_", header_text(filename, 150)) or "download"
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value
