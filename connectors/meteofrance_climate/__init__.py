"""meteofrance-climate: heating degree days (DJU) per station and year from daily Météo-France data.

The daily "Données climatologiques de base" files (``Q_<dep>_latest-<Y-1>-<Y>_RR-T-Vent.csv.gz``
and ``Q_<dep>_previous-1950-<Y-2>_…``) change name every January, so they are found through the
data.gouv.fr API (dataset ``6569b51ae64326786e4e8e1a``), never hard-coded. They are streamed and
gunzipped on the fly.

DJU, "méthode météo", base 18 °C: per day ``max(0, 18 − (TN + TX) / 2)``, summed over the year.
Always from daily TN/TX: a monthly mean would hide the clipping at 0 (research note §2.3). Days
with TN or TX missing or flagged doubtful (quality code 2) are skipped, and a station-year is kept
only when enough days remain (``min_coverage``). A station ``DDCCCNNN`` stands in commune
``DDCCC`` (INSEE); Corsican ids (``20…``) cannot tell 2A from 2B, so their territory is left empty.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, Field

from datahub.ingest.contract import (
    Connector,
    ConnectorContext,
    FatalConnectorError,
    Produced,
    ProducedVersion,
    Provenance,
    raise_for_upstream,
)

DAILY_DATASET = "6569b51ae64326786e4e8e1a"
API = "https://www.data.gouv.fr/api/2"
BASE_TEMPERATURE = 18.0
DOUBTFUL = "2"


class MeteoFranceClimateParams(BaseModel):
    departement: str = Field(
        pattern=r"^(0[1-9]|[1-8]\d|9[0-5]|20|2A|2B|97[1-6])$",
        description="département of the stations (files are per département; Corsica is 20)",
        examples=["17"],
    )
    stations: list[str] = Field(
        default_factory=list,
        description="8-digit station ids to keep (all stations of the file when empty)",
        examples=[["17300009"]],
    )
    include_history: bool = Field(
        default=False, description="also read the 'previous-1950-…' file (tens of MB)"
    )
    first_year: int | None = None
    last_year: int | None = None
    min_coverage: float = Field(
        default=0.95, gt=0, le=1, description="share of the year's days needed to publish it"
    )
    dataset_id: str | None = Field(default=None, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    datagouv_dataset: str = DAILY_DATASET


def day_hdd(tn: float, tx: float, base: float = BASE_TEMPERATURE) -> float:
    """DJU of one day, méthode météo: max(0, base − (TN + TX) / 2)."""
    return max(0.0, base - (tn + tx) / 2)


@dataclass
class StationYear:
    hdd: float = 0.0
    days: int = 0


def _number(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    return float(value.replace(",", "."))


def hdd_by_station_year(
    rows: Iterable[dict[str, str]], stations: set[str] | None = None
) -> dict[tuple[str, int], StationYear]:
    """Sum the daily DJU of each (station, year); skips missing and doubtful days."""
    totals: dict[tuple[str, int], StationYear] = defaultdict(StationYear)
    for row in rows:
        station = (row.get("NUM_POSTE") or "").strip()
        if stations and station not in stations:
            continue
        date = (row.get("AAAAMMJJ") or "").strip()
        if len(date) != 8 or not date.isdigit():
            continue
        if DOUBTFUL in ((row.get("QTN") or "").strip(), (row.get("QTX") or "").strip()):
            continue
        tn, tx = _number(row.get("TN")), _number(row.get("TX"))
        if tn is None or tx is None:
            continue
        total = totals[(station, int(date[:4]))]
        total.hdd += day_hdd(tn, tx)
        total.days += 1
    return totals


def station_territory(station: str) -> str:
    """``commune:17300`` for station 17300009; empty for Corsica (2A/2B unknown)."""
    if len(station) != 8 or station.startswith("20"):
        return ""
    return f"commune:{station[:5]}"


def to_csv(
    totals: dict[tuple[str, int], StationYear],
    *,
    min_coverage: float,
    first_year: int | None = None,
    last_year: int | None = None,
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["year", "territory", "station", "hdd"])
    for (station, year), total in sorted(totals.items(), key=lambda item: (item[0][1], item[0][0])):
        if (first_year and year < first_year) or (last_year and year > last_year):
            continue
        days_in_year = 366 if calendar.isleap(year) else 365
        if total.days < min_coverage * days_in_year:
            continue
        writer.writerow([year, station_territory(station), station, f"{total.hdd:.1f}"])
    return out.getvalue().encode()


def _gunzip_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Lines of a possibly gzip-compressed byte stream (magic number decides)."""
    decompressor: Any = None
    pending = b""
    started = False
    for chunk in chunks:
        if not started:
            if not chunk:
                continue
            started = True
            if chunk[:2] == b"\x1f\x8b":
                decompressor = zlib.decompressobj(wbits=31)
        pending += decompressor.decompress(chunk) if decompressor else chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace").rstrip("\r")
    if decompressor is not None:
        pending += decompressor.flush()
    if pending.strip():
        yield pending.decode("utf-8", "replace").rstrip("\r")


