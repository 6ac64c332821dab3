"""The parties' contacts: ``contact list|add|replace|deactivate`` (``workflow.contact_changes``).

Registered with the main group in ``aftaleflow.cli``.
"""

from __future__ import annotations

from datetime import datetime

import click
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from aftaleflow.cli_common import App, console, local, parse_at, pass_app
from workflow.contact_changes import ROLE_NAMES, ContactChange
from workflow.dates import format_sending
from workflow.definition_parties import ROLES
from workflow.storage.models import ContactStatusRow

_KEY = click.option(
    "--process", "key", default=None, help="Processen (kun nødvendig, når der er flere)."
)
_AT = click.option("--at", "at_", default=None, help="Tidspunktet (dansk tid); ellers nu.")
_BY = click.option("--by", "actor", default="secretariat (cli)", help="Hvem ændrer (til loggen).")
_REASON = click.option("--reason", required=True, help="Hvorfor (kommer i loggen).")
_NOW = click.option(
    "--now", is_flag=True, help="Send den ventende invitation nu, også uden for kontortid."
)


@click.group()
def contact() -> None:
    """Parternes kontakter pr. rolle: vis, tilføj, erstat, deaktivér."""


@contact.command("list")
@click.argument("party", required=False, default=None)
@_KEY
@click.option("--all", "everything", is_flag=True, help="Også deaktiverede kontakter.")
@pass_app
def list_(app: App, party: str | None, key: str | None, everything: bool) -> None:
    """Kontakterne (aktive; --all også deaktiverede), med fejlmarkerede adresser."""
    got = app.service().contacts.book(app.only_key(key))
    parties = got.book.registry.parties
    if party is not None:
        parties = [p for p in parties if p.slug == party]
        if not parties:
            from workflow.definition_errors import suggest
            from workflow.errors import NotFound

            slugs = got.book.registry.slugs
            raise NotFound(
                f"Ukendt part {party!r}{suggest(party, slugs)}", en=f"Unknown party {party!r}"
            )
    with app.db.sessions() as s:
        failing = {
            r.address.lower(): r.reason
            for r in s.scalars(select(ContactStatusRow).where(ContactStatusRow.status == "failing"))
        }
    table = Table("Part", "Rolle", "Navn", "Adresse", "Status", "Ændret")
    for p in parties:
        for role in ROLES:
            for e in got.book.entries(p.slug, role):
                if not (e.active or everything):
                    continue
                status = "aktiv" if e.active else "deaktiveret"
                if e.active and e.address.lower() in failing:
                    status = "fejler: " + failing[e.address.lower()]
                changed = e.changed_at or (e.created_at if e.created_by != "registry" else None)
                who = e.changed_by or (e.created_by if e.created_by != "registry" else "")
                when = f"{local(changed)} {who}".strip() if changed else "fra partsregistret"
                table.add_row(
                    p.slug,
                    ROLE_NAMES[role][0],
                    escape(e.name),
                    e.address,
                    escape(status),
                    escape(when),
                )
    console.print(table)


@contact.command("add")
@click.argument("party")
@click.argument("role")
@click.option("--name", required=True)
@click.option("--email", required=True)
@_REASON
@_NOW
@_KEY
@_AT
@_BY
@pass_app
def add(
    app: App, party: str, role: str, name: str, email: str, reason: str, now: bool,
    key: str | None, at_: str | None, actor: str,
) -> None:  # fmt: skip
    """Tilføj en kontakt til rollen (ud over dem, den har); den får det ventende tilsendt."""
    at = parse_at(at_)
    change = app.service().contacts.add(
        app.only_key(key), party, role, name=name, address=email, at=at, actor=actor,
        reason=reason, now=now,
    )  # fmt: skip
    console.print(f"{email} er tilføjet som {ROLE_NAMES[role][0]} for {party}.")
    _report(change, at, revoked=False)


@contact.command("replace")
@click.argument("party")
@click.argument("role")
@click.argument("old_email")
@click.option("--name", required=True, help="Den nye kontakts navn.")
@click.option("--email", required=True, help="Den nye kontakts adresse.")
@_REASON
@click.option("--revoke-old", is_flag=True, help="Spær den gamle kontakts link straks.")
@_NOW
@_KEY
@_AT
@_BY
@pass_app
def replace(
    app: App, party: str, role: str, old_email: str, name: str, email: str, reason: str,
    revoke_old: bool, now: bool, key: str | None, at_: str | None, actor: str,
) -> None:  # fmt: skip
    """Erstat en kontakt: den gamle deaktiveres, den nye får det ventende med et nyt link."""
    at = parse_at(at_)
    change = app.service().contacts.replace(
        app.only_key(key), party, role, old_email, name=name, address=email, at=at,
        actor=actor, reason=reason, revoke_old=revoke_old, now=now,
    )  # fmt: skip
    console.print(f"{old_email} er erstattet af {email} som {ROLE_NAMES[role][0]} for {party}.")
    _report(change, at, revoked=revoke_old)


@contact.command("deactivate")
@click.argument("party")
@click.argument("role")
@click.argument("email")
@_REASON
@_KEY
@_AT
@_BY
@pass_app
def deactivate(
    app: App, party: str, role: str, email: str, reason: str, key: str | None,
    at_: str | None, actor: str,
) -> None:  # fmt: skip
    """Deaktivér en kontakt (ikke rollens sidste: erstat den i stedet)."""
    at = parse_at(at_)
    change = app.service().contacts.deactivate(
        app.only_key(key), party, role, email, at=at, actor=actor, reason=reason
    )
    console.print(f"{email} er deaktiveret som {ROLE_NAMES[role][0]} for {party}.")
    _report(change, at, revoked=False)


def _report(change: ContactChange, at: datetime, *, revoked: bool) -> None:
    if change.readdressed:
        console.print(f"{change.readdressed} mail(s) i køen går nu til de nye modtagere.")
    for r in change.reissued:
        what = f"{r.stage}" + (f" ({r.step})" if r.step else "")
        console.print(
            f"Invitationen i {what} sendes igen med et nyt link (link nr. {r.generation}), "
            f"{format_sending(r.sends_at, at)}."
        )
    if change.reissued and change.kind == "replaced":
        console.print(
            "Den gamle kontakts link er spærret."
            if revoked
            else "Den gamle kontakts link virker fortsat."
        )
