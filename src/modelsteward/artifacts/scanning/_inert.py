"""Formats that hold no code of their own: JSON, text, YAML, SentencePiece — and Python, which does.

Each must at least be what it claims (JSON that parses, UTF-8 text), because a loader that trips
over a malformed file is an attack surface too. Chat templates inside ``tokenizer_config.json`` or
``*.jinja`` files and ``!!python/`` tags in YAML are judged; Python source is never vouched for.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from modelsteward.artifacts.scanning import scan_file
    >>> path = Path(tempfile.mkdtemp()) / "config.json"
    >>> _ = path.write_text('{"hidden_size": 64}')
    >>> scan_file("config.json", path, path.parent).verdict
    <Verdict.SAFE: 'safe'>
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from modelsteward.artifacts.scanning._safetensors import check_weight_index
from modelsteward.artifacts.scanning._target import STEWARD_VERSION, Findings, ScanTarget
from modelsteward.artifacts.scanning._templates import suspicious_jinja
from modelsteward.artifacts.scanning._verdict import FileVerdict

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "scan_json",
    "scan_python",
    "scan_sentencepiece",
    "scan_text",
    "scan_unknown",
]

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""Largest JSON, YAML, template or SentencePiece file parsed in memory."""

_CHUNK = 1024 * 1024
_YAML_PYTHON_TAG = re.compile(r"!!python/[\w.:/-]*|tag:yaml\.org,2002:python/[\w.:/-]*")
_PIECES, _LAST_FIELD, _FIRST_EXTENSION = 1, 5, 200


def scan_json(target: ScanTarget) -> FileVerdict:
    """JSON must parse; shard indexes must point inside the model; chat templates are judged."""
    found = Findings()
    document = _read_document(target, found)
    if document is not None:
        try:
            value = json.loads(document)
        except (ValueError, RecursionError) as exc:
            found.unsafe(f"malformed JSON ({str(exc)[:200]})")
        else:
            _check_json(value, target, found)
    return found.build(target, "json", "steward-json", STEWARD_VERSION)


def _check_json(value: Any, target: ScanTarget, found: Findings) -> None:
    if target.name.endswith(".index.json"):
        check_weight_index(value, target, found)
    if not isinstance(value, dict):
        return
    templates = value.get("chat_template")
    if isinstance(templates, str):
        templates = [{"name": "default", "template": templates}]
    if isinstance(templates, list):
        for entry in templates:
            if isinstance(entry, dict) and isinstance(entry.get("template"), str):
                for reason in suspicious_jinja(entry["template"]):
                    found.unsafe(f"chat_template {entry.get('name')!r} contains {reason}")
    if isinstance(value.get("auto_map"), dict):
        # transformers imports these classes from the folder's .py files (trust_remote_code)
        found.details["auto_map"] = value["auto_map"]


def _read_document(target: ScanTarget, found: Findings) -> str | None:
    if target.size > MAX_DOCUMENT_BYTES:
        found.unscanned(f"{target.size} bytes is too large to parse in memory")
        return None
    try:
        return target.real.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        found.unsafe(f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return None


def scan_text(target: ScanTarget, fmt: str = "text") -> FileVerdict:
    """Text must be valid UTF-8 (streamed); YAML python tags and Jinja escapes are unsafe."""
    found = Findings()
    if fmt in ("yaml", "jinja"):
        document = _read_document(target, found)
        if document is not None and fmt == "yaml":
            for tag in dict.fromkeys(_YAML_PYTHON_TAG.findall(document)):
                found.unsafe(f"YAML tag {tag} builds Python objects under yaml.unsafe_load")
        elif document is not None:
            for reason in suspicious_jinja(document):
                found.unsafe(f"template contains {reason}")
    else:
        _check_utf8(target, found)
    return found.build(target, fmt, "steward-text", STEWARD_VERSION)


def _check_utf8(target: ScanTarget, found: Findings) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    done = 0
    with target.real.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
                done += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            found.unsafe(f"not valid UTF-8 ({exc.reason} near byte {done + exc.start})")


def scan_python(target: ScanTarget) -> FileVerdict:
    """Python source is code: it always needs a person's review."""
    found = Findings()
    found.unscanned("Python source runs with trust_remote_code; review it and accept explicitly")
    return found.build(target, "python", "steward-detect", STEWARD_VERSION)


def scan_unknown(target: ScanTarget, fmt: str = "unknown") -> FileVerdict:
    """No scanner knows this format."""
    found = Findings()
    what = "" if fmt == "unknown" else f" ({fmt})"
    found.unscanned(f"no scanner for this format{what}")
    return found.build(target, fmt, "steward-detect", STEWARD_VERSION)


def scan_sentencepiece(target: ScanTarget) -> FileVerdict:
    """A SentencePiece ``ModelProto``: checked field by field at the protobuf wire level.

    The model is pure data read by a protobuf parser; a file that is exactly a well-formed
    ``ModelProto`` (pieces, trainer, normalizer, self-test and denormalizer specs, extensions)
    is safe. Anything else is unscanned: ``.model`` is a common extension.
    """
    found = Findings()
    if target.size > MAX_DOCUMENT_BYTES:
        found.unscanned(f"{target.size} bytes is too large to parse in memory")
        return found.build(target, "sentencepiece", "steward-sentencepiece", STEWARD_VERSION)
    data = target.real.read_bytes()
    try:
        fields = _wire_fields(data)
        pieces = 0
        for number, wire, payload in fields:
            if number == _PIECES and wire == 2:
                _wire_fields(payload)
                pieces += 1
            elif not (number <= _LAST_FIELD and wire == 2) and number < _FIRST_EXTENSION:
                raise ValueError(f"unexpected field {number} (wire type {wire})")
        if not pieces:
            raise ValueError("no vocabulary pieces")
        found.details["pieces"] = pieces
    except ValueError as exc:
        # other libraries use .model too; a name is no evidence of malice, but nothing vouches
        found.unscanned(f"not a SentencePiece model ({exc}): no scanner for this format")
    return found.build(target, "sentencepiece", "steward-sentencepiece", STEWARD_VERSION)


def _wire_fields(data: bytes) -> list[tuple[int, int, bytes]]:
    """Split a protobuf message into ``(field number, wire type, payload)``; ValueError if bad."""
    fields: list[tuple[int, int, bytes]] = []
    offset = 0
    while offset < len(data):
        key, offset = _varint(data, offset)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            _, end = _varint(data, offset)
        elif wire in (1, 5):
            end = offset + (8 if wire == 1 else 4)
        elif wire == 2:
            length, offset = _varint(data, offset)
            end = offset + length
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if end > len(data):
            raise ValueError("a field runs past the end of the file")
        fields.append((number, wire, data[offset:end]))
        offset = end
    return fields


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while offset < len(data) and shift < 64:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
    raise ValueError("truncated or overlong varint")
