"""`steward model|hash|scan|keys|bom|supplier` end to end, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import ledger_size, steward
from factories import make_hf_snapshot, write_malicious_pickle

pytestmark = pytest.mark.storage

SOURCE = "https://huggingface.co/acme/drive-vla-mini"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    done = steward(ws, "init")
    assert done.returncode == 0, done.stderr
    return ws


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return make_hf_snapshot(tmp_path / "drive-vla-mini")


def _add(home: Path, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return steward(home, "model", "add", str(path), "--name", "acme/drive-vla", *extra)


def test_add_show_list_lineage_alias(home: Path, snap: Path) -> None:
    done = _add(
        home,
        snap,
        "--source",
        SOURCE,
        "--revision",
        "v1",
        "--steward",
        "ada@x.org",
        "--tier",
        "controlled-pilot",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)["record"]
    assert record["license_name"] == "nvidia-open-model-license"

    human = steward(home, "model", "show", "acme/drive-vla")
    assert human.returncode == 0, human.stderr
    assert "unresolved ancestor" in human.stdout
    assert "nvidia-open-model-license" in human.stdout

    rows = json.loads(
        steward(
            home,
            "model",
            "list",
            "--tier",
            "controlled-pilot",
            "--license",
            "nvidia-open-model-license",
            "--json",
        ).stdout
    )
    assert [r["digest"] for r in rows] == [record["digest"]]
    assert (
        json.loads(steward(home, "model", "list", "--tier", "exploratory", "--json").stdout) == []
    )

    dot = steward(home, "model", "lineage", "acme/drive-vla", "--dot")
    assert dot.stdout.startswith("digraph lineage {")
    assert "unresolved" in dot.stdout

    assert (
        steward(home, "model", "alias", "acme/drive-vla@prod", "acme/drive-vla@1").returncode == 0
    )
    history = json.loads(steward(home, "model", "aliases", "acme/drive-vla", "--json").stdout)
    assert [(m["alias"], m["target"]) for m in history] == [("prod", record["digest"])]
    assert json.loads(steward(home, "model", "show", "acme/drive-vla@prod", "--json").stdout)[
        "aliases"
    ] == ["prod"]

    suppliers = json.loads(steward(home, "supplier", "list", "--json").stdout)
    assert suppliers[0]["id"] == "huggingface.co/acme"


def test_hash_matches_the_registered_digest_and_model_signing(home: Path, snap: Path) -> None:
    added = json.loads(_add(home, snap, "--json").stdout)["record"]["digest"]
    hashed = steward(home, "hash", str(snap))
    assert hashed.returncode == 0
    assert hashed.stdout.split()[0] == added
    reference = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from model_signing import hashing;"
            "from model_signing._signing import signing as s;"
            "print(s.Payload(hashing.hash(sys.argv[1])).statement.pb.subject[0].digest['sha256'])",
            str(snap),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert added == "sha256:" + reference.stdout.strip()


def test_sign_is_verified_by_the_openssf_tool_and_tamper_exits_7(
    home: Path, snap: Path, tmp_path: Path
) -> None:
    assert _add(home, snap).returncode == 0
    key = tmp_path / "keys" / "signer.pem"
    assert steward(home, "keys", "new", "--out", str(key)).returncode == 0
    sig = tmp_path / "model.sig"
    signed = steward(home, "model", "sign", "acme/drive-vla", "--key", str(key), "--out", str(sig))
    assert signed.returncode == 0, signed.stderr

    reference = subprocess.run(
        [
            sys.executable,
            "-m",
            "model_signing",
            "verify",
            "key",
            "--signature",
            str(sig),
            "--public_key",
            f"{key}.pub",
            str(snap),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert reference.returncode == 0, reference.stderr + reference.stdout

    ok = steward(
        home,
        "model",
        "verify",
        "acme/drive-vla",
        str(snap),
        "--signature",
        str(sig),
        "--public-key",
        f"{key}.pub",
    )
    assert ok.returncode == 0, ok.stderr

    tampered = tmp_path / "tampered"
    shutil.copytree(snap, tampered)
    (tampered / "config.json").write_text('{"hidden_size": 65}')
    bad = steward(home, "model", "verify", "acme/drive-vla", str(tampered), "--json")
    assert bad.returncode == 7
    assert json.loads(bad.stdout)["changed"] == ["config.json"]


def test_scan_blocks_a_malicious_pickle_and_add_registers_it_blocked(
    home: Path, snap: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    write_malicious_pickle(snap / "pytorch_model.bin", marker)

    scanned = steward(home, "scan", str(snap), "--json")
    assert scanned.returncode == 6
    verdicts = {f["path"]: f["verdict"] for f in json.loads(scanned.stdout)["files"]}
    assert verdicts["pytorch_model.bin"] == "unsafe"

    added = _add(home, snap)
    assert added.returncode == 6
    assert "BLOCKED" in added.stderr
    assert not marker.exists()
    alias = steward(home, "model", "alias", "acme/drive-vla@prod", "acme/drive-vla@1")
    assert alias.returncode == 6


def test_clean_snapshot_scans_clean(home: Path, snap: Path) -> None:
    done = steward(home, "scan", str(snap))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scanned safe" in done.stdout


def test_bom_writes_a_cyclonedx_document(home: Path, snap: Path, tmp_path: Path) -> None:
    assert _add(home, snap).returncode == 0
    out = tmp_path / "bom.cdx.json"
    done = steward(home, "bom", "acme/drive-vla", "--format", "cyclonedx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.6")
    assert steward(home, "bom", "acme/drive-vla", "--format", "spdx").returncode == 3


@pytest.mark.parametrize(
    "args",
    [
        ("--tier", "reckless"),
        ("--steward", "not-an-email"),
        ("--unsafe-accept-unscanned", "x.bin"),  # no --reason
    ],
)
def test_bad_input_exits_3_and_changes_nothing(
    home: Path, snap: Path, args: tuple[str, ...]
) -> None:
    before = ledger_size(home)
    done = _add(home, snap, *args)
    assert done.returncode == 3, done.stderr
    assert "error:" in done.stderr
    assert ledger_size(home) == before
    assert json.loads(steward(home, "model", "list", "--json").stdout) == []


def test_missing_model_is_not_found(home: Path) -> None:
    done = steward(home, "model", "show", "nothing@7")
    assert done.returncode == 4
    assert steward(home, "model", "show", "bad ref@@").returncode == 3
