"""National identifiers: shapes and ``python-stdnum`` validators, by kind.

Each kind is validated by its official checksum or allocation rules. Kinds that are bare digit
runs with a weak checksum (``de_idnr``, ``nl_bsn``, ``pl_pesel``) count only with a context word
nearby (``Steuer-ID``, ``BSN``, ``PESEL``…), since counters and IDs pass them by chance.

    >>> sorted(k for k in DEFAULT_NATIONAL_IDS if NATIONAL_ID_KINDS[k].context is not None)
    ['de_idnr']
    >>> NATIONAL_ID_KINDS["fr_nir"].validate("2 95 10 99 126 111 93")
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stdnum.ch import ssn as ch_ssn
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import ssn as us_ssn

__all__ = ["DEFAULT_NATIONAL_IDS", "NATIONAL_ID_KINDS", "IdKind", "context_words"]


def context_words(*words: str) -> re.Pattern[str]:
    """Whole words, any case, e.g. ``card`` in "Card no." or "card_number" but not "discard"."""
    return re.compile(f"(?<![a-z])(?:{'|'.join(words)})(?![a-z])", re.IGNORECASE)


def _stdnum(module: Any) -> Callable[[str], bool]:
    check: Callable[[str], bool] = module.is_valid
    return check


_NINO_BAD_FIRST = frozenset("DFIQUV")
_NINO_BAD_SECOND = frozenset("DFIOQUV")
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _valid_nino(value: str) -> bool:
    """UK National Insurance number: HMRC's allocation rules (it carries no check digit)."""
    code = value.replace(" ", "")
    return (
        code[0] not in _NINO_BAD_FIRST
        and code[1] not in _NINO_BAD_SECOND
        and code[:2] not in _NINO_BAD_PREFIX
    )


@dataclass(frozen=True)
class IdKind:
    """One national identifier.

    Attributes:
        core: Its written shape (RE2 and Python syntax).
        validate: Checksum or allocation rules.
        literal: A substring every value contains (a cheap pre-check), if any.
        context: Words required near a bare digit run, or ``None``.
    """

    core: str
    validate: Callable[[str], bool]
    literal: str | None = None
    context: re.Pattern[str] | None = None


NATIONAL_ID_KINDS: dict[str, IdKind] = {
    "us_ssn": IdKind(r"\d{3}-\d{2}-\d{4}", _stdnum(us_ssn), literal="-"),
    "de_idnr": IdKind(
        r"[1-9]\d{10}|[1-9]\d \d{3} \d{3} \d{3}",
        _stdnum(idnr),
        context=context_words(
            "idnr",
            "id-nr",
            "steuer",
            "steuer-?id",
            "steuerid",
            "identifikationsnummer",
            "tin",
            "tax",
            "steueridentifikationsnummer",
        ),
    ),  # fmt: skip
    "fr_nir": IdKind(r"[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}", _stdnum(nir)),
    "es_dni": IdKind(r"\d{8}-?[A-Z]", _stdnum(dni)),
    "es_nie": IdKind(r"[XYZ]-?\d{7}-?[A-Z]", _stdnum(nie)),
    "it_codicefiscale": IdKind(
        r"[A-Z]{6}[0-9LMNP-V]{2}[ABCDEHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]",
        _stdnum(codicefiscale),
    ),
    "gb_nino": IdKind(r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]", _valid_nino),
    "ch_ssn": IdKind(r"756\.\d{4}\.\d{4}\.\d{2}", _stdnum(ch_ssn), literal="756."),
    "fi_hetu": IdKind(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]", _stdnum(hetu)),
    # Opt-in kinds.
    "nl_bsn": IdKind(
        r"\d{9}|\d{4}\.\d{2}\.\d{3}",
        _stdnum(bsn),
        context=context_words("bsn", "burgerservicenummer", "sofi"),
    ),
    "pl_pesel": IdKind(r"\d{11}", _stdnum(pesel), context=context_words("pesel")),
    "se_personnummer": IdKind(r"\d{6}[-+]\d{4}", _stdnum(personnummer)),
    "dk_cpr": IdKind(r"\d{6}-\d{4}", _stdnum(cpr), literal="-"),
}
DEFAULT_NATIONAL_IDS = (
    "us_ssn",
    "de_idnr",
    "fr_nir",
    "es_dni",
    "es_nie",
    "it_codicefiscale",
    "gb_nino",
    "ch_ssn",
    "fi_hetu",
)
