"""Shared fixtures: real workspaces on SQLite (or PostgreSQL when STEWARD_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from modelsteward.bootstrap import Steward, init_workspace
from modelsteward.config import Settings

MERKLE_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "merkle"


def _fresh_database_url() -> str | None:
    """A new empty PostgreSQL database per test when CI points us at a server, else None."""
    base = os.environ.get("STEWARD_DATABASE_URL")
    if not base:
        return None
    url = make_url(base)
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def database_url() -> str | None:
    """None (SQLite in the workspace) or a fresh PostgreSQL database."""
    return _fresh_database_url()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Settings for a fresh workspace under tmp_path."""
    return Settings(home=tmp_path / "ws", database_url=database_url, actor="tester")


@pytest.fixture
def steward(settings: Settings) -> Iterator[Steward]:
    """An initialised workspace with its services."""
    app = init_workspace(settings)
    yield app
    app.close()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's own STEWARD_* settings (except the CI database URL)."""
    for key in list(os.environ):
        if key.startswith("STEWARD_") and key != "STEWARD_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
