"""Tabular profiles: real Parquet, CSV and JSONL files written in tmp_path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelsteward.data import _arrow_io
from modelsteward.data.tabular import TABULAR_SUFFIXES, ColumnInfo, TableProfile, profile_table
from modelsteward.errors import InvalidInput

ROWS = [
    {"fleet": "munich", "speed": 12.5, "frame": 1},
    {"fleet": "berlin", "speed": None, "frame": 2},
    {"fleet": "munich", "speed": 3.0, "frame": 3},
    {"fleet": None, "speed": 7.25, "frame": 4},
    {"fleet": "munich", "speed": 1.0, "frame": 5},
]


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def write_parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=2)
    return path


WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "parquet": write_parquet}


@pytest.fixture(params=sorted(WRITERS))
def table_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    fmt: str = request.param
    return WRITERS[fmt](tmp_path / f"drives.{fmt}", ROWS)


def test_profile_reports_format_rows_and_typed_columns(table_file: Path) -> None:
    profile = profile_table(table_file)
    assert profile is not None
    assert profile.format == table_file.suffix[1:]
    assert profile.rows == 5
    assert profile.column_names == ("fleet", "speed", "frame")
    types = {c.name: c.type for c in profile.columns}
    assert types == {"fleet": "string", "speed": "double", "frame": "int64"}


def test_null_counts_are_reported(table_file: Path) -> None:
    profile = profile_table(table_file)
    assert profile is not None
    assert {c.name: c.null_count for c in profile.columns} == {"fleet": 1, "speed": 1, "frame": 0}


def test_source_column_counts_records_per_source(table_file: Path) -> None:
    profile = profile_table(table_file, source_column="fleet")
    assert profile is not None
    assert profile.source_column == "fleet"
    assert profile.source_counts == {"munich": 3, "berlin": 1}
    assert list(profile.source_counts) == ["munich", "berlin"]  # most records first


def test_missing_source_column_is_an_invalid_input_naming_columns(table_file: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_table(table_file, source_column="vendor")
    message = caught.value.message
    assert str(table_file) in message
    assert "'vendor'" in message
    assert "fleet, speed, frame" in message


def test_parquet_rows_and_nulls_come_from_the_footer(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "t.parquet", ROWS * 1000)
    profile = profile_table(path)
    assert profile is not None
    assert profile.rows == 5000
    assert {c.name: c.null_count for c in profile.columns}["speed"] == 1000


def test_suffix_is_matched_in_any_case(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "DRIVES.CSV", ROWS)
    profile = profile_table(path)
    assert profile is not None
    assert profile.format == "csv"


@pytest.mark.parametrize("name", ["notes.txt", "image.png", "table.tsv", "data.json", "x"])
def test_other_files_are_not_tables(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("a,b\n1,2\n")
    assert profile_table(path) is None


def test_ndjson_is_profiled_as_jsonl(tmp_path: Path) -> None:
    profile = profile_table(write_jsonl(tmp_path / "drives.ndjson", ROWS))
    assert profile is not None
    assert profile.format == "jsonl"


def test_malformed_csv_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InvalidInput) as caught:
        profile_table(path)
    assert str(path) in caught.value.message
    assert "Expected 2 columns" in caught.value.message


def test_bad_json_line_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": 2,\n')
    with pytest.raises(InvalidInput) as caught:
        profile_table(path)
    assert str(path) in caught.value.message
    assert "JSON" in caught.value.message


def test_file_that_is_not_parquet_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(InvalidInput) as caught:
        profile_table(path)
    assert str(path) in caught.value.message


def test_unreadable_path_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        profile_table(tmp_path / "missing.csv")


def test_empty_csv_has_no_rows_and_no_columns(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    profile = profile_table(path)
    assert profile is not None
    assert (profile.rows, profile.columns) == (0, ())


def test_csv_column_that_turns_to_text_after_the_first_block_is_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_arrow_io, "_CSV_BLOCK", 4096)
    rows = [{"code": i, "note": "ok"} for i in range(2000)] + [{"code": "A-7", "note": "late"}]
    profile = profile_table(write_csv(tmp_path / "late.csv", rows))
    assert profile is not None
    assert profile.rows == 2001
    assert {c.name: c.type for c in profile.columns} == {"code": "string", "note": "string"}


def test_jsonl_types_widen_across_lines_and_late_fields_count_nulls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_arrow_io, "_JSON_CHUNK", 64)
    rows: list[dict[str, object]] = [{"a": 1} for _ in range(20)]
    rows += [{"a": 2.5, "b": "x"}, {"a": "text", "b": "y"}]
    profile = profile_table(write_jsonl(tmp_path / "mixed.jsonl", rows))
    assert profile is not None
    assert profile.rows == 22
    info = {c.name: c for c in profile.columns}
    assert info["b"].null_count == 20
    assert info["a"].type == "double | int64 | string"


def test_profile_round_trips_through_json(table_file: Path) -> None:
    profile = profile_table(table_file, source_column="fleet")
    assert profile is not None
    again = TableProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again == profile


def test_malformed_profile_mapping_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        TableProfile.from_dict({"format": "xlsx", "rows": 1, "columns": []})
    with pytest.raises(InvalidInput):
        TableProfile.from_dict({"rows": 1})


def test_column_info_round_trips_unknown_null_counts() -> None:
    info = ColumnInfo("a", "int64", nullable=False, null_count=None)
    assert ColumnInfo.from_dict(info.to_dict()) == info


def test_tabular_suffixes_are_the_profiled_ones(tmp_path: Path) -> None:
    for suffix in TABULAR_SUFFIXES:
        write = {".parquet": write_parquet, ".csv": write_csv}.get(suffix, write_jsonl)
        assert profile_table(write(tmp_path / f"t{suffix}", ROWS)) is not None, suffix
