"""Dataset records: what a snapshot is, where it came from, what was removed, when it expires.

>>> DatasetTier.parse("Partner").value
'partner'
>>> parse_collected("2025-01-01..2025-03-31")
('2025-01-01', '2025-03-31')
>>> parse_geography("de, us-ca, EU")
('DE', 'US-CA', 'EU')
>>> Curation.from_mapping({"exclusion": [{"rule": "blurred", "reason": "unreadable",
...                                       "removed": 12}]}).removed_total
12
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.types import Digest, parse_choice

__all__ = [
    "ConsentBasis",
    "Curation",
    "CurationRule",
    "DatasetSnapshot",
    "DatasetTier",
    "OddTags",
    "check_dataset_name",
    "expires_on",
    "parse_collected",
    "parse_geography",
    "parse_window",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")
_REGION = re.compile(r"^([A-Z]{2})(-[A-Z0-9]{1,3})?$")
_GROUPS = {"EU", "EEA", "GLOBAL"}
_ODD_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class DatasetTier(StrEnum):
    """How a dataset was obtained, which decides how carefully it is handled."""

    PUBLIC = "public"
    LICENSED = "licensed"
    PARTNER = "partner"
    USER_GENERATED = "user-generated"
    SYNTHETIC = "synthetic"
    RESTRICTED = "restricted"

    @classmethod
    def parse(cls, text: str) -> DatasetTier:
        """Parse a tier, or raise ``InvalidInput`` listing the valid ones."""
        return parse_choice(cls, text, what="dataset tier", option="--tier")


class ConsentBasis(StrEnum):
    """The legal basis for processing the data (GDPR Art. 6 bases, plus two common cases)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal-obligation"
    VITAL_INTERESTS = "vital-interests"
    PUBLIC_TASK = "public-task"
    LEGITIMATE_INTERESTS = "legitimate-interests"
    LICENSE = "license"  # obtained under a data licence from its owner
    NOT_PERSONAL = "not-personal-data"  # synthetic or anonymous data

    @classmethod
    def parse(cls, text: str) -> ConsentBasis:
        """Parse a basis, or raise ``InvalidInput`` listing the valid ones."""
        return parse_choice(cls, text, what="consent basis", option="--consent")


def check_dataset_name(name: str) -> str:
    """A dataset name: letters, digits, ``. _ / -``; up to 128 characters; no ``@``."""
    if not _NAME.match(name or ""):
        raise InvalidInput(
            f"invalid dataset name {name!r}",
            hint="use letters, digits and . _ / - (e.g. fleet-logs-2026q3), at most 128 characters",
        )
    return name


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{what} {text!r} is not a date", hint="write dates as YYYY-MM-DD"
        ) from None


def parse_collected(text: str) -> tuple[str, str]:
    """``YYYY-MM-DD`` or ``START..END`` → (first, last) day of collection."""
    first, sep, last = (text or "").partition("..")
    start = _date(first, "--collected")
    end = _date(last, "--collected end") if sep else start
    if end < start:
        raise InvalidInput(
            f"--collected {text!r} ends before it starts", hint="write START..END, oldest first"
        )
    return start.isoformat(), end.isoformat()


def parse_geography(text: str) -> tuple[str, ...]:
    """Comma-separated ISO 3166 codes (``DE``, ``US-CA``) or ``EU``, ``EEA``, ``GLOBAL``."""
    import phonenumbers  # its region table is ISO 3166-1 alpha-2

    regions = [part.strip().upper() for part in (text or "").split(",") if part.strip()]
    if not regions:
        raise InvalidInput("--geography is empty", hint="e.g. --geography DE,FR or --geography EU")
    for region in regions:
        match = _REGION.match(region)
        country = match.group(1) if match else None
        if region not in _GROUPS and country not in phonenumbers.SUPPORTED_REGIONS:
            raise InvalidInput(
                f"--geography: {region!r} is not an ISO 3166 country code",
                hint="use two-letter codes such as DE, US or US-CA, or EU, EEA, GLOBAL",
            )
    return tuple(dict.fromkeys(regions))


