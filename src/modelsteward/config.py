"""Settings, read from ``STEWARD_*`` environment variables (pydantic-settings).

Every field has a description; ``docs/settings.md`` lists them and a test keeps the two in step.

    >>> from modelsteward.config import Settings
    >>> s = Settings(home="/tmp/ws")
    >>> s.resolved_database_url()
    'sqlite:////tmp/ws/steward.db'
"""

from __future__ import annotations

import getpass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "unknown"


class Settings(BaseSettings):
    """Steward's settings. Environment variable = ``STEWARD_`` + field name in capitals."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", frozen=True, extra="forbid")

    home: Path = Field(
        default=Path(".steward"),
        description="Workspace folder: database, blob store, keys, workspace id.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store. Default: SQLite file `steward.db` in the workspace. "
            "PostgreSQL: `postgresql+psycopg://user:pass@host/db`."
        ),
    )
    witness_dir: Path | None = Field(
        default=None,
        description=(
            "Folder that receives a copy of every signed checkpoint; `ledger verify` checks the "
            "ledger against the newest checkpoint found there (catches rollback and forks)."
        ),
    )
    actor: str = Field(
        default_factory=_default_actor,
        description="Who is acting, recorded as `actor` in ledger entries. Default: the OS user.",
    )
    policy_dir: Path | None = Field(
        default=None,
        description=(
            "Folder holding the release-gate policy pack (`pack.yaml`, `*.rego`, `data.json`). "
            "Default: the pack shipped with Steward."
        ),
    )
    commit_max_batch: int = Field(
        default=2048,
        ge=1,
        le=100_000,
        description="Group commit: most ledger entries written in one transaction.",
    )
    commit_max_wait_ms: float = Field(
        default=2.0,
        ge=0,
        le=1000,
        description="Group commit: longest wait (ms) for more producers before committing a batch.",
    )

    def resolved_home(self) -> Path:
        """The workspace folder as an absolute path."""
        return self.home.expanduser().resolve()

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the workspace."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_home() / 'steward.db'}"
