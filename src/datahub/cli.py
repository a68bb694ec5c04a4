"""The command-line composition root (typer): ``datahub --help``."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from datahub.accounts import service as accounts
from datahub.accounts.caller import ROLES, Caller, RequestContext
from datahub.accounts.schemas import OrganizationCreate, UserCreate
from datahub.audit import sealing
from datahub.db import migrate
from datahub.errors import DatahubError, NotFound
from datahub.ingest import jobs, queue, registry
from datahub.ingest import worker as worker_loop
from datahub.ingest.contract import ConnectorError, parameters_schema
from datahub.notifications.alerts import verify_chain
from datahub.runtime import Runtime, build_runtime
from datahub.settings import Settings

app = typer.Typer(help="datahub: open-data hub for territories working towards carbon neutrality.")
db_app = typer.Typer(help="Database schema.")
orgs_app = typer.Typer(help="Organisations.")
users_app = typer.Typer(help="Users and their API tokens.")
connectors_app = typer.Typer(help="Connectors: import territories, actors and datasets upstream.")
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(connectors_app, name="connectors")

err = Console(stderr=True, soft_wrap=True)  # one message, one line (no wrapping at 80)


def _runtime() -> Runtime:
    settings = Settings()
    migrate.upgrade(settings.database_url)
    return build_runtime(settings)


#: A mistake in what was typed exits 2, like a usage error; anything else (a failing upstream,
#: a broken audit chain) exits 1.
USAGE_ERROR = 2


def _fail(exc: DatahubError) -> typer.Exit:
    """One line saying what is wrong (4xx: the command line's mistake, exit 2)."""
    line = exc.detail or exc.title
    if exc.errors:
        first = exc.errors[0]
        more = f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        line += f" — {first.field}: {first.message}{more}"
    err.print(f"[red]error:[/red] {escape(line)}")
    return typer.Exit(code=USAGE_ERROR if exc.status < 500 else 1)


#: How the command line names a model field, and what a valid value looks like.
_ARGUMENTS = {"id": "ID", "email": "EMAIL", "organization_id": "--org"}
_EXAMPLES = {
    "id": "a lowercase slug of letters, digits, '-' or '_', e.g. cda-la-rochelle",
    "siren": "a SIREN is 9 digits, e.g. 241700434",
    "email": "an e-mail address such as ana@cda.example.org",
}


def _invalid(exc: ValidationError) -> typer.Exit:
    problem = exc.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else ""
    name = _ARGUMENTS.get(field, "--" + field.replace("_", "-"))
    fix = _EXAMPLES.get(field, problem["msg"])
    err.print(f"[red]error:[/red] {escape(name)} {problem['input']!r} is not valid: {escape(fix)}")
    return typer.Exit(code=USAGE_ERROR)


def _friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """No traceback for a mistake on the command line: one line and exit status 2."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DatahubError as exc:
            raise _fail(exc) from None
        except ValidationError as exc:
            raise _invalid(exc) from None

    return run


def _guard(group: typer.Typer) -> None:
    for command in group.registered_commands:
        if command.callback is not None:
            command.callback = _friendly(command.callback)
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _guard(sub.typer_instance)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    graceful_timeout: Annotated[
        int | None,
        typer.Option(
            help="Seconds in-flight requests get to finish on SIGTERM "
            "[default: DATAHUB_GRACEFUL_TIMEOUT, 60]."
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies trusted for X-Forwarded-* headers "
            "[default: DATAHUB_FORWARDED_ALLOW_IPS, 127.0.0.1]."
        ),
    ] = None,
) -> None:
    """Run the API (applies pending migrations first). SIGTERM stops it gracefully, exit 0."""
    import inspect
    import os
    import signal
    import tempfile
    from pathlib import Path

    import uvicorn

    from datahub import observability
    from datahub.api import logs

    settings = Settings()
    if "base_url" not in settings.model_fields_set:
        # Links (licences, DCAT, the API index) name the address served, unless configured.
        os.environ["DATAHUB_BASE_URL"] = _served_url(host, port)
    logs.configure(settings.log_json)
    if settings.migrate_on_start:
        migrate.upgrade(settings.database_url)
    _recover(settings)
    # Workers must share one metrics folder, known before they import prometheus_client.
    multiproc = observability.multiprocess_dir()
    if multiproc is None and workers > 1:
        multiproc = Path(tempfile.mkdtemp(prefix="datahub-metrics-"))
        os.environ[observability.MULTIPROC_ENV] = str(multiproc)
    if multiproc is not None:
        observability.reset_multiprocess_dir(multiproc)

    # uvicorn drains in-flight requests on SIGTERM, then re-raises the signal with the handler
    # found on start: make that a clean exit so supervisors see 0, not "killed by SIGTERM".
    def _stopped(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stopped)
    # Each worker process re-imports this module before answering the supervisor's health
    # check (5 s by default): give slow or busy hosts room so workers are not killed at birth.
    extra: dict[str, Any] = {}
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        extra["timeout_worker_healthcheck"] = 30
    err.print(f"datahub API on http://{host}:{port}/api/v1 — docs at http://{host}:{port}/docs")
    uvicorn.run(
        "datahub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips or settings.forwarded_allow_ips,
        timeout_graceful_shutdown=(
            settings.graceful_timeout if graceful_timeout is None else graceful_timeout
        ),
        log_config=None,
        **extra,
    )


def _served_url(host: str, port: int) -> str:
    """The URL clients reach ``serve --host H --port P`` at (a wildcard host: this machine)."""
    import socket

    if host in {"", "0.0.0.0", "::"}:
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _recover(settings: Settings) -> None:
    """Clean what a crashed process may have left before serving (see bootstrap.recover_storage)."""
    from datahub import bootstrap

    runtime = build_runtime(settings)
    try:
        removed = bootstrap.recover_storage(
            runtime, older_than=timedelta(minutes=settings.orphan_grace_minutes)
        )
    finally:
        runtime.close()
    if removed:
        err.print(f"removed {len(removed)} stored file(s) left by an interrupted upload")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply Alembic migrations (safe to run from several hosts at once)."""
    from alembic.util import CommandError

    try:
        migrate.upgrade(Settings().database_url, revision)
    except CommandError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}; give head or a revision id")
        raise typer.Exit(code=USAGE_ERROR) from None
    err.print(f"database at {revision}")


