"""The access matrix of contract §2, enumerated over the app's own routes.

Every route whose path concerns a dataset must have a rule in ``RULES``: a new route without one
makes ``test_every_dataset_route_has_a_rule`` fail. Each rule is then exercised for every licence
level and every kind of caller, on a fresh dataset where the route changes things.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS, RDF

from datahub.web.mount import PAGE_MODULES
from tests.api.world import LICENCE_OF_LEVEL, World, build_world
from tests.conftest import Persona

PERSONAS = (
    "anonymous",
    "non_member",
    "member",
    "producer",
    "producer_analyst",
    "grantee",
    "auditor",
    "admin",
)

# Contract §2, as (metadata, data) per level and caller kind.
TABLE: dict[str, dict[str, tuple[int, int]]] = {
    "open": dict.fromkeys(PERSONAS, (200, 200)),
    "shared": {
        "anonymous": (200, 401),
        "non_member": (200, 403),
        "member": (200, 200),
        "producer": (200, 200),
        "producer_analyst": (200, 200),
        "grantee": (200, 200),
        "auditor": (200, 403),
        "admin": (200, 200),
    },
    "restricted": {
        "anonymous": (404, 404),
        "non_member": (200, 403),
        "member": (200, 403),
        "producer": (200, 200),
        "producer_analyst": (200, 200),
        "grantee": (200, 200),
        "auditor": (200, 403),
        "admin": (200, 200),
    },
}


def metadata(level: str, who: str, ok: int = 200) -> int:
    status = TABLE[level][who][0]
    return ok if status == 200 else status


def data(level: str, who: str) -> int:
    return TABLE[level][who][1]


def manage(level: str, who: str, ok: int) -> int:
    """Producers of the producing organisation and admins manage; others are refused."""
    seen = TABLE[level][who][0]
    if seen != 200:
        return seen
    if who in ("producer", "admin"):
        return ok
    return 401 if who == "anonymous" else 403


def request_access(level: str, who: str) -> int:
    if who == "anonymous":
        return 401
    return metadata(level, who, ok=201)


def signed_in(rule: Callable[[str, str], int]) -> Callable[[str, str], int]:
    """Routes about the caller's own account: 401 without a token, whatever the dataset."""
    return lambda level, who: 401 if who == "anonymous" else rule(level, who)


Rule = Callable[[str, str], int]
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/datasets/{dataset_id}"): metadata,
    ("GET", "/api/v1/datasets/{dataset_id}/versions"): metadata,
    ("GET", "/api/v1/datasets/{dataset_id}/versions/{number}/file"): data,
    ("GET", "/api/v1/datasets/{dataset_id}/data"): data,
    ("GET", "/api/v1/datasets/{dataset_id}/datapackage.json"): data,
    ("PATCH", "/api/v1/datasets/{dataset_id}"): lambda lv, who: manage(lv, who, 200),
    ("DELETE", "/api/v1/datasets/{dataset_id}"): lambda lv, who: manage(lv, who, 204),
    ("POST", "/api/v1/datasets/{dataset_id}/versions"): lambda lv, who: manage(lv, who, 201),
    ("GET", "/api/v1/datasets/{dataset_id}/grants"): lambda lv, who: manage(lv, who, 200),
    ("POST", "/api/v1/datasets/{dataset_id}/grants"): lambda lv, who: manage(lv, who, 201),
    ("DELETE", "/api/v1/datasets/{dataset_id}/grants/{grant_id}"): lambda lv, who: manage(
        lv, who, 200
    ),
    ("GET", "/api/v1/datasets/{dataset_id}/access-requests"): lambda lv, who: manage(lv, who, 200),
    ("POST", "/api/v1/datasets/{dataset_id}/access-requests"): request_access,
    ("POST", "/api/v1/access-requests/{request_id}/approve"): lambda lv, who: manage(lv, who, 200),
    ("POST", "/api/v1/access-requests/{request_id}/deny"): lambda lv, who: manage(lv, who, 200),
    ("GET", "/api/v1/datasets/{dataset_id}/subscription"): signed_in(metadata),
    ("PUT", "/api/v1/datasets/{dataset_id}/subscription"): signed_in(data),
    ("DELETE", "/api/v1/datasets/{dataset_id}/subscription"): signed_in(
        lambda lv, who: metadata(lv, who, ok=204)
    ),
}
# Routes listing datasets: checked by whether the dataset appears (see test_lists_and_dcat).
LISTING_ROUTES = {
    ("GET", "/api/v1/datasets"),
    ("GET", "/api/v1/catalog/dcat"),
    ("GET", "/api/v1/catalog/dcat.jsonld"),
    ("GET", "/api/v1/catalog/dcat.ttl"),
    ("GET", "/api/v1/catalog/dcat.rdf"),
}
CREATE_ROUTE = ("POST", "/api/v1/datasets")


