"""PII-scan throughput and per-category precision/recall on driving logs, on this machine.

1. Builds (once, then kept) driving-log files of ≥ 1 GB each: timestamps, vehicle and trip IDs,
   telemetry floats (including look-alike names such as ``lat_accel`` and ``long_jerk``),
   firmware versions, two GPS columns, and two free-text note columns. ``operator_note`` holds
   only decoys; ``driver_note`` holds decoys and, in 0.4 % of rows, one planted valid value
   (e-mail, phone, card, national ID, IP address, coordinates, plate). Each note is two
   fragments: plain log text (counters, ms timestamps, ISO times, versions, speeds, UUIDs,
   DTC codes) or, with probability *L*, a look-alike (random 9–19 digit IDs, four-part build
   numbers, 4-decimal sensor pairs, test cards failing Luhn, SSNs in never-issued ranges,
   phone shapes with impossible area codes, bad or loopback addresses, MACs, ``icon@2x.png``).
   Notes come from seeded pools (``modelsteward.data._pii_corpus``) drawn per row with NumPy.
   Files: a CSV with L = 0.1 (19 % of notes hold a look-alike: the headline), the same CSV
   with L = 0.02 (4 %), and a JSONL with L = 0.1 whose rows nest (``gps.lat``,
   ``notes.driver``).
2. Scans each file with ``scan_files`` (page cache warm; one process, all cores) and reports
   MB/s (10^6 bytes per second of wall time).
3. Precision and recall per category, per occurrence: every distinct pool note is judged span
   by span with ``find_pii`` against what was planted in it, weighted by how often each note
   was drawn. The end-to-end scan's per-column counts must equal those weighted per-note counts
   (the vectorised RE2 prefilter drops nothing); a difference is printed. The GPS columns are
   checked separately: found once per column with their row count; ``lat_accel`` is not.

Environment: STEWARD_BENCH_DIR (where the files are kept between runs; default /tmp),
STEWARD_BENCH_PII_GB (size of each file, default 1.0). A JSON line with every figure closes the
output.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from modelsteward.data._pii_corpus import PlantedNote, planted_notes
from modelsteward.data.pii import SCANNER, PiiReport, PiiType, find_pii, scan_files

GB = float(os.environ.get("STEWARD_BENCH_PII_GB", "1.0"))
ROOT = Path(os.environ.get("STEWARD_BENCH_DIR", tempfile.gettempdir()))
BLOCK = 200_000
PLANTED_SHARE = 0.004
VERSION = 3  # bump when the generator changes, so cached files are rebuilt
VEHICLES = [f"VEH-{i:05d}" for i in range(400)]
FIRMWARE = [f"{a}.{b}.{c}" for a in (1, 2, 3) for b in range(0, 20, 3) for c in (0, 4, 17)]
NOTE_COLUMNS = {
    "csv": ("operator_note", "driver_note"),
    "jsonl": ("notes.operator", "notes.driver"),
}
GPS_COLUMNS = ("gps_lat", "gps_lon", "gps.lat", "gps.lon", "lat_accel", "long_jerk")

Draws = Counter[str]  # "column:pool index" -> rows; the decoy pool's index i is written -1-i


@dataclass(frozen=True)
class Pools:
    """Seeded note pools for one look-alike share."""

    lookalikes: float

    @cached_property
    def decoys(self) -> list[PlantedNote]:
        return planted_notes(seed=11, count=40_000, share=0.0, lookalikes=self.lookalikes)

    @cached_property
    def planted(self) -> list[PlantedNote]:
        return planted_notes(seed=12, count=7_000, share=1.0, lookalikes=self.lookalikes)

    def note(self, key: int) -> PlantedNote:
        return self.planted[key] if key >= 0 else self.decoys[-1 - key]


def _block(pools: Pools, rng: np.random.Generator, first: int) -> tuple[dict[str, pa.Array], Draws]:
    """One block of rows, and which pool notes were drawn into which note column."""
    n = BLOCK
    ms = np.int64(1_714_500_000_000) + (first + np.arange(n, dtype=np.int64)) * 100
    operator = rng.integers(0, len(pools.decoys), n)
    driver = rng.integers(0, len(pools.decoys), n)
    planted_rows = rng.random(n) < PLANTED_SHARE
    planted_pick = rng.integers(0, len(pools.planted), int(planted_rows.sum()))
    decoy_texts = pa.array([d.text for d in pools.decoys], pa.string())
    notes = np.array([d.text for d in pools.decoys], dtype=object)[driver]
    notes[planted_rows] = np.array([p.text for p in pools.planted], dtype=object)[planted_pick]
    columns = {
        "ts": pa.array(ms.astype("datetime64[ms]")),
        "vehicle_id": pa.array(VEHICLES).take(pa.array(rng.integers(0, len(VEHICLES), n))),
        "trip_id": pa.array(rng.integers(10**9, 10**10, n).astype(str)),
        "speed_mps": pa.array(np.round(rng.uniform(0, 40, n), 3)),
        "lat_accel": pa.array(np.round(rng.normal(0, 0.8, n), 4)),
        "long_jerk": pa.array(np.round(rng.normal(0, 2.5, n), 4)),
        "gps_lat": pa.array(np.round(rng.uniform(47.9, 48.3, n), 6)),
        "gps_lon": pa.array(np.round(rng.uniform(11.3, 11.8, n), 6)),
        "firmware": pa.array(FIRMWARE).take(pa.array(rng.integers(0, len(FIRMWARE), n))),
        "operator_note": decoy_texts.take(pa.array(operator)),
        "driver_note": pa.array(notes, pa.string()),
    }
    draws: Draws = Counter()
    for column, keys in (
        ("operator_note", -1 - operator),
        ("driver_note", -1 - driver[~planted_rows]),
        ("driver_note", planted_pick),
    ):
        values, counts = np.unique(keys, return_counts=True)
        draws.update({f"{column}:{k}": int(c) for k, c in zip(values, counts, strict=True)})
    return columns, draws


def _json_lines(columns: dict[str, pa.Array]) -> pa.Array:
    """``{"ts": …, "vehicle": {…}, "gps": {"lat": …, "lon": …}, "notes": {…}}\\n`` per row."""

    def text(array: pa.Array) -> pa.Array:
        escaped = pc.replace_substring(pc.replace_substring(array, "\\", "\\\\"), '"', '\\"')
        return pc.binary_join_element_wise('"', escaped, '"', "")

    def number(name: str) -> pa.Array:
        return pc.cast(columns[name], pa.string())

    ts = pc.strftime(columns["ts"], "%Y-%m-%dT%H:%M:%S")
    parts = [
        '{"ts": ', text(ts), ', "vehicle": {"id": ', text(columns["vehicle_id"]),
        ', "firmware": ', text(columns["firmware"]), '}, "trip_id": ', text(columns["trip_id"]),
        ', "speed_mps": ', number("speed_mps"), ', "lat_accel": ', number("lat_accel"),
        ', "gps": {"lat": ', number("gps_lat"), ', "lon": ', number("gps_lon"),
        '}, "notes": {"operator": ', text(columns["operator_note"]),
        ', "driver": ', text(columns["driver_note"]), "}}\n",
    ]  # fmt: skip
    return pc.binary_join_element_wise(*parts, "")


def _contiguous(lines: pa.Array) -> memoryview:
    """The concatenated text of a string array, straight from its data buffer."""
    _, offsets, data = lines.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(data)[int(ends[0]) : int(ends[-1])]


def build(kind: str, pools: Pools) -> tuple[Path, Draws]:
    """The file (cached under STEWARD_BENCH_DIR) and which pool notes it holds, how often."""
    path = ROOT / f"steward-pii-bench-{GB:g}gb-L{pools.lookalikes:g}-v{VERSION}.{kind}"
    draws_path = path.with_suffix(path.suffix + ".draws.json")
    if path.exists() and draws_path.exists():
        return path, Counter(json.loads(draws_path.read_text()))
    rng = np.random.default_rng(0 if kind == "csv" else 1)
    draws: Draws = Counter()
    target, first = int(GB * 1e9), 0
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        writer = None
        while handle.tell() < target:
            columns, counts = _block(pools, rng, first)
            draws.update(counts)
            first += BLOCK
            if kind == "csv":
                batch = pa.record_batch(columns)
                writer = writer or pa_csv.CSVWriter(handle, batch.schema)
                writer.write_batch(batch)
            else:
                handle.write(_contiguous(_json_lines(columns)))
        if writer is not None:
            writer.close()
    partial.rename(path)
    draws_path.write_text(json.dumps(dict(draws)))
    return path, draws


def _judge(note: PlantedNote) -> tuple[Counter[str], Counter[str]]:
    """True and false positives per type in one pool note, span by span."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    for hit in find_pii(note.text):
        on_plant = note.planted is hit.type and hit.start < note.span[1] and note.span[0] < hit.end
        (tp if on_plant else fp)[hit.type.value] += 1
    return tp, fp