@orgs_app.command("create")
def orgs_create(
    org_id: Annotated[str, typer.Argument(metavar="ID", help="Organisation id (slug).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    member: Annotated[bool, typer.Option(help="Signatory of the data-sharing charter.")] = False,
    siren: Annotated[str | None, typer.Option(help="SIREN number.")] = None,
) -> None:
    """Create an organisation."""
    data = OrganizationCreate(id=org_id, name=name, member=member, siren=siren)
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            accounts.register_organization(session, data, accounts.system_actor("cli"), via="cli")
    finally:
        runtime.close()
    err.print(f"organisation {org_id} created")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="E-mail address.")],
    org: Annotated[str, typer.Option(help="Organisation id.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
) -> None:
    """Create a user; prints a new API token alone on the last line of stdout."""
    if role not in ROLES:
        err.print(f"[red]error:[/red] --role {role!r} is unknown: use one of {', '.join(ROLES)}")
        raise typer.Exit(code=USAGE_ERROR)
    data = UserCreate(email=email, organization_id=org, role=role)
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            _user, token = accounts.register_user(
                session, data, accounts.system_actor("cli"), via="cli"
            )
    finally:
        runtime.close()
    err.print(f"user {email} ({role}) created in {org}; the token below is shown only once")
    typer.echo(token)


@users_app.command("token")
def users_token(
    email: Annotated[str, typer.Argument(help="E-mail address of an existing user.")],
) -> None:
    """Issue a new API token for an existing user; prints it alone on the last line of stdout."""
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            user = accounts.get_user_by_email(session, email)
            token = accounts.issue_token(session, user, accounts.system_actor("cli"), via="cli")
    finally:
        runtime.close()
    err.print(f"new token for {email}; it is shown only once (earlier tokens still work)")
    typer.echo(token)


@users_app.command("invite")
def users_invite(email: Annotated[str, typer.Argument(help="E-mail of an existing user.")]) -> None:
    """Print a one-time link (valid `DATAHUB_INVITATION_DAYS`) to set a web sign-in password."""
    from datahub.accounts import signin

    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            token = signin.invite_user(
                session,
                email,
                accounts.system_actor("cli"),
                days=runtime.settings.invitation_days,
                via="cli",
            )
    except DatahubError as exc:
        raise _fail(exc) from None
    finally:
        runtime.close()
    err.print(f"send this link to {email}; it works once")
    typer.echo(f"{runtime.settings.base_url.rstrip('/')}/invitation/{token}")


# --- connectors -------------------------------------------------------------------------------

CONNECTORS_ORG = "datahub-connectors"
CONNECTORS_ORG_NAME = "Connecteurs datahub"


def _schema_type(prop: dict[str, Any]) -> str:
    """A short type name for a JSON-schema property: ``string``, ``list[string]``, ``int?``."""
    if "enum" in prop:
        return "|".join(str(v) for v in prop["enum"])
    if "anyOf" in prop:
        kinds = [_schema_type(p) for p in prop["anyOf"] if p.get("type") != "null"]
        optional = any(p.get("type") == "null" for p in prop["anyOf"])
        return "|".join(kinds) + ("?" if optional else "")
    kind = prop.get("type")
    if kind == "array":
        return f"list[{_schema_type(prop.get('items', {}))}]"
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    return str(kind or "any")


def _is_list(prop: dict[str, Any]) -> bool:
    options = prop.get("anyOf", [prop])
    return any(option.get("type") == "array" for option in options)


def _parameter_lines(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    lines = []
    for name, prop in schema.get("properties", {}).items():
        line = f"{name}: {_schema_type(prop)}"
        if name in required:
            line += " (required)"
        elif "default" in prop:
            line += f" = {prop['default']!r}"
        lines.append(line)
    return escape("\n".join(lines))


@connectors_app.command("list")
def connectors_list() -> None:
    """List the installed connectors with their licence and parameters."""
    table = Table(title="Connectors", show_lines=True)
    table.add_column("name", no_wrap=True)
    table.add_column("licence", no_wrap=True)
    table.add_column("parameters", overflow="fold")
    table.add_column("description")
    for connector in registry.all():
        table.add_row(
            connector.name,
            connector.licence,
            _parameter_lines(parameters_schema(connector)),
            connector.description,
        )
    Console().print(table)


def _parse_params(values: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    """``k=v`` pairs; a list parameter takes comma-separated values."""
    properties = schema.get("properties", {})
    params: dict[str, Any] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            err.print(f"[red]error:[/red] --param must be key=value, got {pair!r}")
            raise typer.Exit(code=2)
        key = key.strip()
        if _is_list(properties.get(key, {})):
            params[key] = [item.strip() for item in value.split(",") if item.strip()]
        else:
            params[key] = value
    return params


def _system_context(runtime: Runtime, org: str | None, name: str) -> RequestContext:
    """The CLI runs connectors as an admin of ``org`` (default: the connectors' organisation)."""
    with runtime.transaction() as session:
        if org is not None:
            organization = accounts.get_organization(session, org)
        else:
            try:
                organization = accounts.get_organization(session, CONNECTORS_ORG)
            except NotFound:
                organization = accounts.create_organization(
                    session,
                    OrganizationCreate(id=CONNECTORS_ORG, name=CONNECTORS_ORG_NAME, member=True),
                )
        caller = Caller(
            organization_id=organization.id,
            organization_member=organization.member,
            role="admin",
        )
    return RequestContext(
        caller=caller, request_id=f"cli-{uuid.uuid4().hex[:12]}", purpose=f"connector run {name}"
    )


@connectors_app.command("run")
def connectors_run(
    name: Annotated[str, typer.Argument(help="Connector name (see `datahub connectors list`).")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter as key=value; repeat for several."),
    ] = None,
    org: Annotated[
        str | None,
        typer.Option(help=f"Producing organisation of new datasets (default: {CONNECTORS_ORG})."),
    ] = None,
) -> None:
    """Run a connector now, with a progress bar; nothing is stored if it fails."""
    runtime = _runtime()
    try:
        connector = registry.get(name)
        params = _parse_params(param or [], parameters_schema(connector))
        ctx = _system_context(runtime, org, name)
        job = jobs.prepare_connector_run(runtime, name, params, ctx)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=False) as bar:
            task = bar.add_task(name, total=None)

            def show(done: int, total: int | None, message: str) -> None:
                bar.update(task, completed=done, total=total, description=f"{name}: {message}")

            job = jobs.execute_connector_run(runtime, job.id, job.name, job.params, ctx, show)
    finally:
        runtime.close()
    if job.state != "succeeded":
        err.print(f"[red]error:[/red] {job.error}")
        raise typer.Exit(code=1)
    out = Console()
    versions = job.result.get("versions", [])
    if versions:
        table = Table(title="Versions")
        for column in ("dataset", "version", "new"):
            table.add_column(column)
        for item in versions:
            new = "yes" if item["created"] else "no (same bytes as the current version)"
            table.add_row(escape(item["dataset"]), str(item["version"]), new)
        out.print(table)
    out.print(
        f"{len(versions)} version(s), {job.result.get('territories', 0)} territories, "
        f"{job.result.get('actors', 0)} actors (job {job.id})"
    )
    for warning in job.result.get("warnings", []):
        err.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option(help="Run the jobs queued now, then exit (cron, tests).")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks at an empty queue.")
    ] = 2.0,
) -> None:
    """Run queued jobs (DATAHUB_JOB_QUEUE=database); SIGTERM ends it after the current job."""
    import signal
    import threading

    from datahub.api import logs

    settings = Settings()
    logs.configure(settings.log_json)
    if settings.job_queue != "database":
        err.print(
            "[yellow]warning:[/yellow] DATAHUB_JOB_QUEUE is 'inline': API processes with this "
            "setting run their jobs themselves; this worker runs those queued with 'database'"
        )
    runtime = _runtime()
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        err.print("stopping after the current job")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    def report(job: jobs.JobRead) -> None:
        outcome = job.progress.message if job.state == "succeeded" else job.error
        err.print(f"job {job.id} ({job.name}) {job.state}: {escape(outcome or '')}")

    err.print(f"datahub worker {queue.worker_id()} waiting for jobs")
    try:
        ran = worker_loop.work(
            runtime, stop, once=once, poll_interval=poll_interval, on_done=report
        )
    finally:
        runtime.close()
    err.print(f"worker stopped after {ran} job(s)")