def dataset_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every operation the app serves on a dataset, from its own OpenAPI document (FastAPI
    nests included routers, so the schema is the reliable list of what is mounted)."""
    found = set()
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if "dataset" in path or "access-request" in path or "catalog" in path:
            found.update((method.upper(), path) for method in operations)
    return found


def test_every_dataset_route_has_a_rule(client: TestClient) -> None:
    routes = dataset_routes(client)
    # The rules name real routes (so this test cannot pass on an empty list)...
    assert set(RULES) | LISTING_ROUTES | {CREATE_ROUTE} <= routes
    # ...and every dataset route has a rule.
    unruled = routes - set(RULES) - LISTING_ROUTES - {CREATE_ROUTE}
    assert not unruled, f"routes without an access rule: {sorted(unruled)}"


@pytest.fixture
def world(client: TestClient, make_user: Callable[..., Persona], admin: Persona) -> World:
    return build_world(client, make_user, admin)


def call(world: World, method: str, path: str, who: str, level: str) -> tuple[int, str]:
    """Perform one route as ``who`` on a fresh dataset of ``level``; returns status and body."""
    client, producer = world.client, world.personas["producer"]
    assert producer is not None
    dataset_id = world.create_dataset(level)
    world.grant(dataset_id, "grantee")
    url = path.replace("{dataset_id}", dataset_id).replace("{number}", "1")
    body: dict[str, object] | None = None
    content: bytes | None = None
    headers = dict(world.headers(who))
    if "{grant_id}" in path:
        url = url.replace("{grant_id}", str(world.grant(dataset_id, "member")))
    if "{request_id}" in path:
        member = world.personas["non_member"]
        assert member is not None
        filed = client.post(
            f"/api/v1/datasets/{dataset_id}/access-requests",
            json={"purpose": "Plan climat"},
            headers=member.headers,
        )
        assert filed.status_code == 201, filed.text
        url = url.replace("{request_id}", str(filed.json()["id"]))
    if method == "PATCH":
        body = {"description": "mise à jour"}
    elif path.endswith("/grants"):
        body = {"organization": "commune-aytre"} if method == "POST" else None
    elif path.endswith("/access-requests") and method == "POST":
        body = {"purpose": "Étude de trajectoire"}
    elif path.endswith("/versions") and method == "POST":
        content = f"site;kwh\nC;{len(who)},5\n".encode()
        headers["Content-Type"] = "text/csv"
    response = client.request(method, url, json=body, content=content, headers=headers)
    return response.status_code, response.text


@pytest.mark.parametrize("level", ["open", "shared", "restricted"])
def test_access_matrix(world: World, level: str) -> None:
    failures = []
    for (method, path), rule in sorted(RULES.items()):
        for who in PERSONAS:
            expected = rule(level, who)
            status, text = call(world, method, path, who, level)
            if status != expected:
                failures.append(f"{method} {path} as {who}: {status} != {expected}: {text[:120]}")
            if status >= 400:
                # A refusal never carries the data: the rows' marker values are absent.
                assert "1,5" not in text, (method, path, who)
                assert "1.5" not in text, (method, path, who)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("level", ["open", "shared", "restricted"])
def test_lists_and_dcat(world: World, level: str) -> None:
    dataset_id = world.create_dataset(level)
    world.grant(dataset_id, "grantee")
    for who in PERSONAS:
        visible = TABLE[level][who][0] == 200
        listed = world.client.get("/api/v1/datasets", headers=world.headers(who)).json()
        assert (dataset_id in {d["id"] for d in listed["data"]}) is visible, (who, level)
        searched = world.client.get(
            "/api/v1/datasets?q=consommations", headers=world.headers(who)
        ).json()
        assert (dataset_id in {d["id"] for d in searched["data"]}) is visible, (who, level)
        # The DCAT catalogue lists what the caller may read: harvesters never republish a
        # shared dataset as open data (contract §9).
        readable = TABLE[level][who][1] == 200
        for path in ("/api/v1/catalog/dcat", "/api/v1/catalog/dcat.ttl"):
            dcat = world.client.get(path, headers=world.headers(who))
            graph = Graph().parse(
                data=dcat.content,
                format="json-ld" if "ld" in dcat.headers["content-type"] else "turtle",
            )
            ids = {
                str(graph.value(d, DCTERMS.identifier))
                for d in graph.subjects(RDF.type, DCAT.Dataset)
            }
            assert (dataset_id in ids) is readable, (who, level, path)


# --- the web pages (contract §7: a page shows exactly what the API gives the same caller) ------

WEB_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/datasets/{dataset_id}"): metadata,
    ("POST", "/datasets/{dataset_id}/access-requests"): lambda lv, who: (
        401 if who == "anonymous" else metadata(lv, who, ok=303)
    ),
    # The forms of /access-requests: the API's rules for the same actions (303: done).
    ("POST", "/access-requests/{request_id}/approve"): lambda lv, who: manage(lv, who, 303),
    ("POST", "/access-requests/{request_id}/deny"): lambda lv, who: manage(lv, who, 303),
    ("POST", "/datasets/{dataset_id}/grants/{grant_id}/revoke"): lambda lv, who: manage(
        lv, who, 303
    ),
}
#: Pages listing datasets (or, for /access-requests, the requests on them): checked by whether
#: the dataset appears.
WEB_LISTINGS = {("GET", "/datasets"), ("GET", "/"), ("GET", "/access-requests")}


def manage_page(level: str, who: str) -> int:
    """A producer's form: as ``manage``, but an anonymous visitor is sent to sign in."""
    status = manage(level, who, 200)
    return 303 if status == 401 else status


