"""The 2022 cycle on the virtual clock, delivered to a real SMTP server after every tick."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select

from aftaleflow.cli_mail import deliver_callback
from aftaleflow.config import Settings
from workflow.calendar import is_working_day, to_local
from workflow.links import LinkKey, make_token, token_hash
from workflow.loader import load_bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import EventRow, LinkRow, OutboxRow

from .conftest import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
PARTIES = {
    "aalborg",
    "bronderslev",
    "frederikshavn",
    "hjorring",
    "jammerbugt",
    "laeso",
    "mariagerfjord",
    "morso",
    "rebild",
    "region-nordjylland",
    "thisted",
    "vesthimmerland",
}
LATE = frozenset({"laeso", "morso"})


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None, f"{msg['Subject']}: no text/plain part"
    return str(part.get_content())


def _calendar(msg: EmailMessage) -> icalendar.Calendar:
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, f"{msg['Subject']}: expected one .ics"
    assert parts[0].get_param("method") == "REQUEST"
    return icalendar.Calendar.from_ical(parts[0].get_content())


@pytest.mark.smtp
def test_2022_cycle_with_two_late_parties(
    mail_db: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    service = Service(mail_db, link_secret=mail_settings.secret_key)
    bundle = load_bundle(ROOT / "definitions/processes/socialaftale.yaml")
    ticks: list[datetime] = []
    deliver = deliver_callback(mail_settings, mail_db)

    def on_tick(at: datetime) -> None:
        ticks.append(at)
        deliver(at)

    simulate(service, bundle, 2022, late=LATE, on_tick=on_tick)

    with mail_db.sessions() as s:
        rows = list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        sent_events = list(s.scalars(select(EventRow).where(EventRow.kind == "mail_sent")))
        link_hashes = set(s.scalars(select(LinkRow.token_hash)))
    # Nothing is left behind: every mail went out or was cancelled before it was due.
    assert {r.status for r in rows} <= {"sent", "cancelled"}
    sent = [r for r in rows if r.status == "sent"]
    by_key = {r.idempotency_key: r for r in rows}

    received = smtp_server.received
    assert len(received) == len(sent) == len(sent_events)
    messages = [r.message for r in received]
    ids = [m["Message-ID"] for m in messages]
    assert len(set(ids)) == len(ids), "Message-IDs must be unique"
    assert all(i.endswith("@aftaleflow.example>") for i in ids)
    by_id = dict(zip(ids, zip(received, messages, strict=True), strict=True))

    # Every sent row arrived exactly once, to exactly its recipients, with its Message-ID.
    for row in sent:
        envelope, msg = by_id[row.message_id]
        assert str(msg["X-Aftaleflow-Key"]).strip() == row.idempotency_key
        assert sorted(envelope.rcpt_tos) == sorted(r["email"] for r in row.recipients)
        assert envelope.mail_from == "noreply@aftaleflow.example"

    # What the engine produces for two late parties, per kind and party.
    per_kind = Counter(r.kind for r in sent)
    per_party = Counter((r.kind, r.party) for r in sent)
    assert {p for k, p in per_party if k == "invitation"} == PARTIES
    assert all(per_party["invitation", p] == 1 for p in PARTIES)
    assert {p for k, p in per_party if k == "reminder"} == LATE
    assert {p for k, p in per_party if k == "escalation"} == LATE
    for p in LATE:  # three questionnaire reminders, two for the approval
        assert Counter(r.stage_id for r in sent if r.kind == "reminder" and r.party == p) == {
            "fagudvalg-spoergsmaal": 3,
            "politisk-godkendelse": 2,
        }
    assert per_kind["approval_request"] == 11 * 2 + 1  # socialudvalg + byråd; the regionsråd
    assert per_party["approval_request", "region-nordjylland"] == 1
    assert all(per_party["meeting_invitation", p] == 4 for p in PARTIES)  # forum + 3 workshops
    assert per_kind["submission"] == 1
    assert per_kind == {
        "invitation": 12,
        "reminder": 10,
        "escalation": 2,
        "approval_request": 23,
        "meeting_invitation": 48,
        "submission": 1,
        "forum_report": 12,
        # nobody signs up for the workshops in the simulation: every party is reminded before
        # each of the three sign-up deadlines, and the secretariat told of each thin workshop
        "workshop_signup_reminder": 36,
        "workshop_below_minimum": 3,
    }
    # The compiled report to the dialogue forum's invitees (the directors), once each, on
    # Wednesday 8 June 2022: five working days before the forum of 15 June.
    for row in (r for r in sent if r.kind == "forum_report"):
        assert to_local(row.sent_at or row.created_at).date().isoformat() == "2022-06-08"
        token = make_token(
            "test-secret", LinkKey(row.process_id or 0, row.stage_id, row.party, "rapport", 1)
        )
        assert f"https://aftaleflow.example/rapport/{token}" in _text(by_id[row.message_id][1])
        assert token_hash(token) in link_hashes

    for row in sent:
        _envelope, msg = by_id[row.message_id]
        text = _text(msg)
        html = msg.get_body(("html",))
        assert html is not None and "<html" in str(html.get_content())
        # A real text alternative, in Danish, in the secretariat's voice.
        assert "<p" not in text and "<a " not in text and "&amp;" not in text
        assert "Med venlig hilsen" in text
        assert "Socialsekretariatet, KKR Nordjylland" in text
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["Reply-To"] == (
            '"Socialsekretariatet, KKR Nordjylland" <socialsekretariat@kkr-nordjylland.example>'
        )
        assert msg["From"].addresses[0].display_name == "Socialsekretariatet, KKR Nordjylland"
        assert msg["Content-Language"] == "da"
        # Sent on a Danish working day within office hours (the virtual time of the send).
        assert row.sent_at is not None and row.sent_at in ticks
        local = to_local(row.sent_at)
        assert is_working_day(local.date()), (row.idempotency_key, local)
        assert time(9, 0) <= local.time() <= time(16, 0), (row.idempotency_key, local)

    # Invitations: Danish deadline and a working personal link.
    for row in (r for r in sent if r.kind == "invitation"):
        msg = by_id[row.message_id][1]
        assert msg["Subject"] == (
            "Nordjysk Socialaftale 2023-2024: Spørgsmål til de politiske udvalg – "
            "svar senest fredag den 20. maj 2022"
        )
        key = LinkKey(row.process_id or 0, row.stage_id, row.party, "", 1)
        token = make_token("test-secret", key)
        assert f"https://aftaleflow.example/svar/{token}" in _text(msg)
        assert token_hash(token) in link_hashes
        assert msg["In-Reply-To"] is None

    # Reminders thread under the invitation (or the approval request) they remind of.
    for row in (r for r in sent if r.kind == "reminder"):
        msg = by_id[row.message_id][1]
        parent = by_key[row.thread_key or ""]
        assert parent.kind == row.context["reminds"]
        assert msg["In-Reply-To"] == parent.message_id
        assert msg["References"] == parent.message_id
        assert "Påmindelse" in msg["Subject"]
        text = _text(msg)
        if row.context["working_days_late"]:
            assert "forsinket" in text
        else:
            assert "arbejdsdage tilbage" in text or "arbejdsdag tilbage" in text

    # Workshop sign-up reminders thread under the workshop's invitation and carry its link.
    for row in (r for r in sent if r.kind == "workshop_signup_reminder"):
        msg = by_id[row.message_id][1]
        parent = by_key[row.thread_key or ""]
        assert parent.kind == "meeting_invitation" and parent.step == row.step
        assert msg["In-Reply-To"] == parent.message_id
        token = make_token(
            "test-secret", LinkKey(row.process_id or 0, row.stage_id, row.party, row.step, 1)
        )
        assert f"https://aftaleflow.example/tilmeld/{token}" in _text(msg)
        assert f"/tilmeld/{token}" in _text(by_id[parent.message_id][1])

    # Escalations name the overdue party to its director.
    for row in (r for r in sent if r.kind == "escalation"):
        text = _text(by_id[row.message_id][1])
        assert row.context["party_name"] in text and "forsinket" in text

    # Approval requests name the body.
    bodies: Counter[str] = Counter()
    for row in (r for r in sent if r.kind == "approval_request"):
        text = _text(by_id[row.message_id][1])
        bodies[next(b for b in ("socialudvalget", "byrådet", "regionsrådet") if b in text)] += 1
        assert "/godkend/" in text
    assert bodies == {"socialudvalget": 11, "byrådet": 11, "regionsrådet": 1}

    # Meeting invitations carry a parseable .ics with METHOD:REQUEST and a VTIMEZONE.
    uids: dict[str, set[str]] = {}
    for row in (r for r in sent if r.kind == "meeting_invitation"):
        cal = _calendar(by_id[row.message_id][1])
        assert cal["METHOD"] == "REQUEST"
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
        (event,) = cal.events
        assert isinstance(event.start, datetime) and event.start.tzinfo is not None
        assert event.start == datetime.fromisoformat(row.context["event"]["start"])
        assert str(event["ORGANIZER"]) == "mailto:socialsekretariat@kkr-nordjylland.example"
        found = event.get("ATTENDEE") or []
        attendees = sorted(str(a) for a in (found if isinstance(found, list) else [found]))
        assert attendees == sorted(f"mailto:{r['email']}" for r in row.recipients)
        uids.setdefault(row.step, set()).add(str(event["UID"]))
    assert len(uids) == 4 and all(len(u) == 1 for u in uids.values()), "one stable UID per event"

    # The submission to Socialstyrelsen carries the approval record with party names.
    (submission,) = [r for r in sent if r.kind == "submission"]
    text = _text(by_id[submission.message_id][1])
    assert "Læsø Kommune, byråd: Godkendt" in text
    assert "Region Nordjylland, regionsråd: Godkendt" in text
    html = by_id[submission.message_id][1].get_body(("html",))
    assert html is not None and '<th scope="col"' in str(html.get_content())
