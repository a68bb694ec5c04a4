"""Audit seals: signatures over the chain head, append-only like the events.

Revision ID: 3f8a2c61d0e7
Revises: 3f1a8c7d9e20
Create Date: 2026-12-04 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import datahub.db.types

revision: str = "3f8a2c61d0e7"
down_revision: str | None = "3f1a8c7d9e20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEAL_GUARD = """
CREATE FUNCTION audit_seal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_seal is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal
  FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "audit_seal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", datahub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=80), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seal")),
    )
    with op.batch_alter_table("audit_seal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_seal_seq"), ["seq"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEAL_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_seal")
        op.execute("DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_seal")
        op.execute("DROP FUNCTION IF EXISTS audit_seal_append_only()")
    with op.batch_alter_table("audit_seal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_seal_seq"))
    op.drop_table("audit_seal")
