"""Planted PII and realistic decoys for driving-log text (shared by the tests and the benchmark).

Every planted value is valid by its category's rules (checksums, numbering plans, ranges); the
decoys are what logs are full of — counters, timestamps, versions, telemetry floats, random IDs
and values that look like PII but fail validation. Deterministic for a given seed.

    >>> notes = planted_notes(seed=7, count=4, share=1.0)
    >>> all(n.planted is not None for n in notes)
    True
    >>> n = notes[0]
    >>> n.text[n.span[0]:n.span[1]] == n.value
    True
"""

from __future__ import annotations

import ipaddress
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from stdnum import ean, luhn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.us import ssn

from modelsteward.data._pii_detect import PiiType

__all__ = ["PlantedNote", "decoy", "planted_notes", "planted_value"]

_UPPER = string.ascii_uppercase
_NAMES = ("anna", "ben", "chloe", "dmitri", "elif", "farid", "greta", "hiro", "ines", "jonas")
_SURNAMES = ("meyer", "smith", "rossi", "garcia", "novak", "dubois", "khan", "larsen", "okafor")
_DOMAINS = ("example.com", "fleetmail.de", "mail.co.uk", "drivers.example.org", "posteo.net")
_US_AREAS = (212, 202, 206, 303, 312, 415, 512, 617, 646, 702, 713, 808, 917)
_PHONE_SHAPES = (
    "({a}) {e}-{l}",
    "{a}-{e}-{l}",
    "{a}.{e}.{l}",
    "+1 {a} {e} {l}",
    "+1-{a}-{e}-{l}",
)
_INTL = ("+44 20 7{d3} {d4}", "+49 30 {d4}{d4}", "+49 151 {d4}{d4}", "+33 1 {d2} {d2} {d2} {d2}")
_CARD_PREFIXES = (("4", 16), ("51", 16), ("55", 16), ("34", 15), ("37", 15), ("6011", 16))
_UK_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"
_DE_DISTRICTS = ("M", "B", "HH", "K", "S", "F", "KA", "MZ", "DO", "LB")
_HETU = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _email(rng: random.Random) -> str:
    tail = str(rng.randint(1, 99)) if rng.random() < 0.4 else ""
    return f"{rng.choice(_NAMES)}.{rng.choice(_SURNAMES)}{tail}@{rng.choice(_DOMAINS)}"


def _phone(rng: random.Random) -> str:
    while True:
        if rng.random() < 0.6:
            text = rng.choice(_PHONE_SHAPES).format(
                a=rng.choice(_US_AREAS), e=rng.randint(200, 999), l=_digits(rng, 4)
            )
        else:
            text = rng.choice(_INTL).format(
                d2=_digits(rng, 2), d3=_digits(rng, 3), d4=_digits(rng, 4)
            )
        number = phonenumbers.parse(text, "US")
        if phonenumbers.is_valid_number(number):
            return text


def _card(rng: random.Random) -> str:
    prefix, length = rng.choice(_CARD_PREFIXES)
    body = prefix + _digits(rng, length - len(prefix) - 1)
    number = body + luhn.calc_check_digit(body)
    style = rng.random()
    if style < 0.3:
        return number
    sep = " " if style < 0.7 else "-"
    groups = (4, 6, 5) if length == 15 else (4, 4, 4, 4)
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    return sep.join(parts)


def _national_id(rng: random.Random) -> str:
    kind = rng.choice(tuple(_ID_MAKERS))
    while True:
        value = _ID_MAKERS[kind](rng)
        if _ID_CHECKS[kind](value):
            return value


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _idnr(rng: random.Random) -> str:
    digits = rng.sample(string.digits, 9)
    digits.insert(rng.randrange(10), rng.choice(digits))
    if digits[0] == "0":
        digits[0], digits[1] = digits[1], digits[0]
    body = "".join(digits)
    for check in string.digits:
        if idnr.is_valid(body + check):
            return body + check
    return body + "0"


def _nir(rng: random.Random) -> str:
    body = f"{rng.randint(1, 2)}{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}"
    body += f"{rng.choice([1, 13, 33, 59, 69, 75, 92]):02d}{_digits(rng, 3)}{_digits(rng, 3)}"
    number = body + nir.calc_check_digits(body)
    return number if rng.random() < 0.5 else nir.format(number)


def _dni(rng: random.Random) -> str:
    body = _digits(rng, 8)
    return body + dni.calc_check_digit(body)


def _nie(rng: random.Random) -> str:
    body = rng.choice("XYZ") + _digits(rng, 7)
    return body + nie.calc_check_digit(body)


