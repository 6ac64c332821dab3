"""The secretariat's actions through the dashboard, on the real engine (SQLite, and PostgreSQL
when configured): each asks why, changes the state through the service, and is written to
the audit log with who and why; a guard that does not hold refuses with a clear message and
changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notifications.sender import deliver_due
from notifications.transports import SmtpTransport
from tests.browser.support import (
    AFTER_APPROVAL_REQUESTS,
    AFTER_INVITATIONS,
    APPROVAL,
    KEY,
    QUESTIONNAIRE,
    SECRET,
    run_until,
    token,
)
from workflow import queries
from workflow.calendar import TZ, local_to_utc
from workflow.errors import GuardRefused
from workflow.links import LinkKey, make_token
from workflow.loader import Bundle
from workflow.service import Service, bound_for
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow, StageRow, TaskRow

from .conftest import SmtpServer, make_settings
from .dashboard_support import ADMIN, BASE_URL, PROCESS, Dash, dashboard

STAGE = f"{PROCESS}/fase/{QUESTIONNAIRE}"
ACTOR = f"user:{ADMIN}"
#: While KKR's decision stage is open (its meeting is on 25 March): DAS has met.
BEFORE_KKR = datetime(2022, 3, 10, 10, 0, tzinfo=TZ)


@pytest.fixture
def invited(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        yield d


def stage_status(db: Database, stage: str) -> str:
    with db.sessions() as s:
        return s.scalar(select(StageRow.status).where(StageRow.stage_id == stage)) or ""


def task(db: Database, party: str, stage: str = QUESTIONNAIRE, step: str = "") -> TaskRow:
    with db.sessions() as s:
        t = s.scalar(
            select(TaskRow).where(
                TaskRow.stage_id == stage, TaskRow.party == party, TaskRow.step == step
            )
        )
    assert t is not None
    return t


def next_reminder(db: Database, party: str) -> datetime:
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow))
        assert row is not None
        mails = queries.upcoming_mails(s, row, bound_for(row))
    (mail,) = [m for m in mails if m.party == party and m.stage_id == QUESTIONNAIRE]
    assert mail.kind == "reminder"
    return mail.at


def event_count(db: Database) -> int:
    with db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(EventRow)) or 0)


def the_event(d: Dash, kind: str) -> EventRow:
    """The one event of ``kind`` that the dashboard's user caused."""
    (event,) = [e for e in d.events(kind) if e.actor == ACTOR]
    return event


def test_extend_moves_the_partys_reminders_and_is_logged(invited: Dash) -> None:
    d = invited
    before = next_reminder(d.db, "aalborg")
    assert before == local_to_utc(date(2022, 5, 10), time(9, 0))
    page = d.client.get(f"{PROCESS}/part/aalborg").text
    assert "Påmindelse nr. 1 10.05.2022 kl. 09.00" in page
    r = d.form(
        f"{STAGE}/part/aalborg/frist",
        {"deadline": "2022-05-27", "reason": "Udvalget mødes først 25. maj"},
    )
    assert r.status_code == 303 and r.headers["Location"] == f"{PROCESS}/part/aalborg"
    assert task(d.db, "aalborg").deadline_override == date(2022, 5, 27)
    after = next_reminder(d.db, "aalborg")
    assert after == local_to_utc(date(2022, 5, 17), time(9, 0))  # 26 May is a holiday
    assert next_reminder(d.db, "bronderslev") == before, "other parties keep theirs"
    page = d.client.get(f"{PROCESS}/part/aalborg").text
    assert "Fristen for Aalborg Kommune er forlænget til fredag den 27. maj 2022." in page
    assert "Påmindelse nr. 1 17.05.2022 kl. 09.00" in page
    assert "27.05.2022 (forlænget)" in page
    event = the_event(d, "deadline_extended")
    assert (event.actor, event.reason, event.party) == (
        ACTOR,
        "Udvalget mødes først 25. maj",
        "aalborg",
    )
    assert event.data == {"from": "2022-05-20", "to": "2022-05-27"}
    log = d.client.get("/sekretariat/log?kind=deadline_extended&party=aalborg").text
    assert "Udvalget mødes først 25. maj" in log and ACTOR in log


def test_a_form_without_a_reason_or_with_a_bad_date_is_shown_again(invited: Dash) -> None:
    d = invited
    before = event_count(d.db)
    r = d.form(f"{STAGE}/part/aalborg/frist", {"deadline": "27/5", "reason": "  "})
    assert r.status_code == 400
    assert "Der er et problem" in r.text
    assert "Skriv en gyldig dato" in r.text and "Skal udfyldes" in r.text
    assert 'value="27/5"' in r.text, "what was typed is kept"
    assert event_count(d.db) == before


