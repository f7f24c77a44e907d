"""The offline PII scanner: real CSV, JSONL, Parquet and text files written in tmp_path."""

from __future__ import annotations

import csv
import json
import random
import string
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelsteward.data._pii_corpus import planted_notes, planted_value
from modelsteward.data._pii_redact import mask_keep_tail, redact_email
from modelsteward.data.pii import (
    SCANNER,
    PiiPatterns,
    PiiReport,
    PiiType,
    find_pii,
    scan_file,
    scan_files,
)
from modelsteward.errors import InvalidInput


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def types_in(text: str, patterns: PiiPatterns | None = None) -> list[str]:
    return [m.type.value for m in find_pii(text, patterns or PiiPatterns.default())]


# --- what each category finds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe@example.com today", "email"),
        ("call (212) 736-5000", "phone"),
        ("call +44 20 7946 0958", "phone"),
        ("card 4111 1111 1111 1111", "payment_card"),
        ("amex 3782 822463 10005", "payment_card"),
        ("paid by card 5555555555554444", "payment_card"),
        ("ssn 536-22-1234", "national_id"),
        ("Steuer-ID 36574261809", "national_id"),
        ("NIR 2 95 10 99 126 111 93", "national_id"),
        ("DNI 54362315K", "national_id"),
        ("NIE X2482300W", "national_id"),
        ("CF RCCMNL83S18D969H", "national_id"),
        ("NI number AB 12 34 56 C", "national_id"),
        ("AHV 756.9217.0769.85", "national_id"),
        ("HETU 131052-308T", "national_id"),
        ("from 192.168.10.20", "ip_address"),
        ("from 2001:db8:85a3::8a2e:370:7334", "ip_address"),
        ("pos 48.13512, 11.58201", "gps_coordinates"),
        ("plate AB12 CDE", "vehicle_plate"),
        ("plate M-AB 1234", "vehicle_plate"),
    ],
)
def test_each_category_is_found(text: str, expected: str) -> None:
    assert types_in(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "test card 4111 1111 1111 1112",  # fails Luhn
        "ref 666-12-3456 and 000-12-3456 and 900-12-3456",  # never-issued SSN areas
        "ticket 123-456-7890",  # no US area code starts with 1
        "build 1.4.22.3, v1.2.3.4, version 10.0.0.1",  # versions, not addresses
        "host 127.0.0.1 or 0.0.0.0 or 224.0.0.1 or fe80::1",  # not personal addresses
        "addr 256.1.1.1",
        "accel 0.1234, 0.5678",  # sensor pair near zero
        "temps 23.5, 24.1",  # too few decimals for a position
        "at 2024-05-01T12:34:56.789Z, 12:34:56",
        "ts 1714567890123 frame 48213377",
        "mac 00:1A:2B:3C:4D:5E",
        "asset icon@2x.png",
        "bus CAN-FD error, DTC P0301 ECU-A fault",
        "trip 4111111111111111",  # a valid card shape without any card context
        "id 36574261809",  # a valid tax ID shape without context
    ],
)
def test_decoys_are_not_reported(text: str) -> None:
    assert types_in(text) == []


def test_luhn_invalid_card_number_is_not_reported() -> None:
    assert types_in("card 4111 1111 1111 1111") == ["payment_card"]
    assert types_in("card 4111 1111 1111 1113") == []


def test_card_number_without_separators_needs_card_context(tmp_path: Path) -> None:
    assert types_in("ref 4111111111111111") == []
    assert types_in("visa 4111111111111111") == ["payment_card"]
    rows = [["trip 4111111111111111", "4111111111111111", "4111111111111111"]]
    path = write_csv(tmp_path / "t.csv", ["note", "trip_id", "card_number"], rows)
    found = scan_file(path, "t.csv")
    assert [(f.column, f.type.value) for f in found.findings] == [("card_number", "payment_card")]
    # Listed for review, not counted; a numeric column without context is not searched at all.
    assert [(u.column, u.kind, u.count) for u in found.unconfirmed] == [("note", "card_digits", 1)]


