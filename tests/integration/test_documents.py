"""The agreement's versions: what each party approved, and what goes to Socialstyrelsen."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time

from sqlalchemy import select

from workflow.calendar import local_to_utc
from workflow.loader import Bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, StageRow

A = "politisk-godkendelse"
V1, V2 = b"%PDF-1.4 udkast 1", b"%PDF-1.4 udkast 2"


def at(d: str, hour: int = 12) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


def _approve_all(svc: Service, bundle: Bundle, key: str, moment: datetime, **kw: str) -> None:
    for party in bundle.participants:
        region = bundle.parties.get(party).kind == "region"
        for step in ["regionsraad"] if region else ["socialudvalg", "byraad"]:
            svc.record_approval(
                key, A, party, step, decision="approved", at=moment, actor=party, **kw
            )


def _run(svc: Service, until: datetime) -> None:
    while (due := svc.next_due()) is not None and due <= until:
        svc.tick(due)


def _submission(db: Database) -> tuple[str, OutboxRow | None]:
    with db.sessions() as s:
        st = s.scalar(select(StageRow).where(StageRow.stage_id == "socialstyrelsen"))
        mail = s.scalar(select(OutboxRow).where(OutboxRow.kind == "submission"))
    assert st is not None
    return st.status, mail


def test_submission_carries_the_approved_versions_hash(db: Database, socialaftale: Bundle) -> None:
    svc = Service(db, link_secret="s")
    key = simulate(svc, socialaftale, 2022, until=at("2022-11-06")).key
    assert (
        svc.add_document(
            key,
            filename="aftale-v1.pdf",
            media_type="application/pdf",
            content=V1,
            at=at("2022-11-01"),
            actor="sekretariatet",
        )
        == 1
    )
    assert (
        svc.add_document(
            key,
            filename="aftale-v2.pdf",
            media_type="application/pdf",
            content=V2,
            at=at("2022-11-02"),
            actor="sekretariatet",
        )
        == 2
    )
    wanted = svc.put_up_for_approval(
        key, 2, at=at("2022-11-03"), actor="sekretariatet", reason="KKR's version"
    )
    assert wanted == hashlib.sha256(V2).hexdigest()
    _run(svc, at("2022-11-07", 10))
    _approve_all(svc, socialaftale, key, at("2022-11-08"))
    while (due := svc.next_due()) is not None and due <= at("2022-12-31"):
        svc.tick(due)
    status, mail = _submission(db)
    assert status == "completed" and mail is not None
    assert mail.context["document"]["sha256"] == wanted
    assert mail.context["document"]["filename"] == "aftale-v2.pdf"
    assert {a["document_hash"] for a in mail.context["approvals"]} == {wanted}


def test_submission_is_refused_while_a_party_approved_another_version(
    db: Database, socialaftale: Bundle
) -> None:
    svc = Service(db, link_secret="s")
    key = simulate(svc, socialaftale, 2022, until=at("2022-11-06")).key
    svc.add_document(
        key,
        filename="v1.pdf",
        media_type="application/pdf",
        content=V1,
        at=at("2022-11-01"),
        actor="sekretariatet",
    )
    old = svc.put_up_for_approval(key, 1, at=at("2022-11-01"), actor="sekretariatet", reason="v1")
    _run(svc, at("2022-11-07", 10))
    _approve_all(svc, socialaftale, key, at("2022-11-08"))
    svc.add_document(
        key,
        filename="v2.pdf",
        media_type="application/pdf",
        content=V2,
        at=at("2022-11-20"),
        actor="sekretariatet",
    )
    svc.put_up_for_approval(
        key, 2, at=at("2022-11-20"), actor="sekretariatet", reason="rettelse efter godkendelse"
    )
    while (due := svc.next_due()) is not None and due <= at("2022-12-31"):
        svc.tick(due)
    status, mail = _submission(db)
    assert status == "open" and mail is None  # refused: everybody approved v1, v2 is up
    with db.sessions() as s:
        ev = s.scalar(
            select(EventRow)
            .where(EventRow.kind == "document_put_up_for_approval")
            .order_by(EventRow.id.desc())
        )
    assert ev is not None and ev.data["previous"] == old
