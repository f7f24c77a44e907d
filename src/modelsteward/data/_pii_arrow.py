"""Column scanning with Arrow: a C++ (RE2) candidate filter over each string column, then Python.

Only rows whose text has a candidate shape reach the Python detectors and validators, so a column
of telemetry costs one vectorised regex pass. Numeric columns (typed, or CSV cells that all parse
as numbers) count as positions when their name says latitude or longitude and every value is in
range; otherwise they are searched only for bare digit runs their name gives context to (a
``card_number`` column of integers), never for every digit pattern.

    >>> import pyarrow as pa
    >>> from modelsteward.data._pii_detect import PiiType, build_detectors
    >>> from modelsteward.data._pii_match import Matcher
    >>> state = ColumnScan(Matcher(build_detectors("US", (), (), frozenset(PiiType))))
    >>> state.scan_batch(pa.record_batch({"note": ["mail x@y.org"], "gps_lat": [48.13]}))
    >>> [(f.column, f.type.value, f.count) for f in state.results()[0]]
    [('note', 'email', 1), ('gps_lat', 'gps_coordinates', 1)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.data._arrow_io import read_ahead
from modelsteward.data._pii_detect import PiiType
from modelsteward.data._pii_match import ColumnTally, Matcher
from modelsteward.data._pii_redact import redact_coordinates
from modelsteward.data._pii_report import PiiFinding, UnconfirmedFinding

__all__ = ["ColumnScan", "coordinate_axis"]

_AXIS_NAME = re.compile(
    r"^(?:[a-z0-9]+_)*(lat|latitude|lon|lng|long|longitude)(?:_(?:deg|degrees|wgs84))?$"
)
# Per column: its name, the candidate texts, and a bit set of the triggers each one matched.
_Candidates = list[tuple[str | None, list[str], list[int]]]
# A column to search: its name, its text, and the detectors that apply to it.
_Job = tuple[str | None, pa.Array, tuple[int, ...]]
_SLICE = 32_768  # rows per RE2 task, so even one wide text column keeps every core busy
_LIMITS = {"lat": 90.0, "lon": 180.0}
_STRING_TYPES = (pa.types.is_string, pa.types.is_large_string)
_LIST_TYPES = (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list)


def coordinate_axis(name: str) -> str | None:
    """``"lat"`` or ``"lon"`` when a column's name says so (``gps_lat``, ``startLongitude``).

    Names that only start with the word (``lat_accel``, ``long_jerk``) are telemetry, not
    positions.

    >>> [coordinate_axis(n) for n in ("gps_lat", "startLongitude", "lat_accel", "lng_deg")]
    ['lat', 'lon', None, 'lon']
    """
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    snake = re.sub(r"[^a-z0-9]+", "_", snake).strip("_")
    match = _AXIS_NAME.match(snake)
    if match is None:
        return None
    return "lat" if match.group(1).startswith("lat") else "lon"


@dataclass
class _Coordinates:
    axis: str
    in_range: int = 0
    out_of_range: int = 0
    nonzero: int = 0
    sample: str | None = None


class ColumnScan:
    """Tallies over every batch of one file, keyed by column (``None`` for plain text)."""

    def __init__(self, matcher: Matcher, *, text_cells: bool = False) -> None:
        """Args:
        matcher: The detectors to run.
        text_cells: Cells are untyped text (CSV): a coordinate-named column is tried as numbers.
        """
        self.matcher = matcher
        self.text_cells = text_cells
        self.rows = 0
        self._tallies: dict[str | None, ColumnTally] = {}
        self._coordinates: dict[str, _Coordinates] = {}
        self._all = tuple(range(len(matcher.detectors)))

    def scan(self, batches: Iterable[pa.RecordBatch | pa.Array], pool: ThreadPoolExecutor) -> None:
        """Scan record batches (tables) or arrays of lines (text, column ``None``).

        A reader thread parses ahead (Arrow holds no GIL while parsing). Per batch, the RE2
        filters run on ``pool`` — slices of every column at once — while this thread waits;
        then this thread validates the candidates in Python. (Validating concurrently with the
        filters was slower: each filter call must re-take the GIL from the busy validator.)
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-pii-read") as reader:
            for batch in read_ahead(batches, reader):
                self._tally(self._prepare(batch, pool))

    def scan_batch(self, batch: pa.RecordBatch | pa.Array) -> None:
        """Scan one batch in the calling thread."""
        self._tally(self._prepare(batch, None))

    def _prepare(
        self, batch: pa.RecordBatch | pa.Array, pool: ThreadPoolExecutor | None
    ) -> _Candidates:
        """Route each column, then find its candidate rows (on ``pool`` when given)."""
        jobs: list[_Job] = []
        if isinstance(batch, pa.RecordBatch):
            self.rows += batch.num_rows
            for name, column in zip(batch.schema.names, batch.columns, strict=True):
                self._route(column, name, jobs)
        else:
            self.rows += len(batch)
            jobs.append((None, batch, self._all))
        pieces = [
            (index, array.slice(start, _SLICE), members)
            for index, (_, array, members) in enumerate(jobs)
            for start in range(0, len(array), _SLICE)
        ]
        if pool is None:
            found = [self._candidates(array, members) for _, array, members in pieces]
        else:
            found = list(pool.map(lambda piece: self._candidates(piece[1], piece[2]), pieces))
        merged: list[tuple[list[str], list[int]]] = [([], []) for _ in jobs]
        for (index, _, _), (texts, codes) in zip(pieces, found, strict=True):
            merged[index][0].extend(texts)
            merged[index][1].extend(codes)
        return [(name, *merged[i]) for i, (name, _, _) in enumerate(jobs)]

    def _tally(self, candidates: _Candidates) -> None:
        for name, texts, codes in candidates:
            if texts:
                tally = self._tallies.setdefault(name, ColumnTally(name))
                for text, code in zip(texts, codes, strict=True):
                    self.matcher.tally(text, tally, code)

    def _candidates(self, array: pa.Array, members: tuple[int, ...]) -> tuple[list[str], list[int]]:
        """Rows some trigger matches, each with the bit set of the detectors whose did.

        One combined RE2 pass over the column, then one pass per type (and per detector within
        a type that has several) over the few candidate rows, so Python runs only the detectors
        a row can hold.
        """
        whole = self.matcher.candidate if members is self._all else self.matcher.trigger(members)
        mask = pc.match_substring_regex(array, whole)
        if not pc.any(mask).as_py():
            return [], []
        rows = array.filter(mask)
        codes = np.zeros(len(rows), dtype=np.int64 if len(self._all) < 63 else object)
        for trigger, group in self.matcher.groups(members):
            hit = _hits(rows, trigger)
            if len(group) == 1:
                codes[hit] += 1 << group[0]
                continue
            at = np.flatnonzero(hit)
            subset = rows.take(pa.array(at))
            for i in group:
                codes[at[_hits(subset, self.matcher.detectors[i].trigger)]] += 1 << i
        texts: list[str] = rows.to_pylist()
        return texts, codes.tolist()

    def _route(self, array: Any, name: str, jobs: list[_Job]) -> None:
        kind = array.type
        if pa.types.is_dictionary(kind):
            self._route(array.dictionary_decode(), name, jobs)
        elif pa.types.is_struct(kind):
            for i in range(kind.num_fields):
                self._route(array.field(i), f"{name}.{kind.field(i).name}", jobs)
        elif any(test(kind) for test in _LIST_TYPES):
            self._route(array.flatten(), f"{name}[]", jobs)
        elif any(test(kind) for test in _STRING_TYPES):
            numbers = _as_numbers(array) if self.text_cells else None
            if numbers is None:
                jobs.append((name, array, self._all))
            else:
                self._numeric(numbers, array, name, jobs)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
            self._numeric(array, array if pa.types.is_integer(kind) else None, name, jobs)

    def _numeric(
        self, numbers: pa.Array, digits: pa.Array | None, name: str, jobs: list[_Job]
    ) -> None:
        """A numeric column is a position by name and range; otherwise its whole numbers
        (``digits``) are searched only for the bare digit runs its name gives context to
        (``card_number``, ``steuer_id``)."""
        axis = coordinate_axis(name)
        if axis is not None:
            self._coordinate_column(numbers, name, axis)
            return
        members = self.matcher.needing_context(name)
        if members and digits is not None:
            text = digits if pa.types.is_string(digits.type) else pc.cast(digits, pa.string())
            jobs.append((name, text, members))

    def _coordinate_column(self, array: pa.Array, name: str, axis: str) -> None:
        state = self._coordinates.setdefault(name, _Coordinates(axis))
        values = pc.drop_null(array)
        if len(values) == 0:
            return
        limit = _LIMITS[axis]
        inside = pc.sum(pc.less_equal(pc.abs(values), limit)).as_py() or 0
        state.in_range += inside
        state.out_of_range += len(values) - inside
        state.nonzero += pc.sum(pc.not_equal(values, 0)).as_py() or 0
        if state.sample is None:
            state.sample = redact_coordinates(f"{values[0].as_py():.4f}")

    def results(self) -> tuple[list[PiiFinding], list[UnconfirmedFinding]]:
        """Findings per column and type, and the valid values that lacked their context."""
        findings: list[PiiFinding] = []
        unconfirmed: list[UnconfirmedFinding] = []
        for column, tally in self._tallies.items():
            found, lacking = tally.results(column, self.matcher.type_of)
            findings.extend(found)
            unconfirmed.extend(lacking)
        wanted = any(d.type is PiiType.GPS_COORDINATES for d in self.matcher.detectors)
        for name, state in self._coordinates.items():
            if wanted and state.in_range and not state.out_of_range and state.nonzero:
                findings.append(
                    PiiFinding(
                        column=name,
                        type=PiiType.GPS_COORDINATES,
                        count=state.in_range,
                        kinds=((f"{state.axis}_column", state.in_range),),
                        samples=(state.sample,) if state.sample else (),
                    )
                )
        return findings, unconfirmed


def _hits(rows: pa.Array, trigger: str) -> Any:
    """A NumPy bool mask of the rows the RE2 trigger matches."""
    return pc.match_substring_regex(rows, trigger).to_numpy(zero_copy_only=False)


def _as_numbers(array: pa.Array) -> pa.Array | None:
    """Text cells as float64 when they all hold numbers, else ``None``.

    A failed Arrow cast is slow (it reports the offending value after a full pass), so the
    first few values are tried in Python first; nearly every text column fails there.
    """
    for value in pc.drop_null(array.slice(0, 64)).to_pylist()[:8]:
        try:
            float(value)
        except ValueError:
            return None
    try:
        return pc.cast(array, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
