"""Identifiers a BOM borrows from elsewhere: SPDX licence ids, package URLs and web addresses.

>>> licenses("apache-2.0", None, None)
[{'license': {'id': 'Apache-2.0'}}]
>>> purl("https://huggingface.co/nvidia/Cosmos-Reason1-7B", None)
'pkg:huggingface/nvidia/Cosmos-Reason1-7B'
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import urlparse

from cyclonedx.spdx import is_supported_id
from license_expression import get_license_index
from packageurl import PackageURL

__all__ = ["external_references", "hf_repo", "licenses", "purl", "supplier", "web_url"]

_COMMIT = re.compile(r"^[0-9a-fA-F]{40}$")
# no character an iri-reference may not hold, and only well-formed percent escapes
_IRI = re.compile(r"^(?:[^\s<>\"{}|\\^`%]|%[0-9A-Fa-f]{2})+$")
_HF_HOSTS = frozenset({"huggingface.co", "hf.co"})
_GIT_HOSTS = _HF_HOSTS | {"github.com", "gitlab.com"}


def licenses(license_id: str | None, name: str | None, link: str | None) -> list[dict[str, Any]]:
    """A CycloneDX ``licenses`` list for a model card's ``license`` fields.

    An SPDX id (matched case-insensitively, deprecated ids mapped to current ones) becomes
    ``license.id``; ``other`` becomes ``license.name`` = ``license_name``; anything else
    (``llama3.1``, ``openrail``) is kept as a name. ``license_link`` becomes ``license.url``.
    """
    if not license_id or not license_id.strip():
        return []
    key = license_id.strip().lower()
    spdx = _spdx_ids().get(key)
    entry: dict[str, str] = {"id": spdx} if spdx else {"name": license_id.strip()}
    if key == "other" and name:
        entry = {"name": name}
    if url := web_url(link):
        entry["url"] = url
    return [{"license": entry}]


@cache
def _spdx_ids() -> dict[str, str]:
    """Lower-case SPDX id or alias → current SPDX id, from license-expression's SPDX index,
    limited to the ids the CycloneDX schema's SPDX enumeration accepts."""
    pairs = [
        (entry.get("spdx_license_key"), entry.get("other_spdx_license_keys") or [])
        for entry in get_license_index()
        if not entry.get("is_exception")
    ]
    known = [(key, aliases) for key, aliases in pairs if key and is_supported_id(key)]
    ids = {key.lower(): key for key, _ in known}
    for key, aliases in known:  # aliases second, so a current id always wins
        for alias in aliases:
            if not alias.startswith("LicenseRef-"):
                ids.setdefault(alias.lower(), key)
    return ids


def purl(source: str | None, revision: str | None) -> str | None:
    """``pkg:huggingface/ORG/NAME[@COMMIT]`` for a Hugging Face source, else None.

    The purl type makes the version the lower-cased git commit hash, so a branch or tag revision
    is left out rather than written as a version.
    """
    repo = hf_repo(source)
    if not repo:
        return None
    commit = revision.lower() if revision and _COMMIT.match(revision) else None
    return PackageURL(
        type="huggingface", namespace=repo[0], name=repo[1], version=commit
    ).to_string()


def hf_repo(source: str | None) -> tuple[str, str] | None:
    """``(org, name)`` of a Hugging Face model URL; None for other hosts, datasets and spaces."""
    url = web_url(source)
    if not url or _host(url) not in _HF_HOSTS:
        return None
    parts = [part for part in urlparse(url).path.split("/") if part]
    # the purl type requires a namespace, so un-namespaced legacy models get no purl
    if len(parts) < 2 or parts[0] in {"datasets", "spaces"}:
        return None
    if parts[1] in {"tree", "blob", "resolve", "commit"}:
        return None
    return parts[0], parts[1]


def external_references(
    source: str | None, revision: str | None, license_link: str | None
) -> list[dict[str, str]]:
    """The source repository (``vcs`` on git hosts, always ``website``) and the licence link."""
    refs: list[dict[str, str]] = []
    repo = hf_repo(source)
    url = f"https://huggingface.co/{repo[0]}/{repo[1]}" if repo else web_url(source)
    if url:
        if _host(url) in _GIT_HOSTS:
            comment = {"comment": f"revision {revision}"} if revision else {}
            refs.append({"type": "vcs", "url": url} | comment)
        refs.append({"type": "website", "url": url})
    if link := web_url(license_link):
        refs.append({"type": "license", "url": link})
    return refs


def supplier(supplier_id: str | None) -> dict[str, Any] | None:
    """``huggingface.co/nvidia`` → the organisation ``nvidia`` with its hub page."""
    if not supplier_id:
        return None
    host, _, org = supplier_id.partition("/")
    url = web_url(supplier_id)
    return {"name": org or host} | ({"url": [url]} if url else {})


def web_url(text: str | None) -> str | None:
    """An http(s) URL safe to put where the schema wants an IRI (``https://`` added), or None."""
    text = (text or "").strip()
    candidate = text if "://" in text else f"https://{text}"
    try:
        parsed = urlparse(candidate)
        host = parsed.hostname or ""
    except ValueError:
        return None
    if parsed.scheme not in {"http", "https"} or "." not in host or not _IRI.match(candidate):
        return None
    return candidate


def _host(url: str) -> str:
    return (urlparse(url).hostname or "").removeprefix("www.")
