"""Hazard ratings: severity, exposure and controllability → ASIL, per ISO 26262-3 (table 4).

Each scenario rates the hazard it stands for with severity ``S0``–``S3``, exposure ``E0``–``E4``
and controllability ``C0``–``C3``. The ASIL (``QM``, ``A``…``D``) ranks scenarios: ``D`` first.
The table follows a simple rule: with every class at least 1, S + E + C = 10 is D, 9 C, 8 B,
7 A, and anything lower QM; a class 0 (no injuries, incredible, controllable in general) is QM.

>>> hazard = Hazard.parse("S3", "E3", "C2")
>>> hazard.asil, hazard.priority, hazard.risk_score, hazard.label
('B', 2, 9, 'S3/E3/C2')
>>> asil("S3", "E4", "C3")
'D'
>>> Hazard.from_mapping({"severity": "S4", "exposure": "E1", "controllability": "C1"})
Traceback (most recent call last):
...
modelsteward.errors.InvalidInput: hazard.severity: 'S4' is not one of S0, S1, S2, S3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from modelsteward.errors import InvalidInput

__all__ = ["ASILS", "Asil", "Hazard", "asil", "asil_priority", "risk_score"]

Asil = Literal["QM", "A", "B", "C", "D"]
ASILS: tuple[Asil, ...] = get_args(Asil)
"""The ASILs from lowest to highest; the index is the :attr:`Hazard.priority`."""

# field → (class letter, highest class)
_CLASSES = {
    "severity": ("S", 3),
    "exposure": ("E", 4),
    "controllability": ("C", 3),
}
_ASIL_BY_SUM: dict[int, Asil] = {7: "A", 8: "B", 9: "C", 10: "D"}


def _level(field: str, value: object, where: str) -> int:
    """The number of a class label (``"S3"`` → 3); ``where`` names the field in errors."""
    letter, top = _CLASSES[field]
    allowed = ", ".join(f"{letter}{i}" for i in range(top + 1))
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= top:
        return value
    text = value.strip().upper() if isinstance(value, str) else ""
    if len(text) == 2 and text[0] == letter and text[1].isdigit() and int(text[1]) <= top:
        return int(text[1])
    raise InvalidInput(
        f"{where}.{field}: {value!r} is not one of {allowed}",
        hint=f"rate the {field} as {letter}0 (lowest) to {letter}{top} (highest), see ISO 26262-3",
    )


def asil(severity: str | int, exposure: str | int, controllability: str | int) -> Asil:
    """The ASIL of a rating, from labels (``"S3"``) or class numbers (3).

    Raises:
        InvalidInput: a class is out of range.
    """
    s = _level("severity", severity, "hazard")
    e = _level("exposure", exposure, "hazard")
    c = _level("controllability", controllability, "hazard")
    if 0 in (s, e, c):
        return "QM"
    return _ASIL_BY_SUM.get(s + e + c, "QM")


def asil_priority(value: str) -> int:
    """Rank of an ASIL for sorting: QM 0, A 1 … D 4.

    Raises:
        InvalidInput: not an ASIL.
    """
    if value not in ASILS:
        raise InvalidInput(f"{value!r} is not an ASIL", hint="use QM, A, B, C or D")
    return ASILS.index(value)


def risk_score(severity: str | int, exposure: str | int) -> int:
    """Severity × exposure (0–12), how coverage gaps are ranked."""
    return _level("severity", severity, "hazard") * _level("exposure", exposure, "hazard")


@dataclass(frozen=True)
class Hazard:
    """A hazard rating as class numbers: severity 0–3, exposure 0–4, controllability 0–3."""

    severity: int
    exposure: int
    controllability: int

    def __post_init__(self) -> None:
        for field in _CLASSES:
            _level(field, getattr(self, field), "hazard")

    @classmethod
    def parse(cls, severity: str | int, exposure: str | int, controllability: str | int) -> Hazard:
        """A rating from labels such as ``"S3"``, ``"E2"``, ``"C1"`` (case-insensitive)."""
        return cls.from_mapping(
            {"severity": severity, "exposure": exposure, "controllability": controllability}
        )

    @classmethod
    def from_mapping(cls, data: Any, where: str = "hazard") -> Hazard:
        """A rating from ``{severity: S3, exposure: E3, controllability: C2}``.

        Raises:
            InvalidInput: not a mapping, a key missing or unknown, or a class out of range;
                the message starts with ``where``.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput(
                f"{where} must be {{severity: S…, exposure: E…, controllability: C…}}",
                hint="e.g. hazard: {severity: S3, exposure: E3, controllability: C2}",
            )
        for key in data:
            if key not in _CLASSES:
                raise InvalidInput(
                    f"{where}: unknown key {key!r}",
                    hint="a hazard has severity, exposure and controllability",
                )
        missing = [k for k in _CLASSES if k not in data]
        if missing:
            raise InvalidInput(
                f"{where}: {', '.join(missing)} missing",
                hint="e.g. hazard: {severity: S3, exposure: E3, controllability: C2}",
            )
        levels = {k: _level(k, data[k], where) for k in _CLASSES}
        return cls(**levels)

    @property
    def asil(self) -> Asil:
        """The ASIL per ISO 26262-3."""
        return asil(self.severity, self.exposure, self.controllability)

    @property
    def priority(self) -> int:
        """The ASIL's rank, QM 0 … D 4 (sort descending to test the riskiest first)."""
        return ASILS.index(self.asil)

    @property
    def risk_score(self) -> int:
        """Severity × exposure (0–12)."""
        return self.severity * self.exposure

    @property
    def label(self) -> str:
        """``S3/E3/C2``."""
        return "/".join(self.to_dict().values())

    def to_dict(self) -> dict[str, str]:
        """``{"severity": "S3", "exposure": "E3", "controllability": "C2"}``."""
        return {k: f"{letter}{getattr(self, k)}" for k, (letter, _) in _CLASSES.items()}
