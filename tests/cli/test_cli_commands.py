"""The `steward` command line: output, --json, exit codes and bad input that changes nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_helpers import STEWARD, ledger_size, steward

pytestmark = pytest.mark.storage


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    done = steward(ws, "init")
    assert done.returncode == 0, done.stderr
    return ws


def test_help_documents_every_exit_code() -> None:
    done = subprocess.run([STEWARD, "--help"], capture_output=True, text=True, check=True)
    for code in (0, 1, 2, 3, 4, 5, 7, 10, 11, 12, 13, 14):
        assert f"{code:>3}  " in done.stdout


def test_init_twice_is_harmless(home: Path) -> None:
    first = json.loads(steward(home, "init", "--json").stdout)
    second = json.loads(steward(home, "init", "--json").stdout)
    assert first["workspace_id"] == second["workspace_id"]
    assert second["created"] is False
    assert second["ledger_size"] == 1


def test_commands_without_a_workspace_exit_4(tmp_path: Path) -> None:
    done = steward(tmp_path / "nothing-here", "ledger", "tail")
    assert done.returncode == 4
    assert "steward init" in done.stderr


def test_note_then_tail_json_shows_the_entry(home: Path) -> None:
    assert steward(home, "ledger", "note", "looked at intake").returncode == 0
    entries = json.loads(steward(home, "ledger", "tail", "-n", "5", "--json").stdout)
    assert [e["kind"] for e in entries] == ["workspace.init", "note"]
    assert entries[-1]["payload"] == {"text": "looked at intake"}
    assert entries[-1]["actor"] == "cli-tester"


def test_empty_note_is_rejected_and_writes_nothing(home: Path) -> None:
    before = ledger_size(home)
    done = steward(home, "ledger", "note", "   ")
    assert done.returncode == 3
    assert ledger_size(home) == before


def test_json_errors_have_one_shape(tmp_path: Path) -> None:
    done = steward(tmp_path / "missing", "ledger", "tail", "--json")
    assert done.returncode == 4
    assert set(json.loads(done.stdout)) == {"error", "message", "hint", "exit_code"}


def test_invalid_setting_names_the_variable(home: Path) -> None:
    done = steward(home, "ledger", "tail", env={"STEWARD_COMMIT_MAX_BATCH": "lots"})
    assert done.returncode == 3
    assert "STEWARD_COMMIT_MAX_BATCH" in done.stderr


def test_offline_verify_round_trip_and_tamper_exit_codes(home: Path, tmp_path: Path) -> None:
    steward(home, "ledger", "note", "one")
    steward(home, "ledger", "note", "two")
    cp, key, entries = tmp_path / "cp.txt", tmp_path / "key.vkey", tmp_path / "e.jsonl"
    assert steward(home, "ledger", "checkpoint", "--out", str(cp)).returncode == 0
    assert steward(home, "ledger", "public-key", "--out", str(key)).returncode == 0
    assert steward(home, "ledger", "export", "--out", str(entries)).returncode == 0
    offline = ["--entries", str(entries), "--checkpoint", str(cp), "--key", str(key)]
    ok = steward(home, "ledger", "verify", *offline, "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["checkpoint_size"] == 3

    lines = entries.read_text().splitlines()
    (tmp_path / "truncated.jsonl").write_text("\n".join(lines[:2]) + "\n")
    offline[1] = str(tmp_path / "truncated.jsonl")
    assert steward(home, "ledger", "verify", *offline).returncode == 12

    bad_cp = tmp_path / "bad.txt"
    bad_cp.write_text(cp.read_text().replace("\n3\n", "\n2\n", 1))
    offline[1], offline[3] = str(entries), str(bad_cp)
    assert steward(home, "ledger", "verify", *offline).returncode == 10


def test_offline_verify_needs_all_three_files(home: Path, tmp_path: Path) -> None:
    done = steward(home, "ledger", "verify", "--entries", str(tmp_path / "x"))
    assert done.returncode == 3


def test_pem_public_key_also_verifies(home: Path, tmp_path: Path) -> None:
    cp, pem, entries = tmp_path / "cp.txt", tmp_path / "key.pem", tmp_path / "e.jsonl"
    steward(home, "ledger", "checkpoint", "--out", str(cp))
    steward(home, "ledger", "public-key", "--format", "pem", "--out", str(pem))
    steward(home, "ledger", "export", "--out", str(entries))
    done = steward(
        home,
        "ledger",
        "verify",
        "--entries",
        str(entries),
        "--checkpoint",
        str(cp),
        "--key",
        str(pem),
    )
    assert done.returncode == 0, done.stderr


def test_prove_and_verify_proof(home: Path, tmp_path: Path) -> None:
    steward(home, "ledger", "note", "prove me")
    proof, key = tmp_path / "proof.json", tmp_path / "key.vkey"
    assert steward(home, "ledger", "prove", "1", "--out", str(proof)).returncode == 0
    steward(home, "ledger", "public-key", "--out", str(key))
    done = steward(home, "ledger", "verify-proof", str(proof), "--key", str(key), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["entry"]["payload"] == {"text": "prove me"}
    assert steward(home, "ledger", "prove", "99", "--out", str(proof)).returncode == 4


def test_unknown_public_key_format_is_rejected(home: Path) -> None:
    assert steward(home, "ledger", "public-key", "--format", "jwk").returncode == 3


def test_bench_reports_the_issue_figures(home: Path) -> None:
    done = steward(home, "ledger", "bench", "--entries", "400", "--producers", "4", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    for key in (
        "appends_per_s",
        "ack_latency_p50_ms",
        "ack_latency_p99_ms",
        "verify_entries_per_s",
        "proof_verify_ms",
    ):
        assert figures[key] > 0
