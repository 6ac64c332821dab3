"""``aftaleflow mail send``: the dashboard's "Skriv en mail" on the command line.

The mail goes through the outbox like the dashboard's (``workflow.messages``): one mail per
party to its contacts of the chosen roles, threaded under the party's newest mail, at the next
office moment unless ``--now``, audited. ``--id`` makes it idempotent: a second run with the
same id is refused and queues nothing.

Registered with the main group in ``aftaleflow.cli``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from aftaleflow.cli_common import App, console, parse_at, pass_app
from workflow.definition_parties import ROLES
from workflow.messages import Message, MessageFile


@click.group()
def mail() -> None:
    """Mail skrevet af sekretariatet."""


@mail.command("send")
@click.option("--process", "key", default=None)
@click.option("--party", "parties", multiple=True, help="En part (flere: gentag); uden: alle.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLES),
    help="En rolle (flere: gentag); uden: committee_secretary.",
)
@click.option("--subject", required=True)
@click.option("--text", default=None, help="Teksten (eller --text-file).")
@click.option(
    "--text-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None
)
@click.option(
    "--attach",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Et bilag: PDF, docx eller odt (flere: gentag).",
)
@click.option("--now", is_flag=True, help="Send nu, også uden for kontortid.")
@click.option("--id", "token", default=None, help="Samme id to gange lægges kun i kø én gang.")
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def mail_send(
    app: App,
    key: str | None,
    parties: tuple[str, ...],
    roles: tuple[str, ...],
    subject: str,
    text: str | None,
    text_file: Path | None,
    files: tuple[Path, ...],
    now: bool,
    token: str | None,
    at_: str | None,
    actor: str,
) -> None:
    """Skriv en mail til parter (alle, eller dem med --party) gennem udbakken."""
    if (text is None) == (text_file is None):
        raise click.UsageError("giv teksten med enten --text eller --text-file")
    body = text if text is not None else (text_file.read_text("utf-8") if text_file else "")
    at = parse_at(at_)
    service = app.service()
    process = app.only_key(key)
    with service.transaction(process) as tx:
        every = tuple(tx.bound.bundle.participants)
    message = Message(
        parties=parties or every,
        roles=roles or ("committee_secretary",),
        subject=subject,
        text=body,
        token=token or secrets.token_urlsafe(16),
        files=tuple(MessageFile(f.name, f.read_bytes()) for f in files),
        now=now,
    )
    sent = service.send_message(process, message, at=at, actor=actor)
    when = "sendes nu" if now else "sendes i kontortiden"
    console.print(f"Mailen er lagt i udbakken til {len(sent)} part(er): {', '.join(sent)}; {when}.")
