"""The dataset form of the publishing pages: what the producer typed, checked by the API's own
schemas, with every refusal said in French and tied to its field."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from datahub.catalog.schemas import DatasetCreate, DatasetRead, DatasetUpdate
from datahub.errors import DatahubError
from datahub.licensing.registry import Licence, LicenceRegistry
from datahub.web import fmt

#: The form's fields, in page order, with the label each message names.
LABELS: Final = {
    "title": "Titre",
    "description": "Description",
    "kind": "Nature des données",
    "tags": "Mots-clés",
    "territories": "Territoires",
    "start": "Début de la période",
    "end": "Fin de la période",
    "licence": "Licence",
}
M = TypeVar("M", bound=BaseModel)
_SPLIT = re.compile(r"[,;\s]+")
TERRITORY_HINT: Final = "un code de la forme niveau:code, par exemple epci:241700434"


@dataclass(frozen=True)
class DatasetForm:
    """The form's values as typed (shown again when something is refused)."""

    title: str = ""
    description: str = ""
    kind: str = "generic"
    tags: str = ""
    territories: str = ""
    start: str = ""
    end: str = ""
    licence: str = ""

    @classmethod
    def of(cls, dataset: DatasetRead) -> DatasetForm:
        coverage = dataset.temporal_coverage
        return cls(
            title=dataset.title,
            description=dataset.description,
            kind=dataset.kind,
            tags=", ".join(dataset.tags),
            territories=", ".join(dataset.territories),
            start=coverage.start.isoformat() if coverage and coverage.start else "",
            end=coverage.end.isoformat() if coverage and coverage.end else "",
            licence=dataset.licence.id,
        )

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": self.title.strip(),
            "description": self.description.strip(),
            "licence": self.licence.strip(),
            "tags": [t for t in (p.strip() for p in self.tags.split(",")) if t],
            "territories": [t for t in _SPLIT.split(self.territories) if t],
        }
        start, end = self.start.strip(), self.end.strip()
        body["temporal_coverage"] = (
            {"start": start or None, "end": end or None} if start or end else None
        )
        return body

    def to_create(self) -> DatasetCreate:
        """The API's create body; raises :class:`FormErrors`."""
        body = {**self._body(), "kind": self.kind.strip() or "generic"}
        return _checked(DatasetCreate, body)

    def to_update(self) -> DatasetUpdate:
        """The API's update body (every field of the form is sent); raises :class:`FormErrors`."""
        return _checked(DatasetUpdate, self._body())

    def values(self) -> dict[str, str]:
        return asdict(self)


class FormErrors(Exception):
    """French messages by form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _field_of(loc: tuple[int | str, ...]) -> str:
    name = str(loc[0]) if loc else "title"
    if name == "temporal_coverage":
        return str(loc[1]) if len(loc) > 1 and loc[1] in ("start", "end") else "start"
    return name if name in LABELS else "title"


def _message(field: str, error: Any) -> str:
    kind = error["type"]
    if kind in ("missing", "string_too_short"):
        return "ce champ est obligatoire"
    if kind == "string_too_long":
        return f"trop long ({error['ctx']['max_length']} caractères au plus)"
    if kind == "too_long":
        return f"trop d'éléments ({error['ctx']['max_length']} au plus)"
    if field in ("start", "end"):
        if "start is after end" in error["msg"]:
            return "le début de la période est après sa fin"
        return "une année (2015) ou une date (2015-01-01) est attendue"
    if field == "territories":
        return f"code de territoire invalide : {TERRITORY_HINT}"
    if field == "tags":
        return "un mot-clé fait plus de 60 caractères"
    return "valeur invalide"


def _checked(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = _field_of(error["loc"])
            errors.setdefault(field, _message(field, error))
        raise FormErrors(errors) from None


def service_errors(exc: DatahubError) -> dict[str, str]:
    """The service's refusal of a valid-looking form (unknown licence, kind or territory), in
    French by field; empty when the refusal is not about a field of the form."""
    errors: dict[str, str] = {}
    for error in exc.errors:
        field = error.field or ""
        if field == "territories":
            codes = error.message.split(":", 1)[-1].strip()
            errors[field] = f"territoire inconnu : {codes} ({TERRITORY_HINT})"
        elif field == "licence":
            errors[field] = "licence inconnue : choisissez une licence de la liste"
        elif field == "kind":
            errors[field] = "nature inconnue : choisissez une nature de la liste"
        elif field in LABELS:
            errors[field] = "valeur refusée"
    if exc.status == 409:
        errors["title"] = "un jeu de données porte déjà cet identifiant : changez le titre"
    return errors


@dataclass(frozen=True)
class LicenceChoice:
    """A licence of the registry, with what it means said in plain French."""

    licence: Licence
    aggregates: str
    conditions: str


def licence_choices(licences: LicenceRegistry) -> list[tuple[str, str, str, list[LicenceChoice]]]:
    """The registry's licences by level: (level, label, what the level means, licences)."""
    groups = []
    for level, label in fmt.LEVEL_LABELS.items():
        found = [
            LicenceChoice(
                licence,
                "Les agrégats respectant le secret statistique peuvent être publiés à tous."
                if licence.aggregate_publication
                else "Aucun agrégat n'est publié à qui ne peut pas lire les lignes.",
                " ".join(
                    part
                    for part, on in (
                        ("Citer la source est obligatoire.", licence.attribution_required),
                        (
                            "Les réutilisations doivent être partagées sous la même licence.",
                            licence.share_alike,
                        ),
                    )
                    if on
                ),
            )
            for licence in licences.all()
            if licence.level == level
        ]
        if found:
            groups.append((level, label, fmt.LEVEL_EXPLAINED[level], found))
    return groups
