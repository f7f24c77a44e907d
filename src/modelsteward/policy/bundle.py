"""Policy packs: Rego modules plus a data document, named, versioned and content-addressed.

A pack is a folder holding ``pack.yaml`` (``name``, ``version``, ``description``), one or more
``*.rego`` modules and optionally ``data.json`` or ``data.yaml`` (the data document, mounted at
``data``). Steward ships one, ``steward-default``; a user points Steward at their own folder.
The stored form is canonical JSON, so a decision can name the exact policy by digest and
replay it later (docs/policies.md).

    >>> bundle = PolicyBundle.default()
    >>> bundle.name, bundle.version
    ('steward-default', '1.0.0')
    >>> PolicyBundle.from_bytes(bundle.to_bytes()) == bundle
    True
    >>> bundle.digest.startswith("sha256:")
    True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import canonical_json
from modelsteward.types import Digest
from modelsteward.yamlfile import load_yaml

__all__ = ["BUNDLE_SCHEMA", "PolicyBundle"]

BUNDLE_SCHEMA = "steward.policy-bundle/v1"
"""The ``schema`` field of a stored bundle."""

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_MODULE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9._-]*/)*[A-Za-z0-9_][A-Za-z0-9._-]*\.rego$")
_PACK_KEYS = frozenset({"name", "version", "description"})
_STORED_KEYS = frozenset({"schema", "name", "version", "description", "modules", "data"})
_MAX_SAFE_INT = 2**53 - 1


@dataclass(frozen=True)
class PolicyBundle:
    """A policy pack as Steward evaluates and stores it.

    Attributes:
        name: The pack's name (``steward-default``).
        version: Its semantic version (``1.0.0``).
        description: One or two sentences on what it gates.
        modules: ``(relative file name, Rego source)`` pairs, sorted by file name.
        data: The data document the modules read under ``data``.
    """

    name: str
    version: str
    description: str
    modules: tuple[tuple[str, str], ...]
    data: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        _check_text(self.name, "name", _NAME, "letters, digits, '.', '_' or '-'")
        _check_text(self.version, "version", _SEMVER, "a semantic version such as 1.0.0")
        if not isinstance(self.description, str):
            raise InvalidInput("policy bundle: description must be text")
        if not self.modules:
            raise InvalidInput("policy bundle: no Rego module", hint="add a .rego file")
        names = [name for name, _ in self.modules]
        for name, source in self.modules:
            if not isinstance(name, str) or not _MODULE.match(name):
                raise InvalidInput(f"policy bundle: bad module file name {name!r}")
            if not isinstance(source, str):
                raise InvalidInput(f"policy bundle: module {name} is not text")
        if len(set(names)) != len(names):
            raise InvalidInput("policy bundle: a module file name appears twice")
        object.__setattr__(self, "modules", tuple(sorted(self.modules)))
        if not isinstance(self.data, Mapping):
            raise InvalidInput("policy bundle: the data document must be an object")
        _check_json(self.data, "data")

    @classmethod
    def from_dir(cls, path: Path) -> PolicyBundle:
        """Read a pack folder (``pack.yaml``, ``*.rego``, optional ``data.json``/``data.yaml``).

        Raises:
            InvalidInput: the folder, a file or a field is missing or malformed (named).
        """
        path = Path(path).expanduser()
        if not path.is_dir():
            what = "does not exist" if not path.exists() else "is not a folder"
            raise InvalidInput(f"policy folder {path} {what}", hint="point at a policy pack")
        return _read_pack(path, str(path))

    @classmethod
    def default(cls) -> PolicyBundle:
        """The pack shipped with Steward (``modelsteward/policy/pack``)."""
        return _default_bundle()

    @classmethod
    def from_bytes(cls, blob: bytes) -> PolicyBundle:
        """Load the stored form written by :meth:`to_bytes`.

        Raises:
            InvalidInput: the bytes are not a canonical policy bundle (the field is named).
        """
        try:
            doc = json.loads(blob.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"policy bundle: not JSON ({exc})") from exc
        if not isinstance(doc, dict):
            raise InvalidInput("policy bundle: not a JSON object")
        if doc.get("schema") != BUNDLE_SCHEMA:
            raise InvalidInput(
                f"policy bundle: schema is {doc.get('schema')!r}, not {BUNDLE_SCHEMA}"
            )
        unknown = sorted(set(doc) - _STORED_KEYS)
        missing = sorted(_STORED_KEYS - set(doc))
        if unknown or missing:
            raise InvalidInput(f"policy bundle: unknown fields {unknown}, missing fields {missing}")
        modules = doc["modules"]
        if not isinstance(modules, dict):
            raise InvalidInput("policy bundle: modules must be an object of file name to source")
        bundle = cls(
            name=doc["name"],
            version=doc["version"],
            description=doc["description"],
            modules=tuple(modules.items()),
            data=doc["data"],
        )
        if bundle.to_bytes() != blob:
            raise InvalidInput("policy bundle: the bytes are not in canonical form")
        return bundle

    def to_bytes(self) -> bytes:
        """The canonical JSON stored form (sorted keys, no spaces, UTF-8)."""
        return self._bytes

    @cached_property
    def _bytes(self) -> bytes:
        return canonical_json(
            {
                "schema": BUNDLE_SCHEMA,
                "name": self.name,
                "version": self.version,
                "description": self.description,
                "modules": dict(self.modules),
                "data": dict(self.data),
            }
        )

    @cached_property
    def digest(self) -> str:
        """``sha256:<hex>`` of :meth:`to_bytes`: the identity a decision records."""
        return str(Digest.of(self.to_bytes()))


def _check_text(value: object, what: str, pattern: re.Pattern[str], expected: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidInput(f"policy bundle: {what} {value!r} is not {expected}")


@cache
def _default_bundle() -> PolicyBundle:
    return _read_pack(files("modelsteward.policy") / "pack", "modelsteward/policy/pack")


def _read_pack(root: Traversable, origin: str) -> PolicyBundle:
    meta = _read_meta(root, origin)
    modules = tuple(sorted(_rego_files(root, "", origin)))
    if not modules:
        raise InvalidInput(f"{origin}: no .rego file", hint="a policy pack needs Rego modules")
    data = _read_data(root, origin)
    try:
        return PolicyBundle(modules=modules, data=data, **meta)
    except InvalidInput as exc:
        raise InvalidInput(f"{origin}: {exc.message}", hint=exc.hint) from exc


def _read_meta(root: Traversable, origin: str) -> dict[str, str]:
    where = f"{origin}/pack.yaml"
    pack = root / "pack.yaml"
    if not pack.is_file():
        raise InvalidInput(
            f"{where} is missing", hint="a policy pack needs pack.yaml: name, version, description"
        )
    meta = load_yaml(_read_text(pack, where), where)
    if not isinstance(meta, dict):
        raise InvalidInput(f"{where}: expected a mapping of name, version and description")
    unknown = sorted(str(k) for k in set(meta) - _PACK_KEYS)
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key {unknown[0]!r}", hint="allowed: description, name, version"
        )
    for key in ("name", "version"):
        if key not in meta:
            raise InvalidInput(f"{where}: {key} is missing")
    description = meta.get("description", "")
    for key, value in (
        ("name", meta["name"]),
        ("version", meta["version"]),
        ("description", description),
    ):
        if not isinstance(value, str):
            raise InvalidInput(f"{where}: {key} must be text (quote it), got {value!r}")
    if not _SEMVER.match(meta["version"]):
        raise InvalidInput(
            f"{where}: version {meta['version']!r} is not a semantic version", hint="e.g. 1.0.0"
        )
    return {"name": meta["name"], "version": meta["version"], "description": description}


def _rego_files(folder: Traversable, prefix: str, origin: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for item in folder.iterdir():
        if item.name.startswith("."):
            continue
        relative = prefix + item.name
        if item.is_dir():
            found.extend(_rego_files(item, relative + "/", origin))
        elif item.name.endswith(".rego"):
            found.append((relative, _read_text(item, f"{origin}/{relative}")))
    return found


def _read_data(root: Traversable, origin: str) -> dict[str, Any]:
    present = [name for name in ("data.json", "data.yaml") if (root / name).is_file()]
    if not present:
        return {}
    if len(present) > 1:
        raise InvalidInput(f"{origin}: both data.json and data.yaml", hint="keep one")
    where = f"{origin}/{present[0]}"
    text = _read_text(root / present[0], where)
    data = load_yaml(text, where) if present[0].endswith(".yaml") else _load_json(text, where)
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{where}: the data document must be an object, got {type(data).__name__}"
        )
    try:
        _check_json(data, "data")
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", hint=exc.hint) from exc
    return data


def _check_json(value: Any, where: str) -> None:
    """JSON values only: text keys, finite numbers within ±2^53 (the canonical form's range)."""
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > _MAX_SAFE_INT:
            raise InvalidInput(f"{where}: {value!r} is not a finite number within ±2^53")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{where}: key {key!r} is not text", hint="quote it")
            _check_json(item, f"{where}.{key}")
        return
    raise InvalidInput(f"{where}: a {type(value).__name__} is not a JSON value", hint="quote it")


def _load_json(text: str, where: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise InvalidInput(f"{where}: not valid JSON (key {key!r} appears twice)")
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise InvalidInput(f"{where}: not valid JSON ({name} is not a JSON number)")

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{where}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from exc


def _read_text(item: Traversable, where: str) -> str:
    try:
        return item.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{where} is not UTF-8 text") from exc
    except OSError as exc:
        raise InvalidInput(f"{where} cannot be read: {exc}") from exc