def file_pattern(departement: str) -> re.Pattern[str]:
    dep = "20" if departement in ("2A", "2B") else departement
    return re.compile(
        rf"^Q_{dep}_(latest-\d{{4}}-\d{{4}}|previous-1950-\d{{4}})_RR-T-Vent\.csv\.gz$"
    )


def find_daily_files(
    client: httpx.Client, dataset: str, departement: str, include_history: bool
) -> list[dict[str, Any]]:
    """The daily RR-T-Vent resources of a département (latest, and history if asked)."""
    pattern = file_pattern(departement)
    wanted = {"latest", "previous"} if include_history else {"latest"}
    found: dict[str, dict[str, Any]] = {}
    url: str | None = f"{API}/datasets/{dataset}/resources/?page=1&page_size=100"
    while url and not wanted <= found.keys():
        payload = raise_for_upstream(client.get(url)).json()
        for resource in payload.get("data") or []:
            name = (resource.get("title") or "").strip()
            if not pattern.match(name):
                name = str(resource.get("url") or "").rsplit("/", 1)[-1]
            match = pattern.match(name)
            if match and (period := match.group(1).split("-", 1)[0]) in wanted:
                found[period] = resource
        url = payload.get("next_page")
    if "latest" not in found:
        raise FatalConnectorError(
            f"no daily file Q_{departement}_latest-…_RR-T-Vent.csv.gz in data.gouv.fr "
            f"dataset {dataset}"
        )
    return [found[key] for key in ("previous", "latest") if key in found]


def _checksum(resource: dict[str, Any]) -> str:
    checksum = resource.get("checksum")
    if isinstance(checksum, dict) and checksum.get("value"):
        return f"{checksum.get('type', 'sha1')}:{checksum['value']}"
    return f"modified:{resource.get('last_modified', '')}"


class MeteoFranceClimate:
    name = "meteofrance-climate"
    description = (
        "Heating degree days (DJU, base 18 °C, méthode météo) per weather station and year, "
        "computed from Météo-France daily TN/TX files found through data.gouv.fr."
    )
    licence = "etalab-2.0"
    params_model = MeteoFranceClimateParams

    def run(
        self, params: MeteoFranceClimateParams, context: ConnectorContext
    ) -> Iterator[Produced]:
        client = context.http
        dataset_id = params.dataset_id or f"climate-hdd-departement-{params.departement.lower()}"
        context.report_progress(0, None, "looking up the daily files on data.gouv.fr")
        resources = find_daily_files(
            client, params.datagouv_dataset, params.departement, params.include_history
        )
        upstream_checksum = " ".join(_checksum(r) for r in resources)
        if context.previous_checksum(dataset_id) == upstream_checksum:
            context.report_progress(1, 1, "upstream files unchanged since the last run")
            return

        stations = set(params.stations) or None
        totals: dict[tuple[str, int], StationYear] = {}
        etag = last_modified = None
        urls: list[str] = []
        for index, resource in enumerate(resources):
            url = str(resource.get("latest") or resource.get("url"))
            urls.append(url)
            context.report_progress(index, len(resources), f"reading {resource.get('title')}")
            with client.stream("GET", url) as response:
                raise_for_upstream(response)
                etag = response.headers.get("etag", etag)
                last_modified = response.headers.get("last-modified", last_modified)
                reader = csv.DictReader(_gunzip_lines(response.iter_bytes()), delimiter=";")
                for key, value in hdd_by_station_year(reader, stations).items():
                    total = totals.setdefault(key, StationYear())
                    total.hdd += value.hdd
                    total.days += value.days
        if not totals:
            raise FatalConnectorError(
                f"no usable daily temperatures for stations {sorted(stations or [])} "
                f"in département {params.departement}"
            )
        content = to_csv(
            totals,
            min_coverage=params.min_coverage,
            first_year=params.first_year,
            last_year=params.last_year,
        )
        context.report_progress(len(resources), len(resources), f"{len(totals)} station-years")
        yield ProducedVersion(
            dataset_id=dataset_id,
            title=f"Heating degree days, département {params.departement} (Météo-France)",
            description=(
                "Yearly heating degree days (DJU, base 18 °C, méthode météo: per day "
                "max(0, 18 − (TN+TX)/2)) per Météo-France station, from the daily 'Données "
                "climatologiques de base'. Days with missing or doubtful TN/TX are skipped; "
                f"years with less than {params.min_coverage:.0%} of their days are left out."
            ),
            kind="climate",
            licence=self.licence,
            attribution="Météo-France",
            tags=["climate", "hdd", "dju", "meteo-france"],
            territories=[] if params.departement == "20" else [f"departement:{params.departement}"],
            content=content,
            filename=f"{dataset_id}.csv",
            media_type="text/csv",
            provenance=Provenance(
                source_urls=urls,
                retrieved_at=context.now(),
                etag=etag,
                last_modified=last_modified,
                upstream_checksum=upstream_checksum,
            ),
        )


connector: Connector[MeteoFranceClimateParams] = MeteoFranceClimate()