def _codice_fiscale(rng: random.Random) -> str:
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    body = "".join(rng.choice(_UPPER) for _ in range(6)) + _digits(rng, 2)
    body += rng.choice("ABCDEHLMPRST") + f"{day:02d}" + rng.choice("ABDFHL") + _digits(rng, 3)
    return body + codicefiscale.calc_check_digit(body)


def _nino(rng: random.Random) -> str:
    first, second = rng.choice("ABCEGHJKLMNPRSTWXY"), rng.choice("ABCEGHJKLMNPRSTWXYZ")
    code = f"{first}{second}{_digits(rng, 6)}{rng.choice('ABCD')}"
    if rng.random() < 0.5:
        return code
    return f"{code[:2]} {code[2:4]} {code[4:6]} {code[6:8]} {code[8]}"


def _ahv(rng: random.Random) -> str:
    body = "756" + _digits(rng, 9)
    number = body + ean.calc_check_digit(body)
    return f"{number[:3]}.{number[3:7]}.{number[7:11]}.{number[11:]}"


def _hetu(rng: random.Random) -> str:
    born = f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}"
    serial = f"{rng.randint(2, 899):03d}"
    return f"{born}{rng.choice('-A')}{serial}{_HETU[int(born + serial) % 31]}"


_ID_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "us_ssn": _ssn,
    "de_idnr": _idnr,
    "fr_nir": _nir,
    "es_dni": _dni,
    "es_nie": _nie,
    "it_codicefiscale": _codice_fiscale,
    "gb_nino": _nino,
    "ch_ssn": _ahv,
    "fi_hetu": _hetu,
}
_ID_CHECKS: dict[str, Callable[[str], bool]] = {
    "us_ssn": ssn.is_valid,
    "de_idnr": idnr.is_valid,
    "fr_nir": nir.is_valid,
    "es_dni": dni.is_valid,
    "es_nie": nie.is_valid,
    "it_codicefiscale": codicefiscale.is_valid,
    "gb_nino": lambda v: v.replace(" ", "")[:2] not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"},
    "ch_ssn": lambda v: True,
    "fi_hetu": hetu.is_valid,
}


def _ip(rng: random.Random) -> str:
    while True:
        roll = rng.random()
        if roll < 0.5:
            text = ".".join(str(rng.randint(1, 223)) for _ in range(4))
        elif roll < 0.8:
            a, b, c = (rng.randint(1, 254) for _ in range(3))
            text = rng.choice((f"10.{a}.{b}.{c}", f"192.168.{b}.{c}"))
        else:
            text = "2a02:" + ":".join(f"{rng.randrange(1, 0xFFFF):x}" for _ in range(7))
        address = ipaddress.ip_address(text)
        unusual = address.is_reserved or address.is_loopback or address.is_multicast
        if not (unusual or address.is_link_local or address.is_unspecified):
            return text


def _gps(rng: random.Random) -> str:
    lat = rng.uniform(1.0, 70.0) * rng.choice((1, -1))
    lon = rng.uniform(1.0, 179.0) * rng.choice((1, -1))
    places = rng.randint(4, 6)
    return f"{lat:.{places}f}, {lon:.{places}f}"


def _plate(rng: random.Random) -> str:
    if rng.random() < 0.5:
        age = rng.choice([*range(2, 26), *range(51, 76)])
        tag = "".join(rng.choice(_UK_LETTERS) for _ in range(2))
        return f"{tag}{age:02d} {''.join(rng.choice(_UK_LETTERS + 'Z') for _ in range(3))}"
    letters = "".join(rng.choice(_UPPER) for _ in range(rng.randint(1, 2)))
    return f"{rng.choice(_DE_DISTRICTS)}-{letters} {rng.randint(10, 9999)}"


_MAKERS: dict[PiiType, Callable[[random.Random], str]] = {
    PiiType.EMAIL: _email,
    PiiType.PHONE: _phone,
    PiiType.PAYMENT_CARD: _card,
    PiiType.NATIONAL_ID: _national_id,
    PiiType.IP_ADDRESS: _ip,
    PiiType.GPS_COORDINATES: _gps,
    PiiType.VEHICLE_PLATE: _plate,
}


def planted_value(rng: random.Random, pii_type: PiiType) -> str:
    """One valid value of ``pii_type`` as people write it."""
    return _MAKERS[pii_type](rng)


