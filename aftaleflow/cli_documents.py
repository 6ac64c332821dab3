"""The agreement document and the personal links: ``document add|approve-version`` and
``link reissue``.

Registered with the main group in ``aftaleflow.cli``.
"""

from __future__ import annotations

from pathlib import Path

import click

from aftaleflow.cli_common import App, console, parse_at, pass_app
from workflow.dates import format_sending


@click.group()
def link() -> None:
    """Personlige links: genudsted (send et nyt) eller spær."""


@link.command("reissue")
@click.argument("stage")
@click.argument("party")
@click.argument("step", required=False, default="")
@click.option("--process", "key", default=None)
@click.option("--reason", required=True)
@click.option("--revoke-only", is_flag=True, help="Spær linket uden at sende et nyt.")
@click.option("--now", is_flag=True, help="Send det nye link nu, også uden for kontortid.")
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def link_reissue(
    app: App,
    stage: str,
    party: str,
    step: str,
    key: str | None,
    reason: str,
    revoke_only: bool,
    now: bool,
    at_: str | None,
    actor: str,
) -> None:
    """Send et nyt link (det gamle virker, til det nye er sendt); --revoke-only spærrer straks."""
    if revoke_only and now:
        raise click.UsageError("--now og --revoke-only kan ikke bruges sammen")
    at = parse_at(at_)
    change = app.service().revoke_link(
        app.only_key(key),
        stage,
        party,
        step,
        at=at,
        actor=actor,
        reason=reason,
        reissue=not revoke_only,
        now=now,
    )
    who = " ".join(x for x in (party, step) if x)
    if revoke_only:
        what = "er spærret"
    elif change.sends_at is None:
        what = "er genudstedt; det sendes med invitationen"
    else:
        what = f"er genudstedt og {format_sending(change.sends_at, at)}"
    console.print(f"Linket for {who} i {stage} {what} (link nr. {change.generation})")
    if change.sends_at is not None:
        console.print("Det gamle link virker, indtil det nye er sendt.")


@click.group()
def document() -> None:
    """Aftaledokumentet: upload versioner, send én til godkendelse."""


@document.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--process", "key", default=None)
@click.option("--note", default="")
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def document_add(
    app: App, file: Path, key: str | None, note: str, at_: str | None, actor: str
) -> None:
    """Upload en ny version af aftalen."""
    import mimetypes

    media = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    version = app.service().add_document(
        app.only_key(key),
        filename=file.name,
        media_type=media,
        content=file.read_bytes(),
        at=parse_at(at_),
        actor=actor,
        note=note,
    )
    console.print(f"Version {version} gemt: {file.name}")


@document.command("approve-version")
@click.argument("version", type=int, required=False)
@click.option("--process", "key", default=None)
@click.option("--reason", required=True)
@click.option("--at", "at_", default=None)
@click.option("--by", "actor", default="secretariat (cli)")
@pass_app
def document_up(
    app: App, version: int | None, key: str | None, reason: str, at_: str | None, actor: str
) -> None:
    """Send en version til godkendelse (som standard den, KKR anbefalede): hver godkendelse
    gemmer dens hash."""
    svc, process = app.service(), app.only_key(key)
    digest = svc.put_up_for_approval(process, version, at=parse_at(at_), actor=actor, reason=reason)
    rec = svc.recommended_version(process)
    shown = version if version is not None else rec.get("version")
    console.print(f"Version {shown} ({digest[:12]}) er sendt til godkendelse")
    if rec and rec.get("sha256") != digest:
        console.print(
            f"Bemærk: KKR anbefalede version {rec.get('version')}, ikke version {shown}",
            style="bold yellow",
        )
