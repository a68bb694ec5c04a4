"""Apply Alembic migrations programmatically (``datahub db upgrade``, ``datahub serve``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from datahub.resources import shipped_folder


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(shipped_folder("migrations")))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade to ``revision``. Safe from several hosts at once: env.py takes a lock."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
