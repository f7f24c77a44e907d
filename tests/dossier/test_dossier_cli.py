"""``steward dossier``: a summary table per section, the digest and the files; ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from modelsteward.bootstrap import Steward, init_workspace
from modelsteward.cli.dossier import dossier_command
from modelsteward.config import Settings
from modelsteward.services.intake import IntakeRequest

pytestmark = pytest.mark.skipif(
    "dossier" not in Steward.__dataclass_fields__,
    reason="Steward.dossier is wired in by the composition root",
)


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(dossier_command)
    return app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "ws"
    app = init_workspace(Settings(home=home, actor="tester"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "tiny"}')
    app.models.add(IntakeRequest(path=folder, name="tiny"))
    app.close()
    monkeypatch.setenv("STEWARD_HOME", str(home))
    return home


def test_dossier_command_prints_sections_digest_and_files(home: Path, tmp_path: Path) -> None:
    done = CliRunner().invoke(_cli(), ["tiny", "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert "7. Post-deployment monitoring" in done.output
    assert "dossier digest sha256:" in done.output
    assert (tmp_path / "out" / "dossier.html").is_file()


def test_dossier_command_json_is_the_result(home: Path, tmp_path: Path) -> None:
    done = CliRunner().invoke(_cli(), ["tiny", "--out", str(tmp_path / "out"), "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["digest"] == result["json_blob"]
    assert set(result["summary"]) >= {"general", "changes", "monitoring"}
