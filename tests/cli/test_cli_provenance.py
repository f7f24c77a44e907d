"""`steward dataset|run|license` as users run them: exit codes, JSON, no writes on errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cli_helpers import ledger_size, steward
from factories import make_hf_snapshot, write_drive_logs, write_finetune_script

pytestmark = pytest.mark.xdist_group("cli-provenance")

DATASET = [
    "--tier", "partner", "--consent", "contract", "--collected", "2026-06-01..2026-08-31",
    "--geography", "DE", "--retention-days", "730", "--source", "partner export",
]  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "ws"
    assert steward(home, "init").returncode == 0
    base = make_hf_snapshot(tmp_path / "base", card="---\nlicense: apache-2.0\n---\n# base\n")
    assert steward(home, "model", "add", str(base), "--name", "drive-base").returncode == 0
    return home


def _add_dataset(home: Path, folder: Path, *extra: str) -> object:
    return steward(home, "dataset", "add", str(folder), "--name", "logs", *DATASET, *extra)


def test_dataset_add_show_card_and_json(home: Path, tmp_path: Path) -> None:
    logs = write_drive_logs(tmp_path / "logs").parent
    done = steward(
        home, "dataset", "add", str(logs), "--name", "logs", "--license", "cc-by-nc-4.0",
        *DATASET, "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)["record"]
    assert record["license"] == "CC-BY-NC-4.0"
    assert record["pii"]["counts"]["email"] == 8
    shown = steward(home, "dataset", "show", "logs")
    assert "PII findings" in shown.stdout
    assert "email" in shown.stdout
    card = steward(home, "dataset", "card", "logs")
    assert card.returncode == 0
    assert "# Dataset card: logs" in card.stdout
    assert "## Curation" in card.stdout
    listed = json.loads(steward(home, "dataset", "list", "--json").stdout)
    assert [d["name"] for d in listed] == ["logs"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--license", "NOT-A-LICENSE"], "NOT-A-LICENSE"),
        (["--license", "MIT", "--retention-days", "-1"], "retention"),
        (["--license", "MIT", "--collected", "yesterday"], "not a date"),
    ],
)
def test_bad_dataset_input_exits_3_and_writes_nothing(
    home: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    logs = write_drive_logs(tmp_path / "logs").parent
    before = ledger_size(home)
    done = steward(home, "dataset", "add", str(logs), "--name", "logs", *DATASET, *args)
    assert done.returncode == 3, done.stderr
    assert message in done.stderr
    assert ledger_size(home) == before


def test_expiring_window_is_validated(home: Path) -> None:
    done = steward(home, "dataset", "list", "--expiring", "soon")
    assert done.returncode == 3
    assert "--expiring" in done.stderr


def test_run_exec_reproduce_and_license_review(home: Path, tmp_path: Path) -> None:
    logs = write_drive_logs(tmp_path / "logs").parent
    assert _add_dataset(home, logs, "--license", "CC-BY-NC-4.0").returncode == 0  # type: ignore[attr-defined]
    code = tmp_path / "code"
    script = write_finetune_script(code / "train.py")
    done = steward(
        home, "run", "exec", "--name", "brake-head", "--base", "drive-base", "--data", "logs",
        "--seed", "5", "--workdir", str(code), "--output", str(tmp_path / "out"), "--json",
        "--", sys.executable, str(script),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]["id"]
    listed = steward(home, "run", "list")
    assert run_id in listed.stdout
    statement = json.loads(steward(home, "run", "show", run_id, "--provenance").stdout)
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    again = steward(home, "run", "reproduce", run_id, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcome"] == "bit-exact"
    research = steward(home, "license", "review", "brake-head", "--use", "research")
    assert research.returncode == 0, research.stdout + research.stderr
    commercial = steward(home, "license", "review", "brake-head", "--use", "commercial", "--json")
    assert commercial.returncode == 6
    review = json.loads(commercial.stdout)
    assert review["verdict"] == "incompatible"
    assert any(r["label"] == "logs" for r in review["reasons"])


def test_tampered_code_blocks_reproduction_with_exit_6(home: Path, tmp_path: Path) -> None:
    logs = write_drive_logs(tmp_path / "logs").parent
    assert _add_dataset(home, logs, "--license", "MIT").returncode == 0  # type: ignore[attr-defined]
    code = tmp_path / "code"
    script = write_finetune_script(code / "train.py")
    done = steward(
        home, "run", "exec", "--name", "brake-head", "--base", "drive-base", "--data", "logs",
        "--workdir", str(code), "--output", str(tmp_path / "out"), "--", sys.executable,
        str(script),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    script.write_text(script.read_text().replace("epochs = int", "epochs = 1 + int"))
    before = ledger_size(home)
    again = steward(home, "run", "reproduce", "brake-head")
    assert again.returncode == 6
    assert "changed since run" in again.stderr
    assert ledger_size(home) == before


def test_failing_command_exits_15(home: Path, tmp_path: Path) -> None:
    done = steward(
        home, "run", "exec", "--name", "x", "--base", "drive-base", "--output",
        str(tmp_path / "out"), "--workdir", str(tmp_path), "--", sys.executable, "-c",
        "import sys; sys.exit(2)",
    )  # fmt: skip
    assert done.returncode == 15, done.stderr
    assert "exited with 2" in done.stderr


def test_license_kb_lists_entries_with_sources(home: Path) -> None:
    done = steward(home, "license", "kb", "--json")
    assert done.returncode == 0, done.stderr
    kb = json.loads(done.stdout)
    assert all(e["source"].startswith("http") for e in kb["entries"])
    shown = steward(home, "license", "kb", "llama3.1")
    assert shown.returncode == 0
    assert "transportation" in shown.stdout
