"""Hazard ratings: S/E/C classes parse strictly and map to the ASIL of ISO 26262-3 table 4."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.hazard import ASILS, Hazard, asil, asil_priority, risk_score

# ISO 26262-3:2018, table 4, written out as printed: severity → exposure → (C1, C2, C3).
ISO_26262_TABLE = {
    "S1": {
        "E1": ("QM", "QM", "QM"),
        "E2": ("QM", "QM", "QM"),
        "E3": ("QM", "QM", "A"),
        "E4": ("QM", "A", "B"),
    },
    "S2": {
        "E1": ("QM", "QM", "QM"),
        "E2": ("QM", "QM", "A"),
        "E3": ("QM", "A", "B"),
        "E4": ("A", "B", "C"),
    },
    "S3": {
        "E1": ("QM", "QM", "A"),
        "E2": ("QM", "A", "B"),
        "E3": ("A", "B", "C"),
        "E4": ("B", "C", "D"),
    },
}


def test_asil_table_matches_iso_26262() -> None:
    checked = 0
    for severity, rows in ISO_26262_TABLE.items():
        for exposure, columns in rows.items():
            for controllability, expected in zip(("C1", "C2", "C3"), columns, strict=True):
                assert asil(severity, exposure, controllability) == expected, (
                    severity,
                    exposure,
                    controllability,
                )
                checked += 1
    assert checked == 36


@pytest.mark.parametrize(
    ("severity", "exposure", "controllability"),
    [c for c in itertools.product(range(4), range(5), range(4)) if 0 in c],
)
def test_any_class_zero_is_qm(severity: int, exposure: int, controllability: int) -> None:
    assert Hazard(severity, exposure, controllability).asil == "QM"


def test_labels_parse_case_insensitively() -> None:
    assert Hazard.parse(" s3", "e4 ", "C3") == Hazard(3, 4, 3)
    assert Hazard.parse(2, 3, 1).label == "S2/E3/C1"


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("severity", "S4", "'S4' is not one of S0, S1, S2, S3"),
        ("exposure", "E5", "'E5' is not one of E0, E1, E2, E3, E4"),
        ("controllability", "C4", "'C4' is not one of C0, C1, C2, C3"),
        ("severity", "E3", "'E3' is not one of S0"),
        ("exposure", None, "None is not one of E0"),
        ("controllability", True, "True is not one of C0"),
        ("severity", "S10", "'S10' is not one of S0"),
    ],
)
def test_out_of_range_class_names_the_field(field: str, value: object, shown: str) -> None:
    data: dict[str, object] = {"severity": "S2", "exposure": "E2", "controllability": "C2"}
    data[field] = value
    with pytest.raises(InvalidInput) as caught:
        Hazard.from_mapping(data, where="cut-in.yaml: hazard")
    assert caught.value.message.startswith(f"cut-in.yaml: hazard.{field}: {shown}")
    assert "ISO 26262" in caught.value.hint


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"severity": "S1", "exposure": "E1"}, "hazard: controllability missing"),
        ({"severity": "S1", "exposure": "E1", "controllability": "C1", "risk": 1}, "unknown key"),
        ("S3/E3/C2", "hazard must be {severity"),
    ],
)
def test_malformed_hazard_is_refused(data: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("{", r"\{")):
        Hazard.from_mapping(data)


def test_priority_ranks_d_highest() -> None:
    ranked = sorted(
        (Hazard(s, e, c) for s, e, c in itertools.product(range(4), range(5), range(4))),
        key=lambda h: h.priority,
        reverse=True,
    )
    assert ranked[0].asil == "D"
    assert ranked[-1].asil == "QM"
    assert [asil_priority(a) for a in ASILS] == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidInput):
        asil_priority("E")


def test_risk_score_is_severity_times_exposure() -> None:
    assert Hazard.parse("S3", "E4", "C0").risk_score == 12
    assert risk_score("S2", "E3") == 6
    assert risk_score(0, 4) == 0


def test_to_dict_uses_the_labels() -> None:
    assert Hazard(3, 3, 2).to_dict() == {
        "severity": "S3",
        "exposure": "E3",
        "controllability": "C2",
    }


@given(
    s=st.integers(0, 3),
    e=st.integers(0, 4),
    c=st.integers(0, 3),
    which=st.sampled_from(["s", "e", "c"]),
)
def test_a_higher_class_never_lowers_the_asil(s: int, e: int, c: int, which: str) -> None:
    before = Hazard(s, e, c).priority
    raised = {
        "s": (min(s + 1, 3), e, c),
        "e": (s, min(e + 1, 4), c),
        "c": (s, e, min(c + 1, 3)),
    }[which]
    assert Hazard(*raised).priority >= before
