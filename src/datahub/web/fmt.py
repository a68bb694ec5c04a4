"""French formats for numbers, dates and the vocabulary of the hub (Babel, locale fr_FR)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from datahub.carbon.sectors import LAND_USE_LABELS_FR, SECTOR_LABELS_FR

LOCALE: Final = "fr_FR"
#: The time zone in which a day typed in a form (an expiry date) begins and ends.
ZONE: Final = ZoneInfo("Europe/Paris")

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
ROLE_LABELS: Final = {
    "admin": "administration de la plateforme",
    "producer": "producteur de données",
    "analyst": "analyste",
    "auditor": "auditeur (comité de gouvernance)",
}
REQUEST_STATUS_LABELS: Final = {
    "pending": "en attente",
    "approved": "acceptée",
    "denied": "refusée",
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


def end_of_day(day_: date) -> datetime:
    """The moment a grant "until ``day_`` included" stops: the next midnight, Paris time."""
    return datetime.combine(day_ + timedelta(days=1), datetime.min.time(), ZONE)


def until(moment: datetime | None) -> str:
    """An expiry in words: ``31 janvier 2027 inclus`` when it falls at a Paris midnight."""
    if moment is None:
        return "sans date d'expiration"
    local = moment.astimezone(ZONE)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        last = (local - timedelta(days=1)).date()
        return f"jusqu'au {format_date(last, 'd MMMM y', locale=LOCALE)} inclus"
    return "jusqu'au " + format_datetime(local, "d MMMM y 'à' HH:mm", locale=LOCALE)


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
    "role": lambda v: ROLE_LABELS.get(v, v),
    "statut_demande": lambda v: REQUEST_STATUS_LABELS.get(v, v),
    "jusqu_au": until,
}
