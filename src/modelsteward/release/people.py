"""People, their roles, and which roles may run which state-changing command.

>>> Person.create("sam", ["safety"], key_id="ab" * 32, public_key="PEM").roles
('safety',)
>>> may("kill", ("operations",))
True
>>> parse_roles("legal, product")
('legal', 'product')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from modelsteward.errors import InvalidInput, PolicyDenied

__all__ = [
    "PERMISSIONS",
    "Person",
    "Role",
    "check_person_name",
    "may",
    "parse_roles",
    "require",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class Role(StrEnum):
    """The five roles that sign off a release."""

    LEGAL = "legal"
    SECURITY = "security"
    SAFETY = "safety"
    OPERATIONS = "operations"
    PRODUCT = "product"


PERMISSIONS: Mapping[str, frozenset[str]] = {
    "people.add": frozenset({"security"}),
    "deployment.add": frozenset({"operations"}),
    "deployment.observe": frozenset({"operations", "safety"}),
    "promote": frozenset({"operations", "product"}),
    "retire": frozenset({"operations", "product"}),
    "rollback": frozenset({"operations"}),
    "kill": frozenset({"operations"}),
    "resume": frozenset({"operations"}),
}
"""Which roles may run each state-changing release command (a sign-off needs the role it signs)."""


def check_person_name(name: str) -> str:
    """A person's name: lower-case letters, digits and ``. _ -``, up to 64 characters."""
    cleaned = (name or "").strip()
    if not _NAME.fullmatch(cleaned):
        raise InvalidInput(
            f"invalid person name {name!r}",
            hint="use lower-case letters, digits and . _ - (e.g. sam.safety), at most 64",
        )
    return cleaned


def parse_roles(text: str | Iterable[str]) -> tuple[str, ...]:
    """Roles from ``legal,safety`` (or a list): known, non-empty, without repeats; sorted."""
    items = text.split(",") if isinstance(text, str) else list(text)
    roles = [r.strip().lower() for r in items if r.strip()]
    if not roles:
        raise InvalidInput("--roles is empty", hint="e.g. --roles safety,operations")
    known = {r.value for r in Role}
    for role in roles:
        if role not in known:
            raise InvalidInput(
                f"--roles: unknown role {role!r}", hint="roles: " + ", ".join(sorted(known))
            )
    if len(set(roles)) != len(roles):
        raise InvalidInput("--roles names a role twice", hint="list each role once")
    return tuple(sorted(roles))


@dataclass(frozen=True)
class Person:
    """Someone who may sign off releases and run release commands.

    Attributes:
        name: Their Steward name (also what ``STEWARD_ACTOR`` says when they act).
        roles: The roles they hold.
        key_id: Fingerprint of their public key (SHA-256 of its PEM).
        public_key: Their public key, PEM text.
    """

    name: str
    roles: tuple[str, ...]
    key_id: str
    public_key: str

    @classmethod
    def create(cls, name: str, roles: Iterable[str], *, key_id: str, public_key: str) -> Person:
        """Validate and build."""
        return cls(check_person_name(name), parse_roles(roles), key_id, public_key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the ``person.added`` payload minus ``added_by``)."""
        return {
            "name": self.name,
            "roles": list(self.roles),
            "key_id": self.key_id,
            "public_key": self.public_key,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Person:
        """Read :meth:`to_dict` output."""
        return cls(
            str(data["name"]),
            tuple(str(r) for r in data["roles"]),
            str(data["key_id"]),
            str(data["public_key"]),
        )


def may(command: str, roles: Iterable[str]) -> bool:
    """Whether someone holding ``roles`` may run ``command`` (a key of :data:`PERMISSIONS`)."""
    return bool(PERMISSIONS[command] & set(roles))


def require(command: str, actor: str, person: Person | None) -> Person:
    """The acting person, if they may run ``command``; ``PolicyDenied`` otherwise (fail closed)."""
    allowed = ", ".join(sorted(PERMISSIONS[command]))
    if person is None:
        raise PolicyDenied(
            f"{actor!r} is not a registered person, so cannot run {command}",
            hint=f"set STEWARD_ACTOR to a person holding one of: {allowed} (steward people list)",
        )
    if not may(command, person.roles):
        raise PolicyDenied(
            f"{person.name} ({', '.join(person.roles)}) may not run {command}",
            hint=f"{command} needs one of the roles: {allowed}",
        )
    return person
