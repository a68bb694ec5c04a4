"""The licence registry loads the shipped files and resolves data.gouv.fr ids and URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datahub.errors import NotFound
from datahub.licensing.registry import LicenceFileError, LicenceRegistry
from tests.paths import TEST_DATA

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry() -> LicenceRegistry:
    return LicenceRegistry.load(ROOT / "licenses")


def test_every_shipped_licence_has_the_contract_flags(registry: LicenceRegistry) -> None:
    # (level, aggregate_publication) as contract §2 states them; share-alike only for ODbL.
    expected = {
        "etalab-2.0": ("open", True, False),
        "odbl-1.0": ("open", True, True),
        "cc-by-4.0": ("open", True, False),
        "shared-charter-1.0": ("shared", True, False),
        "restricted-1.0": ("restricted", False, False),
        "restricted-stat-1.0": ("restricted", True, False),
    }
    found = {
        lic.id: (lic.level, lic.aggregate_publication, lic.share_alike) for lic in registry.all()
    }
    assert {k: found[k] for k in expected} == expected
    for licence in registry.all():
        assert licence.attribution_required is True
        assert licence.url.startswith(("https://", "http://127.0.0.1:8000/api/v1/licenses/"))
        assert licence.title
        assert len(licence.text) > 500, licence.id


def test_texts_carry_the_key_clauses(registry: LicenceRegistry) -> None:
    assert "ETALAB-Licence-Ouverte-v2.0.pdf" in registry.get("etalab-2.0").text
    assert "Share-Alike" in registry.get("odbl-1.0").text
    assert "legalcode" in registry.get("cc-by-4.0").text
    stat = registry.get("restricted-stat-1.0").text
    assert "3 distinct actors" in stat
    assert "85 %" in stat
    assert "No derived figure may be published" in registry.get("restricted-1.0").text


@pytest.mark.parametrize(
    ("alias", "licence_id"),
    [
        ("lov2", "etalab-2.0"),
        ("fr-lo", "lo-1.0"),  # Licence Ouverte 1.0 on data.gouv.fr (issue 16)
        ("odc-odbl", "odbl-1.0"),
        ("cc-by", "cc-by-4.0"),
        ("ODbL-1.0", "odbl-1.0"),
        ("CC-BY-4.0", "cc-by-4.0"),
        ("Etalab-2.0", "etalab-2.0"),
        ("https://www.etalab.gouv.fr/licence-ouverte-open-licence/", "etalab-2.0"),
        ("http://creativecommons.org/licenses/by/4.0", "cc-by-4.0"),
        ("Licence Ouverte / Open Licence version 2.0", "etalab-2.0"),
    ],
)
def test_aliases_resolve(registry: LicenceRegistry, alias: str, licence_id: str) -> None:
    licence = registry.resolve(alias)
    assert licence is not None
    assert licence.id == licence_id
    assert registry.get(alias).id == licence_id


def test_data_gouv_fr_licence_list_maps_onto_the_registry(registry: LicenceRegistry) -> None:
    # The recorded /api/1/datasets/licenses/ answer: each of its ids and URLs we claim resolves.
    listing = json.loads((TEST_DATA / "connectors/data_gouv/datasets_licenses.json").read_text())
    by_id = {entry["id"]: entry for entry in listing}
    for dg_id, licence_id in [
        ("lov2", "etalab-2.0"),
        ("odc-odbl", "odbl-1.0"),
        ("cc-by", "cc-by-4.0"),
    ]:
        entry = by_id[dg_id]
        assert registry.get(dg_id).id == licence_id
        for url in [entry["url"], *entry["alternate_urls"]]:
            resolved = registry.resolve(url)
            assert resolved is not None, url
            assert resolved.id == licence_id, url
    # Licences we do not ship stay unknown rather than guessed.
    assert registry.resolve("cc-by-sa") is None
    assert registry.resolve("notspecified") is None


def test_unknown_licence(registry: LicenceRegistry) -> None:
    assert registry.resolve("proprietary") is None
    assert registry.resolve("") is None
    with pytest.raises(NotFound):
        registry.get("proprietary")


def _licence(folder: Path, name: str, header: str, body: str = "Text.\n") -> Path:
    path = folder / name
    path.write_text(f"---\n{header}---\n{body}", encoding="utf-8")
    return path


GOOD = (
    "id: local-1.0\ntitle: Local\nurl: https://example.org/l\nlevel: shared\n"
    "attribution_required: true\nshare_alike: false\naggregate_publication: false\n"
    "aliases: [loc]\n"
)


def test_an_instance_adds_a_licence_by_adding_a_file(tmp_path: Path) -> None:
    _licence(tmp_path, "local-1.0.md", GOOD, "# Local\n\nTerms.\n")
    (tmp_path / "README.md").write_text("not a licence")
    registry = LicenceRegistry.load(tmp_path)
    licence = registry.get("loc")
    assert (licence.id, licence.level, licence.text) == (
        "local-1.0",
        "shared",
        "# Local\n\nTerms.\n",
    )
    assert len(registry) == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (GOOD.replace("level: shared", "level: secret"), "level"),
        (GOOD.replace("share_alike: false\n", ""), "share_alike"),
        (GOOD.replace("aliases: [loc]", "aliases: loc"), "aliases"),
        ("id: [unclosed\n", "invalid YAML"),
        (GOOD.replace("id: local-1.0", "id: other"), "file name"),
    ],
)
def test_invalid_files_name_the_file(tmp_path: Path, header: str, message: str) -> None:
    path = _licence(tmp_path, "local-1.0.md", header)
    with pytest.raises(LicenceFileError) as exc:
        LicenceRegistry.load(tmp_path)
    assert str(path) in str(exc.value)
    assert message in str(exc.value)


def test_missing_front_matter_and_clashing_alias(tmp_path: Path) -> None:
    (tmp_path / "bare.md").write_text("# no header\n")
    with pytest.raises(LicenceFileError, match="bare.md: missing YAML front matter"):
        LicenceRegistry.load(tmp_path)
    (tmp_path / "bare.md").unlink()
    _licence(tmp_path, "local-1.0.md", GOOD)
    other = GOOD.replace("local-1.0", "local-2.0").replace("example.org/l", "example.org/m")
    _licence(tmp_path, "local-2.0.md", other)
    with pytest.raises(LicenceFileError, match="alias 'loc'"):
        LicenceRegistry.load(tmp_path)


def test_hub_licences_are_served_by_the_instance_they_run_on() -> None:
    # The charter and restricted licences have no official home: their URI is the instance's
    # own licence page, under DATAHUB_BASE_URL (a path prefix behind a proxy is kept).
    registry = LicenceRegistry.load(ROOT / "licenses", "https://data.example.fr/hub/")
    charter = registry.get("shared-charter-1.0")
    assert charter.url == "https://data.example.fr/hub/api/v1/licenses/shared-charter-1.0"
    assert registry.resolve(charter.url) is charter
    assert registry.get("etalab-2.0").url.startswith("https://www.etalab.gouv.fr/")
