"""The party registry of a definition: the parties (kommuner, the region), their contacts by
role and the secretariat, as validated, frozen data.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, field_validator

from workflow.definition_base import SLUG, LocatedValueError, Strict

Role = Literal["committee_secretary", "director", "council_secretariat"]
ROLES: tuple[str, ...] = ("committee_secretary", "director", "council_secretariat")
PartyKind = Literal["kommune", "region"]
Body = Literal["socialudvalg", "byraad", "regionsraad"]
BODIES: tuple[str, ...] = ("socialudvalg", "byraad", "regionsraad")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


class Contact(Strict):
    name: str
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not _EMAIL.match(v):
            raise ValueError(f"{v!r} er ikke en mailadresse")
        return v


class Party(Strict):
    slug: Annotated[str, Field(pattern=SLUG)]
    name: str
    kind: PartyKind
    contacts: dict[Role, list[Contact]]

    @field_validator("contacts")
    @classmethod
    def _has_secretary(cls, v: dict[str, list[Contact]]) -> dict[str, list[Contact]]:
        if not v.get("committee_secretary"):
            raise ValueError("hver part skal have mindst én committee_secretary-kontakt")
        return v

    def addresses(self, role: str) -> list[Contact]:
        return list(self.contacts.get(role, []))  # type: ignore[call-overload]


class PartyRegistry(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: str
    secretariat: Contact
    parties: list[Party]

    @field_validator("parties")
    @classmethod
    def _unique(cls, v: list[Party]) -> list[Party]:
        seen: set[str] = set()
        for i, p in enumerate(v):
            if p.slug in seen:
                raise LocatedValueError(f"parten {p.slug!r} står to gange", (i, "slug"))
            seen.add(p.slug)
        return v

    @cached_property
    def by_slug(self) -> dict[str, Party]:
        """An index: ``get`` and membership tests are O(1) however many parties there are."""
        return {p.slug: p for p in self.parties}

    def get(self, slug: str) -> Party:
        return self.by_slug[slug]

    @property
    def slugs(self) -> list[str]:
        return list(self.by_slug)
