"""Instance settings, read from ``DATAHUB_*`` environment variables (and an optional ``.env``).

Settings are built once by the composition roots (``create_app``, the CLI) and passed down;
nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

GwpSet = Literal["ar4", "ar5", "ar6"]
JobQueue = Literal["inline", "database"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATAHUB_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./datahub.db",
        description="SQLAlchemy URL. SQLite file (embedded default) or postgresql+psycopg://...",
    )
    database_read_url: str | None = Field(
        None,
        description="A read replica of the database (PostgreSQL): GET routes read there; "
        "writes, and the audit events of reads, go to database_url.",
    )
    storage_url: str = Field(
        "file://./datahub-files",
        description="Where uploaded files live: file://<folder> or s3://<bucket>/<prefix>.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, Garage, moto...); AWS when unset."
    )
    temp_dir: str | None = Field(
        None,
        description="Folder for files on their way in (uploads, staged jobs), swept at start; "
        "default: `<storage folder>-tmp` beside local storage, else `<instance_name>-tmp` in "
        "the system temp folder.",
    )
    max_upload_mb: int = Field(1024, ge=1, description="Largest accepted upload, in MiB.")
    instance_name: str = Field(
        "datahub", description="Shown in the DCAT catalogue, the docs and the web pages' header."
    )
    territory: str | None = Field(
        None,
        description="The instance's territory (e.g. epci:241700434), whose figures the home page "
        "shows; when unset, the first EPCI (else département, region) known.",
    )
    brand_color: str = Field(
        "#000091",
        pattern=r"^#[0-9A-Fa-f]{6}$",
        description="Main colour of the web pages (links, buttons, header rule), as #rrggbb; "
        "keep a contrast of at least 4.5:1 on white.",
    )
    brand_logo_url: str | None = Field(
        None, description="Logo shown in the web pages' header (a path or URL of this instance)."
    )
    brand_terms: str = Field(
        "Chaque jeu de données est publié sous la licence indiquée sur sa page.",
        description="The instance's terms of use, shown in the web pages' footer.",
    )
    source_url: str | None = Field(
        None,
        description="Where this hub's source code (Apache-2.0) is published, linked in the "
        "footer (the licence text is linked either way).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs the web session cookies. When unset, a random key is generated once "
        "into `secret_key_file` and read from there.",
    )
    secret_key_file: str = Field(
        "./datahub-secret.key", description="Where the generated session key is kept (mode 0600)."
    )
    session_days: int = Field(7, ge=1, description="Days a web session stays signed in.")
    signin_per_minute: int = Field(
        5, ge=1, description="Sign-in attempts per minute from one client IP (then 429)."
    )
    invitation_days: int = Field(7, ge=1, description="Days an invitation link stays valid.")
    map_tiles_url: str | None = Field(
        None,
        description="Base map tiles for the dashboard map ({z}/{x}/{y} template, e.g. an "
        "intranet tile server); without it the map draws the territories' polygons alone.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public URL of the instance, used in licence URLs, DCAT and the API's links; "
        "`datahub serve` uses its --host/--port when this is not set.",
    )
    gwp: GwpSet = Field("ar5", description="Default GWP-100 set for gas masses.")
    secrecy_min_actors: int = Field(3, ge=1, description="Statistical secrecy: actors per cell.")
    secrecy_max_share: float = Field(
        0.85, gt=0, le=1, description="Statistical secrecy: largest share of one actor in a cell."
    )
    heating_share_residential: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Share of residential emissions that is heating (climate correction).",
    )
    heating_share_tertiary: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of tertiary emissions that is heating (climate correction).",
    )
    hdd_reference_from: int = Field(1991, description="First year of the HDD reference period.")
    hdd_reference_to: int = Field(2020, description="Last year of the HDD reference period.")
    connector_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts connectors may fetch although they are not public addresses "
        "(internal mirrors); every other private, loopback or link-local address is refused.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (off when empty)."
    )
    rate_limit_enabled: bool = Field(True, description="Refuse callers over their rate (429).")
    rate_limit_per_minute_anonymous: int = Field(
        600, ge=1, description="Requests per minute (moving window) from one anonymous client IP."
    )
    rate_limit_per_minute_token: int = Field(
        1200, ge=1, description="Requests per minute (moving window) with one API token."
    )
    rate_limit_storage: str = Field(
        "memory://",
        description="Where rate counters live: memory:// (one process) or redis://host:port/db.",
    )
    cache_url: str = Field(
        "memory://",
        description="Where rendered trajectories and charts are cached: memory:// (an LRU per "
        "process) or redis://host:port/db (shared by every worker and host).",
    )
    cache_max_mb: int = Field(
        64, ge=0, description="Size of the in-process cache (memory://), in MiB; 0 turns it off."
    )
    chart_processes: int = Field(
        1,
        ge=0,
        description="Processes rendering SVG charts beside each API worker (matplotlib holds "
        "the GIL); 0 renders in the request's thread.",
    )
    job_queue: JobQueue = Field(
        "inline",
        description="Where connector runs execute: inline (a thread of the API process that "
        "accepted them) or database (queued in the job table for `datahub worker` processes).",
    )
    audit_key_file: Path = Field(
        Path("./datahub-audit-key.pem"),
        description="Ed25519 private key signing audit seals, created (mode 0600) on first use. "
        "Keep it outside the database and its backups' reach; the public key is at "
        "GET /audit/public-key.",
    )
    audit_seal_minutes: float = Field(
        60,
        gt=0,
        description="The server seals the audit chain's head once its oldest unsealed event is "
        "this old (checked every minute).",
    )
    log_json: bool = Field(False, description="Structured JSON logs (production).")
    migrate_on_start: bool = Field(True, description="`datahub serve` applies pending migrations.")
    orphan_grace_minutes: int = Field(
        60,
        ge=0,
        description="At start, stored files no version points to are deleted once this old "
        "(younger ones may be uploads in flight on another host).",
    )
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics.")
    metrics_token: SecretStr | None = Field(
        None, description="When set, /metrics requires `Authorization: Bearer <token>`."
    )
    graceful_timeout: int = Field(
        60, ge=0, description="Seconds `datahub serve` lets in-flight requests finish on SIGTERM."
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies trusted for X-Forwarded-For/-Proto (comma-separated IPs/CIDRs, or *).",
    )
    smtp_url: SecretStr | None = Field(
        None,
        description="Mail server for notifications: smtp://[user:password@]host[:port]"
        "[?starttls=true] or smtps://…; no mail is sent when unset.",
    )
    mail_from: str = Field(
        "datahub <noreply@localhost>", description="Sender address of notification e-mails."
    )
    notification_interval_seconds: float = Field(
        5.0, gt=0, description="How often a serving process delivers queued notifications."
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts webhooks may be delivered to although they are not public addresses; "
        "every other private, loopback or link-local address is refused.",
    )