def test_exempt_and_reissue_link(invited: Dash) -> None:
    d = invited
    r = d.form(f"{STAGE}/part/bronderslev/fritag", {"reason": "Udvalget er nedlagt"})
    assert r.status_code == 303
    assert task(d.db, "bronderslev").status == "exempt"
    matrix = d.client.get(PROCESS).text
    assert 'data-party="bronderslev"' in matrix and "Fritaget" in matrix
    event = the_event(d, "party_exempted")
    assert (event.actor, event.reason) == (ACTOR, "Udvalget er nedlagt")

    r = d.form(f"{STAGE}/part/hjorring/nyt-link", {"reason": "Linket gik til en forkert"})
    assert r.status_code == 303
    flashed = d.client.get(r.headers["Location"]).text
    assert "(link nr. 2)" in flashed and "generation" not in flashed
    assert task(d.db, "hjorring").link_generation == 2
    with d.db.sessions() as s:
        again = s.scalars(
            select(OutboxRow).where(OutboxRow.party == "hjorring", OutboxRow.kind == "invitation")
        ).all()
    assert [m.context["link"]["generation"] for m in again] == [1, 2]
    event = the_event(d, "link_reissued")
    assert (event.actor, event.reason) == (ACTOR, "Linket gik til en forkert")


def test_guards_refuse_with_a_clear_message_and_change_nothing(invited: Dash) -> None:
    d = invited
    before = event_count(d.db)
    r = d.form(f"{PROCESS}/fase/workshops/aabn", {"reason": "Vi vil gerne i gang"})
    assert r.status_code == 409
    assert "Handlingen blev afvist" in r.text
    assert (
        "Fasen »Faglige workshops for hvert fokusområde« åbner først, når »Socialpolitisk "
        "Dialogforum« er afsluttet." in r.text
    )
    assert "opens after" not in r.text
    r = d.form(f"{PROCESS}/fase/das-fokus/genaabn", {"reason": "Forkert referat"})
    assert r.status_code == 409
    assert "»KKR Nordjylland igangsætter den politiske proces«, der følger efter den" in r.text
    r = d.form(f"{PROCESS}/fase/das-fokus/resultat", {"outcome": "held", "reason": "x"})
    assert r.status_code == 409
    assert "et resultat kan kun registreres, mens den er åben" in r.text
    r = d.form(
        f"{PROCESS}/fase/{APPROVAL}/part/aalborg/godkendelse/socialudvalg",
        {"decision": "approved", "meeting_date": "2022-04-04", "reason": "For tidligt"},
    )
    assert r.status_code == 409
    assert "er ikke åbnet endnu; godkendelser registreres, mens den er åben" in r.text
    assert stage_status(d.db, "workshops") == "pending"
    assert event_count(d.db) == before
    assert d.client.get(f"{PROCESS}/fase/ukendt/aabn").status_code == 404
    assert d.client.get(f"{STAGE}/part/ukendt/fritag").status_code == 404
    assert d.client.get("/sekretariat/proces/ukendt").status_code == 404


def test_outcome_and_stage_control(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, BEFORE_KKR) as d:
        d.login()
        assert stage_status(db, "kkr-igangsaetter") == "open"
        r = d.form(
            f"{PROCESS}/fase/kkr-igangsaetter/resultat",
            {
                "outcome": "approved",
                "text": "KKR igangsætter den politiske proces",
                "minutes": "https://kkr.example/referat-2022-03",
                "value_focus_areas": ["socialpsykiatri", "den-gode-alderdom"],
                "reason": "Referatet er modtaget",
            },
        )
        assert r.status_code == 303
        assert stage_status(db, "kkr-igangsaetter") == "completed"
        page = d.client.get(PROCESS).text
        assert "KKR igangsætter den politiske proces" in page
        event = the_event(d, "outcome_recorded")
        assert (event.actor, event.reason) == (ACTOR, "Referatet er modtaget")

        # open the questionnaire before its date: the invitations still wait for 4 April
        r = d.form(f"{STAGE}/aabn", {"reason": "Materialet er klar"})
        assert r.status_code == 303 and stage_status(db, QUESTIONNAIRE) == "open"
        with db.sessions() as s:
            assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0
            row = s.scalar(select(ProcessRow))
            assert row is not None
            invitations = [
                m for m in queries.upcoming_mails(s, row, bound_for(row)) if m.kind == "invitation"
            ]
        assert len(invitations) == 12
        assert {m.at for m in invitations} == {local_to_utc(date(2022, 4, 4), time(9, 0))}

        r = d.form(f"{STAGE}/luk", {"reason": "Lukkes for at teste"})
        assert r.status_code == 303 and stage_status(db, QUESTIONNAIRE) == "completed"
        r = d.form(f"{STAGE}/genaabn", {"reason": "Lukket ved en fejl"})
        assert r.status_code == 303 and stage_status(db, QUESTIONNAIRE) == "open"
        r = d.form(f"{PROCESS}/fase/kkr-igangsaetter/genaabn", {"reason": "Nyt referat"})
        assert r.status_code == 409
        assert "»Spørgsmål til de politiske udvalg«, der følger efter den, er begyndt" in r.text
        r = d.form(f"{PROCESS}/fase/kkr-anbefaler/luk", {"reason": "x"})
        assert r.status_code == 409 and "kun en åben fase kan lukkes" in r.text

        kinds = {"stage_opened", "stage_completed", "stage_reopened", "outcome_recorded"}
        with db.sessions() as s:
            mine = s.scalars(select(EventRow).where(EventRow.actor == ACTOR)).all()
        assert kinds <= {e.kind for e in mine}
        assert all(e.reason for e in mine if e.kind in kinds)


