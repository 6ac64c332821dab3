"""User commands for the main CLI: ``aftaleflow user add|password|list|api-token``.

Register the group with ``cli.add_command(user)``. Like the mail commands, they take the
settings and the database from the main CLI's context object (``App``: ``.settings`` and
``.db``, or a dict with those keys). Passwords are read from a hidden prompt (asked twice)
or, with ``--password-stdin``, from the first line of standard input; never from an option,
which would leave them in the shell history and the process list.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table

from aftaleflow.config import Settings
from workflow import users
from workflow.calendar import to_local
from workflow.storage.db import Database, require_schema

console = Console(highlight=False, soft_wrap=True)

ACTOR = "cli"
ROLE_DA = {"admin": "administrator (handler)", "viewer": "læser (ser kun)"}


def _db(ctx: click.Context) -> Database:
    obj = ctx.obj
    if isinstance(obj, dict):
        settings, db = obj.get("settings"), obj.get("db")
    else:
        settings = getattr(obj, "settings", None)
        db = getattr(obj, "db", None) if isinstance(settings, Settings) else None
    if not isinstance(db, Database):
        raise click.UsageError("kør brugerkommandoerne som `aftaleflow user …`")
    require_schema(db.engine)
    return db


def _now() -> datetime:
    return datetime.now(UTC)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standardinput indeholdt ingen adgangskode")
        return password
    value = click.prompt(
        "Adgangskode (password)", hide_input=True, confirmation_prompt="Gentag adgangskoden"
    )
    return str(value)


@click.group("user")
def user() -> None:
    """Sekretariatets brugere af overblikket (roller: admin handler, viewer læser)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(users.ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Læs adgangskoden fra standardinput.")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Opret en bruger; der spørges om adgangskoden (eller den læses fra stdin)."""
    db = _db(ctx)
    password = _read_password(password_stdin)
    created = users.add_user(db, name, password, role, at=_now(), actor=ACTOR)
    console.print(f"Bruger oprettet: {created.name} ({ROLE_DA[created.role]})")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Læs adgangskoden fra standardinput.")
@click.pass_context
def password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Sæt en ny adgangskode (låser også brugeren op og afslutter brugerens sessioner)."""
    db = _db(ctx)
    users.set_password(db, name, _read_password(password_stdin), at=_now(), actor=ACTOR)
    console.print(f"Ny adgangskode sat for {users.normalise_name(name)}")


@user.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Brugerne, deres roller, seneste login og om de er låst."""
    db = _db(ctx)
    found = users.list_users(db)
    if not found:
        console.print("Ingen brugere endnu. Opret en med `aftaleflow user add NAVN --role admin`.")
        return
    now = _now()
    table = Table("Bruger", "Rolle", "Sidst logget ind", "Låst til", "API-nøgle")
    for u in found:
        locked = u.locked_until if u.locked_until and u.locked_until > now else None
        table.add_row(
            u.name,
            u.role,
            f"{to_local(u.last_login_at):%Y-%m-%d %H:%M}" if u.last_login_at else "—",
            f"{to_local(locked):%Y-%m-%d %H:%M}" if locked else "—",
            "ja" if u.has_api_token else "nej",
        )
    console.print(table)


@user.command("api-token")
@click.argument("name")
@click.pass_context
def api_token(ctx: click.Context, name: str) -> None:
    """Udsted en ny API-nøgle (vises én gang; den forrige holder op med at virke)."""
    db = _db(ctx)
    token = users.issue_api_token(db, name, at=_now(), actor=ACTOR)
    click.echo(token)
    click.echo(
        "Gem nøglen nu – den vises kun denne ene gang. Brug: Authorization: Bearer <nøgle>",
        err=True,
    )
