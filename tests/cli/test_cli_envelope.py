"""`steward envelope sign|verify|show` and `steward gate attest` end to end, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from cli_helpers import ledger_size, steward
from factories import make_hf_snapshot, write_malicious_pickle
from modelsteward.bootstrap import Steward
from modelsteward.runtime.envelope import Envelope, example_envelope
from modelsteward.services.intake import IntakeRequest

pytestmark = pytest.mark.storage

MODEL = "acme/drive-vla"


@dataclass(frozen=True)
class Workspace:
    """One initialised workspace holding MODEL@1, and a signing key (shared by a module)."""

    home: Path
    snap: Path
    key: Path
    digest: str


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("envelopes")
    home = root / "ws"
    assert steward(home, "init").returncode == 0
    snap = make_hf_snapshot(root / "drive-vla-mini", hidden=8)
    added = steward(home, "model", "add", str(snap), "--name", MODEL, "--json")
    assert added.returncode == 0, added.stderr
    key = root / "keys" / "signer.pem"
    assert steward(home, "keys", "new", "--out", str(key)).returncode == 0
    return Workspace(home, snap, key, str(json.loads(added.stdout)["record"]["digest"]))


@pytest.fixture
def envelope_file(tmp_path: Path) -> Path:
    path = tmp_path / "envelope.yaml"
    path.write_text(yaml.safe_dump(example_envelope(), sort_keys=False))
    return path


def _sign(
    ws: Workspace, envelope_file: Path, out: Path, *, model: str = MODEL, key: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return steward(
        ws.home, "envelope", "sign", str(envelope_file), "--key", str(key or ws.key),
        "--model", model, "--out", str(out), "--json",
    )  # fmt: skip


def _attest(
    ws: Workspace, signed: Path, model_dir: Path, *extra: str, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return steward(
        home or ws.home, "gate", "attest", "--envelope", str(signed), "--model-dir",
        str(model_dir), "--key", f"{ws.key}.pub", *extra,
    )  # fmt: skip


def test_sign_verify_show_and_attest(ws: Workspace, envelope_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "signed" / "highway.envelope.json"
    before = ledger_size(ws.home)
    signed = _sign(ws, envelope_file, out)
    assert signed.returncode == 0, signed.stderr
    record = json.loads(signed.stdout)
    assert record["model"] == f"{MODEL}@1"
    assert record["model_digest"] == ws.digest
    assert record["envelope_digest"] == str(Envelope.from_dict(example_envelope()).digest)
    assert out.is_file()
    assert ledger_size(ws.home) == before + 1
    entry = json.loads(steward(ws.home, "ledger", "tail", "-n", "1", "--json").stdout)[-1]
    assert entry["kind"] == "envelope.signed"
    assert entry["subject"] == f"model:{ws.digest}"
    assert entry["payload"]["statement_digest"] == record["statement_digest"]

    pub = f"{ws.key}.pub"
    verified = steward(ws.home, "envelope", "verify", str(out), "--key", pub, "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["statement_digest"] == record["statement_digest"]

    unchecked = steward(ws.home, "envelope", "show", str(out))
    assert unchecked.returncode == 0, unchecked.stderr
    assert "signature NOT checked" in unchecked.stdout
    for heading in ("speed caps per mode", "kinematics", "RSS", "escalation", "fallback"):
        assert heading in unchecked.stdout
    checked = steward(ws.home, "envelope", "show", str(out), "--key", pub, "--json")
    assert checked.returncode == 0, checked.stderr
    shown = json.loads(checked.stdout)
    assert shown["signature_checked"] is True
    assert shown["envelope"]["speed"]["mode_caps_mps"]["reduced"] == 20.0

    ok = _attest(ws, out, ws.snap)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK")
    assert ws.digest in ok.stdout
    assert record["statement_digest"] in ok.stdout


def test_attest_after_tampering_exits_7_naming_the_file(
    ws: Workspace, envelope_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signed.json"
    assert _sign(ws, envelope_file, out).returncode == 0
    deployed = tmp_path / "deployed"
    shutil.copytree(ws.snap, deployed)
    (deployed / "config.json").write_text('{"hidden_size": 65}')
    (deployed / "tokenizer.json").unlink()
    (deployed / "patch.bin").write_bytes(b"\x00")

    human = _attest(ws, out, deployed)
    assert human.returncode == 7
    assert "changed: config.json" in human.stdout
    assert "missing: tokenizer.json" in human.stdout
    assert "extra: patch.bin" in human.stdout
    assert "do not start" in human.stderr

    machine = _attest(ws, out, deployed, "--json")
    assert machine.returncode == 7
    result = json.loads(machine.stdout)
    assert (result["changed"], result["missing"], result["extra"]) == (
        ["config.json"],
        ["tokenizer.json"],
        ["patch.bin"],
    )
    assert result["expected"] == ws.digest

    assert _attest(ws, out, tmp_path / "nowhere").returncode == 7


def test_a_wrong_key_or_a_tampered_file_exits_7(
    ws: Workspace, envelope_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signed.json"
    assert _sign(ws, envelope_file, out).returncode == 0
    other = tmp_path / "other.pem"
    assert steward(ws.home, "keys", "new", "--out", str(other)).returncode == 0
    wrong = steward(ws.home, "envelope", "verify", str(out), "--key", f"{other}.pub", "--json")
    assert wrong.returncode == 7
    assert "another key" in json.loads(wrong.stdout)["message"]

    document = json.loads(out.read_bytes())
    document["payload"] = document["payload"][:-8] + "AAAAAAA="
    out.write_text(json.dumps(document))
    for command in ("verify", "show"):
        done = steward(ws.home, "envelope", command, str(out), "--key", f"{ws.key}.pub")
        assert done.returncode == 7, done.stderr
        assert "does not verify" in done.stderr


@pytest.mark.parametrize(
    ("problem", "named"),
    [
        ("unknown-field", "odd.speed_limit_mps"),
        ("bad-value", "kinematics.max_jerk_mps3"),
        ("not-yaml", "not valid YAML"),
        ("missing-file", "does not exist"),
        ("private-key-missing", "cannot read private key"),
        ("out-exists", "exists already"),
    ],
)
def test_bad_input_exits_3_and_changes_nothing(
    ws: Workspace, envelope_file: Path, tmp_path: Path, problem: str, named: str
) -> None:
    document = example_envelope()
    out = tmp_path / "signed.json"
    key = ws.key
    if problem == "unknown-field":
        document["odd"]["speed_limit_mps"] = 40
    elif problem == "bad-value":
        document["kinematics"]["max_jerk_mps3"] = -1
    envelope_file.write_text(yaml.safe_dump(document))
    if problem == "not-yaml":
        envelope_file.write_text("schema: [unclosed\n")
    elif problem == "missing-file":
        envelope_file.unlink()
    elif problem == "private-key-missing":
        key = tmp_path / "no-such-key.pem"
    elif problem == "out-exists":
        out.write_text("keep me")
    before = ledger_size(ws.home)

    done = _sign(ws, envelope_file, out, key=key)
    assert done.returncode == 3, done.stderr
    assert named in done.stderr
    assert ledger_size(ws.home) == before
    if problem == "out-exists":
        assert out.read_text() == "keep me"
    else:
        assert not out.exists()


def test_an_unknown_model_exits_4_and_changes_nothing(
    ws: Workspace, envelope_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signed.json"
    before = ledger_size(ws.home)
    done = _sign(ws, envelope_file, out, model="acme/nothing")
    assert done.returncode == 4, done.stderr
    assert json.loads(done.stdout)["error"] == "not-found"
    assert ledger_size(ws.home) == before
    assert not out.exists()


def test_a_blocked_model_is_refused_with_exit_6(
    ws: Workspace, envelope_file: Path, tmp_path: Path
) -> None:
    unsafe = make_hf_snapshot(tmp_path / "unsafe", hidden=4)
    write_malicious_pickle(unsafe / "pytorch_model.bin", tmp_path / "pwned")
    assert steward(ws.home, "model", "add", str(unsafe), "--name", "acme/unsafe").returncode == 6
    out = tmp_path / "signed.json"
    before = ledger_size(ws.home)
    done = _sign(ws, envelope_file, out, model="acme/unsafe")
    assert done.returncode == 6, done.stderr
    assert "blocked" in done.stderr
    assert ledger_size(ws.home) == before
    assert not out.exists()


def test_gate_attest_and_envelope_verify_need_no_workspace(
    ws: Workspace, envelope_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signed.json"
    assert _sign(ws, envelope_file, out).returncode == 0
    nowhere = tmp_path / "no-workspace"
    assert _attest(ws, out, ws.snap, home=nowhere).returncode == 0
    verified = steward(nowhere, "envelope", "verify", str(out), "--key", f"{ws.key}.pub")
    assert verified.returncode == 0, verified.stderr
    assert not nowhere.exists()


def test_the_service_lists_and_reloads_the_envelopes_of_a_model(
    steward: Steward, envelope_file: Path, tmp_path: Path
) -> None:
    from modelsteward.artifacts.signing import generate_key_pair

    snap = make_hf_snapshot(tmp_path / "snap", hidden=4)
    version = steward.models.add(IntakeRequest(path=snap, name=MODEL)).version
    keys = generate_key_pair(tmp_path / "svc.pem")
    first = steward.envelopes.sign(envelope_file, keys.private_key, MODEL, tmp_path / "a.json")
    second = steward.envelopes.sign(envelope_file, keys.private_key, MODEL, tmp_path / "b.json")
    found = steward.envelopes.envelopes_for(version.digest)
    assert [r.seq for r in found] == [first.seq, second.seq]
    assert found[0] == first
    assert steward.envelopes.envelopes_for(str(version.digest).replace("sha256:", "")) == found
    assert steward.envelopes.signed_file(first) == (tmp_path / "a.json").read_bytes()
    reloaded = steward.envelopes.load_verified(second, keys.public_key)
    assert reloaded.statement_digest == second.statement_digest
    assert reloaded.model_digest == version.digest
