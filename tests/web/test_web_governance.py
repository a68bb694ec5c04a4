"""/governance: who may see it, filters that filter, the CSV export, the usage report against the
API's, and « Vérifier maintenant » against a tampered chain."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from datahub.audit import service as audit
from datahub.runtime import Runtime
from tests.api.world import World, build_world
from tests.audit.test_audit_chain import _tamper
from tests.conftest import Persona
from tests.web.conftest import csrf_of
from tests.web.tables import table_rows


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def _csrf(client: TestClient) -> str:
    return csrf_of(client.get("/login").text)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 303),
        ("member", 403),
        ("non_member", 403),
        ("producer", 403),
        ("auditor", 200),
        ("admin", 200),
    ],
)
def test_governance_is_for_auditors_and_admins(world: World, who: str, status: int) -> None:
    client = world.client
    headers = world.headers(who)
    verified = status if status != 200 else 303  # the verdict is shown after a redirect
    for method, path, expected in (
        ("GET", "/governance", status),
        ("GET", "/governance/events.csv", status),
        ("POST", "/governance/verify", verified),
    ):
        data = {"csrf": _csrf(client)} if method == "POST" else None
        response = client.request(method, path, headers=headers, data=data, follow_redirects=False)
        assert response.status_code == expected, (who, path, response.text[:300])
        if expected == 403:
            assert "réservée au rôle auditeur ou administrateur" in response.text
            assert "seq" not in response.text  # no event leaked into the refusal
        if who == "anonymous":
            assert response.headers["location"].startswith("/login?next=%2Fgovernance")
    page = client.get("/", headers=headers).text
    assert ('href="/governance"' in page) is (status == 200)


def _hand_made_events(runtime: Runtime) -> None:
    """Six events whose every filtered field differs, recorded straight into the chain."""
    rows = [
        ("dataset.read_rows", "allowed", "org-a", "ds-one", "member"),
        ("dataset.read_rows", "allowed", "org-b", "ds-one", "grant:7"),
        ("dataset.read_file", "allowed", "org-a", "ds-two", "producer"),
        ("dataset.read_rows", "denied", "org-b", "ds-two", None),
        ("grant.create", "allowed", "org-a", "ds-two", None),
        ("dataset.read_rows", "allowed", "org-c", "ds-one", "member"),
    ]
    with runtime.transaction() as session:
        for action, outcome, org, dataset, basis in rows:
            audit.record(
                session,
                audit.EventIn(
                    action=action,
                    outcome=outcome,  # type: ignore[arg-type]
                    organization_id=org,
                    user_email=f"u@{org}.example.org",
                    dataset_id=dataset,
                    basis=basis,
                    licence="shared-charter-1.0",
                    row_count=2 if outcome == "allowed" else None,
                ),
            )


def _seqs(client: TestClient, headers: dict[str, str], query: str) -> list[int]:
    html = client.get(f"/governance?{query}", headers=headers)
    assert html.status_code == 200, html.text
    rows = table_rows(html.text, "t-events")[1:]
    return [int(r[0]) for r in rows if r[0].isdigit()]


def test_filters_filter_and_the_csv_applies_them(
    client: TestClient, runtime: Runtime, make_user: Callable[..., Persona]
) -> None:
    auditor = make_user("auditor", "comite")
    _hand_made_events(runtime)
    headers = auditor.headers
    assert _seqs(client, headers, "") == [1, 2, 3, 4, 5, 6]
    assert _seqs(client, headers, "dataset=ds-one") == [1, 2, 6]
    assert _seqs(client, headers, "organization=org-a") == [1, 3, 5]
    assert _seqs(client, headers, "action=dataset.read_rows") == [1, 2, 4, 6]
    assert _seqs(client, headers, "outcome=denied") == [4]
    assert _seqs(client, headers, "basis=member") == [1, 6]
    assert _seqs(client, headers, "basis=grant%3A7") == [2]
    # Combined, and the empty fields a submitted form sends are no filter.
    both = "dataset=ds-one&organization=org-b&action=&outcome=&basis=&from=&to="
    assert _seqs(client, headers, both) == [2]
    # The period is in whole days, ``to`` included: today holds all six, tomorrow none.
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)
    assert _seqs(client, headers, f"from={today}&to={today}") == [1, 2, 3, 4, 5, 6]
    assert _seqs(client, headers, f"from={tomorrow}") == []
    assert _seqs(client, headers, f"to={today - timedelta(days=1)}") == []
    # A bad date or an unknown parameter is a French 422 page naming it.
    bad = client.get("/governance?from=hier", headers=headers)
    assert bad.status_code == 422
    assert "« from » doit être une date" in bad.text
    unknown = client.get("/governance?organisation=org-a", headers=headers)
    assert unknown.status_code == 422
    assert "paramètre inconnu « organisation »" in unknown.text
    # The export link carries the filters; the CSV is the API's, byte for byte.
    page = client.get("/governance?organization=org-a&outcome=allowed", headers=headers).text
    assert 'href="/governance/events.csv?organization=org-a&amp;outcome=allowed"' in page
    exported = client.get(
        "/governance/events.csv?organization=org-a&outcome=allowed", headers=headers
    )
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == 'attachment; filename="audit-events.csv"'
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["seq"], r["organization_id"], r["outcome"]) for r in rows] == [
        ("1", "org-a", "allowed"),
        ("3", "org-a", "allowed"),
        ("5", "org-a", "allowed"),
    ]
    assert list(rows[0]) == audit.EXPORT_COLUMNS
    api = client.get(
        "/api/v1/audit/events?organization=org-a&outcome=allowed&format=csv", headers=headers
    )
    assert exported.content == api.content
    basis = client.get("/governance/events.csv?basis=member&dataset=ds-one", headers=headers)
    assert [r["seq"] for r in csv.DictReader(io.StringIO(basis.text))] == ["1", "6"]


def test_pagination_of_the_events(client: TestClient, runtime: Runtime, admin: Persona) -> None:
    with runtime.transaction() as session:
        for n in range(55):
            audit.record(session, audit.EventIn(action="dataset.read_rows", row_count=n))
    first = client.get("/governance", headers=admin.headers).text
    assert "Page 1 sur 2" in first
    assert 'href="/governance?page=2#evenements"' in first
    second = client.get("/governance?page=2", headers=admin.headers).text
    seqs = [r[0] for r in table_rows(second, "t-events")[1:]]
    assert seqs == [str(n) for n in range(51, 56)]


def _counts(html: str, table_id: str) -> dict[str, int]:
    rows = table_rows(html, table_id)[1:]
    return {r[0]: int(r[1].replace("\u202f", "")) for r in rows if len(r) == 2}


def test_usage_report_equals_the_apis(world: World) -> None:
    client = world.client
    shared_id = world.create_dataset("shared")
    restricted_id = world.create_dataset("restricted")
    grant_id = world.grant(restricted_id, "grantee")
    revoked = world.grant(restricted_id, "member")
    revoke = f"/api/v1/datasets/{restricted_id}/grants/{revoked}"
    assert client.delete(revoke, headers=world.headers("producer")).status_code == 200

    def read(who: str, dataset_id: str, times: int, status: int) -> None:
        for _ in range(times):
            response = client.get(f"/api/v1/datasets/{dataset_id}/data", headers=world.headers(who))
            assert response.status_code == status, (who, response.text)

    read("member", shared_id, 3, 200)
    read("grantee", restricted_id, 2, 200)
    read("producer_analyst", restricted_id, 1, 200)
    read("member", restricted_id, 2, 403)  # the revoked grant gives nothing
    read("non_member", shared_id, 1, 403)

    auditor = world.headers("auditor")
    api = client.get("/api/v1/audit/reports/licence-usage", headers=auditor).json()["data"]
    html = client.get("/governance", headers=auditor).text

    def summed(field: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        for line in api:
            for key, n in line[field].items():
                totals[key] = totals.get(key, 0) + n
        return totals

    by_org = _counts(html, "t-by-org")
    assert by_org == summed("reads_by_organization")
    # By hand: 3 member reads, 2 of the grantee's lab, 1 of the producer's own analyst.
    assert by_org == {"commune-aytre": 3, "labo-universite": 2, "port-atlantique": 1}
    by_basis = _counts(html, "t-by-basis")
    assert by_basis == {
        "membre de la charte": summed("reads_by_basis")["member"],
        f"autorisation n° {grant_id}": summed("reads_by_basis")[f"grant:{grant_id}"],
        "organisation productrice": summed("reads_by_basis")["producer"],
    }
    assert by_basis["membre de la charte"] == 3
    assert _counts(html, "t-denied") == summed("denied_by_organization")
    assert _counts(html, "t-denied") == {"commune-aytre": 2, "bureau-prive": 1}
    assert _counts(html, "t-grants") == {"en cours": 1, "expirées": 0, "révoquées": 1}
    per_dataset = {r[0]: r for r in table_rows(html, "t-usage")[1:]}
    for line in api:
        row = per_dataset[line["dataset"]]
        assert [int(x.replace("\u202f", "")) for x in row[3:6]] == [
            line["reads"],
            line["rows_served"],
            line["denied"],
        ]
    # Each count table has its chart beside it: one bar per row.
    assert html.count("<rect ") == len(by_org) + len(by_basis) + 2 + 3


def test_verify_now_finds_a_tampered_event(world: World, runtime: Runtime) -> None:
    client = world.client
    dataset_id = world.create_dataset("shared")
    for _ in range(3):
        client.get(f"/api/v1/datasets/{dataset_id}/data", headers=world.headers("member"))
    auditor = world.headers("auditor")
    page = client.get("/governance", headers=auditor).text
    assert "Vérifier maintenant" in page
    assert "aucun sceau pour l'instant" in page
    shown = client.post(
        "/governance/verify", headers=auditor, data={"csrf": csrf_of(page)}
    )  # follows the redirect to the page with the verdict
    assert shown.status_code == 200
    assert "Journal intact" in shown.text
    assert "5 événements vérifiés" in shown.text
    # The verdict is said once: reloading the page does not repeat it.
    assert "Journal intact" not in client.get("/governance", headers=auditor).text
    _tamper(runtime, "UPDATE audit_event SET row_count = 999 WHERE seq = 4")
    broken = client.post("/governance/verify", headers=auditor, data={"csrf": csrf_of(page)})
    assert "Journal rompu à l'événement n° 4" in broken.text
    api = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert (api["valid"], api["first_broken"]) == (False, 4)
    # Without the session's CSRF token nothing runs.
    refused = client.post("/governance/verify", headers=auditor, data={"csrf": "x"})
    assert refused.status_code == 403
    assert "formulaire expiré" in refused.text


def test_seal_and_key_fingerprint_are_shown(world: World, runtime: Runtime) -> None:
    world.create_dataset("open")
    from datahub.audit import sealing

    made = sealing.seal(runtime.transaction, runtime.seals)
    assert made is not None
    html = world.client.get("/governance", headers=world.headers("admin")).text
    assert f"événement n° {made.seq}" in html
    assert made.key_fingerprint in html
