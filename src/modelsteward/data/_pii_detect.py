"""Detectors: a trigger, an exact shape, a validator and a redaction for each kind of PII.

A detector's *trigger* is an RE2 regex (``pyarrow.compute``) that every value of its kind
matches; together the triggers filter whole Arrow columns in C++. Its *pattern* is the exact
shape with look-around boundaries, run by Python's ``re`` on the rows that passed. A shape alone
never makes a finding: the validator (checksum, issuer range, numbering plan, address range)
must agree, and a bare digit run whose checksum passes by chance one time in ten also needs a
context word (``card``, ``Steuer-ID``) in its text or column name.

    >>> card = build_detectors("US", (), (), frozenset({PiiType.PAYMENT_CARD}))[0]
    >>> [card.validate(v) for v in ("4111 1111 1111 1111", "4111 1111 1111 1112")]
    [True, False]
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from stdnum import luhn

from modelsteward.data._pii_ids import NATIONAL_ID_KINDS, context_words
from modelsteward.data._pii_redact import (
    mask_keep_head,
    mask_keep_tail,
    redact_coordinates,
    redact_email,
    redact_ipv4,
    redact_ipv6,
    redact_phone,
)

__all__ = ["DEFAULT_PLATES", "Detector", "PiiType", "build_detectors", "plate_detector"]


class PiiType(StrEnum):
    """The categories of personal data the scanner reports."""

    EMAIL = "email"
    PHONE = "phone"
    PAYMENT_CARD = "payment_card"
    NATIONAL_ID = "national_id"
    IP_ADDRESS = "ip_address"
    GPS_COORDINATES = "gps_coordinates"
    VEHICLE_PLATE = "vehicle_plate"


@dataclass(frozen=True)
class Detector:
    """One shape of one PII type.

    Attributes:
        type: The category reported.
        kind: The finer kind (``card``, ``us_ssn``, ``uk_current``…).
        trigger: RE2 regex matched by every value of this kind (a superset of ``pattern``).
        pattern: The exact shape with boundaries, for Python.
        validate: True when a matched string really is such a value.
        redact: The shape-keeping, value-hiding form stored in samples.
        literal: A substring every value contains, checked before ``pattern`` runs.
        context: Words that must appear in the text or the column name, or ``None``.
    """

    type: PiiType
    kind: str
    trigger: str
    pattern: re.Pattern[str]
    validate: Callable[[str], bool]
    redact: Callable[[str], str]
    literal: str | None = None
    context: re.Pattern[str] | None = None


def _compile(core: str, left: str, right: str, after: tuple[str, ...] = ()) -> re.Pattern[str]:
    """``core`` not preceded by ``left`` nor by one of the words ``after``; not followed by
    ``right``."""
    words = "".join(f"(?<!\\b(?i:{w}) )(?<!\\b(?i:{w}): )" for w in after)
    return re.compile(f"(?<!{left}){words}(?:{core})(?!{right})", re.ASCII)


def _bounded(core: str) -> str:
    r"""The RE2 trigger for a core that starts and ends with word characters: ``\b…\b``."""
    return rf"\b(?:{core})\b"


# --- e-mail -------------------------------------------------------------------------------------
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}"
# "icon@2x.png" is an asset name, not an address: one-label "domains" ending in a file extension.
_FILE_EXTENSIONS = frozenset((
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "tif", "tiff", "json", "yaml", "yml",
    "txt", "csv", "tsv", "md", "log", "bin", "onnx", "pt", "pth", "npy", "npz", "pkl",
    "safetensors", "gguf", "zip", "gz", "tar", "whl",
))  # fmt: skip


def _valid_email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    if not local or local[0] == "." or local[-1] == "." or ".." in value:
        return False
    labels = domain.split(".")
    if any(not label or label[0] == "-" or label[-1] == "-" for label in labels):
        return False
    return not (len(labels) == 2 and labels[-1].lower() in _FILE_EXTENSIONS)


_EMAIL_DETECTOR = Detector(
    PiiType.EMAIL,
    "email",
    r"@[A-Za-z0-9-]+\.[A-Za-z]{2}",
    _compile(_EMAIL, r"[\w.%+-]", r"[\w-]"),
    _valid_email,
    redact_email,
    literal="@",
)

# --- payment cards ------------------------------------------------------------------------------
_CARD_GROUPED = r"[2-6]\d{3}[ -]\d{4,6}[ -]\d{4,5}(?:[ -]\d{1,4}){0,2}"
_CARD_DIGITS = r"[2-6]\d{12,18}"
_CARD_WORDS = context_words(
    "card", "cards", "cc", "ccn", "credit", "debit", "visa", "mastercard", "amex", "discover",
    "jcb", "maestro", "unionpay", "diners", "payment", "pay", "paid", "pan", "kreditkarte",
    "karte", "carte", "tarjeta", "carta",
)  # fmt: skip
# Issuer (IIN) ranges and lengths of the networks in general use.
_IIN: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),
    (6011, 6011, frozenset(range(16, 20))),  # Discover
    (644, 649, frozenset(range(16, 20))),
    (65, 65, frozenset(range(16, 20))),
    (3528, 3589, frozenset(range(16, 20))),  # JCB
    (300, 305, frozenset(range(14, 20))),  # Diners Club
    (36, 36, frozenset(range(14, 20))),
    (38, 39, frozenset(range(16, 20))),
    (62, 62, frozenset(range(16, 20))),  # UnionPay
    (2200, 2204, frozenset(range(16, 20))),  # Mir
    (50, 50, frozenset(range(13, 20))),  # Maestro
    (56, 58, frozenset(range(13, 20))),
)
_CARD_GROUPS = frozenset({(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 1)})


def _card_groups_ok(value: str) -> bool:
    seps = {ch for ch in value if not ch.isdigit()}
    if not seps:
        return True
    if len(seps) > 1:
        return False
    groups = tuple(len(g) for g in value.split(seps.pop()))
    return groups in _CARD_GROUPS or (len(groups) == 4 and groups[:3] == (4, 4, 4))


def _valid_card(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit())
    if not _card_groups_ok(value) or not luhn.is_valid(digits):
        return False
    for low, high, lengths in _IIN:
        prefix = int(digits[: len(str(low))])
        if low <= prefix <= high and len(digits) in lengths:
            return True
    return False


_DIGITS_LEFT, _DIGITS_RIGHT = r"[\w.+]", r"\w|[.,]\d"
_CARD_DETECTORS = (
    Detector(
        PiiType.PAYMENT_CARD,
        "card",
        r"\b[2-6]\d{3}[ -]\d{4,6}[ -]\d{4}",
        _compile(_CARD_GROUPED, _DIGITS_LEFT, _DIGITS_RIGHT + r"|[ -]\d"),
        _valid_card,
        mask_keep_tail,
    ),
    Detector(
        PiiType.PAYMENT_CARD,
        "card_digits",
        _bounded(_CARD_DIGITS),
        _compile(_CARD_DIGITS, _DIGITS_LEFT, _DIGITS_RIGHT),
        _valid_card,
        mask_keep_tail,
        context=_CARD_WORDS,
    ),
)

# --- IP addresses -------------------------------------------------------------------------------
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_IPV6 = r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}"
# Eight groups or a "::", so clock times (12:34:56) do not trigger.
_IPV6_TRIGGER = r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]::|::[0-9A-Fa-f]"
# Four-part version numbers (build 1.4.22.3) are valid addresses; their lead word says otherwise.
_VERSION_WORDS = ("version", "ver", "v", "build", "fw", "firmware", "release", "rev", "sw")


def _personal_ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Addresses that can point at a host; private ranges count (they identify devices)."""
    return not (
        address.is_unspecified
        or address.is_loopback
        or address.is_multicast
        or address.is_reserved
        or address.is_link_local
    )


