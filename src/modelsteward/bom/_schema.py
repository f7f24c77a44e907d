"""What is wrong with a CycloneDX 1.6 JSON document: the official schema, then its bom-refs.

>>> schema_problems({"bomFormat": "CycloneDX", "specVersion": "1.6"})
[]
>>> schema_problems({"specVersion": "1.6"})
["$: 'bomFormat' is a required property"]
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema.exceptions import best_match

__all__ = ["schema_problems"]

_LONGEST = 160  # a failed enum check quotes the whole SPDX list otherwise


def schema_problems(document: dict[str, Any]) -> list[str]:
    """``$.path: message`` for each way the document breaks the CycloneDX 1.6 JSON schema (strict:
    unknown properties are errors); when it has none, each bom-ref that is used twice or that a
    reference (``ref``, ``dependsOn``, ``provides``, ``assemblies``) names but nothing declares."""
    try:
        text = json.dumps(document)
    except (TypeError, ValueError) as exc:
        return [f"$: not JSON ({exc})"]
    errors = _validator().validate_str(text, all_errors=True) or ()
    problems = sorted(_describe(error.data) for error in errors)
    return problems or _reference_problems(document)


@cache
def _validator() -> JsonStrictValidator:
    return JsonStrictValidator(SchemaVersion.V1_6)


def _describe(error: Any) -> str:
    """The most specific cause of a jsonschema error (a ``oneOf`` failure names its branch)."""
    cause = best_match([error])
    message = str(cause.message)
    if len(message) > _LONGEST:
        message = message[: _LONGEST - 3] + "..."
    return f"{cause.json_path}: {message}"


def _reference_problems(document: dict[str, Any]) -> list[str]:
    refs: list[str] = []
    links: list[tuple[str, str]] = []
    _collect(document, "$", refs, links)
    counts = Counter(refs)
    problems = [f"bom-ref {ref!r} is not unique" for ref, n in sorted(counts.items()) if n > 1]
    problems += [
        f"{path}: {ref!r} names no bom-ref in this BOM"
        for path, ref in links
        if ref not in counts and not ref.startswith("urn:cdx:")  # BOM-Links point elsewhere
    ]
    return problems


def _collect(node: Any, path: str, refs: list[str], links: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key == "bom-ref" and isinstance(value, str):
                refs.append(value)
            elif key == "ref" and isinstance(value, str):
                links.append((here, value))
            elif key in ("dependsOn", "provides", "assemblies") and isinstance(value, list):
                links += [(f"{here}[{i}]", v) for i, v in enumerate(value) if isinstance(v, str)]
            else:
                _collect(value, here, refs, links)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _collect(item, f"{path}[{index}]", refs, links)