def parse_window(text: str) -> int:
    """``30d``, ``6w`` or ``30`` → days (for ``--expiring``)."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([dw]?)\s*", text or "")
    if not match:
        raise InvalidInput(f"--expiring {text!r} is not a duration", hint="e.g. 30d or 6w")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def expires_on(collected_to: str, retention_days: int) -> str:
    """The first day the data must no longer be used (retention counts from the last day)."""
    return (date.fromisoformat(collected_to) + timedelta(days=retention_days)).isoformat()


@dataclass(frozen=True)
class CurationRule:
    """One inclusion or exclusion rule and its effect."""

    rule: str
    reason: str
    removed: int | None = None  # records removed (exclusions)

    @classmethod
    def from_mapping(cls, data: Any, where: str, *, exclusion: bool) -> CurationRule:
        """Validate one rule from the curation file."""
        if not isinstance(data, dict):
            raise InvalidInput(f"{where}: expected a mapping with rule and reason")
        unknown = set(data) - {"rule", "reason", "removed"}
        if unknown:
            raise InvalidInput(f"{where}: unknown field(s) {sorted(unknown)}")
        rule, reason = data.get("rule"), data.get("reason")
        if not isinstance(rule, str) or not rule.strip():
            raise InvalidInput(f"{where}.rule is missing", hint="say what the rule selects")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput(f"{where}.reason is missing", hint="auditors ask why")
        removed = data.get("removed")
        if exclusion and (not isinstance(removed, int) or isinstance(removed, bool)):
            raise InvalidInput(
                f"{where}.removed must be a whole number",
                hint="how many records the rule removed",
            )
        if removed is not None and (not isinstance(removed, int) or removed < 0):
            raise InvalidInput(f"{where}.removed must be zero or more")
        return cls(rule.strip(), reason.strip(), removed)


@dataclass(frozen=True)
class Curation:
    """Inclusion and exclusion logic: what was kept, what was removed and why."""

    inclusion: tuple[CurationRule, ...] = ()
    exclusion: tuple[CurationRule, ...] = ()

    @property
    def removed_total(self) -> int:
        """Records removed by all exclusion rules."""
        return sum(r.removed or 0 for r in self.exclusion)

    @classmethod
    def from_mapping(cls, data: Any) -> Curation:
        """Validate the ``--exclusions`` file (keys ``inclusion`` and ``exclusion``)."""
        if not isinstance(data, dict):
            raise InvalidInput(
                "--exclusions: expected a mapping with 'inclusion' and 'exclusion' lists",
                hint="see docs/datasets.md",
            )
        unknown = set(data) - {"inclusion", "exclusion"}
        if unknown:
            raise InvalidInput(f"--exclusions: unknown section(s) {sorted(unknown)}")
        out: dict[str, tuple[CurationRule, ...]] = {}
        for section in ("inclusion", "exclusion"):
            items = data.get(section) or []
            if not isinstance(items, list):
                raise InvalidInput(f"--exclusions: {section} must be a list")
            out[section] = tuple(
                CurationRule.from_mapping(
                    item, f"--exclusions {section}[{i}]", exclusion=section == "exclusion"
                )
                for i, item in enumerate(items)
            )
        return cls(out["inclusion"], out["exclusion"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "inclusion": [asdict(r) for r in self.inclusion],
            "exclusion": [asdict(r) for r in self.exclusion],
            "removed_total": self.removed_total,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuple(CurationRule(**r) for r in data.get("inclusion", [])),
            tuple(CurationRule(**r) for r in data.get("exclusion", [])),
        )


@dataclass(frozen=True)
class OddTags:
    """Which operational-design-domain values the data covers: ``group.attribute`` → values.

    Values are strings or numbers (one or a list); a range is ``{min: …, max: …}``.
    """

    tags: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Any) -> OddTags:
        """Validate the ``--odd-tags`` file."""
        if not isinstance(data, dict):
            raise InvalidInput(
                "--odd-tags: expected a mapping of attribute to values",
                hint="e.g. environment.weather: [clear, rain]",
            )
        clean: dict[str, Any] = {}
        for key, value in data.items():
            if not isinstance(key, str) or not _ODD_KEY.match(key):
                raise InvalidInput(
                    f"--odd-tags: {key!r} is not an ODD attribute",
                    hint="write group.attribute in lower case, e.g. scenery.road_type",
                )
            clean[key] = _odd_value(key, value)
        return cls(clean)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return dict(self.tags)


def _odd_value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"min", "max"} or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
        ):
            raise InvalidInput(f"--odd-tags {key}: a range is {{min: number, max: number}}")
        if value["min"] > value["max"]:
            raise InvalidInput(f"--odd-tags {key}: min is above max")
        return {"min": value["min"], "max": value["max"]}
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str | int | float) for v in items):
        raise InvalidInput(f"--odd-tags {key}: expected a value, a list of values or a range")
    return [v.strip().lower() if isinstance(v, str) else v for v in items]


@dataclass(frozen=True)
class DatasetSnapshot:
    """A registered dataset snapshot (its identity is the manifest's root digest)."""

    name: str
    digest: Digest
    tier: DatasetTier
    license: str  # normalised SPDX expression or knowledge-base id
    consent: ConsentBasis
    collected_from: str
    collected_to: str
    geography: tuple[str, ...]
    retention_days: int
    expires_on: str
    source: str
    file_count: int
    size: int
    rows: int | None
    tables: dict[str, Any]  # relative path → TableProfile.to_dict()
    curation: Curation
    odd_tags: OddTags
    pii: dict[str, Any]  # PiiReport summary (counts, by column, redacted samples)
    manifest_blob: str
    pii_blob: str
    registered_at: str
    registered_by: str
    location: str  # the folder it was registered from (runs read it there, after re-hashing)

    def expired(self, today: date | None = None) -> bool:
        """True from the expiry day on."""
        return (today or date.today()).isoformat() >= self.expires_on

    def days_left(self, today: date | None = None) -> int:
        """Days until expiry (negative once expired)."""
        return (date.fromisoformat(self.expires_on) - (today or date.today())).days

    @property
    def pii_total(self) -> int:
        """PII values found, all types."""
        return int(sum(self.pii.get("counts", {}).values()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (stored, and the ledger payload)."""
        data = asdict(self)
        data.update(
            digest=str(self.digest),
            tier=self.tier.value,
            consent=self.consent.value,
            geography=list(self.geography),
            curation=self.curation.to_dict(),
            odd_tags=self.odd_tags.to_dict(),
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSnapshot:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values.update(
            digest=Digest.parse(data["digest"]),
            tier=DatasetTier(data["tier"]),
            consent=ConsentBasis(data["consent"]),
            geography=tuple(data["geography"]),
            curation=Curation.from_dict(data["curation"]),
            odd_tags=OddTags(dict(data["odd_tags"])),
        )
        return cls(**values)
