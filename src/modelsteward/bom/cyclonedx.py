"""CycloneDX 1.6 AI bill of materials (AI-BOM) for one registered model version.

The BOM pins the model by its OMS root digest and every file by its SHA-256, carries its model
card (task, architecture, datasets, use cases, limitations), its base models as
``pedigree.ancestors`` and its declared datasets as ``data`` components. Every document is checked
against the official CycloneDX 1.6 JSON schema before it is returned: Steward never writes an
invalid BOM.

    >>> validate_cyclonedx({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1})
    >>> validate_cyclonedx({"specVersion": "1.6"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    modelsteward.errors.VerificationFailed: not a valid CycloneDX 1.6 BOM: $: 'bomFormat' is a ...

From the registry: ``render_cyclonedx(version, manifest, ancestors, tool_version="0.1.0")``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from modelsteward.artifacts.manifest import FileDigest, ModelManifest
from modelsteward.bom._identifiers import external_references, licenses, purl, supplier
from modelsteward.bom._schema import schema_problems
from modelsteward.errors import VerificationFailed
from modelsteward.registry.records import ModelVersion
from modelsteward.types import Digest, format_time, utc_now

__all__ = [
    "SPEC_VERSION",
    "Ancestor",
    "TrainingData",
    "build_cyclonedx",
    "render_cyclonedx",
    "validate_cyclonedx",
]

SPEC_VERSION = "1.6"
_SCHEMA_URL = "http://cyclonedx.org/schema/bom-1.6.schema.json"
_HASH_METHOD = "OMS v1.0 root digest: SHA-256 over the files' SHA-256 digests in path order"
_MAX_ERRORS = 5
_TEXT, _IMAGE = ("string",), ("image",)
# pipeline_tag → (input formats, output formats), only for tasks that fix them
_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **dict.fromkeys(
        ("text-generation", "text2text-generation", "summarization", "translation", "fill-mask")
        + ("question-answering", "text-classification", "token-classification"),
        (_TEXT, _TEXT),
    ),
    **dict.fromkeys(("image-classification", "image-to-text"), (_IMAGE, _TEXT)),
    **dict.fromkeys(
        ("image-text-to-text", "visual-question-answering"), (("image", "string"), _TEXT)
    ),
    **dict.fromkeys(("image-to-image", "depth-estimation"), (_IMAGE, _IMAGE)),
    "video-text-to-text": (("video", "string"), _TEXT),
    "text-to-image": (_TEXT, _IMAGE),
    "automatic-speech-recognition": (("audio",), _TEXT),
    **dict.fromkeys(("text-to-speech", "text-to-audio"), (_TEXT, ("audio",))),
}


@dataclass(frozen=True)
class Ancestor:
    """A declared base model of the version being described.

    Attributes:
        declared: The ``base_model`` id as the model card declares it.
        relation: ``base_model_relation`` for this edge (finetune, adapter, quantized, …).
        version: The registered version it resolved to, or None for an unresolved ancestor.
    """

    declared: str
    relation: str | None
    version: ModelVersion | None


@dataclass(frozen=True)
class TrainingData:
    """A registered dataset snapshot a recorded run trained the version on.

    Attributes:
        name: The dataset's register name.
        digest: Its snapshot digest.
        license: Its (normalised) licence expression.
        run: The run id that used it.
    """

    name: str
    digest: Digest
    license: str | None
    run: str


def build_cyclonedx(
    version: ModelVersion,
    manifest: ModelManifest,
    ancestors: Sequence[Ancestor],
    *,
    tool_version: str,
    serial: uuid.UUID | None = None,
    timestamp: str | None = None,
    training_data: Sequence[TrainingData] = (),
) -> dict[str, Any]:
    """Describe a registered version as a CycloneDX 1.6 document (not yet validated).

    Args:
        version: The registry record.
        manifest: Its OMS manifest; its root digest must be the version's digest.
        ancestors: Its base models; a declared base model missing here is listed as unresolved.
        tool_version: Steward's version, recorded in ``metadata.tools``.
        serial: The BOM serial number (random when None).
        timestamp: RFC 3339 creation time (now when None).
        training_data: Datasets of recorded runs that produced the version (pinned by digest;
            they replace a card-declared dataset of the same name).

    Raises:
        VerificationFailed: The manifest does not belong to the version.
    """
    if manifest.root_digest != version.digest:
        raise VerificationFailed(
            f"manifest root digest {manifest.root_digest} is not the digest of {version.ref} "
            f"({version.digest})",
            hint="pass the manifest stored for this version",
        )
    model_ref = _model_ref(version.digest)
    recorded = {t.name.lower(): _recorded_dataset(t) for t in training_data}
    declared = [
        _dataset(name) for name in dict.fromkeys(version.datasets) if name.lower() not in recorded
    ]
    datasets = declared + list(recorded.values())
    dataset_refs = [str(data["bom-ref"]) for data in datasets]
    model = _identity(version) | _compact(
        {
            "externalReferences": external_references(
                version.source, version.revision, version.license_link
            ),
            "tags": _strings(version.card.get("tags")),
            "modelCard": _model_card(version, dataset_refs),
            "properties": _governance(version),
            "pedigree": _compact({"ancestors": _ancestors(version, ancestors)}),
            "components": [_file(item, manifest.name, model_ref) for item in manifest.files],
        }
    )
    tool = {"type": "application", "name": "modelsteward", "version": tool_version}
    return _compact(
        {
            "$schema": _SCHEMA_URL,
            "bomFormat": "CycloneDX",
            "specVersion": SPEC_VERSION,
            "serialNumber": f"urn:uuid:{serial or uuid.uuid4()}",
            "version": 1,
            "metadata": {
                "timestamp": timestamp or format_time(utc_now()),
                "tools": {"components": [tool]},
                "component": model,
            },
            "components": datasets,
            "dependencies": [{"ref": model_ref, "dependsOn": dataset_refs}] if datasets else [],
            "compositions": [
                # every file was hashed, so the model's assembly is complete; the datasets are
                # what the card declares, which nobody has checked
                {"aggregate": "complete", "assemblies": [model_ref]},
                {"aggregate": "unknown", "dependencies": [model_ref]},
            ],
        }
    )


def validate_cyclonedx(document: dict[str, Any]) -> None:
    """Check a document against the official CycloneDX 1.6 JSON schema and its own references.

    Raises:
        VerificationFailed: Naming the path and problem of each error (the first few).
    """
    problems = schema_problems(document)
    if problems:
        more = len(problems) - _MAX_ERRORS
        raise VerificationFailed(
            "not a valid CycloneDX 1.6 BOM: "
            + "; ".join(problems[:_MAX_ERRORS])
            + (f" (and {more} more)" if more > 0 else ""),
            hint="Steward writes only schema-valid BOMs; nothing was written",
        )


def render_cyclonedx(
    version: ModelVersion,
    manifest: ModelManifest,
    ancestors: Sequence[Ancestor],
    *,
    tool_version: str,
    serial: uuid.UUID | None = None,
    timestamp: str | None = None,
    training_data: Sequence[TrainingData] = (),
) -> str:
    """Build, validate and serialise the BOM (arguments as :func:`build_cyclonedx`).

    Raises:
        VerificationFailed: The manifest is not the version's, or the BOM would be invalid.
    """
    document = build_cyclonedx(
        version,
        manifest,
        ancestors,
        tool_version=tool_version,
        serial=serial,
        timestamp=timestamp,
        training_data=training_data,
    )
    validate_cyclonedx(document)
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _model_ref(digest: Digest) -> str:
    return f"model:{digest}"


def _identity(version: ModelVersion) -> dict[str, Any]:
    """What names a registered version: shared by the described model and resolved ancestors."""
    return _compact(
        {
            "type": "machine-learning-model",
            "bom-ref": _model_ref(version.digest),
            "supplier": supplier(version.supplier),
            "name": version.name,
            "version": str(version.version),
            "hashes": [{"alg": "SHA-256", "content": version.digest.hex}],
            "licenses": licenses(version.license, version.license_name, version.license_link),
            "purl": purl(version.source, version.revision),
        }
    )


def _governance(version: ModelVersion) -> list[dict[str, str]]:
    return _props(
        [
            ("steward:registry.ref", version.ref),
            ("steward:status", version.status.value),
            ("steward:tier", version.tier.value),
            ("steward:steward", version.steward),
            ("steward:source", version.source),
            ("steward:revision", version.revision),
            ("steward:intended-use", version.intended_use),
            ("steward:prohibited-use", version.prohibited_use),
            ("steward:hash-method", _HASH_METHOD),
            ("steward:size", str(version.size)),
            ("steward:file-count", str(version.file_count)),
            *(("steward:format", name) for name in version.formats),
            *((f"steward:framework.{k}", v) for k, v in version.framework.items()),
            *_flatten("steward:scan", version.scan),
            ("steward:manifest-blob", str(version.manifest_blob)),
            ("steward:scan-blob", str(version.scan_blob)),
            ("steward:registered-at", version.registered_at),
            ("steward:registered-by", version.registered_by),
        ]
    )


def _model_card(version: ModelVersion, dataset_refs: list[str]) -> dict[str, Any]:
    card, config = version.card, version.config
    task = _text(card.get("pipeline_tag"))
    inputs, outputs = _IO.get(task or "", ((), ()))
    architectures = _strings(config.get("architectures"))
    parameters = {
        "task": task,
        "architectureFamily": _text(config.get("model_type")),
        "modelArchitecture": architectures[0] if architectures else None,
        "datasets": [{"ref": ref} for ref in dataset_refs],
        "inputs": [{"format": name} for name in inputs],
        "outputs": [{"format": name} for name in outputs],
    }
    considerations = {
        "useCases": list(dict.fromkeys(_present(version.intended_use, card.get("intended_use")))),
        "technicalLimitations": list(_present(card.get("limitations"))),
    }
    # the 1.6 model card has no slot for out-of-scope use, so it travels as a property
    properties = [
        ("steward:prohibited-use", version.prohibited_use),
        ("steward:library", _text(card.get("library_name"))),
        ("steward:dtype", _text(config.get("dtype"))),
        *(("steward:language", code) for code in _strings(card.get("languages"))),
        *(("steward:gap", gap) for gap in version.gaps),
    ]
    return _compact(
        {
            "modelParameters": _compact(parameters),
            "considerations": _compact(considerations),
            "properties": _props(properties),
        }
    )


def _ancestors(version: ModelVersion, ancestors: Sequence[Ancestor]) -> list[dict[str, Any]]:
    given = {ancestor.declared for ancestor in ancestors}
    unlisted = [Ancestor(name, None, None) for name in version.base_models if name not in given]
    seen = {_model_ref(version.digest)}
    out: list[dict[str, Any]] = []
    for ancestor in (*ancestors, *unlisted):
        relation = ancestor.relation or version.base_model_relation
        if ancestor.version is None:
            facts = [("steward:resolved", "false"), ("steward:base-model-relation", relation)]
            out.append(
                {"type": "machine-learning-model", "name": ancestor.declared} | _props_of(facts)
            )
            continue
        component = _identity(ancestor.version)
        if component["bom-ref"] in seen:  # bom-refs must be unique within the BOM
            del component["bom-ref"]
        seen.add(_model_ref(ancestor.version.digest))
        facts = [
            ("steward:resolved", "true"),
            ("steward:declared", ancestor.declared),
            ("steward:registry.ref", ancestor.version.ref),
            ("steward:base-model-relation", relation),
        ]
        out.append(component | _props_of(facts))
    return out


def _dataset(name: str) -> dict[str, Any]:
    return {
        "type": "data",
        "bom-ref": f"dataset:{name}",
        "name": name,
        "data": [{"type": "dataset", "name": name}],
        "properties": [{"name": "steward:evidence", "value": "declared in the model card"}],
    }


def _recorded_dataset(item: TrainingData) -> dict[str, Any]:
    return _compact(
        {
            "type": "data",
            "bom-ref": f"dataset:{item.name}",
            "name": item.name,
            "hashes": [{"alg": "SHA-256", "content": item.digest.hex}],
            "licenses": licenses(item.license, None, None),
            "data": [{"type": "dataset", "name": item.name}],
            "properties": [
                {"name": "steward:evidence", "value": f"recorded training run {item.run}"}
            ],
        }
    )


def _file(item: FileDigest, manifest_name: str, model_ref: str) -> dict[str, Any]:
    size = str(item.size) if item.size >= 0 else None  # unknown for statements without sizes
    return _compact(
        {
            "type": "file",
            "bom-ref": f"{model_ref}/{item.path}",
            "name": manifest_name if item.path == "." else item.path,  # a single-file model
            "hashes": [{"alg": "SHA-256", "content": item.sha256}],
            "properties": _props([("steward:size", size)]),
        }
    )


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    """A nested JSON value as name/value pairs: ``scan.counts.unsafe = 0``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(f"{prefix}.{key}", item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(prefix, item)
    elif isinstance(value, str):
        yield prefix, value
    elif value is not None:
        yield prefix, json.dumps(value)


def _props(pairs: Iterable[tuple[str, str | None]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs if value]


def _props_of(pairs: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    return {"properties": _props(pairs)}


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    """Drop absent values: the schema rejects nulls and empty objects say nothing."""
    return {key: value for key, value in node.items() if value not in (None, "", [], {})}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _strings(value: Any) -> list[str]:
    return (
        [item for item in value if isinstance(item, str) and item]
        if isinstance(value, list)
        else []
    )


def _present(*values: Any) -> Iterator[str]:
    return (text for value in values if (text := _text(value)))