_PLAIN: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"frame {r.randint(0, 10**8)}",
    lambda r: f"ts {1714567890123 + r.randint(0, 10**9)}",
    lambda r: (
        f"at 2024-05-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
        f":{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z"
    ),
    lambda r: f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}",
    lambda r: f"fw v{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}",
    lambda r: f"speed {r.uniform(0, 40):.2f} m/s heading {r.uniform(0, 360):.1f}",
    lambda r: f"temps {r.uniform(15, 35):.1f}, {r.uniform(15, 35):.1f}",
    lambda r: f"approx {r.uniform(40, 55):.1f}, {r.uniform(5, 15):.1f}",
    lambda r: f"uuid {r.getrandbits(128):032x}",
    lambda r: f"DTC P0{r.randint(100, 999)} ECU-A fault",
    lambda r: f"CAN id 0x{r.randint(0, 0x7FF):03X} bus CAN-FD",
    lambda r: f"odo {r.uniform(1000, 300000):.1f} km lat_err {r.uniform(0, 0.001):.5f}",
    lambda r: f"sha {r.getrandbits(64):016x}",
    lambda r: f"exit {r.randint(1, 99)}, lane {r.randint(1, 4)}",
)
# Fragments shaped like PII that fail validation, or digit IDs that pass checksums by chance.
_LOOKALIKES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"trip id {_digits(r, r.randint(9, 19))}",
    lambda r: f"build {r.randint(1, 20)}.{r.randint(0, 9)}.{r.randint(0, 99)}.{r.randint(0, 9)}",
    lambda r: f"accel {r.uniform(-0.99, 0.99):.4f}, {r.uniform(-0.99, 0.99):.4f}",
    lambda r: f"test card 4111 1111 1111 {r.randint(1112, 1119)}",
    lambda r: f"ref {r.choice(['000', '666', '900'])}-{_digits(r, 2)}-{_digits(r, 4)}",
    lambda r: f"ticket {r.randint(100, 199)}-{r.randint(100, 999)}-{_digits(r, 4)}",
    lambda r: f"addr {r.randint(256, 999)}.{r.randint(0, 255)}.{r.randint(0, 255)}.1",
    lambda r: f"mac 00:1A:{r.randint(10, 99)}:3C:4D:5E",
    lambda r: "asset icon@2x.png",
    lambda r: f"host 127.0.0.{r.randint(1, 9)} or 0.0.0.0",
)
_TEMPLATES = (
    "lane change left, {d1}; {d2}",
    "{d1} | takeover requested | {d2}",
    "pedestrian near crosswalk, {d1}",
    "{d1}; rain, wipers on; {d2}",
    "route deviation ({d1}) {d2}",
)
_LEADS = ("driver contact ", "reported by ", "note: ", "per ops ", "ref ")
# Bare digit runs count only with context (see _pii_detect); people write it next to them.
_CARD_LEADS = ("card ", "paid by card ", "visa ", "cc no. ")
_IDNR_LEADS = ("Steuer-ID ", "IdNr ", "tax id ")


@dataclass(frozen=True)
class PlantedNote:
    """A log note; ``planted``/``span``/``value`` say which PII was planted where (or None)."""

    text: str
    planted: PiiType | None = None
    span: tuple[int, int] = (0, 0)
    value: str = ""


def decoy(rng: random.Random, lookalikes: float = 0.5) -> str:
    """One non-PII fragment of a driving log; a look-alike with probability ``lookalikes``."""
    return rng.choice(_LOOKALIKES if rng.random() < lookalikes else _PLAIN)(rng)


def _lead(rng: random.Random, pii_type: PiiType, value: str) -> str:
    if value.isdigit():
        return rng.choice(_CARD_LEADS if pii_type is PiiType.PAYMENT_CARD else _IDNR_LEADS)
    return rng.choice(_LEADS)


def planted_notes(
    seed: int, count: int, share: float, lookalikes: float = 0.5
) -> list[PlantedNote]:
    """``count`` notes of two decoy fragments; ``share`` of them carry one planted value.

    Args:
        seed: Fixes the output.
        count: Notes to make.
        share: Probability that a note carries a planted value (types in turn).
        lookalikes: Probability that a decoy fragment is PII-shaped (see ``decoy``).
    """
    rng = random.Random(seed)
    types = tuple(PiiType)
    notes: list[PlantedNote] = []
    for i in range(count):
        text = rng.choice(_TEMPLATES).format(d1=decoy(rng, lookalikes), d2=decoy(rng, lookalikes))
        if rng.random() >= share:
            notes.append(PlantedNote(text))
            continue
        pii_type = types[i % len(types)]
        value = planted_value(rng, pii_type)
        prefix = f"{text}, {_lead(rng, pii_type, value)}"
        notes.append(
            PlantedNote(
                f"{prefix}{value} ok", pii_type, (len(prefix), len(prefix) + len(value)), value
            )
        )
    return notes