audit_app = typer.Typer(help="The audit log of licence use.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain and its seals; exit status 1 naming the first broken event."""
    runtime = _runtime()
    try:
        # A broken chain is mailed to the auditors by a serving process.
        verdict = verify_chain(runtime.read_session, runtime.transaction, runtime.seals)
        with runtime.read_session() as session:
            seals = sealing.count_seals(session)
    finally:
        runtime.close()
    if verdict.valid:
        typer.echo(f"audit chain valid: {verdict.events} events, {seals} seal(s)")
        return
    typer.echo(
        f"audit chain BROKEN at event {verdict.first_broken}: {verdict.reason} "
        f"({verdict.events} events read)"
    )
    raise typer.Exit(code=1)


@audit_app.command("seal")
def audit_seal() -> None:
    """Sign the audit chain's head now with the key in DATAHUB_AUDIT_KEY_FILE (created if new)."""
    runtime = _runtime()
    try:
        made = sealing.seal(runtime.transaction, runtime.seals)
    finally:
        runtime.close()
    if made is None:
        err.print("the audit log is empty: nothing to seal")
        return
    typer.echo(
        f"sealed event {made.seq} ({made.hash}) at {made.sealed_at.isoformat()} "
        f"with key {made.key_fingerprint}"
    )


def _transfer(action: str, folder: Path) -> None:
    from datahub import transfer

    run = transfer.export_instance if action == "export" else transfer.import_instance
    runtime = _runtime()
    try:
        with Progress(console=err) as bar:
            task = bar.add_task(action, total=None)
            manifest = run(
                runtime, folder, lambda what, n: bar.update(task, description=f"{what}: {n}")
            )
    finally:
        runtime.close()
    records = sum(manifest["tables"].values())
    err.print(f"{action}ed {records} records and {manifest['files']} files")


@app.command("export")
def export_command(
    folder: Annotated[Path, typer.Argument(help="Empty (or new) folder to write the export to.")],
) -> None:
    """Export the whole instance (database and files) to a folder."""
    _transfer("export", folder)


@app.command("import")
def import_command(
    folder: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, help="A folder written by `datahub export`."),
    ],
) -> None:
    """Import an export into this (empty) instance, e.g. SQLite → PostgreSQL/S3."""
    _transfer("import", folder)


