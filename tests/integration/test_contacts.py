"""Contacts are live data (issue 13, item 1): the party registry seeds them when a process
starts; the secretariat adds, replaces and deactivates them, every change audited with a
reason, and a new contact is sent what is pending for its role with a new personal link.
Delivered to a real SMTP server (aiosmtpd); SQLite, and PostgreSQL when configured."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from aftaleflow.cli import App, cli
from aftaleflow.cli_mail import make_transport
from aftaleflow.config import Settings
from notifications.sender import deliver_due
from tests.browser.support import (
    AFTER_INVITATIONS,
    KEY,
    QUESTIONNAIRE,
    SECRET,
    Clock,
    build_app,
    run_until,
    token,
)
from web import close_app
from workflow.calendar import TZ
from workflow.errors import GuardRefused, NotFound
from workflow.loader import Bundle, load_bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import ContactRow, ContactStatusRow, EventRow, OutboxRow, TaskRow

from .conftest import SmtpServer, make_settings
from .dashboard_support import PROCESS, VIEWER, VIEWER_PASSWORD, Dash, dashboard
from .test_web_respond import COMPLETE

ROOT = Path(__file__).resolve().parents[2]
#: Tuesday 5 April 2022 10:00, in office hours: the invitations went out the day before.
TUESDAY = datetime(2022, 4, 5, 10, 0, tzinfo=TZ)
OLD = "socialudvalg@laeso.example"
NEW = "ny.sekretaer@laeso.example"
LINK = re.compile(r"https://aftaleflow\.example/svar/([A-Za-z0-9_-]{43})")


@pytest.fixture
def settings(tmp_path: Path, mail_db: Database, smtp_server: SmtpServer) -> Settings:
    return make_settings(tmp_path, mail_db, smtp_server.url, AFTALEFLOW_SECRET_KEY=SECRET)


@pytest.fixture
def client(mail_db: Database, tmp_path: Path) -> Iterator[FlaskClient]:
    app = build_app(mail_db.url, tmp_path / "uploads", Clock(TUESDAY))
    yield app.test_client()
    close_app(app)


def deliver(db: Database, settings: Settings, at: datetime) -> int:
    return deliver_due(db, make_transport(settings), settings, at).claimed


def mark_sent(db: Database) -> None:
    """Every queued mail as if the sender had sent it."""
    with db.sessions() as s:
        for row in s.scalars(select(OutboxRow).where(OutboxRow.status == "queued")):
            row.status = "sent"
        s.commit()


def service(db: Database) -> Service:
    return Service(db, link_secret=SECRET)


def bundle() -> Bundle:
    return load_bundle(ROOT / "definitions/processes/socialaftale.yaml", reference_year=2022)


def replace_laeso(db: Database, *, revoke_old: bool) -> None:
    change = service(db).contacts.replace(
        KEY,
        "laeso",
        "committee_secretary",
        OLD,
        name="Ny sekretær for Socialudvalget",
        address=NEW,
        at=TUESDAY,
        actor="anna",
        reason="Udvalgssekretæren er stoppet",
        revoke_old=revoke_old,
    )
    assert change.kind == "replaced" and change.old_address == OLD
    assert [(r.stage, r.generation) for r in change.reissued] == [(QUESTIONNAIRE, 2)]


def answer(client: FlaskClient, tok: str) -> int:
    url = f"/svar/{tok}"
    page = client.get(url)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    form = {"csrf_token": found.group(1), "action": "submit", **COMPLETE}
    return client.post(url, data=form, content_type="multipart/form-data").status_code


@pytest.mark.smtp
@pytest.mark.parametrize("revoke_old", [False, True], ids=["old-link-kept", "old-link-revoked"])
def test_replacing_laesos_committee_secretary_mid_questionnaire(
    mail_db: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    client: FlaskClient,
    revoke_old: bool,
) -> None:
    db = mail_db
    run_until(db, bundle(), AFTER_INVITATIONS)
    deliver(db, settings, AFTER_INVITATIONS)
    first = [m for m in smtp_server.received if OLD in m.rcpt_tos]
    assert len(first) == 1  # the invitation, to the registry's contact
    old_link = LINK.search(first[0].message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert old_link and old_link.group(1) == token(db, "laeso")

    replace_laeso(db, revoke_old=revoke_old)
    assert deliver(db, settings, TUESDAY) == 1  # in office hours: at once
    got = smtp_server.received[-1]
    assert got.rcpt_tos == (NEW,)
    text = got.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    new_link = LINK.search(text)
    assert new_link and new_link.group(1) == token(db, "laeso", generation=2)
    assert "Spørgsmål til de politiske udvalg" in got.message["Subject"]

    # the old contact's link works on unless the secretariat revoked it
    assert client.get(f"/svar/{old_link.group(1)}").status_code == (404 if revoke_old else 200)
    assert answer(client, new_link.group(1)) == 303  # the new contact answers
    with db.sessions() as s:
        task = s.scalar(
            select(TaskRow).where(TaskRow.party == "laeso", TaskRow.stage_id == QUESTIONNAIRE)
        )
        assert task is not None and task.status == "submitted"
        rows = s.scalars(
            select(ContactRow).where(
                ContactRow.party == "laeso", ContactRow.role == "committee_secretary"
            )
        ).all()
        assert [(r.address, r.active, r.created_by) for r in rows] == [
            (OLD, False, "registry"),
            (NEW, True, "anna"),
        ]
        assert rows[0].changed_by == "anna" and rows[0].reason == "Udvalgssekretæren er stoppet"
        event = s.scalar(select(EventRow).where(EventRow.kind == "contact_replaced"))
        assert event is not None
        assert (event.actor, event.party, event.reason) == (
            "anna",
            "laeso",
            "Udvalgssekretæren er stoppet",
        )
        assert event.data["old_address"] == OLD and event.data["address"] == NEW
        assert event.data["old_link_revoked"] is revoke_old
        reissued = s.scalar(
            select(EventRow).where(EventRow.kind == "link_reissued", EventRow.party == "laeso")
        )
        assert reissued is not None
        assert reissued.data["old_link"] == ("revoked" if revoke_old else "kept")
        # the receipt of the answer goes to the new contact only
        receipt = s.scalar(
            select(OutboxRow).where(OutboxRow.kind == "receipt", OutboxRow.party == "laeso")
        )
        assert receipt is not None and [r["email"] for r in receipt.recipients] == [NEW]


def test_mail_queued_before_the_change_goes_to_the_new_contact(db: Database) -> None:
    run_until(db, bundle(), AFTER_INVITATIONS)  # the invitations are queued, not yet sent
    with db.sessions() as s:  # paused: a bounce marked the old address failing
        paused = s.scalar(
            select(OutboxRow).where(OutboxRow.kind == "invitation", OutboxRow.party == "laeso")
        )
        assert paused is not None
        paused.last_error = f"paused: {OLD}"
        paused.next_attempt_at = datetime(2022, 4, 5, 11, 0, tzinfo=TZ)
        s.commit()
    replace_queued = service(db).contacts.replace(
        KEY, "laeso", "committee_secretary", OLD, name="Ny", address=NEW, at=TUESDAY,
        actor="anna", reason="ny sekretær",
    )  # fmt: skip
    assert replace_queued.readdressed == 1
    assert replace_queued.reissued == []  # the queued invitation goes to the new contact as it is
    with db.sessions() as s:
        inv = s.scalar(
            select(OutboxRow).where(OutboxRow.kind == "invitation", OutboxRow.party == "laeso")
        )
        assert inv is not None and [r["email"] for r in inv.recipients] == [NEW]
        assert inv.context["link"] == {"generation": 1}
        assert inv.last_error is None and inv.next_attempt_at == TUESDAY  # due at once


def test_later_mail_goes_to_the_live_contacts_and_adding_one_sends_the_pending_invitation(
    db: Database,
) -> None:
    run_until(db, bundle(), AFTER_INVITATIONS)
    mark_sent(db)
    change = service(db).contacts.add(
        KEY, "laeso", "committee_secretary", name="Stedfortræder", address="sted@laeso.example",
        at=TUESDAY, actor="anna", reason="ferie",
    )  # fmt: skip
    assert [r.generation for r in change.reissued] == [2]
    with db.sessions() as s:
        again = s.scalar(
            select(OutboxRow).where(
                OutboxRow.kind == "invitation", OutboxRow.party == "laeso", OutboxRow.seq == 1
            )
        )
        assert again is not None
        assert [r["email"] for r in again.recipients] == [OLD, "sted@laeso.example"]
        assert again.context["link"] == {"generation": 2}
    mark_sent(db)
    # a reminder the tick queues later goes to both
    service(db).tick(datetime(2022, 5, 11, 9, 0, tzinfo=TZ))
    with db.sessions() as s:
        reminder = s.scalar(
            select(OutboxRow).where(OutboxRow.kind == "reminder", OutboxRow.party == "laeso")
        )
        assert reminder is not None
        assert [r["email"] for r in reminder.recipients] == [OLD, "sted@laeso.example"]
    # replacing one while that reminder is queued: it goes to the new contact, with the new link
    contacts = service(db).contacts
    at = datetime(2022, 5, 11, 9, 5, tzinfo=TZ)
    change = contacts.replace(
        KEY, "laeso", "committee_secretary", OLD, name="Ny", address=NEW, at=at, actor="anna",
        reason="stoppet", revoke_old=True,
    )  # fmt: skip
    assert [r.generation for r in change.reissued] == [3]
    with db.sessions() as s:
        reminder = s.get(OutboxRow, reminder.id)
        assert reminder is not None
        assert [r["email"] for r in reminder.recipients] == ["sted@laeso.example", NEW]
        assert reminder.context["link"] == {"generation": 3}
    # deactivating one of two: the other stays; the last one cannot go
    contacts.deactivate(KEY, "laeso", "committee_secretary", NEW, at=at, actor="anna", reason="x")
    with pytest.raises(GuardRefused, match="eneste aktive udvalgssekretær"):
        contacts.deactivate(
            KEY, "laeso", "committee_secretary", "sted@laeso.example", at=at, actor="anna",
            reason="x",
        )  # fmt: skip
    book = contacts.book(KEY).book
    assert [c.email for c in book.addresses("laeso", "committee_secretary")] == [
        "sted@laeso.example"
    ]
    with db.sessions() as s:
        kinds = [e.kind for e in s.scalars(select(EventRow).where(EventRow.kind.like("contact_%")))]
    assert kinds == ["contact_added", "contact_replaced", "contact_deactivated"]


def test_the_registry_seeds_the_contacts_once(db: Database) -> None:
    run_until(db, bundle(), AFTER_INVITATIONS)
    with db.sessions() as s:
        rows = s.scalars(select(ContactRow)).all()
    assert {r.created_by for r in rows} == {"registry"}
    assert sum(1 for r in rows if r.party == "laeso") == 3
    assert len(rows) == sum(
        len(p.addresses(role))
        for p in bundle().parties.parties
        for role in ("committee_secretary", "director", "council_secretariat")
    )
    service(db).start(bundle(), 2024, at=TUESDAY)  # a second process on the same registry
    with db.sessions() as s:
        assert len(s.scalars(select(ContactRow)).all()) == len(rows)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("nowhere", "committee_secretary", OLD), NotFound, "Ukendt part 'nowhere'"),
        (("laeso", "secretary", OLD), GuardRefused, "Ukendt rolle 'secretary'"),
        (
            ("laeso", "committee_secretary", "ikke@fundet.example"),
            NotFound,
            "ikke en aktiv udvalgssekretær",
        ),
    ],
)
def test_refusals_are_danish(
    db: Database, args: tuple[str, str, str], error: type[Exception], message: str
) -> None:
    run_until(db, bundle(), AFTER_INVITATIONS)
    contacts = service(db).contacts
    with pytest.raises(error, match=message):
        contacts.replace(KEY, *args, name="Ny", address=NEW, at=TUESDAY, actor="anna", reason="r")
    with pytest.raises(GuardRefused, match="ikke en mailadresse"):
        contacts.add(
            KEY, "laeso", "director", name="X", address="x@", at=TUESDAY, actor="a", reason="r"
        )
    with pytest.raises(GuardRefused, match="er allerede udvalgssekretær"):
        contacts.add(
            KEY,
            "laeso",
            "committee_secretary",
            name="X",
            address=OLD.upper(),
            at=TUESDAY,
            actor="a",
            reason="r",
        )
    with pytest.raises(GuardRefused, match="Skriv hvorfor"):
        contacts.add(
            KEY, "laeso", "director", name="X", address=NEW, at=TUESDAY, actor="a", reason=" "
        )


# ---------------------------------------------------------------------- the dashboard


@pytest.fixture
def dash(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        with db.sessions() as s:  # the invitations as if sent, and Læsø's address bounced
            for row in s.scalars(select(OutboxRow).where(OutboxRow.status == "queued")):
                row.status = "sent"
            s.add(
                ContactStatusRow(
                    address=OLD, status="failing", reason="bounce: 550 ukendt", updated_at=TUESDAY
                )
            )
            s.commit()
        d.clock.set(TUESDAY)
        d.login()
        yield d


def test_the_dashboard_replaces_a_failing_contact_from_the_party_page(dash: Dash) -> None:
    party = dash.client.get(f"{PROCESS}/part/laeso").text
    replace_url = f"{PROCESS}/part/laeso/kontakter/committee_secretary/erstat/{OLD}"
    overview = dash.client.get(PROCESS).text  # the failing-address alert offers it too
    assert f'href="{replace_url}"' in overview and "Læsø Kommune, udvalgssekretær" in overview
    assert f'href="{replace_url}"' in party  # the failing address has a "replace" action
    assert f'href="{PROCESS}/part/laeso/kontakter"' in party

    page = dash.client.get(replace_url).text
    assert "Erstat kontakt" in page and 'name="revoke_old"' in page and OLD in page
    missing = dash.form(replace_url, {"contact_name": "Ny", "contact_email": "", "reason": "x"})
    assert missing.status_code == 400  # the form again, nothing changed
    bad = dash.form(replace_url, {"contact_name": "Ny", "contact_email": "nej", "reason": "x"})
    assert bad.status_code == 409 and "&#39;nej&#39; er ikke en mailadresse" in bad.text

    r = dash.form(
        replace_url,
        {
            "contact_name": "Ny sekretær",
            "contact_email": NEW,
            "reason": "Returmail: sekretæren er stoppet",
        },
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/part/laeso/kontakter")
    flashed = dash.client.get(r.headers["Location"]).text
    assert f"{OLD} er erstattet af {NEW} som udvalgssekretær for Læsø Kommune." in flashed
    assert "invitationen sendes igen med et nyt link (link nr. 2), sendes nu." in flashed
    assert "Den gamle kontakts link virker fortsat." in flashed
    assert "Deaktiveret" in flashed and "user:anne: Returmail: sekretæren er stoppet" in flashed
    [event] = dash.events("contact_replaced")
    assert (event.actor, event.reason) == ("user:anne", "Returmail: sekretæren er stoppet")
    assert dash.client.get(replace_url).status_code == 404  # no longer an active contact
    log = dash.client.get("/sekretariat/log?kind=contact_replaced").text
    assert "Kontakt erstattet" in log


def test_contact_changes_are_for_admins_with_a_reason(dash: Dash) -> None:
    add_url = f"{PROCESS}/part/laeso/kontakter/director/tilfoej"
    no_reason = dash.form(add_url, {"contact_name": "X", "contact_email": NEW, "reason": ""})
    assert no_reason.status_code == 400
    r = dash.form(add_url, {"contact_name": "Vikar", "contact_email": NEW, "reason": "barsel"})
    assert r.status_code == 303
    deactivate = f"{PROCESS}/part/laeso/kontakter/director/deaktiver/{NEW}"
    assert dash.form(deactivate, {"reason": "tilbage"}).status_code == 303
    assert [e.kind for e in dash.events("contact_deactivated")] == ["contact_deactivated"]
    assert dash.client.get(f"{PROCESS}/part/laeso/kontakter/boss/tilfoej").status_code == 404
    no_csrf = dash.client.post(
        add_url, data={"contact_name": "X", "contact_email": NEW, "reason": "r"}
    )
    assert no_csrf.status_code == 400
    dash.client = dash.app.test_client()  # another browser
    dash.login(VIEWER, VIEWER_PASSWORD)
    assert dash.client.get(f"{PROCESS}/part/laeso/kontakter").status_code == 200
    assert "Tilføj kontakt" not in dash.client.get(f"{PROCESS}/part/laeso/kontakter").text
    assert dash.client.get(add_url).status_code == 403


def test_the_command_line_says_what_the_new_contact_is_sent(db: Database, tmp_path: Path) -> None:
    run_until(db, bundle(), AFTER_INVITATIONS)
    with db.sessions() as s:
        for row in s.scalars(select(OutboxRow).where(OutboxRow.status == "queued")):
            row.status = "sent"
        s.commit()
    settings = make_settings(tmp_path, db, None, AFTALEFLOW_SECRET_KEY=SECRET)
    r = CliRunner().invoke(
        cli,
        ["contact", "replace", "laeso", "committee_secretary", OLD, "--name", "Ny", "--email", NEW,
         "--reason", "stoppet", "--revoke-old", "--at", "2022-04-09T11:00"],
        obj=App(settings),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert f"{OLD} er erstattet af {NEW} som udvalgssekretær for laeso." in r.output
    assert (
        "Invitationen i fagudvalg-spoergsmaal sendes igen med et nyt link (link nr. 2), "
        "sendes mandag den 11. april 2022 kl. 09.00 (kontortid)." in r.output
    )
    assert "Den gamle kontakts link er spærret." in r.output


def test_a_scheduler_that_kept_the_contacts_sees_a_change_made_from_another_process(
    db: Database,
) -> None:
    run_until(db, bundle(), AFTER_INVITATIONS)
    mark_sent(db)
    other = service(db).start(bundle(), 2024, at=TUESDAY)  # the same party registry
    scheduler, web = service(db), service(db)  # two programs, each keeping process states
    scheduler.tick(datetime(2022, 5, 11, 9, 0, tzinfo=TZ))  # reminders: the contacts read, kept
    director = "direktoer.social@laeso.example"
    web.contacts.replace(
        other, "laeso", "director", director, name="Ny direktør", address="dir@laeso.example",
        at=datetime(2022, 5, 11, 9, 5, tzinfo=TZ), actor="anna", reason="ny direktør",
    )  # fmt: skip
    scheduler.tick(datetime(2022, 6, 1, 9, 0, tzinfo=TZ))  # overdue: escalated to the director
    with db.sessions() as s:
        escalation = s.scalar(
            select(OutboxRow).where(OutboxRow.kind == "escalation", OutboxRow.party == "laeso")
        )
        assert escalation is not None
        assert [r["email"] for r in escalation.recipients] == ["dir@laeso.example"]
