"""People and roles: who may sign off releases and run release commands.

>>> import pathlib, tempfile
>>> from modelsteward.config import Settings
>>> from modelsteward.bootstrap import init_workspace
>>> from modelsteward.artifacts.signing import generate_key_pair
>>> home = pathlib.Path(tempfile.mkdtemp())
>>> app = init_workspace(Settings(home=home, actor="sid"))
>>> keys = generate_key_pair(home / "sid.pem")
>>> app.people.add("sid", "security", keys.public_key).roles   # the first person: bootstrap
('security',)
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization

from modelsteward.artifacts.signing import key_fingerprint, load_public_key
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.release.people import Person, check_person_name, require
from modelsteward.storage.db import Database
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.release_store import SqlRelease

__all__ = ["PeopleService"]


class PeopleService:
    """The register of people, their roles and their public keys."""

    def __init__(self, db: Database, *, actor: str) -> None:
        self.db = db
        self.actor = actor

    def add(self, name: str, roles: str, public_key: Path) -> Person:
        """Register someone. The first person may be added by anyone (bootstrap, recorded as
        such); after that only a person holding the ``security`` role may add people."""
        key = load_public_key(public_key)
        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        person = Person.create(name, roles.split(","), key_id=key_fingerprint(key), public_key=pem)
        with self.db.write() as conn:
            store = SqlRelease(conn)
            everyone = store.people()
            bootstrap = not everyone
            if not bootstrap:
                require("people.add", self.actor, self._person(store, self.actor))
            if store.person(person.name) is not None:
                raise Conflict(
                    f"{person.name} is already registered",
                    hint="people are never edited in place; register a new name",
                )
            owner = store.person_by_key(person.key_id)
            if owner is not None:
                raise Conflict(
                    f"that key already belongs to {owner['name']}",
                    hint="each person signs with their own key",
                )
            payload = {**person.to_dict(), "added_by": self.actor, "bootstrap": bootstrap}
            (entry,) = append_entries(
                SqlLedgerTxn(conn),
                [EntryDraft("person.added", self.actor, f"person:{person.name}", payload)],
            )
            store.add_person(entry.seq, payload)
        return person

    def list(self) -> list[Person]:
        """Everyone, by name."""
        with self.db.read() as conn:
            return [Person.from_dict(p) for p in SqlRelease(conn).people()]

    def get(self, name: str) -> Person:
        """One person, or ``NotFound``."""
        with self.db.read() as conn:
            found = self._person(SqlRelease(conn), name)
        if found is None:
            raise NotFound(f"no person named {name!r}", hint="run `steward people list`")
        return found

    def acting(self) -> Person | None:
        """The registered person ``STEWARD_ACTOR`` names, if any."""
        with self.db.read() as conn:
            return self._person(SqlRelease(conn), self.actor)

    @staticmethod
    def _person(store: SqlRelease, name: str) -> Person | None:
        try:
            check_person_name(name)
        except InvalidInput:
            return None
        record = store.person(name)
        return Person.from_dict(record) if record else None