def _valid_ipv4(value: str) -> bool:
    try:
        return _personal_ip(ipaddress.IPv4Address(value))
    except ValueError:
        return False


def _valid_ipv6(value: str) -> bool:
    if value.count(":") < 7 and "::" not in value:
        return False
    try:
        return _personal_ip(ipaddress.IPv6Address(value))
    except ValueError:
        return False


_IP_DETECTORS = (
    Detector(
        PiiType.IP_ADDRESS,
        "ipv4",
        _bounded(_IPV4),
        _compile(_IPV4, r"[\w.]", r"\w|\.\d", _VERSION_WORDS),
        _valid_ipv4,
        redact_ipv4,
        literal=".",
    ),
    Detector(
        PiiType.IP_ADDRESS,
        "ipv6",
        _IPV6_TRIGGER,
        _compile(_IPV6, r"[\w:.]", r"[\w:]"),
        _valid_ipv6,
        redact_ipv6,
        literal=":",
    ),
)

# --- phone numbers ------------------------------------------------------------------------------
_PHONE_SHAPES = (
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}",  # international
    r"\(\d{2,5}\) ?\d{3,4}[ .-]?\d{3,4}",  # (415) 555-0123
    r"\d{3}[ .-]\d{3,4}[ .-]\d{4}",  # 415-555-0123, 020 7946 0958
    r"\d{2}(?:[ .]\d{2}){4}",  # 01 23 45 67 89
    r"0\d{2,4}[ /-]\d{5,8}",  # 030 12345678, 089/1234567
)
_PHONE_TRIGGER = "|".join(
    (r"\+\d", r"\(\d{2,5}\) ?\d{3}", *(_bounded(s) for s in _PHONE_SHAPES[2:]))
)


