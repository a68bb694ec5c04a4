"""The licence registry: one Markdown file per licence in the top-level ``licenses/`` folder.

Each file starts with a YAML front matter (``id``, ``title``, ``url``, ``level``, the flags and
``aliases``) followed by the licence text. An instance adds a licence by adding a file.

Licences written by the hub (the charter and the restricted ones) have no official home: their
``url`` is instance-relative (``/api/v1/licenses/<id>``) and becomes absolute against the
instance's ``DATAHUB_BASE_URL``, so DCAT harvesters get a URI that resolves to the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from datahub.errors import NotFound
from datahub.licensing.levels import AccessLevel
from datahub.suggest import closest, fold

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


class LicenceFileError(ValueError):
    """A licence file is malformed. Raised at start-up: an operator error, not a client one."""


_SPDX = re.compile(r"^https?://spdx\.org/licenses/([A-Za-z0-9.+-]+?)(?:\.html)?$")


class Licence(BaseModel):
    """One licence: the machine-readable header plus its text (Markdown)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    url: str
    level: AccessLevel
    attribution_required: bool
    share_alike: bool
    aggregate_publication: bool
    aliases: tuple[str, ...] = ()
    #: The URI data.gouv.fr's DCAT harvester maps to its own licence (one of ``aliases``, when
    #: it is not ``url``): the catalogue emits it as ``dct:license``.
    harvest_uri: str | None = None
    text: str = Field(default="", repr=False)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"invalid licence id {value!r}")
        return value

    @model_validator(mode="after")
    def _harvest_uri_is_an_alias(self) -> Licence:
        if self.harvest_uri and self.harvest_uri not in (self.url, *self.aliases):
            raise ValueError("harvest_uri must be the url or one of the aliases")
        return self

    @property
    def is_open(self) -> bool:
        return self.level == "open"

    @property
    def dcat_uri(self) -> str:
        return self.harvest_uri or self.url

    @property
    def spdx_id(self) -> str | None:
        """The SPDX identifier, from an ``https://spdx.org/licenses/<id>.html`` alias."""
        for alias in self.aliases:
            if match := _SPDX.match(alias):
                return match.group(1)
        return None


def normalise_key(value: str) -> str:
    """Key used to match ids, aliases, titles and URLs.

    Case-insensitive; for URLs the scheme, ``www.``, a trailing slash and a ``#fragment`` are
    ignored so that ``http://opendatacommons.org/licenses/odbl/summary/`` and its ``https``
    spelling match.
    """
    key = value.strip().lower()
    key = re.sub(r"^https?://", "", key)
    key = re.sub(r"^www\.", "", key)
    key = key.split("#", 1)[0]
    return key.rstrip("/")


def parse_licence_file(path: Path) -> Licence:
    """Read one licence file; raise :class:`LicenceFileError` naming the file when it is bad."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LicenceFileError(f"{path}: cannot read licence file: {exc}") from exc
    match = _FRONT_MATTER.match(raw)
    if match is None:
        raise LicenceFileError(f"{path}: missing YAML front matter between '---' lines")
    try:
        header: Any = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise LicenceFileError(f"{path}: invalid YAML front matter: {exc}") from exc
    if not isinstance(header, dict):
        raise LicenceFileError(f"{path}: front matter must be a mapping")
    if "text" in header:
        raise LicenceFileError(f"{path}: 'text' is the body of the file, not a header field")
    aliases = header.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise LicenceFileError(f"{path}: 'aliases' must be a list of strings")
    try:
        licence = Licence.model_validate(
            {**header, "aliases": tuple(aliases), "text": match.group(2).strip() + "\n"}
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<header>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise LicenceFileError(f"{path}: {problems}") from exc
    if path.stem != licence.id:
        raise LicenceFileError(f"{path}: file name must be '<id>.md' (id is {licence.id!r})")
    return licence


class LicenceRegistry:
    """Licences by id, with lookup by alias (data.gouv.fr ids), title or URL."""

    def __init__(self, licences: Iterable[Licence]) -> None:
        self._by_id: dict[str, Licence] = {}
        self._by_key: dict[str, Licence] = {}
        items = sorted(licences, key=lambda lic: lic.id)
        for licence in items:
            if licence.id in self._by_id:
                raise LicenceFileError(f"duplicate licence id {licence.id!r}")
            self._by_id[licence.id] = licence
        # Ids first, so an alias can never shadow another licence's id.
        for licence in items:
            self._claim(normalise_key(licence.id), licence)
        for licence in items:
            for key in (licence.url, *licence.aliases):
                self._claim(normalise_key(key), licence)
        for licence in items:
            self._by_key.setdefault(normalise_key(licence.title), licence)

    def _claim(self, key: str, licence: Licence) -> None:
        owner = self._by_key.setdefault(key, licence)
        if owner.id != licence.id:
            raise LicenceFileError(
                f"alias {key!r} of licence {licence.id!r} is already used by {owner.id!r}"
            )

    @classmethod
    def load(cls, folder: Path, base_url: str = "http://127.0.0.1:8000") -> LicenceRegistry:
        """Load every ``*.md`` file of ``folder`` (README.md excepted); relative URLs are
        resolved against ``base_url``."""
        if not folder.is_dir():
            raise LicenceFileError(f"{folder}: licence folder not found")
        files = sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md")
        licences = (parse_licence_file(p) for p in files)
        return cls(
            lic.model_copy(update={"url": base_url.rstrip("/") + lic.url})
            if lic.url.startswith("/")
            else lic
            for lic in licences
        )

    def all(self) -> list[Licence]:
        """Every licence, sorted by id."""
        return list(self._by_id.values())

    def resolve(self, id_or_alias_or_url: str) -> Licence | None:
        """The licence with this id, alias, URL or title, or None."""
        if not id_or_alias_or_url or not id_or_alias_or_url.strip():
            return None
        exact = self._by_id.get(id_or_alias_or_url)
        return exact or self._by_key.get(normalise_key(id_or_alias_or_url))

    def suggest(self, name: str) -> Licence | None:
        """The licence a person probably meant by a common name: ``Licence Ouverte`` (part of
        a title), ``ODbL`` or ``etalab 2`` (close to an id or alias)."""
        folded = fold(name)
        if len(folded) >= 4:
            for licence in self.all():
                if folded in fold(licence.title):
                    return licence
        spellings = {s: lic for lic in self.all() for s in (lic.id, lic.title, *lic.aliases)}
        found = closest(name, spellings, cutoff=0.5)
        return spellings[found] if found else None

    def get(self, id_or_alias: str) -> Licence:
        """Like :meth:`resolve` but raises :class:`NotFound`."""
        licence = self.resolve(id_or_alias)
        if licence is None:
            raise NotFound(detail=f"Unknown licence {id_or_alias!r}")
        return licence

    def __contains__(self, id_or_alias: object) -> bool:
        return isinstance(id_or_alias, str) and self.resolve(id_or_alias) is not None

    def __len__(self) -> int:
        return len(self._by_id)
