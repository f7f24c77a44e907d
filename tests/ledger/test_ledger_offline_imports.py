"""The offline verifier runs with only the standard library and ``cryptography``.

A fresh interpreter installs an import hook that refuses the server stack (SQLAlchemy, Alembic,
pydantic, Typer, Rich), then imports the verifier and checks a small export and a proof file that
this test wrote. Import-linter guards the static imports; this guards what actually runs.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelsteward.ledger.checkpoint import Checkpoint, NoteSigner
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.merkle import CompactRange, inclusion_proof, leaf_hash
from modelsteward.ledger.verify import PROOF_FORMAT

BLOCKED = ("sqlalchemy", "alembic", "pydantic", "pydantic_settings", "typer", "rich")

SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    BLOCKED = {blocked!r}

    class RefuseServerStack:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"offline verifier imported {{name}}")
            return None

    sys.meta_path.insert(0, RefuseServerStack())

    from modelsteward.errors import StewardError
    from modelsteward.ledger.checkpoint import NoteVerifier
    from modelsteward.ledger.verify import LogVerifier, read_export, verify_proof

    folder = Path(sys.argv[1])
    verifier = NoteVerifier.from_file_text((folder / "ledger.vkey").read_text())
    note = (folder / "checkpoint.note").read_text()
    try:
        report = LogVerifier(verifier, note).run_export(folder / sys.argv[2], deep=True)
        again = LogVerifier(verifier, note).run(lambda: read_export(folder / sys.argv[2]))
        proof = verify_proof((folder / "proof.json").read_bytes(), verifier)
    except StewardError as exc:
        print(json.dumps(exc.to_dict()))
        sys.exit(exc.exit_code)
    loaded = sorted(
        name for name in sys.modules if name.partition(".")[0] in BLOCKED
        or name == "modelsteward.config"
    )
    print(json.dumps({{
        "report": report.to_dict(),
        "again": again.entries_seen,
        "proof_seq": proof.seq,
        "loaded": loaded,
    }}))
    """
).format(blocked=BLOCKED)

ORIGIN = "example.org/offline-ledger"
COUNT = 9


@pytest.fixture
def evidence_folder(tmp_path: Path) -> Path:
    """An export, its signed checkpoint, a proof file and the vkey, as an auditor receives them."""
    signer = NoteSigner.generate(ORIGIN)
    bodies = [
        EntryDraft("model.intake", "ada", f"model:m{i}", {"i": i, "name": f"modèle {i}"})
        .seal(seq=i, time=f"2026-01-0{1 + i % 9}T00:00:00.000000Z")
        .to_bytes()
        for i in range(COUNT)
    ]
    tree = CompactRange()
    nodes: dict[tuple[int, int], bytes] = {}
    for body in bodies:
        for level, index, node in tree.append(leaf_hash(body)):
            nodes[(level, index)] = node
    note = signer.sign(Checkpoint(ORIGIN, COUNT, tree.root()))
    path = inclusion_proof(4, COUNT, lambda level, index: nodes[(level, index)])
    proof = {
        "format": PROOF_FORMAT,
        "seq": 4,
        "entry": base64.b64encode(bodies[4]).decode(),
        "inclusion": [base64.b64encode(h).decode() for h in path],
        "checkpoint": note,
    }
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "entries.jsonl").write_bytes(b"".join(_line(i, b) for i, b in enumerate(bodies)))
    tampered = [*bodies]
    tampered[2] = tampered[2].replace(b"ada", b"eve")
    (folder / "tampered.jsonl").write_bytes(b"".join(_line(i, b) for i, b in enumerate(tampered)))
    (folder / "checkpoint.note").write_text(note)
    (folder / "proof.json").write_text(json.dumps(proof))
    (folder / "ledger.vkey").write_text(signer.verifier().to_vkey() + "\n")
    return folder


def _line(seq: int, body: bytes) -> bytes:
    return b'{"entry":"%s","seq":%d}\n' % (base64.b64encode(body), seq)


def _run(folder: Path, entries: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT, str(folder), entries],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
        check=False,
    )


def test_offline_verifier_needs_no_server_stack(evidence_folder: Path) -> None:
    result = _run(evidence_folder, "entries.jsonl")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["loaded"] == []
    assert out["report"]["checkpoint_size"] == COUNT
    assert out["report"]["entry_schema_checked"] is True
    assert out["again"] == COUNT
    assert out["proof_seq"] == 4


def test_offline_verifier_reports_tampering_with_its_exit_code(evidence_folder: Path) -> None:
    result = _run(evidence_folder, "tampered.jsonl")
    assert result.returncode == 11, result.stderr
    assert json.loads(result.stdout)["error"] == "root-mismatch"


def test_the_import_hook_really_blocks_the_server_stack(evidence_folder: Path) -> None:
    """Guards the guard: with the hook installed, importing the workspace services fails."""
    script = SCRIPT.split("from modelsteward.errors")[0] + "import modelsteward.bootstrap\n"
    result = subprocess.run(
        [sys.executable, "-c", script, str(evidence_folder), "entries.jsonl"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "offline verifier imported" in result.stderr
