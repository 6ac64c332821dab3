"""Workshop sign-ups, engine side, on SQLite and PostgreSQL: seats first come first served
across parties, a waiting list, a cancellation moving the first one waiting up, the mails as
outbox rows, the reminder to parties without sign-ups and the minimum flagged in time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.workshop_support import STAGE, WORKSHOP, at, workshop_bundle
from workflow.errors import GuardRefused, NotFound
from workflow.link_target import LinkNotFound
from workflow.links import LinkKey, make_token
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, WorkshopSignupRow
from workflow.workshop_service import Workshops
from workflow.workshops import Participant

SECRET = "s"


def _started(db: Database, tmp_path: Path) -> tuple[Service, Workshops, str]:
    svc = Service(db, link_secret=SECRET)
    key = svc.start(workshop_bundle(tmp_path), 2022, at=at("2022-08-01"))
    svc.tick(at("2022-09-01", 9))
    return svc, Workshops(svc), key


def _token(db: Database, party: str) -> str:
    with db.sessions() as s:
        pid = s.scalar(select(OutboxRow.process_id))
    assert pid is not None
    return make_token(SECRET, LinkKey(pid, STAGE, party, WORKSHOP, 1))


def _mails(db: Database, kind: str) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(s.scalars(select(OutboxRow).where(OutboxRow.kind == kind).order_by("id")))


def _people(*names: str) -> list[Participant]:
    return [Participant(n, "Konsulent", f"{n.lower()}@kommune.example") for n in names]


def test_four_people_for_three_seats_and_a_cancellation(db: Database, tmp_path: Path) -> None:
    _svc, ws, _ = _started(db, tmp_path)
    invitations = _mails(db, "meeting_invitation")
    with_link = [m for m in invitations if m.step == WORKSHOP]
    assert len(with_link) == 3 and all(m.context["link"]["page"] == "tilmeld" for m in with_link)
    assert all("link" not in m.context for m in invitations if m.step != WORKSHOP)

    aalborg = ws.resolve(_token(db, "aalborg"), at("2022-09-02"))
    hjorring = ws.resolve(_token(db, "hjorring"), at("2022-09-02"))
    assert ws.sign_up(aalborg, _people("Anna", "Bo"), at=at("2022-09-02", 10)) == [
        "confirmed",
        "confirmed",
    ]
    assert ws.sign_up(hjorring, _people("Carl", "Dorte"), at=at("2022-09-02", 11)) == [
        "confirmed",
        "waiting",
    ]
    confirmations = _mails(db, "workshop_confirmation")
    assert [m.recipients[0]["email"] for m in confirmations] == [
        "anna@kommune.example",
        "bo@kommune.example",
        "carl@kommune.example",
    ]
    assert all(m.context["event"]["id"] == WORKSHOP for m in confirmations)
    assert [m.recipients[0]["email"] for m in _mails(db, "workshop_waiting")] == [
        "dorte@kommune.example"
    ]

    anna = next(r for r in ws.party_list(aalborg) if r.name == "Anna")
    assert ws.cancel(aalborg, anna.seq, at=at("2022-09-05")) == 4
    with db.sessions() as s:
        rows = {r.name: r.status for r in s.scalars(select(WorkshopSignupRow))}
    assert rows == {
        "Anna": "cancelled",
        "Bo": "confirmed",
        "Carl": "confirmed",
        "Dorte": "confirmed",
    }
    promoted = _mails(db, "workshop_confirmation")[-1]
    assert promoted.recipients[0]["email"] == "dorte@kommune.example"
    assert promoted.context["promoted"] is True
    (cancelled,) = _mails(db, "workshop_cancellation")
    assert cancelled.recipients[0]["email"] == "anna@kommune.example"
    assert (
        cancelled.context["event"]["method"] == "CANCEL" and cancelled.context["was"] == "confirmed"
    )
    with db.sessions() as s:
        kinds = Counter(s.scalars(select(EventRow.kind).where(EventRow.kind.like("workshop_%"))))
    assert kinds == {
        "workshop_signed_up": 3,
        "workshop_waitlisted": 1,
        "workshop_cancelled": 1,
        "workshop_promoted": 1,
    }


def test_parties_without_sign_ups_are_reminded_and_a_thin_workshop_is_flagged(
    db: Database, tmp_path: Path
) -> None:
    svc, ws, _ = _started(db, tmp_path)
    aalborg = ws.resolve(_token(db, "aalborg"), at("2022-09-02"))
    ws.sign_up(aalborg, _people("Anna"), at=at("2022-09-02"))
    svc.tick(at("2022-09-09", 12))
    assert _mails(db, "workshop_signup_reminder") == []
    svc.tick(at("2022-09-12", 9))  # two working days before the deadline of 14 September
    reminded = _mails(db, "workshop_signup_reminder")
    assert sorted(m.party for m in reminded) == ["hjorring", "laeso"]
    assert reminded[0].thread_key and reminded[0].thread_key.endswith("/meeting_invitation/0")
    assert _mails(db, "workshop_below_minimum") == []
    svc.tick(at("2022-09-15", 9))  # four working days before the workshop: 1 < minimum 2
    flagged = _mails(db, "workshop_below_minimum")
    assert len(flagged) == 1 and flagged[0].context["confirmed"] == 1
    assert flagged[0].recipients[0]["email"].endswith(".example")
    svc.tick(at("2022-09-16", 9))
    assert len(_mails(db, "workshop_below_minimum")) == 1, "once"
    assert len(_mails(db, "workshop_signup_reminder")) == 2, "once"
    _, infos = ws.overview(_key(db))
    assert infos[0].flagged and infos[0].count("confirmed") == 1


def _key(db: Database) -> str:
    from workflow.storage.models import ProcessRow

    with db.sessions() as s:
        key = s.scalar(select(ProcessRow.key))
    assert key
    return key


def test_refusals_write_nothing(db: Database, tmp_path: Path) -> None:
    _svc, ws, _ = _started(db, tmp_path)
    for token in (
        "x" * 43,
        make_token("another", LinkKey(1, STAGE, "aalborg", WORKSHOP, 1)),
        make_token(SECRET, LinkKey(1, STAGE, "aalborg", "uden-tilmelding", 1)),
    ):
        with pytest.raises(LinkNotFound):
            ws.resolve(token, at("2022-09-02"))
    target = ws.resolve(_token(db, "aalborg"), at("2022-09-02"))
    bad = [Participant("Anna", "", "ikke-en-adresse")]
    with pytest.raises(GuardRefused):
        ws.sign_up(target, bad, at=at("2022-09-02"))
    ws.sign_up(target, _people("Anna"), at=at("2022-09-02"))
    with pytest.raises(GuardRefused, match="Allerede tilmeldt workshoppen"):
        ws.sign_up(target, _people("Anna"), at=at("2022-09-03"))
    with pytest.raises(
        GuardRefused, match=r"Tilmeldingen til ».*« lukkede onsdag den 14\. september 2022"
    ):
        ws.sign_up(target, _people("Bo"), at=at("2022-09-15"))
    hjorring = ws.resolve(_token(db, "hjorring"), at("2022-09-02"))
    with pytest.raises(NotFound):
        ws.cancel(hjorring, 1, at=at("2022-09-05"))  # Aalborg's participant
    with db.sessions() as s:
        assert [r.name for r in s.scalars(select(WorkshopSignupRow))] == ["Anna"]
    with pytest.raises(LinkNotFound):
        ws.resolve(_token(db, "aalborg"), at("2022-10-30"))  # past the link's grace


def test_attendance_and_conclusions_afterwards(db: Database, tmp_path: Path) -> None:
    _svc, ws, key = _started(db, tmp_path)
    target = ws.resolve(_token(db, "aalborg"), at("2022-09-02"))
    ws.sign_up(target, _people("Anna", "Bo"), at=at("2022-09-02"))
    with pytest.raises(GuardRefused):
        ws.record_attendance(key, STAGE, WORKSHOP, {1: True}, at=at("2022-09-20"), actor="t")
    ws.record_attendance(
        key, STAGE, WORKSHOP, {1: True, 2: False}, at=at("2022-09-21", 14), actor="t"
    )
    texts = {
        "challenges": "For få pladser",
        "actions": "Flere hold",
        "recommendations": "Tidlig start",
    }
    assert ws.save_conclusions(key, STAGE, WORKSHOP, texts, at=at("2022-09-22"), actor="t") == 1
    assert ws.save_conclusions(key, STAGE, WORKSHOP, texts, at=at("2022-09-23"), actor="t") == 2
    _, infos = ws.overview(key)
    info = infos[0]
    assert [(r.name, r.attended) for r in info.signups] == [("Anna", True), ("Bo", False)]
    assert info.conclusions is not None and info.conclusions.version == 2
    assert info.conclusions.actions == "Flere hold"