# --- demo and carbon --------------------------------------------------------------------------

carbon_app = typer.Typer(help="Carbon engine: the pre-aggregated facts behind trajectories.")
app.add_typer(carbon_app, name="carbon")


@app.command()
def demo() -> None:
    """Load the bundled demo territory (CDA La Rochelle) with sample datasets, and the communes'
    outlines from IGN when the network answers; safe to rerun."""
    from datahub.demo.loader import EPCI, load_demo
    from datahub.demo.outlines import LATER, load_outlines

    runtime = _runtime()
    try:
        report = load_demo(runtime)
        outlines = load_outlines(runtime)
    finally:
        runtime.close()
    new_versions = sum(1 for created in report.versions.values() if created)
    err.print(
        f"demo loaded: {len(report.created)} object(s) created, {new_versions} new dataset "
        f"version(s), {len(outlines.loaded)} outline(s) from IGN ADMIN EXPRESS; "
        f"try /territories/{EPCI}"
    )
    if outlines.error is not None:
        err.print(
            f"outlines not loaded (IGN Géoplateforme unreachable: {escape(outlines.error)}): "
            f"the dashboard map stays empty; {LATER}"
        )


@carbon_app.command("reindex")
def carbon_reindex() -> None:
    """Rebuild every carbon fact from the current versions (run after a hierarchy change)."""
    from datahub.carbon.indexing import reindex

    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            done = reindex(session)
    finally:
        runtime.close()
    err.print(f"{len(done)} dataset(s) reindexed, {sum(done.values())} fact(s) at their territory")


