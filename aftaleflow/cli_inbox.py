"""``aftaleflow inbox fetch``: read the IMAP mailbox once (``AFTALEFLOW_IMAP_URL``).

Registered by the main CLI like the mail commands; the scheduler runs the same reader as a
job (``aftaleflow.inbox_job``).
"""

from __future__ import annotations

import os
import socket

import click

from aftaleflow.cli_mail import get_context, parse_at
from aftaleflow.config import Settings
from notifications.inbox import FetchReport, ImapConfig, fetch
from workflow.errors import AftaleflowError
from workflow.mail_replies import take_in
from workflow.risk_reads import calendars_of
from workflow.service import Service

CLASSES_DA = {
    "reply": "svar",
    "auto_reply": "autosvar",
    "bounce": "returmail",
    "automatic": "automatisk",
    "own": "egne (ignoreret)",
}


def imap_config(settings: Settings) -> ImapConfig:
    """The checked ``AFTALEFLOW_IMAP_URL``; raises ``AftaleflowError`` when unset or wrong."""
    if not settings.imap_url:
        raise AftaleflowError(
            "AFTALEFLOW_IMAP_URL er ikke sat; sæt den til den postkasse, svarene kommer til, fx "
            "imaps://user:password@imap.example:993/INBOX"
        )
    return ImapConfig.parse(settings.imap_url)


@click.group("inbox")
def inbox() -> None:
    """Postkassen, som svar, returmails og autosvar kommer til."""


@inbox.command("fetch")
@click.option(
    "--at", "at_text", help="Forretningstid (ISO; uden forskydning = dansk tid). Standard: nu."
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=None, help="Højst så mange.")
@click.pass_context
def fetch_once(ctx: click.Context, at_text: str | None, limit: int | None) -> None:
    """Læs hver ny besked én gang: gem den, knyt den til den mail, den svarer på, og flyt den."""
    settings, db = get_context(ctx)
    config = imap_config(settings)
    at = parse_at(at_text)
    report = fetch(
        db,
        config,
        at,
        own_domain=settings.mail_domain,
        upload_dir=settings.upload_dir,
        worker=f"cli@{socket.gethostname()}:{os.getpid()}",
        limit=limit,
    )
    taken = take_in(
        Service(db, link_secret=settings.secret_key, calendars=calendars_of),
        settings.upload_dir,
        at,
    )
    click.echo(describe(report, config))
    received = sum(1 for t in taken if t.outcome == "received")
    if taken:
        click.echo(f"{received} svar pr. mail modtaget, {len(taken) - received} registreret")


def describe(report: FetchReport, config: ImapConfig) -> str:
    kinds = ", ".join(f"{CLASSES_DA.get(k, k)}: {n}" for k, n in sorted(report.by_class.items()))
    line = f"{config.description}: {report.stored} ny(e) mail(s) gemt" + (
        f" ({kinds})" if kinds else ""
    )
    line += f", {report.moved} flyttet til {config.processed}"
    if report.already_stored:
        line += f" ({report.already_stored} var gemt i forvejen)"
    return line
