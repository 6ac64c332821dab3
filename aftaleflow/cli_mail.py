"""Mail commands for the main CLI: ``aftaleflow outbox`` and ``aftaleflow send``.

Register them with ``cli.add_command(outbox)`` and ``cli.add_command(send)``. The main CLI
puts the ``Settings`` at ``ctx.obj['settings']`` and a ``Database`` at ``ctx.obj['db']``.
``deliver_callback(settings, db)`` is what ``simulate --deliver`` passes as ``on_tick``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from aftaleflow.config import Settings
from notifications.claims import recover_stuck
from notifications.message import InvalidAddress, bare_address, checked_address
from notifications.restore import cancel as cancel_restored
from notifications.restore import due_before
from notifications.sender import DeliveryReport, drain, make_on_tick
from notifications.transports import Transport, transport_for
from workflow import defaults
from workflow.clock import parse_moment, system_clock
from workflow.dates import format_short
from workflow.errors import AftaleflowError, ConfigurationError
from workflow.labels import label
from workflow.storage.db import Database, require_schema
from workflow.storage.models import OutboxRow

STATUSES = ("queued", "sending", "sent", "failed", "cancelled")
STATUS_DA = {
    "queued": "i kø",
    "sending": "sendes",
    "sent": "sendt",
    "failed": "fejlet",
    "cancelled": "annulleret",
}


def get_context(ctx: click.Context) -> tuple[Settings, Database]:
    """The settings and database the main CLI prepared.

    Either ``ctx.obj = {'settings': …, 'db': …}`` or an object with ``settings`` and ``db``
    attributes (the main CLI's ``App``, whose ``db`` opens the database on first use).
    """
    obj = ctx.obj
    if isinstance(obj, dict):
        settings, db = obj.get("settings"), obj.get("db")
    else:
        settings = getattr(obj, "settings", None)
        db = getattr(obj, "db", None) if isinstance(settings, Settings) else None
    if not isinstance(settings, Settings) or not isinstance(db, Database):
        raise click.UsageError(
            "mail-kommandoerne skal have indstillingerne og databasen fra hoved-CLI'en "
            "(ctx.obj['settings'] og ctx.obj['db']); kør dem som `aftaleflow outbox|send`"
        )
    require_schema(db.engine)
    return settings, db


def make_transport(settings: Settings) -> Transport:
    """SMTP when AFTALEFLOW_SMTP_URL is set, else ``.eml`` files under AFTALEFLOW_MAIL_DIR.

    Checks the mail settings first: a bad one is a ``ConfigurationError`` now, not an error in
    every later mail run.
    """
    try:
        checked_address(bare_address(settings.mail_from))
    except InvalidAddress:
        raise ConfigurationError(
            f"AFTALEFLOW_MAIL_FROM={settings.mail_from!r} kan ikke bruges som afsender; skriv "
            "én adresse, fx noreply@kommune.example eller Sekretariatet <noreply@kommune.example>"
        ) from None
    try:
        return transport_for(
            settings.smtp_url, settings.mail_dir, local_hostname=settings.mail_domain
        )
    except ValueError as e:
        raise ConfigurationError(str(e)) from None


def deliver_callback(settings: Settings, db: Database) -> Callable[[datetime], None]:
    """``on_tick`` for the simulation: deliver everything due at that virtual moment."""
    on_tick = make_on_tick(db, make_transport(settings), settings, worker="simulation")

    def callback(at: datetime) -> None:
        on_tick(at)

    return callback


def parse_at(text: str | None) -> datetime:
    """An ISO time; without an offset it is Danish local time. None means now (real time)."""
    if not text:
        return system_clock()
    try:
        return parse_moment(text)
    except AftaleflowError:
        raise click.BadParameter(
            f"{text!r} er ikke et ISO-tidspunkt; skriv fx 2022-04-04T09:00 (dansk tid) "
            "eller 2022-04-04T07:00+00:00"
        ) from None


@click.group("outbox", invoke_without_command=True)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([*STATUSES, "all"]),
    help="Vis kun mails med denne status (kan gentages). Standard: alle undtagen annullerede.",
)
@click.option("--limit", default=200, show_default=True, help="Vis højst så mange mails.")
@click.pass_context
def outbox(ctx: click.Context, statuses: tuple[str, ...], limit: int) -> None:
    """Vis mails i udbakken: i kø, ved at blive sendt, sendt og fejlet.

    `aftaleflow outbox requeued` viser (og annullerer) de mails, en gendannet sikkerhedskopi
    ville sende igen."""
    if ctx.invoked_subcommand is not None:
        return
    _settings, db = get_context(ctx)
    wanted = list(STATUSES) if "all" in statuses else list(statuses or STATUSES[:4])
    with db.sessions() as s:
        rows = list(
            s.scalars(
                select(OutboxRow)
                .where(OutboxRow.status.in_(wanted))
                .order_by(OutboxRow.send_after.desc(), OutboxRow.id.desc())
                .limit(limit)
            )
        )
        counted = s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        totals = {str(status): int(n) for status, n in counted}
    rows.reverse()
    table = Table(title="Udbakke", show_lines=False)
    for name in (
        "#",
        "slags",
        "part",
        "modtagere",
        "status",
        "sendes (dansk tid)",
        "forsøg",
        "fejl",
    ):
        table.add_column(name, overflow="fold")
    for r in rows:
        recipients = ", ".join(str(x.get("email", "")) for x in r.recipients or [])
        table.add_row(
            str(r.id),
            label(r.kind) + (f" {r.seq}" if r.kind == "reminder" else ""),
            r.party or "—",
            recipients,
            STATUS_DA.get(r.status, r.status),
            format_short(r.send_after),
            str(r.attempts),
            (r.last_error or "")[:120],
        )
    console = Console()
    console.print(table)
    summary = ", ".join(f"{STATUS_DA[k]}: {totals.get(k, 0)}" for k in STATUSES)
    console.print(f"{len(rows)} vist. Alle mails: {summary}")


@outbox.command("requeued")
@click.option(
    "--since",
    "--due-before",
    "since",
    help="Hvornår den gendannede database tog over (ISO; uden forskydning = dansk tid), dvs. "
    "hvornår den tabte installation holdt op med at sende. Standard: nu.",
)
@click.option(
    "--cancel", "ids", multiple=True, type=int, help="Annullér denne mail (kan gentages)."
)
@click.option("--cancel-all", is_flag=True, help="Annullér alle viste mails.")
@click.option("--reason", default="", help="Hvorfor (gemmes i loggen); kræves for at annullere.")
@click.option("--by", "actor", default="secretariat (cli)", show_default=True)
@click.option("--at", "at_text", help="Tidspunkt for annulleringen (ISO). Standard: nu.")
@click.pass_context
def requeued(
    ctx: click.Context,
    since: str | None,
    ids: tuple[int, ...],
    cancel_all: bool,
    reason: str,
    actor: str,
    at_text: str | None,
) -> None:
    """Efter en gendannelse: de ventende mails, der forfaldt før --since.

    Den installation, der gik tabt, har sikkert sendt dem, efter sikkerhedskopien blev taget;
    startet på den gendannede database ville scheduleren sende dem igen. Gennemgå listen, og
    annullér dem, der allerede er modtaget (--cancel ID … eller --cancel-all, med --reason).
    Kør det, før scheduleren startes på den gendannede database.
    """
    _settings, db = get_context(ctx)
    moment = parse_at(since)
    rows = due_before(db, moment)
    listed = {r.id for r in rows}
    if ids or cancel_all:
        if not reason.strip():
            raise click.UsageError(
                "skriv med --reason, hvorfor mailene annulleres (til revisionsloggen)"
            )
        unknown = sorted(set(ids) - listed)
        if unknown:
            raise click.UsageError(
                f"mail {', '.join(map(str, unknown))} er ikke på listen (kun mails i kø, "
                f"der skulle være sendt før {format_short(moment)}, kan annulleres her)"
            )
        wanted = listed if cancel_all else set(ids)
        done = cancel_restored(db, wanted, at=parse_at(at_text), actor=actor, reason=reason.strip())
        click.echo(f"{len(done)} mail(s) annulleret: {', '.join(map(str, done)) or '—'}")
        return
    if not rows:
        click.echo(
            f"Ingen mails i kø, der skulle være sendt før {format_short(moment)} (dansk tid)."
        )
        return
    table = Table(title=f"I kø, men skulle være sendt før {format_short(moment)}")
    for name in ("#", "slags", "part", "modtagere", "status", "skulle sendes", "forsøg"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(
            str(r.id),
            label(r.kind) + (f" {r.seq}" if r.kind == "reminder" else ""),
            r.party or "—",
            ", ".join(str(x.get("email", "")) for x in r.recipients or []),
            STATUS_DA.get(r.status, r.status),
            format_short(r.next_attempt_at),
            str(r.attempts),
        )
    console = Console()
    console.print(table)
    console.print(
        f"{len(rows)} mail(s). Modtaget før gendannelsen? Annullér dem med "
        "--cancel ID (eller --cancel-all) og --reason."
    )


@click.command("send")
@click.option(
    "--at", "at_text", help="Forretningstid (ISO; uden forskydning = dansk tid). Standard: nu."
)
@click.option(
    "--batch-size",
    default=defaults.SEND_BATCH_SIZE,
    show_default=True,
    type=click.IntRange(1, 10_000),
)
@click.option(
    "--recover-stuck",
    "recover",
    is_flag=True,
    help="Sæt først de mails i kø igen, som en stoppet afsender efterlod i 'sending'. "
    "Kun når ingen anden afsender kører.",
)
@click.pass_context
def send(ctx: click.Context, at_text: str | None, batch_size: int, recover: bool) -> None:
    """Send hver mail, der er forfalden nu (eller ved --at), én gang."""
    settings, db = get_context(ctx)
    at = parse_at(at_text)
    transport = make_transport(settings)
    if recover:
        n = recover_stuck(db, at, worker=f"cli-{os.getpid()}")
        click.echo(f"{n} mail(s), som en stoppet afsender efterlod, er sat i kø igen")
    report = drain(db, transport, settings, at, batch_size=batch_size, worker=f"cli-{os.getpid()}")
    click.echo(describe(report, transport.description))


def describe(report: DeliveryReport, where: str) -> str:
    counts = Counter(d.status for d in report.deliveries)
    crash = report.resent_after_crash
    lines = [
        f"{format_short(report.at)} (dansk tid) via {where}: {counts['sent']} sendt, "
        f"{counts['retry']} prøves igen senere, {counts['failed']} fejlet"
        + (f", {crash} sendt igen efter et nedbrud" if crash else "")
    ]
    for d in report.deliveries:
        if d.status == "retry" and d.next_attempt_at is not None:
            lines.append(f"  prøves igen {format_short(d.next_attempt_at)}: {d.key}: {d.error}")
        elif d.status == "failed":
            lines.append(f"  FEJLET {d.key}: {d.error}")
        elif d.refused:
            lines.append(f"  sendt {d.key}, men afvist for: {', '.join(d.refused)}")
    return "\n".join(lines)
