"""Human acts through the service: outcomes, approvals, rejections, exemptions, guards."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from workflow.calendar import local_to_utc
from workflow.errors import GuardRefused, NotFound
from workflow.loader import Bundle
from workflow.queries import process_status
from workflow.service import Service, bound_for
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow, TaskRow

A = "politisk-godkendelse"

#: KKR's focus areas (``decides`` in socialaftale.yaml), recorded with its decision.
AREAS = {"focus_areas": ["den-gode-alderdom", "socialpsykiatri", "effektive-loesninger"]}


def at(d: str, hour: int = 12) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


def _to_approval(svc: Service, bundle: Bundle) -> str:
    """Run 2022 with simulated people up to the moment the approval requests go out."""
    return simulate(svc, bundle, 2022, until=at("2022-11-07", 10)).key


def _status(db: Database, key: str) -> tuple[str, str]:
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        assert row is not None
        st = process_status(s, key, bound_for(row))
    return st.status, next(x.status for x in st.stages if x.id == A)


def test_a_rejection_blocks_the_process_and_a_new_vote_unblocks_it(
    db: Database, socialaftale: Bundle
) -> None:
    svc = Service(db, link_secret="s")
    key = _to_approval(svc, socialaftale)
    assert _status(db, key) == ("running", "open")
    with pytest.raises(GuardRefused, match="Byråd beslutter efter Socialudvalg"):
        svc.record_approval(
            key, A, "laeso", "byraad", decision="approved", at=at("2022-11-08"), actor="t"
        )
    svc.record_approval(
        key,
        A,
        "laeso",
        "socialudvalg",
        decision="rejected",
        at=at("2022-11-08"),
        actor="Læsø",
        decision_text="Ikke godkendt",
    )
    assert _status(db, key) == ("blocked", "blocked")
    assert svc.tick(at("2022-12-20")).applied == []  # nothing moves while blocked
    with db.sessions() as s:
        notice = s.scalar(select(OutboxRow).where(OutboxRow.kind == "rejection"))
        blocked = s.scalar(select(EventRow).where(EventRow.kind == "process_blocked"))
    assert notice is not None and notice.party == "laeso"
    assert notice.recipients[0]["email"].endswith(".example")
    assert blocked is not None and "Ikke godkendt" in blocked.reason
    svc.record_approval(
        key,
        A,
        "laeso",
        "socialudvalg",
        decision="approved",
        at=at("2022-11-22"),
        actor="Læsø",
        decision_text="Godkendt ved genbehandling",
    )
    assert _status(db, key) == ("running", "open")


def test_the_process_advances_only_when_all_twelve_chains_are_approved(
    db: Database, socialaftale: Bundle
) -> None:
    svc = Service(db, link_secret="s")
    key = _to_approval(svc, socialaftale)
    parties = socialaftale.participants
    moment = at("2022-11-08")
    for party in parties:
        kind = socialaftale.parties.get(party).kind
        steps = ["regionsraad"] if kind == "region" else ["socialudvalg", "byraad"]
        for step in steps:
            if party == "morso" and step == "byraad":
                continue
            svc.record_approval(key, A, party, step, decision="approved", at=moment, actor=party)
    assert _status(db, key) == ("running", "open")
    svc.record_approval(
        key,
        A,
        "morso",
        "byraad",
        decision="approved",
        at=moment,
        actor="morso",
        meeting_date=date(2022, 11, 7),
        agenda_item="12",
        decision_text="Godkendt",
    )
    assert _status(db, key)[1] == "completed"
    with db.sessions() as s:
        step = s.scalar(select(TaskRow).where(TaskRow.party == "morso", TaskRow.step == "byraad"))
    assert step is not None and step.decision is not None
    assert step.decision["agenda_item"] == "12" and step.decision["meeting_date"] == "2022-11-07"


def test_an_exempt_party_gets_no_more_reminders(db: Database, socialaftale: Bundle) -> None:
    svc = Service(db, link_secret="s")
    key = svc.start(socialaftale, 2022, at=at("2022-01-03"))
    svc.tick(at("2022-01-10"))
    svc.record_outcome(key, "das-fokus", outcome="held", at=at("2022-03-03", 16), actor="t")
    svc.tick(at("2022-03-04"))
    svc.record_outcome(
        key, "kkr-igangsaetter", outcome="approved", at=at("2022-03-25"), actor="t", values=AREAS
    )
    svc.tick(at("2022-04-04", 9))
    with pytest.raises(NotFound, match="mente du 'fagudvalg-spoergsmaal'"):
        svc.exempt(key, "fagudvalg-spørgsmål", "laeso", at=at("2022-04-05"), actor="t", reason="x")
    svc.exempt(
        key,
        "fagudvalg-spoergsmaal",
        "laeso",
        at=at("2022-04-05"),
        actor="sekretariatet",
        reason="Læsø deltager via Frederikshavn",
    )
    while (due := svc.next_due()) is not None and due < at("2022-06-01"):
        svc.tick(due)
    with db.sessions() as s:
        laeso = s.scalars(
            select(OutboxRow.kind).where(
                OutboxRow.party == "laeso", OutboxRow.stage_id == "fagudvalg-spoergsmaal"
            )
        ).all()
        aalborg = s.scalars(
            select(OutboxRow.kind).where(
                OutboxRow.party == "aalborg", OutboxRow.stage_id == "fagudvalg-spoergsmaal"
            )
        ).all()
        event = s.scalar(select(EventRow).where(EventRow.kind == "party_exempted"))
    assert laeso == ["invitation"]
    assert sorted(aalborg) == ["escalation", "invitation", "reminder", "reminder", "reminder"]
    assert event is not None and event.actor == "sekretariatet" and "Frederikshavn" in event.reason


def test_a_stage_opened_by_hand_invites_its_parties(db: Database, socialaftale: Bundle) -> None:
    svc = Service(db, link_secret="s")
    key = simulate(svc, socialaftale, 2022, until=at("2022-03-30")).key
    applied = svc.open_stage(
        key,
        "fagudvalg-spoergsmaal",
        at=at("2022-03-30", 10),
        actor="sekretariatet",
        reason="spørgsmålene er klar før tid",
    )
    assert applied == [] or all(a.action.kind != "open_stage" for a in applied)
    svc.tick(at("2022-04-04", 9))
    with db.sessions() as s:
        invited = s.scalars(select(OutboxRow.party).where(OutboxRow.kind == "invitation")).all()
    assert sorted(invited) == sorted(socialaftale.participants)