def test_record_approval_on_behalf_of_a_party(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_APPROVAL_REQUESTS) as d:
        d.login()
        base = f"{PROCESS}/fase/{APPROVAL}/part"
        r = d.form(
            f"{base}/aalborg/godkendelse/byraad",
            {"decision": "approved", "meeting_date": "2022-11-08", "reason": "For tidligt"},
        )
        assert r.status_code == 409
        assert "Aalborg Kommune: Byråd beslutter efter Socialudvalg" in r.text
        r = d.form(
            f"{base}/region-nordjylland/godkendelse/regionsraad",
            {
                "decision": "approved",
                "meeting_date": "2022-11-08",
                "agenda_item": "7",
                "decision_text": "Godkendt",
                "minutes": "https://rn.example/protokol",
                "reason": "Protokollen kom pr. mail",
            },
        )
        assert r.status_code == 303
        t = task(db, "region-nordjylland", APPROVAL, "regionsraad")
        assert t.status == "approved"
        assert t.decision is not None and t.decision["recorded_by"] == ACTOR
        matrix = d.client.get(PROCESS).text
        region_row = matrix.split('data-party="region-nordjylland"')[1].split("</tr>")[0]
        assert "Godkendt" in region_row
        event = the_event(d, "approval_approved")
        assert (event.actor, event.reason, event.step) == (
            ACTOR,
            "Protokollen kom pr. mail",
            "regionsraad",
        )
        r = d.form(
            f"{base}/morso/godkendelse/socialudvalg",
            {"decision": "rejected", "meeting_date": "2022-11-08", "reason": "Udvalget afviste"},
        )
        assert r.status_code == 303
        with db.sessions() as s:
            assert s.scalar(select(ProcessRow.status)) == "blocked"
        assert "Afvist" in d.client.get(PROCESS).text.split('data-party="morso"')[1]


def test_cancel_needs_a_confirmation(invited: Dash) -> None:
    d = invited
    r = d.form(f"{PROCESS}/annuller", {"reason": "Aftalen udskydes et år"})
    assert r.status_code == 400 and "Bekræft" in r.text
    r = d.form(f"{PROCESS}/annuller", {"reason": "Aftalen udskydes et år", "confirm": "y"})
    assert r.status_code == 303
    with d.db.sessions() as s:
        assert s.scalar(select(ProcessRow.status)) == "cancelled"
        statuses = set(s.scalars(select(OutboxRow.status)))
    assert statuses == {"cancelled"}
    event = the_event(d, "process_cancelled")
    assert (event.actor, event.reason) == (ACTOR, "Aftalen udskydes et år")
    assert "/annuller" not in d.client.get(PROCESS).text


