"""Migration 0014_answers_by_mail: replies stored before it are not acted on afterwards (the
engine never took them in then; acting on old mail now would surprise the secretariat), and
the answers keep their rows; down and up again keeps everything the older schema holds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from workflow.storage.db import Database, downgrade, migrate

AT = datetime(2022, 4, 6, 8, 0, tzinfo=UTC)


def test_old_replies_are_not_taken_in_after_the_upgrade(mail_db: Database) -> None:
    downgrade(mail_db.engine, "0010_process_row_token")
    with mail_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inbound_mail (mailbox, uidvalidity, uid, message_id, sha256,"
                " from_address, from_name, subject, received_at, size, raw, body_text,"
                " classification, details, stage_id, party, step, matched_by, status,"
                " updated_at, updated_by) VALUES ('INBOX', 1, 1, '<a@b.example>', 'x',"
                " 'a@laeso.example', '', 'SV', :at, 1, :raw, '', 'reply', '{}', 's', 'laeso',"
                " '', 'manual', 'assigned', :at, 't')"
            ),
            {"at": AT.replace(tzinfo=None), "raw": b"x"},
        )
    migrate(mail_db.engine)
    with mail_db.engine.connect() as conn:
        applied = conn.execute(text("SELECT applied_at FROM inbound_mail")).scalar()
    assert applied is not None  # taken in: ``mail_replies.pending`` never offers it