def publish_page(who: str, ok: int) -> int:
    """Creating a dataset (no dataset yet): producers and admins, as ``POST /api/v1/datasets``."""
    if who in ("producer", "admin"):
        return ok
    return 401 if who == "anonymous" else 403


# The producers' pages (contract §7), each as its API route would answer the same caller.
WEB_PUBLISH_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/datasets/{dataset_id}/upload"): manage_page,
    ("POST", "/datasets/{dataset_id}/upload"): lambda lv, who: manage(lv, who, 303),
    ("GET", "/datasets/{dataset_id}/edit"): manage_page,
    ("POST", "/datasets/{dataset_id}/edit"): lambda lv, who: manage(lv, who, 303),
    ("GET", "/datasets/{dataset_id}/delete"): manage_page,
    ("POST", "/datasets/{dataset_id}/delete"): lambda lv, who: manage(lv, who, 200),
    ("GET", "/datasets/{dataset_id}/versions/{number}"): metadata,
    # A job is its creator's (and the admins'), as GET /api/v1/jobs/{id}: 404 for anyone else.
    ("GET", "/datasets/{dataset_id}/upload/jobs/{job_id}"): lambda lv, who: (
        200 if who in ("producer", "admin") else 404
    ),
}
WEB_CREATE_RULES: dict[tuple[str, str], Callable[[str], int]] = {
    ("GET", "/datasets/new"): lambda who: 303 if who == "anonymous" else publish_page(who, 200),
    ("GET", "/datasets/new/territories"): lambda who: (
        303 if who == "anonymous" else publish_page(who, 200)
    ),
    ("POST", "/datasets/new"): lambda who: publish_page(who, 303),
}


