"""After a restore from backup: the mails the lost installation already sent are listed and
can be cancelled (audited), so the restored scheduler does not send them a second time."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from notifications.sender import drain
from notifications.transports import FileTransport
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

from .conftest import make_settings
from .test_mail_cli import cli_for
from .test_mail_failures import add_mail, queue_invitations


def sqlite_copy(source: Path, target: Path) -> None:
    """What the README's `sqlite3 … ".backup …"` does: a consistent online copy."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def test_after_a_restore_the_mails_sent_since_the_backup_are_listed_and_cancelled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "aftaleflow.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    settings = make_settings(tmp_path, db, None)
    at = queue_invitations(db, settings.secret_key)
    later = at + timedelta(days=3)
    add_mail(db, later, "p1/later", kind="invitation", party="laeso", recipients=[], context={})
    with db.sessions() as s:
        twelve = set(s.scalars(select(OutboxRow.id).where(OutboxRow.next_attempt_at <= at)))
    assert len(twelve) == 12

    sqlite_copy(path, tmp_path / "backup.db")  # the nightly backup, before the mail went out
    transport = FileTransport(settings.mail_dir)
    assert drain(db, transport, settings, at).sent == 12  # the old installation sends them
    db.dispose()
    sqlite_copy(tmp_path / "backup.db", path)  # the disk dies; the backup is restored
    restored = Database(f"sqlite:///{path}")
    cli = cli_for(settings, restored)
    runner = CliRunner()
    took_over = (at + timedelta(hours=2)).isoformat()

    listed = runner.invoke(
        cli, ["outbox", "requeued", "--since", took_over], env={"COLUMNS": "200"}
    )
    assert listed.exit_code == 0, listed.output
    assert "12 mail(s)" in listed.output and "laeso.example" in listed.output
    assert "p1/later" not in listed.output

    no_reason = runner.invoke(cli, ["outbox", "requeued", "--since", took_over, "--cancel-all"])
    assert no_reason.exit_code != 0 and "--reason" in no_reason.output
    assert "Traceback" not in no_reason.output
    with restored.sessions() as s:
        (later_id,) = s.scalars(select(OutboxRow.id).where(OutboxRow.idempotency_key == "p1/later"))
        assert {r.status for r in s.scalars(select(OutboxRow))} == {"queued"}
    not_listed = runner.invoke(
        cli,
        ["outbox", "requeued", "--since", took_over, "--cancel", str(later_id), "--reason", "x"],
    )
    assert not_listed.exit_code != 0 and f"mail {later_id} er ikke på listen" in not_listed.output

    cancelled = runner.invoke(
        cli,
        [
            "outbox", "requeued", "--since", took_over, "--cancel-all", "--by", "anna",
            "--reason", "sendt før nedbruddet", "--at", took_over,
        ],
    )  # fmt: skip
    assert cancelled.exit_code == 0, cancelled.output
    assert "12 mail(s) annulleret" in cancelled.output
    with restored.sessions() as s:
        statuses = {r.id: r.status for r in s.scalars(select(OutboxRow))}
        audit = list(
            s.scalars(select(EventRow).where(EventRow.kind == "mail_cancelled_after_restore"))
        )
    assert {i for i, st in statuses.items() if st == "cancelled"} == twelve
    assert statuses[later_id] == "queued"
    assert len(audit) == 12 and {e.data["outbox_id"] for e in audit} == twelve
    assert {(e.actor, e.reason) for e in audit} == {("anna", "sendt før nedbruddet")}

    # The restored scheduler sends nothing twice; the mail planned for later still goes out.
    assert drain(restored, transport, settings, at + timedelta(hours=2)).claimed == 0
    assert len(list(settings.mail_dir.glob("*.eml"))) == 12
    empty = runner.invoke(cli, ["outbox", "requeued", "--since", took_over])
    assert empty.exit_code == 0 and "Ingen mails i kø" in empty.output
    restored.dispose()
