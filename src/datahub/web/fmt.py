"""French formats for numbers, dates and the vocabulary of the hub (Babel, locale fr_FR)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from datahub.carbon.sectors import LAND_USE_LABELS_FR, SECTOR_LABELS_FR

LOCALE: Final = "fr_FR"

LEVEL_LABELS: Final = {"open": "Ouvert", "shared": "Partagé", "restricted": "Restreint"}
LEVEL_EXPLAINED: Final = {
    "open": "Tout le monde peut consulter, télécharger et réutiliser ces données, "
    "en citant leur source.",
    "shared": "Réservé aux organisations membres de la charte de la donnée du territoire "
    "(et à celles que le producteur autorise). Chaque lecture est enregistrée au journal d'audit.",
    "restricted": "Réservé au producteur et aux personnes ou organisations qu'il autorise "
    "nommément. Chaque lecture est enregistrée au journal d'audit.",
}
KIND_LABELS: Final = {
    "generic": "Tableau générique",
    "emissions": "Émissions de gaz à effet de serre",
    "activity": "Données d'activité",
    "land_use": "Occupation des sols",
    "land_use_change": "Changements d'occupation des sols",
    "sequestration_factors": "Facteurs de séquestration",
    "emission_factors": "Facteurs d'émission",
    "climate": "Données climatiques",
    "reference_trajectory": "Trajectoire de référence",
    "sequestration_project": "Projet de séquestration",
}
TERRITORY_LEVELS: Final = {
    "commune": "Commune",
    "epci": "Intercommunalité (EPCI)",
    "departement": "Département",
    "region": "Région",
    "country": "Pays",
}
WITHHELD_REASONS: Final = {
    "secrecy": "secret statistique : trop peu d'acteurs, ou un acteur dominant, dans la case",
    "complementary": "secret secondaire : la valeur permettrait de recalculer une case masquée",
}
BASIS_LABELS: Final = {
    "open": "données ouvertes",
    "member": "membre de la charte",
    "producer": "organisation productrice",
    "admin": "administration",
}
OPERATOR_LABELS: Final = {
    "exact": "est égal à",
    "differs": "est différent de",
    "contains": "contient",
    "greater": "est supérieur à",
    "less": "est inférieur à",
    "in": "fait partie de (a,b,…)",
    "notin": "ne fait pas partie de (a,b,…)",
    "isnull": "est vide (true/false)",
}


def number(value: float | int | None, digits: int = 0) -> str:
    """``1 234 567`` with a narrow no-break space; an em dash for a missing value."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, "d MMMM y 'à' HH:mm", locale=LOCALE)
    return format_date(value, "d MMMM y", locale=LOCALE)


def size(octets: int | None) -> str:
    """File size in French units; an em dash when withheld from this caller."""
    if octets is None:
        return "—"
    if octets < 1024:
        return f"{octets} o"
    if octets < 1024**2:
        return f"{number(octets / 1024, 1)} Ko"
    return f"{number(octets / 1024**2, 1)} Mo"


def sector(value: str | None) -> str:
    if value is None:
        return "Total"
    return SECTOR_LABELS_FR.get(value, LAND_USE_LABELS_FR.get(value, value))  # type: ignore[call-overload, no-any-return]


FILTERS: Final = {
    "nombre": number,
    "date_fr": day,
    "taille": size,
    "secteur": sector,
    "niveau": lambda v: LEVEL_LABELS.get(v, v),
    "nature": lambda v: KIND_LABELS.get(v, v),
    "echelon": lambda v: TERRITORY_LEVELS.get(v, v),
}
