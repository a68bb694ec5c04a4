"""The session key: the setting, else generated once into a private file and reused."""

from __future__ import annotations

from pathlib import Path

from datahub.settings import Settings
from datahub.web.mount import secret_key


def test_an_unset_key_is_generated_once_into_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "datahub-secret.key"
    settings = Settings(secret_key_file=str(path), _env_file=None)  # type: ignore[call-arg]
    first = secret_key(settings)
    assert len(first) >= 64  # 48 random bytes, URL-safe base64
    assert path.stat().st_mode & 0o777 == 0o600
    assert secret_key(settings) == first  # a restart keeps the sessions valid
    chosen = Settings(secret_key="choisie", secret_key_file=str(path), _env_file=None)  # type: ignore[call-arg]
    assert secret_key(chosen) == "choisie"