def test_phone_numbers_in_national_format_follow_the_configured_region() -> None:
    german = PiiPatterns(phone_region="DE")
    assert types_in("Tel. 030 12345678") == []
    assert types_in("Tel. 030 12345678", german) == ["phone"]
    assert types_in("Tel. +49 30 12345678") == ["phone"]


def test_overlapping_shapes_are_counted_once() -> None:
    matches = find_pii("write to 4111-1111-1111-1111@cards.example.com")
    assert [m.type.value for m in matches] == ["email"]


# --- precision and recall on planted values ---------------------------------------------------


def test_planted_values_are_found_with_high_precision_and_recall() -> None:
    notes = planted_notes(seed=2024, count=6000, share=0.4, lookalikes=0.5)
    tp: Counter[PiiType] = Counter()
    fp: Counter[PiiType] = Counter()
    planted: Counter[PiiType] = Counter(n.planted for n in notes if n.planted is not None)
    for note in notes:
        for hit in find_pii(note.text):
            start, end = note.span
            on_plant = note.planted is hit.type and hit.start < end and start < hit.end
            (tp if on_plant else fp)[hit.type] += 1
    for pii_type in PiiType:
        assert planted[pii_type] > 200
        precision = tp[pii_type] / (tp[pii_type] + fp[pii_type])
        recall = tp[pii_type] / planted[pii_type]
        assert precision >= 0.95, (pii_type, precision)
        assert recall >= 0.95, (pii_type, recall)


# --- files ------------------------------------------------------------------------------------


def test_counts_by_type_and_column(tmp_path: Path) -> None:
    rows = [
        ["jane@example.com", "call (212) 736-5000", "48.1"],
        ["bo@example.org", "nothing here", "48.2"],
        ["", "ssn 536-22-1234 and 192.168.1.20", "48.3"],
    ]
    path = write_csv(tmp_path / "log.csv", ["contact", "note", "gps_lat"], rows)
    report = scan_files([("log.csv", path)])
    assert report.by_column == {
        ("log.csv", "contact"): {"email": 2},
        ("log.csv", "note"): {"phone": 1, "national_id": 1, "ip_address": 1},
        ("log.csv", "gps_lat"): {"gps_coordinates": 3},
    }
    assert report.counts == {
        "email": 2,
        "phone": 1,
        "national_id": 1,
        "ip_address": 1,
        "gps_coordinates": 3,
    }
    assert report.rows_scanned == 3
    assert report.bytes_scanned == path.stat().st_size


def test_redacted_samples_never_contain_the_raw_value(tmp_path: Path) -> None:
    rng = random.Random(5)
    values = {t: [planted_value(rng, t) for _ in range(5)] for t in PiiType}
    values[PiiType.PAYMENT_CARD] = [v for v in values[PiiType.PAYMENT_CARD] if not v.isdigit()]
    lines = [f"note {v} end" for vs in values.values() for v in vs]
    path = tmp_path / "notes.txt"
    path.write_text("\n".join(lines) + "\n")
    report = scan_files([("notes.txt", path)])
    serialized = json.dumps(report.to_dict())
    for pii_type, raws in values.items():
        samples = report.samples(pii_type)
        assert 1 <= len(samples) <= 3, pii_type
        for raw in raws:
            assert raw not in serialized
        for sample in samples:
            assert "*" in sample


def test_samples_are_capped_at_three_per_type_and_column(tmp_path: Path) -> None:
    rows = [[f"user{i}@example.com"] for i in range(10)]
    found = scan_file(write_csv(tmp_path / "c.csv", ["mail"], rows), "c.csv")
    (finding,) = found.findings
    assert finding.count == 10
    assert finding.samples == ("u***@e***.com",) * 3


