"""Redaction: keep a value's shape, hide the value (only a short tail or a coarse prefix stays).

Reports carry redacted samples only; a raw value never leaves the scanner.

    >>> mask_keep_tail("123-45-6789")
    '***-**-6789'
    >>> redact_email("jane.doe@example.com")
    'j***@e***.com'
    >>> redact_ipv4("192.168.10.20")
    '192.168.***.***'
"""

from __future__ import annotations

import phonenumbers

__all__ = [
    "mask_keep_head",
    "mask_keep_tail",
    "redact_coordinates",
    "redact_email",
    "redact_ipv4",
    "redact_ipv6",
    "redact_phone",
]


def mask_keep_tail(value: str, keep: int = 4) -> str:
    """Every letter and digit becomes ``*`` except the last ``keep`` of them; separators stay."""
    total = sum(ch.isalnum() for ch in value)
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen > total - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_keep_head(value: str, keep: int = 1) -> str:
    """Every letter and digit becomes ``*`` except the first ``keep`` of them (plates)."""
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen <= keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def redact_email(value: str) -> str:
    """``j***@e***.com``: first letter of the local part and domain, and the top-level domain."""
    local, _, domain = value.rpartition("@")
    tld = domain.rsplit(".", 1)[-1]
    return f"{local[:1]}***@{domain[:1]}***.{tld}"


def redact_phone(value: str, region: str | None) -> str:
    """``+1 ***-***-0123``: the country code and the last four digits in international format."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return mask_keep_tail(value)
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{number.country_code}"
    if not text.startswith(prefix):
        return mask_keep_tail(value)
    return prefix + mask_keep_tail(text[len(prefix) :])


def redact_ipv4(value: str) -> str:
    """``192.168.***.***``: the network half stays, the host half goes."""
    parts = value.split(".")
    return ".".join(parts[:2] + ["***"] * (len(parts) - 2))


def redact_ipv6(value: str) -> str:
    """``2001:****:…``: only the first group stays."""
    head, _, rest = value.partition(":")
    return head + ":" + "".join("*" if ch not in ":" else ch for ch in rest)


def redact_coordinates(value: str) -> str:
    """``48.****, 11.****``: whole degrees (about 100 km) stay, the decimals go."""
    out: list[str] = []
    in_decimals = False
    for ch in value:
        if ch == ".":
            in_decimals = True
            out.append(ch)
        elif ch.isdigit():
            out.append("*" if in_decimals else ch)
        else:
            in_decimals = False
            out.append(ch)
    return "".join(out)
