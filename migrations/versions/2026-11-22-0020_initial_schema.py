"""Initial schema: identity, territories, catalogue, licensing, audit, jobs.

Revision ID: ef1f0f0947c2
Revises:
Create Date: 2026-11-22 00:21:00.099606
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import datahub.db.types

revision: str = "ef1f0f0947c2"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


AUDIT_GUARD = """
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_email", sa.String(length=320), nullable=True),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("dataset_id", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("licence", sa.String(length=64), nullable=True),
        sa.Column("basis", sa.String(length=48), nullable=True),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("detail", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_event_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_event_outcome"), ["outcome"], unique=False)

    op.create_table(
        "open_read_count",
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reads", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "day", name=op.f("pk_open_read_count")),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )
    op.create_table(
        "territory",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=True),
        sa.Column("geometry", datahub.db.types.Geometry(), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_territory")),
    )
    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_territory_level"), ["level"], unique=False)

    op.create_table(
        "actor",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("naf", sa.String(length=8), nullable=True),
        sa.Column("sector", sa.String(length=32), nullable=True),
        sa.Column("territory_code", sa.String(length=64), nullable=False),
        sa.Column("location", datahub.db.types.Geometry("POINT"), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_code"], ["territory.code"], name=op.f("fk_actor_territory_code_territory")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor")),
    )
    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actor_siren"), ["siren"], unique=False)
        batch_op.create_index(batch_op.f("ix_actor_siret"), ["siret"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_actor_territory_code"), ["territory_code"], unique=False
        )

    op.create_table(
        "target",
        sa.Column("territory_code", sa.String(length=64), nullable=False),
        sa.Column("reference_year", sa.Integer(), nullable=False),
        sa.Column("target_year", sa.Integer(), nullable=False),
        sa.Column("target_net", sa.Float(), nullable=False),
        sa.Column("pathway", sa.String(length=16), nullable=False),
        sa.Column("updated_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_target_territory_code_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("territory_code", name=op.f("pk_target")),
    )
    op.create_table(
        "territory_parent",
        sa.Column("child_code", sa.String(length=64), nullable=False),
        sa.Column("parent_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_code"],
            ["territory.code"],
            name=op.f("fk_territory_parent_child_code_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["territory.code"],
            name=op.f("fk_territory_parent_parent_code_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("child_code", "parent_code", name=op.f("pk_territory_parent")),
    )
    with op.batch_alter_table("territory_parent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_territory_parent_parent_code"), ["parent_code"], unique=False
        )

    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_user_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("email", name=op.f("uq_user_email")),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", datahub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_api_token_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "dataset",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("licence_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("approach", sa.String(length=16), nullable=False),
        sa.Column("tags", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("temporal_start", sa.Date(), nullable=True),
        sa.Column("temporal_end", sa.Date(), nullable=True),
        sa.Column("provenance", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
            name=op.f("fk_dataset_created_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_dataset_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
    )
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_level"), ["level"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_licence_id"), ["licence_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dataset_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("params", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("result", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", datahub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", datahub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user.id"], name=op.f("fk_job_created_by_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_state"), ["state"], unique=False)

    op.create_table(
        "dataset_territory",
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("territory_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_territory_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "territory_code", name=op.f("pk_dataset_territory")),
    )
    with op.batch_alter_table("dataset_territory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_territory_territory_code"), ["territory_code"], unique=False
        )

    op.create_table(
        "dataset_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("columns", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("report", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("provenance", datahub.db.types.JsonColumn, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
            name=op.f("fk_dataset_version_created_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_version_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_version")),
        sa.UniqueConstraint(
            "dataset_id", "number", name=op.f("uq_dataset_version_dataset_id_number")
        ),
    )
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_version_sha256"), ["sha256"], unique=False)

    op.create_table(
        "grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("expires_at", datahub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", datahub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(organization_id IS NULL) <> (user_id IS NULL)", name=op.f("ck_grant_one_grantee")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user.id"], name=op.f("fk_grant_created_by_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_grant_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_grant_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_grant_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant")),
    )
    with op.batch_alter_table("grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grant_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", datahub.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_access_request_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user.id"],
            name=op.f("fk_access_request_decided_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grant.id"],
            name=op.f("fk_access_request_grant_id_grant"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_access_request_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_access_request_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_request")),
    )
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_request_dataset_id"), ["dataset_id"], unique=False
        )

    if postgres:
        op.create_index("ix_territory_geometry", "territory", ["geometry"], postgresql_using="gist")
        op.create_index("ix_actor_location", "actor", ["location"], postgresql_using="gist")
        op.execute(AUDIT_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
        op.drop_index("ix_actor_location", table_name="actor")
        op.drop_index("ix_territory_geometry", table_name="territory")
    # Rows live in per-version tables created at upload time (catalog.rowstore).
    for name in sa.inspect(op.get_bind()).get_table_names():
        if name.startswith("rows_"):
            op.drop_table(name)
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_dataset_id"))

    op.drop_table("access_request")
    with op.batch_alter_table("grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grant_dataset_id"))

    op.drop_table("grant")
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_version_sha256"))

    op.drop_table("dataset_version")
    with op.batch_alter_table("dataset_territory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_territory_territory_code"))

    op.drop_table("dataset_territory")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_state"))

    op.drop_table("job")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_organization_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_licence_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_level"))
        batch_op.drop_index(batch_op.f("ix_dataset_kind"))

    op.drop_table("dataset")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_organization_id"))

    op.drop_table("user")
    with op.batch_alter_table("territory_parent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_territory_parent_parent_code"))

    op.drop_table("territory_parent")
    op.drop_table("target")
    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actor_territory_code"))
        batch_op.drop_index(batch_op.f("ix_actor_siret"))
        batch_op.drop_index(batch_op.f("ix_actor_siren"))

    op.drop_table("actor")
    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_territory_level"))

    op.drop_table("territory")
    op.drop_table("organization")
    op.drop_table("open_read_count")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_outcome"))
        batch_op.drop_index(batch_op.f("ix_audit_event_organization_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