def web_dataset_routes() -> set[tuple[str, str]]:
    """Every page route about datasets, from the page families the web interface mounts."""
    found = set()
    for module in PAGE_MODULES:
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            if "dataset" in route.path or "access-request" in route.path or route.path == "/":
                found.update((method, route.path) for method in route.methods)
    return found


def test_every_web_dataset_route_has_a_rule() -> None:
    routes = web_dataset_routes()
    ruled = set(WEB_RULES) | WEB_LISTINGS | set(WEB_PUBLISH_RULES) | set(WEB_CREATE_RULES)
    assert ruled <= routes
    assert not routes - ruled, sorted(routes - ruled)


def _csrf(world: World) -> str:
    """A CSRF token of the client's session (any page with a form hands one out)."""
    page = world.client.get("/login").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("level", ["open", "shared", "restricted"])
def test_web_pages_follow_the_access_table(world: World, level: str) -> None:
    failures = []
    for who in PERSONAS:
        dataset_id = world.create_dataset(level)
        world.grant(dataset_id, "grantee")
        headers = world.headers(who)
        page = world.client.get(f"/datasets/{dataset_id}", headers=headers)
        expected = WEB_RULES[("GET", "/datasets/{dataset_id}")](level, who)
        if page.status_code != expected:
            failures.append(f"page as {who}: {page.status_code} != {expected}")
        # The rows' marker values (1,5 and 2,5) are in the page exactly when the data may be read.
        readable = data(level, who) == 200
        for marker in ("1,50", "2,50"):
            if (marker in page.text) is not readable:
                failures.append(f"page as {who}: {marker!r} shown={not readable}")
        if page.status_code == 404:
            assert "Consommations" not in page.text, who  # not even its title
        for listing in ("/datasets", "/"):
            shown = dataset_id in world.client.get(listing, headers=headers).text
            if shown is not (TABLE[level][who][0] == 200):
                failures.append(f"{listing} as {who}: listed={shown}")
        posted = world.client.post(
            f"/datasets/{dataset_id}/access-requests",
            data={"purpose": "Plan climat", "csrf": _csrf(world)},
            headers=headers,
            follow_redirects=False,
        )
        expected = WEB_RULES[("POST", "/datasets/{dataset_id}/access-requests")](level, who)
        if posted.status_code != expected:
            failures.append(f"access request as {who}: {posted.status_code} != {expected}")
    assert not failures, "\n".join(failures)


def _web_call(world: World, method: str, path: str, who: str, level: str) -> int:
    """One producer's page as ``who`` on a fresh dataset of ``level``; returns the status."""
    client, producer = world.client, world.personas["producer"]
    assert producer is not None
    dataset_id = world.create_dataset(level)
    world.grant(dataset_id, "grantee")
    url = path.replace("{dataset_id}", dataset_id).replace("{number}", "1")
    if "{job_id}" in path:  # the producer's own upload job, stored by the job thread
        queued = client.post(
            f"/datasets/{dataset_id}/upload",
            data={"csrf": _csrf(world), "tache": "1"},
            files={"file": ("b.csv", b"site;kwh\nC;3,5\n", "text/csv")},
            headers=producer.headers,
            follow_redirects=False,
        )
        assert queued.status_code == 303, queued.text
        url = queued.headers["location"]
    headers = world.headers(who)
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False).status_code
    data = {"csrf": _csrf(world)}
    files = None
    if path.endswith("/upload"):
        files = {"file": ("a.csv", f"site;kwh\nC;{len(who)},5\n".encode(), "text/csv")}
    elif path.endswith("/edit"):
        data |= {"title": "Titre revu", "licence": LICENCE_OF_LEVEL[level]}
    elif path.endswith("/delete"):
        data |= {"confirm": "oui"}
    posted = client.post(url, data=data, files=files, headers=headers, follow_redirects=False)
    return posted.status_code


