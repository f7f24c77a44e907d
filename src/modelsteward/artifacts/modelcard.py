"""Read a Hugging Face model card (``README.md`` with YAML front matter) and ``config.json``.

Reading never fails on a bad card: what is missing or malformed becomes a *gap* on the result, so
intake records it instead of crashing.

    >>> card = ModelCard.parse("---\\nlicense: apache-2.0\\nbase_model: org/base\\n---\\n# M\\n")
    >>> card.license, card.base_models, "no datasets declared" in card.gaps
    ('apache-2.0', ('org/base',), True)
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CARD_FIELDS", "ModelCard", "ModelConfig", "read_card", "read_config"]

#: what a complete card declares (the completeness score counts these)
CARD_FIELDS = (
    "license",
    "base_model",
    "datasets",
    "language",
    "pipeline_tag",
    "library_name",
    "intended_use",
    "limitations",
)
_MAX_CARD_BYTES = 4 * 1024 * 1024
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_INTENDED = re.compile(r"intended[ _-]*use|uses$|^use cases?|^how to use", re.IGNORECASE)
_LIMITS = re.compile(r"limitation|bias|risks?|out[- ]of[- ]scope", re.IGNORECASE)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int | float) and str(v).strip())
    return ()


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _json_safe(value: Any) -> Any:
    """YAML may hold dates, huge integers, NaN… — keep only what canonical JSON can carry (the
    card goes into a ledger entry), turning the rest into strings."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else str(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


@dataclass(frozen=True)
class ModelCard:
    """What a model card declares, plus the gaps a reviewer should know about."""

    present: bool = False
    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    base_models: tuple[str, ...] = ()
    base_model_relation: str | None = None
    datasets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: tuple[str, ...] = ()
    intended_use: str | None = None
    limitations: str | None = None
    gaps: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def missing(cls, reason: str = "no model card (README.md)") -> ModelCard:
        """A card that is not there: every field is a gap."""
        return cls(gaps=(reason,))

    @classmethod
    def parse(cls, text: str) -> ModelCard:
        """Parse card text; never raises."""
        gaps: list[str] = []
        meta: dict[str, Any] = {}
        match = _FRONT.match(text)
        body = text
        if not match:
            gaps.append("card has no YAML front matter")
        else:
            body = text[match.end() :]
            try:
                loaded = yaml.safe_load(match.group(1))
            except yaml.YAMLError as exc:
                loaded = None
                gaps.append(f"card front matter is not valid YAML ({_first_line(exc)})")
            if isinstance(loaded, dict):
                meta = _json_safe(loaded)
            elif loaded is not None:
                gaps.append("card front matter is not a mapping")
        sections = _sections(body)
        card = cls(
            present=True,
            license=_text(meta.get("license")) or _first(_strings(meta.get("license"))),
            license_name=_text(meta.get("license_name")),
            license_link=_text(meta.get("license_link")),
            base_models=_strings(meta.get("base_model")),
            base_model_relation=_text(meta.get("base_model_relation")),
            datasets=_strings(meta.get("datasets")),
            languages=_strings(meta.get("language")),
            pipeline_tag=_text(meta.get("pipeline_tag")),
            library_name=_text(meta.get("library_name")),
            tags=_strings(meta.get("tags")),
            intended_use=_section(sections, _INTENDED),
            limitations=_section(sections, _LIMITS),
            metadata=meta,
        )
        return card._with_gaps(gaps)

    def _with_gaps(self, gaps: list[str]) -> ModelCard:
        if not self.license:
            gaps.append("no license declared")
        elif self.license == "other" and not (self.license_name or self.license_link):
            gaps.append("license is 'other' but neither license_name nor license_link is given")
        if not self.base_models:
            gaps.append("no base_model declared")
        if not self.datasets:
            gaps.append("no datasets declared")
        if not self.intended_use:
            gaps.append("no intended-use section")
        if not self.limitations:
            gaps.append("no limitations section")
        return ModelCard(**{**asdict(self), "gaps": tuple(gaps)})

    @property
    def completeness(self) -> tuple[int, int]:
        """(fields present, fields expected) over :data:`CARD_FIELDS`."""
        have = {
            "license": bool(self.license),
            "base_model": bool(self.base_models),
            "datasets": bool(self.datasets),
            "language": bool(self.languages),
            "pipeline_tag": bool(self.pipeline_tag),
            "library_name": bool(self.library_name),
            "intended_use": bool(self.intended_use),
            "limitations": bool(self.limitations),
        }
        return sum(have.values()), len(CARD_FIELDS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        """Inverse of :meth:`to_dict`."""
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        values["metadata"] = data.get("metadata", {})
        return cls(**values)


def _first(values: tuple[str, ...]) -> str | None:
    return values[0] if values else None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _sections(body: str) -> list[tuple[str, str]]:
    heads = list(_HEADING.finditer(body))
    out = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        out.append((head.group(2).strip(), body[head.end() : end].strip()))
    return out


def _section(sections: list[tuple[str, str]], pattern: re.Pattern[str]) -> str | None:
    texts = [text for title, text in sections if pattern.search(title) and text]
    return "\n\n".join(texts)[:4000] if texts else None


def read_card(folder: Path) -> ModelCard:
    """The card of a model folder (``README.md``); a single file has no card."""
    path = folder / "README.md"
    if not folder.is_dir() or not path.is_file():
        return ModelCard.missing()
    try:
        raw = path.read_bytes()[: _MAX_CARD_BYTES + 1]
    except OSError as exc:
        return ModelCard.missing(f"model card unreadable: {exc.strerror}")
    if len(raw) > _MAX_CARD_BYTES:
        return ModelCard.missing("model card larger than 4 MiB; not read")
    try:
        return ModelCard.parse(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return ModelCard.missing("model card is not UTF-8 text")


@dataclass(frozen=True)
class ModelConfig:
    """What ``config.json`` says about the architecture and framework."""

    architectures: tuple[str, ...] = ()
    model_type: str | None = None
    dtype: str | None = None
    framework_versions: dict[str, str] = field(default_factory=dict)
    gaps: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "architectures": list(self.architectures),
            "model_type": self.model_type,
            "dtype": self.dtype,
            "framework_versions": dict(self.framework_versions),
            "gaps": list(self.gaps),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuple(data.get("architectures", ())),
            data.get("model_type"),
            data.get("dtype"),
            dict(data.get("framework_versions", {})),
            tuple(data.get("gaps", ())),
        )


def read_config(folder: Path) -> ModelConfig:
    """Parse ``config.json`` when present; a malformed one is a gap."""
    path = folder / "config.json"
    if not folder.is_dir() or not path.is_file():
        return ModelConfig(gaps=("no config.json",))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ModelConfig(gaps=(f"config.json unreadable: {_first_line(exc)}",))
    if not isinstance(data, dict):
        return ModelConfig(gaps=("config.json is not a JSON object",))
    versions = {
        key.removesuffix("_version"): str(value)
        for key, value in data.items()
        if key.endswith("_version") and isinstance(value, str | int | float)
    }
    dtype = data.get("torch_dtype", data.get("dtype"))
    return ModelConfig(
        architectures=_strings(data.get("architectures")),
        model_type=_text(data.get("model_type")),
        dtype=str(dtype) if isinstance(dtype, str) else None,
        framework_versions=versions,
    )
