"""Errors, settings and the public surface."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import modelsteward
from modelsteward import errors
from modelsteward.config import Settings
from modelsteward.types import Digest, format_time, parse_time, utc_now

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_top_level_exports() -> None:
    assert modelsteward.__all__ == ["StewardError", "__version__"]


def test_every_error_has_a_distinct_documented_exit_code_per_class() -> None:
    ledger_classes = [
        errors.BadSignature,
        errors.RootMismatch,
        errors.SequenceBroken,
        errors.InconsistentCheckpoints,
        errors.MalformedEvidence,
    ]
    codes = [cls.exit_code for cls in ledger_classes]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert code in errors.EXIT_CODES
    assert all(issubclass(cls, errors.VerificationFailed) for cls in ledger_classes)


def test_error_dict_shape() -> None:
    err = errors.NotFound("nope", hint="try again")
    assert err.to_dict() == {
        "error": "not-found",
        "message": "nope",
        "hint": "try again",
        "exit_code": 4,
    }
    assert err.http_status == 404


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"STEWARD_{name.upper()}" in text, name


def test_settings_default_to_a_sqlite_file_in_the_workspace(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    assert s.resolved_database_url() == f"sqlite:///{tmp_path.resolve() / 'steward.db'}"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    monkeypatch.setenv("STEWARD_COMMIT_MAX_BATCH", "17")
    s = Settings()
    assert s.home == tmp_path
    assert s.commit_max_batch == 17


def test_digest_round_trip_and_rejects_garbage() -> None:
    d = Digest.of(b"x")
    assert Digest.parse(str(d)) == d
    with pytest.raises(errors.InvalidInput):
        Digest.parse("sha256:xyz")
    with pytest.raises(errors.InvalidInput):
        Digest.parse("md5:" + "0" * 32)


def test_time_format_is_rfc3339_utc_with_microseconds() -> None:
    now = utc_now()
    text = format_time(now)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", text)
    assert parse_time(text) == now