@pytest.mark.parametrize("level", ["open", "shared", "restricted"])
def test_producers_pages_follow_the_access_table(world: World, level: str) -> None:
    failures = []
    for (method, path), rule in sorted(WEB_PUBLISH_RULES.items()):
        for who in PERSONAS:
            expected = rule(level, who)
            status = _web_call(world, method, path, who, level)
            if status != expected:
                failures.append(f"{method} {path} as {who}: {status} != {expected}")
    assert not failures, "\n".join(failures)


def test_the_new_dataset_pages_follow_the_create_rule(world: World) -> None:
    failures = []
    for (method, path), rule in sorted(WEB_CREATE_RULES.items()):
        for who in PERSONAS:
            headers = world.headers(who)
            if method == "GET":
                status = world.client.get(path, headers=headers, follow_redirects=False)
            else:
                body = {"title": f"Créé par {who}", "licence": "etalab-2.0", "csrf": _csrf(world)}
                status = world.client.post(path, data=body, headers=headers, follow_redirects=False)
            if status.status_code != rule(who):
                failures.append(f"{method} {path} as {who}: {status.status_code} != {rule(who)}")
    assert not failures, "\n".join(failures)


def _web_form(world: World, who: str, path: str, level: str) -> int:
    """Submit one /access-requests form as ``who`` on a fresh dataset of ``level``."""
    client, producer = world.client, world.personas["producer"]
    assert producer is not None
    dataset_id = world.create_dataset(level)
    world.grant(dataset_id, "grantee")
    url = path.replace("{dataset_id}", dataset_id)
    if "{grant_id}" in path:
        url = url.replace("{grant_id}", str(world.grant(dataset_id, "member")))
    if "{request_id}" in path:
        filed = client.post(
            f"/api/v1/datasets/{dataset_id}/access-requests",
            json={"purpose": "Plan climat"},
            headers=world.headers("non_member"),
        )
        assert filed.status_code == 201, filed.text
        url = url.replace("{request_id}", str(filed.json()["id"]))
    form = {"csrf": _csrf(world), "reason": "hors périmètre"}
    response = client.post(url, data=form, headers=world.headers(who), follow_redirects=False)
    if response.status_code >= 400:
        assert "1,5" not in response.text, (path, who)
    return response.status_code


@pytest.mark.parametrize("level", ["open", "shared", "restricted"])
def test_web_access_forms_and_listing_follow_the_access_table(world: World, level: str) -> None:
    failures = []
    forms = [key for key in WEB_RULES if key[1].startswith("/access-requests/")]
    forms.append(("POST", "/datasets/{dataset_id}/grants/{grant_id}/revoke"))
    for method, path in forms:
        for who in PERSONAS:
            expected = WEB_RULES[(method, path)](level, who)
            status = _web_form(world, who, path, level)
            if status != expected:
                failures.append(f"{method} {path} as {who}: {status} != {expected}")
    # /access-requests lists a dataset's requests and grants to those who manage it only.
    dataset_id = world.create_dataset(level)
    world.grant(dataset_id, "grantee")
    for who in PERSONAS:
        page = world.client.get(
            "/access-requests", headers=world.headers(who), follow_redirects=False
        )
        if who == "anonymous":
            if page.status_code != 303:
                failures.append(f"/access-requests as anonymous: {page.status_code} != 303")
            continue
        listed = f'href="/datasets/{dataset_id}"' in page.text
        if page.status_code != 200 or listed is not (who in ("producer", "admin")):
            failures.append(f"/access-requests as {who}: {page.status_code}, listed={listed}")
    assert not failures, "\n".join(failures)


#: The account pages are about the caller, not a dataset: (anonymous, signed-in by a token).
WEB_ACCOUNT_RULES: dict[tuple[str, str], tuple[int, int]] = {
    ("GET", "/me"): (303, 200),
    # Tokens are minted from a password session only, never by another token.
    ("POST", "/me/tokens"): (401, 403),
    # Another user's token is not found, as it would not be for its owner's own id.
    ("POST", "/me/tokens/{token_id}/revoke"): (401, 404),
}


