"""Workspace set-up: folder, keys, database settings, ownership, migrations matching the schema."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from modelsteward.bootstrap import Steward, init_workspace, open_workspace
from modelsteward.config import Settings
from modelsteward.errors import Conflict, InvalidInput, NotFound, WorkspaceMissing
from modelsteward.ledger.checkpoint import NoteVerifier
from modelsteward.storage.db import Database
from modelsteward.storage.ledger_store import LedgerReader
from modelsteward.storage.tables import metadata
from modelsteward.storage.workspace import WORKSPACE_FORMAT

pytestmark = pytest.mark.storage


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _database_url_of(steward: Steward) -> str:
    return steward.settings.resolved_database_url()


def _head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", "modelsteward.storage:migrations")
    return ScriptDirectory.from_config(config).get_current_head()


# -- the folder and its keys ------------------------------------------------------------------


def test_init_writes_the_workspace_marker(steward: Steward) -> None:
    home = steward.settings.resolved_home()

    marker = json.loads((home / "workspace.json").read_text())

    assert marker == {
        "format": WORKSPACE_FORMAT,
        "id": steward.workspace.id,
        "origin": steward.workspace.origin,
    }
    assert steward.created


def test_init_writes_a_private_signing_key_and_its_public_halves(steward: Steward) -> None:
    keys = steward.settings.resolved_home() / "keys"

    assert _mode(keys / "ledger.key") == 0o600
    assert _mode(keys) == 0o700
    assert (keys / "ledger.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (keys / "ledger.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    vkey = NoteVerifier.from_vkey((keys / "ledger.vkey").read_text())
    assert vkey.to_vkey() == steward.workspace.signer().verifier().to_vkey()


def test_init_records_the_workspace_in_the_ledger_and_signs_a_checkpoint(steward: Steward) -> None:
    (first,) = steward.ledger.tail(1)

    assert (first.seq, first.kind) == (0, "workspace.init")
    assert first.payload["workspace_id"] == steward.workspace.id
    assert first.payload["ledger_key"] == steward.workspace.verifier().to_vkey()
    checkpoint = steward.ledger.latest_checkpoint()
    assert checkpoint is not None
    assert checkpoint.size == 1
    assert steward.ledger.verify().entries_seen == 1


def test_running_init_twice_changes_nothing(steward: Steward, settings: Settings) -> None:
    keys = steward.settings.resolved_home() / "keys"
    key_before = (keys / "ledger.key").read_bytes()
    marker_before = (steward.settings.resolved_home() / "workspace.json").read_bytes()
    first_checkpoint = steward.ledger.latest_checkpoint()

    again = init_workspace(settings)
    try:
        assert not again.created
        assert again.workspace.id == steward.workspace.id
        assert again.ledger.size() == 1
        latest = again.ledger.latest_checkpoint()
        assert first_checkpoint is not None
        assert latest is not None
        assert latest.note == first_checkpoint.note
    finally:
        again.close()
    assert (keys / "ledger.key").read_bytes() == key_before
    assert (steward.settings.resolved_home() / "workspace.json").read_bytes() == marker_before


def test_open_workspace_finds_what_init_made(steward: Steward, settings: Settings) -> None:
    steward.ledger.note("before reopening")

    reopened = open_workspace(settings)
    try:
        assert reopened.workspace.id == steward.workspace.id
        assert not reopened.created
        assert [e.kind for e in reopened.ledger.tail(2)] == ["workspace.init", "note"]
    finally:
        reopened.close()


# -- the SQLite store is durable ------------------------------------------------------------


def test_sqlite_runs_in_wal_mode_with_full_sync(steward: Steward) -> None:
    if not steward.db.is_sqlite:
        pytest.skip("SQLite pragmas do not apply to PostgreSQL")

    with steward.db.engine.connect() as conn:
        journal_mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()

    assert journal_mode == "wal"
    assert synchronous == 2  # FULL
    assert foreign_keys == 1
    assert (steward.settings.resolved_home() / "steward.db").is_file()


# -- refusals ----------------------------------------------------------------------------------


def test_a_database_owned_by_another_workspace_is_refused(steward: Steward, tmp_path: Path) -> None:
    shared_url = _database_url_of(steward)
    other = Settings(home=tmp_path / "other", database_url=shared_url, actor="intruder")

    with pytest.raises(Conflict, match=steward.workspace.id):
        init_workspace(other)
    with pytest.raises(Conflict, match=steward.workspace.id):
        open_workspace(other)

    assert steward.ledger.size() == 1
    assert steward.ledger.verify().entries_seen == 1


def test_open_workspace_on_an_empty_folder_says_the_workspace_is_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(WorkspaceMissing) as excinfo:
        open_workspace(Settings(home=empty))

    assert isinstance(excinfo.value, NotFound)
    assert "steward init" in excinfo.value.hint
    assert list(empty.iterdir()) == []


def test_open_workspace_on_a_folder_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceMissing):
        open_workspace(Settings(home=tmp_path / "nowhere"))

    assert not (tmp_path / "nowhere").exists()


def test_a_damaged_workspace_marker_is_invalid_input(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    home.mkdir()
    (home / "workspace.json").write_text("{not json")

    with pytest.raises(InvalidInput, match="workspace.json"):
        open_workspace(Settings(home=home))


@pytest.mark.parametrize(
    "bad_url",
    [
        "not a database url",
        "mysql://steward@localhost/steward",
        "postgresql+nosuchdriver://steward@localhost/steward",
    ],
)
def test_a_bad_database_url_from_the_environment_is_invalid_input(
    bad_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_DATABASE_URL", bad_url)
    home = tmp_path / "ws"
    settings = Settings(home=home)
    assert settings.database_url == bad_url

    with pytest.raises(InvalidInput, match="database"):
        init_workspace(settings)

    # a refused init leaves nothing behind
    assert not home.exists()


# -- migrations --------------------------------------------------------------------------------


def test_migrations_build_exactly_the_declared_schema(steward: Steward) -> None:
    with steward.db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)

    assert diffs == []


def test_migrating_again_is_a_no_op(steward: Steward) -> None:
    steward.db.migrate()
    steward.db.migrate()

    assert steward.db.schema_revision() == _head_revision()
    with steward.db.read() as conn:
        assert LedgerReader(conn).state().size == 1


def test_a_fresh_database_migrates_to_the_declared_schema(
    tmp_path: Path, database_url: str | None
) -> None:
    db = Database.open(database_url or f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert db.schema_revision() is None
        db.migrate()
        assert db.schema_revision() == _head_revision()
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        db.dispose()