def test_numeric_columns_count_only_as_coordinates_by_name(tmp_path: Path) -> None:
    table = pa.table(
        {
            "gps_lat": [48.1, 48.2, None],
            "gpsLongitude": [11.5, 11.6, 11.7],
            "lat_accel": [0.2, -0.3, 0.1],
            "trip_id": [4111111111111111, 5555555555554444, 4012888888881881],
            "speed": [12.0, 13.5, 14.25],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    found = scan_file(tmp_path / "t.parquet", "t.parquet")
    assert {(f.column, f.type.value, f.count) for f in found.findings} == {
        ("gps_lat", "gps_coordinates", 2),
        ("gpsLongitude", "gps_coordinates", 3),
    }
    assert found.rows_scanned == 3


def test_coordinate_column_out_of_range_is_not_a_position(tmp_path: Path) -> None:
    table = pa.table({"lat": [48.1, 123.0], "lon": [0.0, 0.0]})
    pq.write_table(table, tmp_path / "t.parquet")
    assert scan_file(tmp_path / "t.parquet", "t.parquet").findings == ()


def test_integer_column_named_for_cards_is_searched_for_card_numbers(tmp_path: Path) -> None:
    table = pa.table({"card_number": [4111111111111111, 1234567890123456]})
    pq.write_table(table, tmp_path / "t.parquet")
    (finding,) = scan_file(tmp_path / "t.parquet", "t.parquet").findings
    assert (finding.column, finding.type.value, finding.count) == ("card_number", "payment_card", 1)
    assert finding.samples == ("************1111",)


def test_nested_jsonl_fields_are_named_with_dots_and_brackets(tmp_path: Path) -> None:
    rows = [
        {"driver": {"email": "ann@example.com"}, "tags": ["call +1 212-736-5000"]},
        {"driver": {"email": None}, "tags": [], "gps": {"lat": 48.1, "lon": 11.5}},
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = scan_files([("d.jsonl", path)])
    assert report.by_column == {
        ("d.jsonl", "driver.email"): {"email": 1},
        ("d.jsonl", "tags[]"): {"phone": 1},
        ("d.jsonl", "gps.lat"): {"gps_coordinates": 1},
        ("d.jsonl", "gps.lon"): {"gps_coordinates": 1},
    }


def test_jsonl_field_of_mixed_types_is_scanned_as_text(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"contact": 42}\n{"contact": "jane@example.com"}\n')
    assert scan_file(path, "m.jsonl").counts == {"email": 1}


def test_text_files_are_scanned_per_file_and_binaries_skipped(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("Contact ops@example.com\n")
    (tmp_path / "cfg.unknownext").write_text("server 10.1.2.3\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    items = [(p.name, p) for p in sorted(tmp_path.iterdir())]
    report = scan_files(items)
    assert report.by_column == {
        ("cfg.unknownext", None): {"ip_address": 1},
        ("readme.md", None): {"email": 1},
    }
    assert report.skipped == (("image.png", "binary content"),)


def test_tsv_is_scanned_by_column(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\nx\tjane@example.com\n")
    assert scan_files([("t.tsv", path)]).by_column == {("t.tsv", "b"): {"email": 1}}


def test_malformed_table_is_invalid_input_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": "x@example.com"}\nnot json\n')
    with pytest.raises(InvalidInput) as caught:
        scan_file(path, "bad.jsonl")
    assert str(path) in caught.value.message


def test_on_bytes_adds_up_to_the_file_size(tmp_path: Path) -> None:
    notes = [n.text for n in planted_notes(seed=3, count=3000, share=0.2)]
    csv_path = write_csv(tmp_path / "n.csv", ["note"], [[n] for n in notes])
    jsonl_path = tmp_path / "n.jsonl"
    jsonl_path.write_text("".join(json.dumps({"note": n}) + "\n" for n in notes))
    text_path = tmp_path / "n.txt"
    text_path.write_text("\n".join(notes))
    pq.write_table(pa.table({"note": notes}), tmp_path / "n.parquet", row_group_size=500)
    for path in (csv_path, jsonl_path, text_path, tmp_path / "n.parquet"):
        seen: list[int] = []
        found = scan_file(path, path.name, on_bytes=seen.append)
        assert sum(seen) == path.stat().st_size, path.name
        assert found.rows_scanned == 3000, path.name


def test_columns_longer_than_one_filter_slice_are_counted_whole(tmp_path: Path) -> None:
    rows = [[f"row {i}"] for i in range(80_000)]
    for i in range(0, 80_000, 1000):
        rows[i] = [f"row {i} mail u{i}@example.com"]
    found = scan_file(write_csv(tmp_path / "big.csv", ["note"], rows), "big.csv")
    assert found.counts == {"email": 80}


def test_report_round_trips_through_json(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ["n", "card"], [["jane@example.com", "4111111111111111"]])
    (tmp_path / "b.bin").write_bytes(bytes(range(256)))
    report = scan_files([("a.csv", path), ("b.bin", tmp_path / "b.bin")])
    again = PiiReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    assert again.scanner == SCANNER
    with pytest.raises(InvalidInput):
        PiiReport.from_dict({"files": [{"rel": "x"}]})


def test_scanner_names_its_validators_and_versions() -> None:
    assert SCANNER.startswith("steward-pii 1 (phonenumbers ")
    assert "python-stdnum" in SCANNER


# --- settings ---------------------------------------------------------------------------------


def test_patterns_from_mapping_add_plates_and_national_ids() -> None:
    patterns = PiiPatterns.from_mapping(
        {
            "phone_region": "DE",
            "extra_national_ids": ["nl_bsn"],
            "extra_vehicle_plates": {"nl": r"[A-Z]{2}-\d{3}-[A-Z]"},
            "types": ["vehicle_plate", "national_id"],
        }
    )
    assert types_in("kenteken XY-123-Z", patterns) == ["vehicle_plate"]
    assert types_in("BSN 111222333", patterns) == ["national_id"]
    assert types_in("mail jane@example.com", patterns) == []
    assert "de" in dict(patterns.vehicle_plates)


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ({"extra_vehicle_plates": {"nl": "[A-Z"}}, "extra_vehicle_plates.nl"),
        ({"extra_vehicle_plates": {"lb": r"(?<=x)AB"}}, "extra_vehicle_plates.lb"),
        ({"vehicle_plates": {"empty": "A?"}}, "vehicle_plates.empty"),
        ({"vehicle_plates": {"email": "AB"}}, "vehicle_plates.email"),
        ({"national_ids": ["xx_id"]}, "national_ids"),
        ({"phone_region": "XX"}, "phone_region"),
        ({"types": ["dna"]}, "types"),
        ({"plates": {}}, "unknown key"),
    ],
)
def test_bad_patterns_are_invalid_input_naming_the_key(
    mapping: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        PiiPatterns.from_mapping(mapping)
    assert named in caught.value.message


# --- properties -------------------------------------------------------------------------------

digits = st.text(alphabet=string.digits, min_size=5, max_size=19)
separators = st.lists(st.sampled_from(["", " ", "-"]), min_size=19, max_size=19)


@given(digits, separators)
def test_masking_keeps_the_shape_and_only_the_last_four_digits(raw: str, seps: list[str]) -> None:
    value = "".join(d + s for d, s in zip(raw, seps, strict=False)).strip(" -")
    masked = mask_keep_tail(value)
    assert len(masked) == len(value)
    assert [c for c in masked if not c.isalnum() and c != "*"] == [
        c for c in value if not c.isalnum()
    ]
    shown = [c for c in masked if c.isdigit()]
    assert shown == [c for c in value if c.isdigit()][-4:]


local = st.text(alphabet=string.ascii_lowercase + string.digits + "._", min_size=2, max_size=20)
label = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=15)


@given(local, label, st.sampled_from(["com", "org", "de", "co.uk"]))
def test_email_redaction_leaks_no_run_of_four_characters(user: str, host: str, tld: str) -> None:
    raw = f"{user}@{host}.{tld}"
    redacted = redact_email(raw)
    assert raw not in redacted
    kept_tail = "." + tld.rsplit(".", 1)[-1]
    body = redacted[: -len(kept_tail)]
    for i in range(len(body) - 3):
        window = body[i : i + 4]
        assert "*" in window or window not in raw