def test_web_account_pages_follow_their_rules(world: World) -> None:
    account_routes = {
        (method, route.path)
        for module in PAGE_MODULES
        for route in module.router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/me")
        for method in route.methods
    }
    assert account_routes == set(WEB_ACCOUNT_RULES)
    other = world.personas["admin"]
    assert other is not None
    listed = world.client.get("/api/v1/users/1/tokens", headers=other.headers).json()
    someone_elses = listed["data"][0]["id"]
    failures = []
    for (method, path), (anonymous, signed_in) in WEB_ACCOUNT_RULES.items():
        url = path.replace("{token_id}", str(someone_elses))
        for who in PERSONAS:
            expected = anonymous if who == "anonymous" else signed_in
            if who == "admin" and "{token_id}" in path:
                continue  # the admin's own token: revoking it is the owner's right
            response = world.client.request(
                method,
                url,
                data={"csrf": _csrf(world), "label": "x"} if method == "POST" else None,
                headers=world.headers(who),
                follow_redirects=False,
            )
            if response.status_code != expected:
                failures.append(f"{method} {path} as {who}: {response.status_code} != {expected}")
    assert not failures, "\n".join(failures)


STAFF = frozenset({"auditor", "admin"})


ADMIN_ONLY = frozenset({"admin"})


WEB_ROLE_RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/governance"): STAFF,
    ("GET", "/governance/events.csv"): STAFF,
    ("POST", "/governance/verify"): STAFF,
    ("GET", "/admin"): ADMIN_ONLY,
    ("POST", "/admin/organizations"): ADMIN_ONLY,
    ("POST", "/admin/organizations/{org_id}/membership"): ADMIN_ONLY,
    ("POST", "/admin/users"): ADMIN_ONLY,
    ("POST", "/admin/users/{user_id}/invitation"): ADMIN_ONLY,
    ("POST", "/admin/users/{user_id}/role"): ADMIN_ONLY,
    ("POST", "/admin/users/{user_id}/disabled"): ADMIN_ONLY,
    ("POST", "/admin/reference/{kind}"): ADMIN_ONLY,
}


def web_role_routes() -> set[tuple[str, str]]:
    found = set()
    for module in PAGE_MODULES:
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            if route.path.startswith(("/governance", "/admin")):
                found.update((method, route.path) for method in route.methods)
    return found


def test_every_role_gated_page_has_a_rule() -> None:
    assert web_role_routes() == set(WEB_ROLE_RULES)


def test_role_gated_pages_follow_their_rule(world: World) -> None:
    member = world.personas["member"]
    assert member is not None
    users = world.client.get("/api/v1/users", headers=world.headers("admin")).json()["data"]
    target = next(u["id"] for u in users if u["email"] == member.email)
    bodies: dict[str, dict[str, object]] = {
        "/admin/organizations": {"name": "Nouvelle"},
        "/admin/users": {"organization": "commune-aytre", "role": "analyst"},
        "/admin/users/{user_id}/role": {"role": "analyst"},
    }
    failures = []
    for n, ((method, path), roles) in enumerate(sorted(WEB_ROLE_RULES.items())):
        url = path.format(org_id="bureau-prive", user_id=target, kind="emission_factors")
        for who in PERSONAS:
            persona = world.personas[who]
            data: dict[str, object] = {"csrf": _csrf(world), **bodies.get(path, {})}
            if path == "/admin/organizations":
                data["id"] = f"org-{n}-{who}".replace("_", "-")
            if path == "/admin/users":
                data["email"] = f"new-{who}@matrix.example.org"
            response = world.client.request(
                method,
                url,
                headers=world.headers(who),
                data=data if method == "POST" else None,
                follow_redirects=False,
            )
            if persona is None:
                ok = response.status_code == 303 and response.headers["location"].startswith(
                    "/login?next="
                )
            elif persona.role in roles:
                ok = response.status_code in (200, 201, 303)
            else:
                ok = response.status_code == 403
            if not ok:
                failures.append(f"{method} {path} as {who}: {response.status_code}")
    assert not failures, "\n".join(failures)
