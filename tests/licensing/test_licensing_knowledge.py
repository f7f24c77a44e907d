"""The licence knowledge base: every entry sourced, SPDX ids real, the file validated on load."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import license_expression
import pytest
import yaml

from modelsteward.errors import InvalidInput
from modelsteward.licensing.knowledge import (
    KnowledgeBase,
    LicenseTerms,
    Permission,
    ShareAlike,
    normalize_expression,
)

KB_FILE = resources.files("modelsteward.licensing").joinpath("knowledge/licenses.yaml")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.default()


@pytest.fixture
def raw() -> dict[str, object]:
    """The packaged YAML as a mutable document, for building broken variants."""
    return yaml.safe_load(KB_FILE.read_bytes())


def _load(doc: object) -> KnowledgeBase:
    return KnowledgeBase.from_bytes(yaml.safe_dump(doc, allow_unicode=True).encode())


def _entry(doc: dict[str, object], ident: str) -> dict[str, object]:
    entries = doc["licenses"]
    assert isinstance(entries, list)
    return next(e for e in entries if e["id"] == ident)


def test_every_kb_entry_has_a_source(kb: KnowledgeBase) -> None:
    for terms in kb.entries():
        assert terms.source.startswith("https://"), terms.id


def test_every_spdx_entry_is_known_to_license_expression(kb: KnowledgeBase) -> None:
    spdx = license_expression.get_spdx_licensing()
    for terms in kb.entries():
        if terms.spdx:
            assert str(spdx.parse(terms.id, validate=True, strict=True)) == terms.id


def test_custom_entries_are_not_spdx_ids(kb: KnowledgeBase) -> None:
    spdx = license_expression.get_spdx_licensing()
    for terms in kb.entries():
        if not terms.spdx:
            assert spdx.unknown_license_keys(terms.id) == [terms.id], terms.id


def test_the_brief_licences_are_covered(kb: KnowledgeBase) -> None:
    wanted = [
        "Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC", "MPL-2.0", "LGPL-2.1-only",
        "LGPL-3.0-only", "GPL-2.0-only", "GPL-3.0-only", "AGPL-3.0-only", "Unlicense", "CC0-1.0",
        "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0",
        "CC-BY-NC-ND-4.0", "CC-BY-3.0", "CC-BY-SA-3.0", "CC-BY-NC-3.0", "CC-BY-NC-SA-3.0",
        "CC-BY-ND-3.0", "CC-BY-NC-ND-3.0", "ODbL-1.0", "ODC-By-1.0", "PDDL-1.0",
        "CDLA-Permissive-2.0", "CDLA-Sharing-1.0",
        # Hugging Face licence tags and license_name values
        "openrail", "openrail++", "creativeml-openrail-m", "bigscience-openrail-m",
        "bigcode-openrail-m", "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "gemma",
        "nvidia-open-model-license", "nvidia noncommercial", "NVIDIA Source Code License-NC",
        "research-only", "nuscenes", "waymo-open-dataset", "other", "unknown",
    ]  # fmt: skip
    assert [key for key in wanted if kb.get(key) is None] == []


def test_every_restrictive_attribute_cites_a_clause(kb: KnowledgeBase) -> None:
    for terms in kb.entries():
        clauses = dict(terms.clauses)
        needed = {
            "commercial_use": terms.commercial_use
            in (Permission.PROHIBITED, Permission.CONDITIONAL),
            "redistribution": terms.redistribution
            in (Permission.PROHIBITED, Permission.CONDITIONAL),
            "derivatives": terms.derivatives in (Permission.PROHIBITED, Permission.CONDITIONAL),
            "share_alike": terms.share_alike in (ShareAlike.WEAK, ShareAlike.STRONG),
            "attribution": terms.attribution is True,
            "research_only": terms.research_only is True,
            "use_restrictions": bool(terms.use_restrictions),
            "field_of_use": bool(terms.field_of_use),
        }
        missing = [name for name, need in needed.items() if need and name not in clauses]
        assert missing == [], terms.id


def test_entries_marked_unknown_say_why(kb: KnowledgeBase) -> None:
    for terms in kb.entries():
        if None in (terms.attribution, terms.research_only, terms.use_restrictions) or (
            Permission.UNKNOWN in (terms.commercial_use, terms.redistribution, terms.derivatives)
        ):
            assert terms.note, terms.id


def test_unknown_entry_has_every_attribute_unknown(kb: KnowledgeBase) -> None:
    terms = kb.get("other")
    assert terms is not None
    assert terms.id == "unknown"
    assert {terms.commercial_use, terms.redistribution, terms.derivatives} == {Permission.UNKNOWN}
    assert terms.share_alike is ShareAlike.UNKNOWN
    assert (terms.attribution, terms.research_only) == (None, None)
    assert (terms.use_restrictions, terms.field_of_use) == (None, None)


def test_llama_3_family_restricts_transportation(kb: KnowledgeBase) -> None:
    for tag in ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3"):
        terms = kb.get(tag)
        assert terms is not None, tag
        assert "transportation" in (terms.field_of_use or ()), tag
        assert "transportation technologies" in terms.clause("field_of_use")


def test_get_is_case_insensitive_and_knows_aliases_and_names(kb: KnowledgeBase) -> None:
    assert kb.get("APACHE-2.0") is kb.get("Apache License 2.0")
    assert kb.get("Llama3.1") is kb.get("llama-3.1-community-license")
    nvidia = kb.get("NVIDIA Open Model License Agreement")
    assert nvidia is not None
    assert nvidia.id == "nvidia-open-model-license"
    assert kb.get("no-such-licence") is None


def test_kb_version_and_digest_of_the_file_bytes(kb: KnowledgeBase) -> None:
    data = KB_FILE.read_bytes()
    assert kb.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert kb.version.count(".") == 2
    assert KnowledgeBase.default() is kb


def test_from_path_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "kb.yaml"
    path.write_bytes(KB_FILE.read_bytes())
    assert KnowledgeBase.from_path(path).digest == KnowledgeBase.default().digest


def test_terms_to_dict_spells_unknown(kb: KnowledgeBase) -> None:
    terms = kb.get("unknown")
    assert isinstance(terms, LicenseTerms)
    assert terms.to_dict()["use_restrictions"] == "unknown"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("apache-2.0", "Apache-2.0"),
        ("MIT OR cc-by-nc-4.0", "MIT OR CC-BY-NC-4.0"),
        ("nvidia-open-model-license", "nvidia-open-model-license"),
        (
            "llama3.1 AND (mit OR openrail++)",
            "llama-3.1-community-license AND (MIT OR creativeml-openrail++-m)",
        ),
        ("GPL-2.0 WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("LicenseRef-gemma-terms-of-use", "gemma-terms-of-use"),
        ("odbl", "ODbL-1.0"),
    ],
)
def test_normalize_expression(kb: KnowledgeBase, given: str, expected: str) -> None:
    assert normalize_expression(given, kb) == expected


def test_unknown_spdx_id_is_invalid_input(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_expression("MIT AND Foo-1.0", kb)
    assert "'Foo-1.0'" in caught.value.message
    assert "steward license kb" in caught.value.hint


def test_licenseref_outside_the_kb_is_invalid_input(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInput, match="LicenseRef-scancode-public-domain"):
        normalize_expression("LicenseRef-scancode-public-domain", kb)


@pytest.mark.parametrize("bad", ["", "   ", "MIT OR", "(MIT", "MIT MIT", "Classpath-exception-2.0"])
def test_malformed_expression_is_invalid_input(kb: KnowledgeBase, bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_expression(bad, kb)


def test_entry_without_source_is_rejected(raw: dict[str, object]) -> None:
    del _entry(raw, "MIT")["source"]
    with pytest.raises(InvalidInput, match=r"entry 'MIT': missing field\(s\) source"):
        _load(raw)


def test_unknown_attribute_value_names_entry_and_field(raw: dict[str, object]) -> None:
    _entry(raw, "gemma-terms-of-use")["commercial_use"] = "maybe"
    with pytest.raises(InvalidInput) as caught:
        _load(raw)
    assert "'gemma-terms-of-use'" in caught.value.message
    assert "'commercial_use'" in caught.value.message
    assert "unknown" in caught.value.hint


@pytest.mark.parametrize(
    ("ident", "field", "value", "says"),
    [
        ("MIT", "attribution", "sometimes", "'attribution'"),
        ("MIT", "field_of_use", ["underwater"], "unknown field 'underwater'"),
        ("MIT", "share_alike_scope", "weights", "without share-alike"),
        ("CC-BY-SA-4.0", "share_alike_scope", None, "is required"),
        ("MIT", "source", "a book", "URL"),
        ("MIT", "surprise", 1, "unknown field(s) surprise"),
        ("MIT", "clauses", {"colour": "red"}, "unknown attribute 'colour'"),
        ("MIT", "aliases", ["gemma"], "'gemma' names both"),
    ],
)
def test_malformed_entries_are_rejected(
    raw: dict[str, object], ident: str, field: str, value: object, says: str
) -> None:
    entry = _entry(raw, ident)
    if value is None:
        del entry[field]
    else:
        entry[field] = value
    with pytest.raises(InvalidInput) as caught:
        _load(raw)
    assert says in caught.value.message
    assert repr(ident) in caught.value.message or "names both" in says


def test_licenseref_ids_are_rejected(raw: dict[str, object]) -> None:
    _entry(raw, "gemma-terms-of-use")["id"] = "LicenseRef-gemma"
    with pytest.raises(InvalidInput, match="LicenseRef"):
        _load(raw)


def test_custom_alias_clashing_with_spdx_is_rejected(raw: dict[str, object]) -> None:
    _entry(raw, "gemma-terms-of-use")["aliases"] = ["wtfpl"]  # an SPDX id the KB lacks
    kb = _load(raw)
    with pytest.raises(InvalidInput, match="clashes"):
        kb.parse("gemma")


def test_not_yaml_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not valid YAML"):
        KnowledgeBase.from_bytes(b"licenses: [unclosed")


def test_unreadable_path_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        KnowledgeBase.from_path(tmp_path / "missing.yaml")


def test_field_aliases_resolve_and_unknown_fields_are_invalid(kb: KnowledgeBase) -> None:
    assert kb.field("Autonomous Driving") == "transportation"
    assert kb.field("industrial-robotics") == "heavy-machinery"
    with pytest.raises(InvalidInput) as caught:
        kb.field("underwater-basket-weaving")
    assert "transportation" in caught.value.hint


def test_public_exports() -> None:
    from modelsteward.licensing import knowledge, review

    assert sorted(review.__all__) == [
        "Distribution", "Level", "LicenseReview", "LineageNode", "Reason", "ReviewedNode",
        "Use", "Verdict", "review_lineage",
    ]  # fmt: skip
    assert {"KnowledgeBase", "LicenseTerms", "normalize_expression"} <= set(knowledge.__all__)
    for module in (knowledge, review):
        assert all(hasattr(module, name) for name in module.__all__)