@pytest.mark.smtp
def test_a_failed_mail_is_sent_again(
    invited: Dash, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    d = invited
    settings = make_settings(tmp_path, d.db, smtp_server.url)
    transport = SmtpTransport(smtp_server.url, local_hostname=settings.mail_domain)
    smtp_server.handler.refuse = {"socialudvalg@laeso.example": "550 5.1.1 No such user"}
    at = AFTER_INVITATIONS
    report = deliver_due(d.db, transport, settings, at)
    assert (report.sent, report.failed) == (11, 1)
    with d.db.sessions() as s:
        failed = s.scalar(select(OutboxRow).where(OutboxRow.status == "failed"))
    assert failed is not None and failed.party == "laeso"
    page = d.client.get("/sekretariat/udbakke?status=failed").text
    assert f'id="mail-{failed.id}"' in page and "550 5.1.1 No such user" in page
    assert f"/sekretariat/udbakke/{failed.id}/send-igen" in page
    party = d.client.get(f"{PROCESS}/part/laeso").text
    assert "Fejler" in party, "the refused address is flagged on the party page"

    r = d.form(
        f"/sekretariat/udbakke/{failed.id}/send-igen",
        {"reason": "Adressen er rettet hos Læsø"},
    )
    assert r.status_code == 303
    with d.db.sessions() as s:
        queued = s.get(OutboxRow, failed.id)
    assert queued is not None and queued.status == "queued"
    assert queued.message_id == failed.message_id
    event = the_event(d, "mail_retry_requested")
    assert (event.actor, event.reason) == (ACTOR, "Adressen er rettet hos Læsø")

    smtp_server.handler.refuse = {}
    report = deliver_due(d.db, transport, settings, d.clock())
    assert report.sent == 1
    page = d.client.get("/sekretariat/udbakke?party=laeso").text
    assert "Sendt" in page and "250 2.0.0 Ok" in page
    again = d.form(f"/sekretariat/udbakke/{failed.id}/send-igen", {"reason": "igen"})
    assert again.status_code == 409 and "kun en mail, der er fejlet, kan sendes igen" in again.text


def test_the_outbox_opens_an_invitations_personal_link(invited: Dash) -> None:
    d = invited
    with d.db.sessions() as s:
        mail = s.scalar(
            select(OutboxRow).where(OutboxRow.party == "aalborg", OutboxRow.kind == "invitation")
        )
        pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == KEY))
    assert mail is not None and pid is not None
    page = d.client.get("/sekretariat/udbakke?party=aalborg").text
    assert f"/sekretariat/udbakke/{mail.id}/svarlink" in page
    assert make_token(SECRET, LinkKey(pid, QUESTIONNAIRE, "aalborg", "", 1)) not in page, (
        "no token shown"
    )
    r = d.client.get(f"/sekretariat/udbakke/{mail.id}/svarlink")
    token = make_token(SECRET, LinkKey(pid, QUESTIONNAIRE, "aalborg", "", 1))
    assert r.status_code == 303 and r.headers["Location"] == f"{BASE_URL}/svar/{token}"
    assert d.client.get(f"/svar/{token}").status_code == 200, "the link works"
    # after a re-issue the old mail's link is marked as replaced, the new one opens
    d.form(f"{STAGE}/part/aalborg/nyt-link", {"reason": "Ny sekretær"})
    page = d.client.get("/sekretariat/udbakke?party=aalborg").text
    assert "Linket er erstattet" in page
    assert d.client.get("/sekretariat/udbakke/999999/svarlink").status_code == 404


def test_extend_refuses_dates_that_cannot_work_and_changes_nothing(invited: Dash) -> None:
    """Issue 11 point 4: not in the past, not after the stage closes (answers end there),
    never without a reason; each refusal says why and leaves no event behind."""
    d = invited
    before = event_count(d.db)
    past = d.form(f"{STAGE}/part/aalborg/frist", {"deadline": "2022-04-01", "reason": "x"})
    assert past.status_code == 409 and "ligger før i dag (04.04.2022)" in past.text
    late = d.form(f"{STAGE}/part/aalborg/frist", {"deadline": "2022-06-10", "reason": "x"})
    assert late.status_code == 409
    assert "ligger efter fasens lukning (03.06.2022)" in late.text
    with pytest.raises(GuardRefused, match="Skriv hvorfor"):
        Service(d.db, link_secret=SECRET).extend(
            KEY, QUESTIONNAIRE, "aalborg", date(2022, 5, 27), at=d.clock(), actor="x", reason=" "
        )
    assert event_count(d.db) == before
    assert task(d.db, "aalborg").deadline_override is None


def test_extend_refuses_a_deadline_before_the_stage_opens(
    db: Database, socialaftale: Bundle
) -> None:
    run_until(db, socialaftale, datetime(2022, 3, 28, 12, 0, tzinfo=TZ))
    svc = Service(db, link_secret=SECRET)
    now = datetime(2022, 3, 28, 13, 0, tzinfo=TZ)
    svc.open_stage(KEY, QUESTIONNAIRE, at=now, actor="sekretariatet", reason="tidligt")
    with pytest.raises(GuardRefused, match=r"før fasen åbner \(01.04.2022\)"):
        svc.extend(KEY, QUESTIONNAIRE, "aalborg", date(2022, 3, 30), at=now, actor="x", reason="y")