@app.command("init")
def init_command(
    territory: Annotated[str, typer.Option(help="The instance's territory, e.g. epci:241700434.")],
    name: Annotated[str, typer.Option(help="Instance (and administrators' organisation) name.")],
    admin_email: Annotated[str, typer.Option(help="E-mail of the first administrator.")] = (
        "admin@datahub.example"
    ),
    target_year: Annotated[int, typer.Option(help="Year of carbon neutrality.")] = 2050,
    reference_year: Annotated[int, typer.Option(help="Reference year of the target.")] = 2019,
    from_file: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Territories GeoJSON (as GET /territories?format=geojson) for offline set-up.",
        ),
    ] = None,
) -> None:
    """Set up an instance for a territory; running it again changes nothing."""
    from datahub import bootstrap

    settings = Settings()
    values = {
        "DATAHUB_INSTANCE_NAME": name,
        "DATAHUB_DATABASE_URL": settings.database_url,
        "DATAHUB_STORAGE_URL": settings.storage_url,
    }
    if settings.s3_endpoint_url:
        values["DATAHUB_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    written = bootstrap.write_config(Path(".env"), values)

    def show_token(token: str | None) -> None:
        # Printed as soon as the administrator is committed: a failing fetch cannot lose it.
        if token is None:
            err.print(
                f"administrator {admin_email} already exists; "
                f"`datahub users token {admin_email}` issues a new token"
            )
            return
        err.print(f"administrator {admin_email} created; the token below is shown only once")
        typer.echo(token)

    runtime = _runtime()
    try:
        report = bootstrap.init_instance(
            runtime,
            territory=territory,
            name=name,
            admin_email=admin_email,
            target_year=target_year,
            reference_year=reference_year,
            from_file=from_file,
            on_admin=show_token,
        )
    except ConnectorError as exc:
        err.print(
            f"[red]error:[/red] could not fetch the territories from IGN ({escape(exc.detail)}). "
            "Without network, run init again with --from-file FILE (a territories GeoJSON such "
            "as deploy/cda-la-rochelle-territories.geojson); the administrator is ready."
        )
        raise typer.Exit(code=1) from None
    finally:
        runtime.close()
    err.print(".env written" if written else ".env kept as it is")
    if report.storage_created:
        err.print(f"storage created: {settings.storage_url}")
    err.print(f"territories created: {len(report.territories_created)}")
    err.print("target set" if report.target_set else "target kept as it is")
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")


_guard(app)

if __name__ == "__main__":
    app()