def truth(pools: Pools, draws: Draws) -> dict[str, Counter[str]]:
    """Per occurrence: planted, tp and fp per type, and the counts expected per note column."""
    judged: dict[int, tuple[Counter[str], Counter[str]]] = {}
    out: dict[str, Counter[str]] = {
        key: Counter() for key in ("planted", "tp", "fp", "operator_note", "driver_note")
    }
    for key, times in draws.items():
        column, index = key.split(":")
        note = pools.note(int(index))
        if int(index) not in judged:
            judged[int(index)] = _judge(note)
        tp, fp = judged[int(index)]
        if note.planted is not None:
            out["planted"][note.planted.value] += times
        for name, n in (tp + fp).items():
            out[column][name] += n * times
        for name, n in tp.items():
            out["tp"][name] += n * times
        for name, n in fp.items():
            out["fp"][name] += n * times
    return out


def quality(report: PiiReport, path: Path, expect: dict[str, Counter[str]]) -> dict[str, object]:
    """Print and return precision/recall per type and the end-to-end consistency check."""
    by_column = report.by_column
    kind = path.suffix[1:]
    mismatches = []
    for generic, column in zip(("operator_note", "driver_note"), NOTE_COLUMNS[kind], strict=True):
        got = Counter(by_column.get((path.name, column), {}))
        if got != expect[generic]:
            mismatches.append(f"{column}: scan {dict(got)} vs per-note {dict(expect[generic])}")
    print(f"  end-to-end counts equal the per-note judgement: {not mismatches}")
    for line in mismatches:
        print(f"    MISMATCH {line}")
    figures: dict[str, object] = {"consistent": not mismatches}
    for pii_type in PiiType:
        name = pii_type.value
        tp, fp, planted = expect["tp"][name], expect["fp"][name], expect["planted"][name]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / planted if planted else 1.0
        figures[name] = {"planted": planted, "tp": tp, "fp": fp,
                         "precision": round(precision, 4), "recall": round(recall, 4)}  # fmt: skip
        print(f"    {name:16} planted {planted:6}  tp {tp:6}  fp {fp:4}  "
              f"precision {precision:.3f}  recall {recall:.3f}")  # fmt: skip
    gps = {c: by_column.get((path.name, c), {}).get("gps_coordinates", 0) for c in GPS_COLUMNS}
    gps = {c: n for c, n in gps.items() if n or c in ("lat_accel", "long_jerk")}
    print(f"    coordinate columns found (rows): {gps}")
    unconfirmed = Counter[str]()
    for file in report.files:
        for u in file.unconfirmed:
            unconfirmed[u.kind] += u.count
    print(f"    unconfirmed (checksum-valid bare digit runs without context): {dict(unconfirmed)}")
    figures["coordinate_columns"] = gps
    figures["unconfirmed"] = dict(unconfirmed)
    return figures