def _valid_phone(region: str) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            number = phonenumbers.parse(value, None if value.startswith("+") else region)
        except phonenumbers.NumberParseException:
            return False
        return bool(phonenumbers.is_valid_number(number))

    return check


def _phone_detector(region: str) -> Detector:
    def redact(value: str) -> str:
        return redact_phone(value, None if value.startswith("+") else region)

    return Detector(
        PiiType.PHONE,
        "phone",
        _PHONE_TRIGGER,
        _compile("|".join(_PHONE_SHAPES), r"[\w+.-]", r"\w|[.-]\d"),
        _valid_phone(region),
        redact,
    )


# --- coordinates in text ------------------------------------------------------------------------
_GPS = r"-?\d{1,2}\.\d{4,} ?, ?-?\d{1,3}\.\d{4,}"
_GPS_TRIGGER = r"\d\.\d{4,} ?, ?-?\d{1,3}\.\d{4}"


def _valid_coordinates(value: str) -> bool:
    lat_text, lon_text = value.split(",")
    lat, lon = float(lat_text), float(lon_text)
    # Pairs of small fractions are sensor readings far more often than "Null Island" positions.
    return abs(lat) <= 90 and abs(lon) <= 180 and not (abs(lat) < 1 and abs(lon) < 1)


_GPS_DETECTOR = Detector(
    PiiType.GPS_COORDINATES,
    "lat_lon",
    _GPS_TRIGGER,
    _compile(_GPS, r"[\w.-]", r"\w|\.\d"),
    _valid_coordinates,
    redact_coordinates,
    literal=",",
)

# --- vehicle plates -----------------------------------------------------------------------------
DEFAULT_PLATES: tuple[tuple[str, str], ...] = (
    # Great Britain since 2001: memory tag, age identifier (02–49, 51–99), three random letters.
    ("uk_current", r"[A-HJ-PR-Y]{2}(?:0[2-9]|[1-4]\d|5[1-9]|[6-9]\d) ?[A-HJ-PR-Z]{3}"),
    # Germany as written with the hyphen: district, one or two letters, a 2–4 digit number.
    ("de", r"[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} ?[1-9]\d{1,3}[EH]?"),
)


def plate_detector(kind: str, core: str) -> Detector:
    """A vehicle-plate shape; plates carry no checksum, so the shape is the whole test."""
    return Detector(
        PiiType.VEHICLE_PLATE,
        kind,
        core,
        _compile(core, r"[\w-]", r"[\w-]"),
        lambda _value: True,
        mask_keep_head,
    )


def _national_ids(kinds: tuple[str, ...]) -> list[Detector]:
    return [
        Detector(
            PiiType.NATIONAL_ID,
            name,
            _bounded(NATIONAL_ID_KINDS[name].core),
            _compile(NATIONAL_ID_KINDS[name].core, r"[\w.+-]", r"\w|[.,-]\w"),
            NATIONAL_ID_KINDS[name].validate,
            mask_keep_tail,
            literal=NATIONAL_ID_KINDS[name].literal,
            context=NATIONAL_ID_KINDS[name].context,
        )
        for name in kinds
    ]


def build_detectors(
    region: str,
    national_ids: tuple[str, ...],
    plates: tuple[tuple[str, str], ...],
    types: frozenset[PiiType],
) -> list[Detector]:
    """Every enabled detector, in the order overlapping matches are resolved (first wins)."""
    detectors = [
        _EMAIL_DETECTOR,
        *_CARD_DETECTORS,
        *_national_ids(national_ids),
        *_IP_DETECTORS,
        _phone_detector(region),
        _GPS_DETECTOR,
        *(plate_detector(kind, core) for kind, core in plates),
    ]
    return [d for d in detectors if d.type in types]
