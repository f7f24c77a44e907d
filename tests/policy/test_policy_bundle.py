"""Policy packs: reading a folder, the shipped pack, the canonical stored form."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from modelsteward.errors import InvalidInput
from modelsteward.policy import BUNDLE_SCHEMA, PolicyBundle

RULE = "package mine\nimport rego.v1\nallow := true\n"


def write_pack(
    root: Path,
    *,
    meta: str = "name: my-pack\nversion: 2.1.0\ndescription: my gates\n",
    modules: dict[str, str] | None = None,
    data: tuple[str, str] | None = None,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(meta, encoding="utf-8")
    for name, source in (modules if modules is not None else {"gate.rego": RULE}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source, encoding="utf-8")
    if data is not None:
        (root / data[0]).write_text(data[1], encoding="utf-8")
    return root


def test_the_default_pack_is_steward_default_1_0_0() -> None:
    bundle = PolicyBundle.default()
    assert (bundle.name, bundle.version) == ("steward-default", "1.0.0")
    names = [name for name, _ in bundle.modules]
    assert names == sorted(names)
    assert {"gate.rego", "signoff.rego", "gate_test.rego", "signoff_test.rego"} <= set(names)
    assert set(bundle.data["gates"]["tiers"]) == set(bundle.data["gates"]["matrix"])


def test_the_default_pack_ships_as_package_data() -> None:
    shipped = {item.name for item in (files("modelsteward.policy") / "pack").iterdir()}
    assert {"pack.yaml", "data.json", "gate.rego", "signoff.rego"} <= shipped


def test_a_folder_becomes_a_bundle_with_its_data(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path / "pack",
        modules={"gate.rego": RULE, "lib/util.rego": "package mine.util\n"},
        data=("data.yaml", "limits:\n  pilot: 0.2\n"),
    )
    bundle = PolicyBundle.from_dir(root)
    assert (bundle.name, bundle.version, bundle.description) == ("my-pack", "2.1.0", "my gates")
    assert [name for name, _ in bundle.modules] == ["gate.rego", "lib/util.rego"]
    assert bundle.data == {"limits": {"pilot": 0.2}}


def test_a_pack_without_data_has_an_empty_data_document(tmp_path: Path) -> None:
    assert PolicyBundle.from_dir(write_pack(tmp_path / "p")).data == {}


def test_the_stored_form_is_canonical_json_and_round_trips(tmp_path: Path) -> None:
    bundle = PolicyBundle.from_dir(
        write_pack(tmp_path / "p", data=("data.json", '{"b": 1, "a": "é"}'))
    )
    blob = bundle.to_bytes()
    assert blob == json.dumps(
        json.loads(blob), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert json.loads(blob)["schema"] == BUNDLE_SCHEMA
    assert PolicyBundle.from_bytes(blob) == bundle


def test_the_digest_names_the_content(tmp_path: Path) -> None:
    first = PolicyBundle.from_dir(write_pack(tmp_path / "a"))
    same = PolicyBundle.from_dir(write_pack(tmp_path / "b"))
    changed = PolicyBundle.from_dir(
        write_pack(tmp_path / "c", modules={"gate.rego": RULE + "x := 1\n"})
    )
    assert first.digest == same.digest
    assert first.digest != changed.digest
    assert first.digest.startswith("sha256:")
    assert len(first.digest) == 71


def test_bytes_not_in_canonical_form_are_refused() -> None:
    doc = json.loads(PolicyBundle.default().to_bytes())
    with pytest.raises(InvalidInput, match="not in canonical form"):
        PolicyBundle.from_bytes(json.dumps(doc, indent=1).encode())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "other/v1"}, "schema is 'other/v1'"),
        ({"extra": 1}, r"unknown fields \['extra'\]"),
        ({"version": "one"}, "version 'one' is not a semantic version"),
        ({"modules": {}}, "no Rego module"),
        ({"modules": {"../escape.rego": "package x"}}, "bad module file name"),
        ({"data": [1]}, "the data document must be an object"),
    ],
)
def test_stored_bundles_are_validated(change: dict[str, object], message: str) -> None:
    doc = {**json.loads(PolicyBundle.default().to_bytes()), **change}
    with pytest.raises(InvalidInput, match=message):
        PolicyBundle.from_bytes(json.dumps(doc).encode())


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        PolicyBundle.from_dir(tmp_path / "nowhere")


def test_a_folder_without_pack_yaml_is_refused(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p")
    (root / "pack.yaml").unlink()
    with pytest.raises(InvalidInput, match=r"pack\.yaml is missing"):
        PolicyBundle.from_dir(root)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("name: p\nversion: 1.0\n", "version must be text"),
        ("name: p\nversion: '1.0'\n", "version '1.0' is not a semantic version"),
        ("name: p\nversion: 1.0.0\nowner: me\n", "unknown key 'owner'"),
        ("version: 1.0.0\n", "name is missing"),
        ("name: p\nversion: 1.0.0\nname: q\n", "key 'name' appears twice"),
        ("- a list\n", "expected a mapping"),
        ("name: [p\n", "not valid YAML"),
    ],
)
def test_pack_yaml_errors_name_the_file_and_field(tmp_path: Path, meta: str, message: str) -> None:
    root = write_pack(tmp_path / "p", meta=meta)
    with pytest.raises(InvalidInput, match=message) as caught:
        PolicyBundle.from_dir(root)
    assert "pack.yaml" in caught.value.message


def test_a_pack_without_rego_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no \.rego file"):
        PolicyBundle.from_dir(write_pack(tmp_path / "p", modules={}))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (("data.json", '{"a": '), r"data\.json: not valid JSON \(Expecting value, line 1"),
        (("data.json", '{"a": 1, "a": 2}'), "key 'a' appears twice"),
        (("data.json", '{"a": NaN}'), "NaN is not a JSON number"),
        (("data.json", "[1, 2]"), "the data document must be an object, got list"),
        (("data.yaml", "a: [1\n"), r"data\.yaml: not valid YAML"),
        (
            ("data.yaml", "when: 2026-01-01\n"),
            r"data\.yaml: data\.when: a date is not a JSON value",
        ),
        (("data.yaml", "1: one\n"), r"data\.yaml: data: key 1 is not text"),
    ],
)
def test_bad_data_documents_name_the_file(
    tmp_path: Path, data: tuple[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        PolicyBundle.from_dir(write_pack(tmp_path / "p", data=data))


def test_two_data_documents_are_refused(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", data=("data.json", "{}"))
    (root / "data.yaml").write_text("{}\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="both data.json and data.yaml"):
        PolicyBundle.from_dir(root)


def test_a_module_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p")
    (root / "latin.rego").write_bytes(b"package x\n# caf\xe9\n")
    with pytest.raises(InvalidInput, match=r"latin\.rego is not UTF-8"):
        PolicyBundle.from_dir(root)
