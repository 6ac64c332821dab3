"""A re-issued personal link (issue 11, point 5): the secretariat is told when the new link is
sent (it waits for office hours unless sent now), and the old link keeps working until then.
A revoke without a new link stops the old one at once. The answer page says when a receipt
that waits for office hours will be mailed. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from aftaleflow.cli import App, cli
from notifications.sender import deliver_due
from notifications.transports import FileTransport
from tests.browser.support import AFTER_INVITATIONS, KEY, QUESTIONNAIRE, SECRET, run_until, token
from workflow.answering import LinkChange
from workflow.calendar import TZ
from workflow.dates import format_sending
from workflow.loader import Bundle
from workflow.responses import Responses
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

from .conftest import make_settings
from .dashboard_support import PROCESS, Dash, dashboard
from .test_web_respond import COMPLETE, Web, make_web

#: A Saturday in the questionnaire stage; the next office moment is Monday 11 April 09:00.
SATURDAY = datetime(2022, 4, 9, 11, 0, tzinfo=TZ)
MONDAY_9 = datetime(2022, 4, 11, 9, 0, tzinfo=TZ)
MONDAY = "mandag den 11. april 2022 kl. 09.00"


@pytest.fixture
def web(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Web]:
    yield from make_web(db_url, db, socialaftale, tmp_path)


def deliver(db: Database, tmp_path: Path, at: datetime) -> int:
    """Send what is due at ``at`` to .eml files, as the scheduler would; returns how many."""
    settings = make_settings(tmp_path, db, None)
    return deliver_due(db, FileTransport(settings.mail_dir), settings, at).claimed


def reissue_mail(db: Database, party: str = "aalborg") -> OutboxRow:
    with db.sessions() as s:
        row = s.scalar(
            select(OutboxRow).where(
                OutboxRow.kind == "invitation", OutboxRow.party == party, OutboxRow.seq == 1
            )
        )
    assert row is not None
    return row


def revoke(db: Database, at: datetime, *, reissue: bool = True, now: bool = False) -> LinkChange:
    return Responses(Service(db, link_secret=SECRET)).revoke(
        KEY, QUESTIONNAIRE, "aalborg", at=at, actor="secretariat", reason="forkert modtager",
        reissue=reissue, now=now,
    )  # fmt: skip


def test_a_link_reissued_on_a_saturday_is_sent_monday_and_the_old_one_works_until_then(
    web: Web, db: Database, tmp_path: Path
) -> None:
    old, new = web.url(), f"/svar/{token(db, 'aalborg', generation=2)}"
    plain = web.client.get("/svar/" + "A" * 43).text
    web.clock.set(SATURDAY)
    change = revoke(db, SATURDAY)
    assert change.generation == 2
    assert change.sends_at == MONDAY_9
    text = format_sending(change.sends_at, SATURDAY)
    assert text == f"sendes {MONDAY} (kontortid)"
    assert reissue_mail(db).next_attempt_at == MONDAY_9

    # the weekend: the new mail waits, and the party can still use the link it has
    assert web.client.get(old).status_code == 200
    assert "Spørgsmål til de politiske udvalg" in web.client.get(old).text
    deliver(db, tmp_path, SATURDAY)
    assert reissue_mail(db).status == "queued"
    assert web.client.get(old).status_code == 200
    assert web.client.get(new).status_code == 200

    # Monday 09:00 the new link is sent: from then on only it works
    web.clock.set(MONDAY_9)
    deliver(db, tmp_path, MONDAY_9)
    assert reissue_mail(db).status == "sent"
    gone = web.client.get(old)
    assert (gone.status_code, gone.text) == (404, plain)
    assert web.client.get(new).status_code == 200


def test_send_now_queues_the_new_link_due_at_once(web: Web, db: Database, tmp_path: Path) -> None:
    old = web.url()
    web.clock.set(SATURDAY)
    change = revoke(db, SATURDAY, now=True)
    assert change.sends_at == SATURDAY
    assert format_sending(change.sends_at, SATURDAY) == "sendes nu"
    assert format_sending(SATURDAY, SATURDAY, "en") == "will be sent now"
    assert reissue_mail(db).next_attempt_at == SATURDAY
    with db.sessions() as s:
        event = s.scalar(select(EventRow).where(EventRow.kind == "link_reissued"))
    assert event is not None and event.data["now"] is True
    assert web.client.get(old).status_code == 200
    assert deliver(db, tmp_path, SATURDAY) >= 1  # on a Saturday: it does not wait
    assert reissue_mail(db).status == "sent"
    assert web.client.get(old).status_code == 404


def test_a_revoke_without_a_new_link_stops_the_old_one_at_once(web: Web, db: Database) -> None:
    old = web.url()
    web.clock.set(SATURDAY)
    change = revoke(db, SATURDAY, reissue=False)
    assert change.sends_at is None
    assert web.client.get(old).status_code == 404
    with db.sessions() as s:
        assert s.scalar(select(OutboxRow).where(OutboxRow.seq == 1)) is None


def test_a_second_reissue_stops_the_link_before_the_last_one(web: Web, db: Database) -> None:
    first = web.url()
    web.clock.set(SATURDAY)
    revoke(db, SATURDAY)
    revoke(db, SATURDAY)
    assert web.client.get(first).status_code == 404  # two generations back
    assert web.client.get(f"/svar/{token(db, 'aalborg', generation=2)}").status_code == 200
    assert web.client.get(f"/svar/{token(db, 'aalborg', generation=3)}").status_code == 200


def test_the_answer_page_says_when_a_waiting_receipt_is_mailed(web: Web) -> None:
    web.clock.set(SATURDAY)
    r = web.post(web.url(), COMPLETE)
    assert r.status_code == 303
    page = web.client.get(r.headers["Location"]).text
    assert f"pr. mail {MONDAY}, når sekretariatets kontortid begynder" in page
    web.clock.set(MONDAY_9)  # once office hours have begun it is simply on its way
    page = web.client.get(r.headers["Location"]).text
    assert "kontortid" not in page
    assert "En kvittering med svarene bliver sendt til Aalborg Kommune pr. mail." in page


@pytest.fixture
def dash(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        yield d


def test_the_dashboard_says_when_the_new_link_is_sent_and_can_send_it_now(dash: Dash) -> None:
    url = f"{PROCESS}/fase/{QUESTIONNAIRE}/part/aalborg/nyt-link"
    form = dash.client.get(url).text
    assert 'name="now"' in form and "Send nu, også uden for kontortid" in form
    assert "Det gamle link virker, indtil det nye er sendt." in form

    dash.clock.set(SATURDAY)
    r = dash.form(url, {"reason": "Linket gik til en forkert"})
    assert r.status_code == 303
    flashed = dash.client.get(r.headers["Location"]).text
    assert f"(link nr. 2), der sendes {MONDAY} (kontortid)" in flashed
    assert "Det gamle link virker, indtil det nye er sendt." in flashed
    assert reissue_mail(dash.db).next_attempt_at == MONDAY_9

    r = dash.form(url, {"reason": "Hurtigt, tak", "now": "y"})
    flashed = dash.client.get(r.headers["Location"]).text
    assert "(link nr. 3), der sendes nu." in flashed
    with dash.db.sessions() as s:
        now = s.scalar(select(OutboxRow).where(OutboxRow.party == "aalborg", OutboxRow.seq == 2))
    assert now is not None and now.next_attempt_at == SATURDAY


def test_the_command_line_says_when_the_new_link_is_sent(
    db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    run_until(db, socialaftale, AFTER_INVITATIONS)
    settings = make_settings(tmp_path, db, None)
    runner = CliRunner()
    base = ["link", "reissue", QUESTIONNAIRE, "aalborg", "--reason", "forkert modtager"]
    r = runner.invoke(cli, [*base, "--at", "2022-04-09T11:00"], obj=App(settings))
    assert r.exit_code == 0, r.output
    assert f"er genudstedt og sendes {MONDAY} (kontortid) (link nr. 2)" in r.output
    assert "Det gamle link virker, indtil det nye er sendt." in r.output
    r = runner.invoke(cli, [*base, "--now", "--at", "2022-04-09T11:00"], obj=App(settings))
    assert r.exit_code == 0, r.output
    assert "er genudstedt og sendes nu (link nr. 3)" in r.output
    assert reissue_mail(db).next_attempt_at == MONDAY_9
    with db.sessions() as s:
        now = s.scalar(select(OutboxRow).where(OutboxRow.party == "aalborg", OutboxRow.seq == 2))
    assert now is not None and now.next_attempt_at == SATURDAY
    r = runner.invoke(cli, [*base, "--revoke-only", "--at", "2022-04-09T11:00"], obj=App(settings))
    assert r.exit_code == 0 and "er spærret (link nr. 4)" in r.output