def measure(kind: str, pools: Pools) -> dict[str, object]:
    path, draws = build(kind, pools)
    size = path.stat().st_size
    with path.open("rb") as handle:  # warm the page cache
        while handle.read(64 * 1024 * 1024):
            pass
    start = time.perf_counter()
    report = scan_files([(path.name, path)])
    seconds = time.perf_counter() - start
    rate = size / seconds / 1e6
    print(f"{path.name}: {size / 1e9:.2f} GB, {report.rows_scanned:,} rows, look-alike share "
          f"{pools.lookalikes:g}: {seconds:.1f} s = {rate:.0f} MB/s")  # fmt: skip
    return {"file": path.name, "bytes": size, "seconds": round(seconds, 2),
            "mb_per_s": round(rate, 1), **quality(report, path, truth(pools, draws))}  # fmt: skip


def main() -> None:
    print(f"{SCANNER}; {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    start = time.perf_counter()
    dense, sparse = Pools(0.1), Pools(0.02)
    for kind, pools in (("csv", dense), ("csv", sparse), ("jsonl", dense)):
        build(kind, pools)
    print(f"data ready in {time.perf_counter() - start:.1f} s (kept under {ROOT})")
    results = {
        "csv": measure("csv", dense),
        "csv_sparse_lookalikes": measure("csv", sparse),
        "jsonl": measure("jsonl", dense),
    }
    print(json.dumps({"bench": "pii", "scanner": SCANNER, "cores": os.cpu_count(), **results}))


if __name__ == "__main__":
    main()
