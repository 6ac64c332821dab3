"""`outbox` and `send` through click, the way the main CLI will register them."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner
from sqlalchemy import select

from aftaleflow.cli_mail import outbox, send
from aftaleflow.config import Settings
from workflow.storage.db import Database
from workflow.storage.models import OutboxRow

from .conftest import make_settings
from .test_mail_failures import queue_invitations


def cli_for(settings: Settings, db: Database) -> click.Group:
    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        ctx.obj = {"settings": settings, "db": db}

    cli.add_command(outbox)
    cli.add_command(send)
    return cli


def test_outbox_and_send(mail_db: Database, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mail_db, None)
    queue_invitations(mail_db, settings.secret_key)
    cli = cli_for(settings, mail_db)
    runner = CliRunner()

    listed = runner.invoke(cli, ["outbox"], env={"COLUMNS": "220"})
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("Invitation") == 12
    assert "04.04.2022 kl. 09.00" in listed.output  # Danish local time
    assert "i kø: 12, sendes: 0, sendt: 0, fejlet: 0" in listed.output

    early = runner.invoke(cli, ["send", "--at", "2022-04-04T08:59"])
    assert early.exit_code == 0 and "0 sendt" in early.output

    sent = runner.invoke(cli, ["send", "--at", "2022-04-04T09:00"])
    assert sent.exit_code == 0, sent.output
    assert "12 sendt, 0 prøves igen senere, 0 fejlet" in sent.output
    assert f".eml-filer i {settings.mail_dir}" in sent.output
    assert len(list(settings.mail_dir.glob("*.eml"))) == 12
    with mail_db.sessions() as s:  # the outbox page shows this reply: Danish
        replies = s.scalars(select(OutboxRow.smtp_reply)).all()
    assert all(str(r).startswith(f"skrevet til {settings.mail_dir}") for r in replies), replies

    only_sent = runner.invoke(cli, ["outbox", "--status", "sent"], env={"COLUMNS": "220"})
    assert only_sent.output.count("Invitation") == 12 and "i kø: 0" in only_sent.output
    assert runner.invoke(cli, ["outbox", "--status", "failed"]).output.count("Invitation") == 0

    bad = runner.invoke(cli, ["send", "--at", "next tuesday"])
    assert bad.exit_code == 2 and "er ikke et ISO-tidspunkt" in bad.output


def test_the_commands_need_the_main_cli_context() -> None:
    result = CliRunner().invoke(outbox, [])
    assert result.exit_code == 2 and "ctx.obj['settings']" in result.output


def test_the_main_cli_app_object_works_too(mail_db: Database, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mail_db, None)

    class App:  # the shape of aftaleflow.cli.App: attributes, not a dict
        def __init__(self) -> None:
            self.settings = settings
            self.db = mail_db

    result = CliRunner().invoke(outbox, [], obj=App())
    assert result.exit_code == 0, result.output
    assert "Alle mails: i kø: 0" in result.output