def test_extend_replans_queued_reminders_and_puts_an_overdue_party_back(invited: Dash) -> None:
    """A reminder queued on the old schedule is cancelled, the next one follows the new date;
    an overdue party that had opened its link is "opened" again and counted so."""
    d = invited
    svc = Service(d.db, link_secret=SECRET)
    assert d.client.get(f"/svar/{token(d.db, 'aalborg')}").status_code == 200  # opened
    svc.tick(local_to_utc(date(2022, 5, 10), time(9, 0)))
    queued = [m for m in mails(d.db, "aalborg", "reminder") if m.status == "queued"]
    assert [m.seq for m in queued] == [1]
    svc.extend(
        KEY,
        QUESTIONNAIRE,
        "aalborg",
        date(2022, 5, 27),
        at=local_to_utc(date(2022, 5, 10), time(9, 30)),
        actor="sekretariatet",
        reason="Udvalget mødes 25. maj",
    )
    assert [m.status for m in mails(d.db, "aalborg", "reminder")] == ["cancelled"]
    assert next_reminder(d.db, "aalborg") == local_to_utc(date(2022, 5, 17), time(9, 0))
    run = local_to_utc(date(2022, 5, 17), time(9, 0))
    while (due := svc.next_due()) is not None and due <= run:
        svc.tick(due)
    again = mails(d.db, "aalborg", "reminder")
    assert [(m.status, m.seq, m.context["n"]) for m in again] == [
        ("cancelled", 1, 1),
        ("queued", 2, 1),  # reminder 1 of the new schedule, under a key of its own
    ]
    assert again[1].created_at.replace(tzinfo=UTC) == run

    # past the new deadline: overdue; extended again, back to "opened", and counted so
    svc.tick(local_to_utc(date(2022, 5, 30), time(9, 0)))
    assert task(d.db, "aalborg").status == "overdue"
    counts_before = counts(d.db)
    d.clock.set(datetime(2022, 5, 30, 10, 0, tzinfo=TZ))
    r = d.form(f"{STAGE}/part/aalborg/frist", {"deadline": "2022-06-02", "reason": "Igen"})
    assert r.status_code == 303
    t = task(d.db, "aalborg")
    assert (t.status, t.escalated) == ("opened", False)
    after = counts(d.db)
    assert after["overdue"] == counts_before["overdue"] - 1
    assert after["opened"] == counts_before.get("opened", 0) + 1
    assert "aalborg" not in {o.party for o in overdue(d.db, d.clock())}
    # the link works until the new deadline's stage close plus the grace period
    assert d.client.get(f"/svar/{token(d.db, 'aalborg')}").status_code == 200


def mails(db: Database, party: str, kind: str) -> list[OutboxRow]:
    with db.sessions() as s:
        return list(
            s.scalars(
                select(OutboxRow)
                .where(OutboxRow.party == party, OutboxRow.kind == kind)
                .order_by(OutboxRow.id)
            )
        )


def counts(db: Database) -> dict[str, int]:
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow))
        assert row is not None
        return queries.process_status(s, KEY, bound_for(row)).counts


def overdue(db: Database, at: datetime) -> list[queries.OverdueTask]:
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow))
        assert row is not None
        return queries.overdue_tasks(s, row, bound_for(row), at)


def test_a_logged_in_user_acting_through_a_partys_link_is_named_in_the_audit_log(
    invited: Dash,
) -> None:
    """Issue 11 point 8: "Åbn svarlinket" lets an admin play the party; the audit log names
    the user with the link ("admin via link:aalborg"), a party's own browser only the link."""
    d = invited
    with d.db.sessions() as s:
        mail = s.scalar(
            select(OutboxRow).where(OutboxRow.party == "aalborg", OutboxRow.kind == "invitation")
        )
    assert mail is not None
    r = d.client.get(f"/sekretariat/udbakke/{mail.id}/svarlink")
    assert r.status_code == 303
    assert d.client.get(r.headers["Location"].removeprefix(BASE_URL)).status_code == 200
    (opened,) = [e for e in d.events("link_opened") if e.party == "aalborg"]
    assert opened.actor == f"{ADMIN} via link:aalborg"

    party_browser = d.app.test_client()
    assert party_browser.get(f"/svar/{token(d.db, 'hjorring')}").status_code == 200
    (own,) = [e for e in d.events("link_opened") if e.party == "hjorring"]
    assert own.actor == "link:hjorring"
