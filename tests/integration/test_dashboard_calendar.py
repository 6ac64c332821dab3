"""The secretariat's calendar: the month view and the private ``.ics`` feed of every meeting,
workshop, deadline and planned reminder, in Danish time across the change to summer time;
the feed's secret address is personal, shown once, replaced and revoked."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from tests.browser.support import AFTER_INVITATIONS, KEY, QUESTIONNAIRE, SECRET
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database

from .dashboard_support import VIEWER, VIEWER_PASSWORD, csrf_token, dashboard

CPH = ZoneInfo("Europe/Copenhagen")
FEED = re.compile(r'value="(https://aftaleflow\.example/sekretariat/kalender/feed/[^"]+\.ics)"')


def _events(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def _make_address(d: object) -> str:
    page = d.client.get("/sekretariat/kalender")  # type: ignore[attr-defined]
    made = d.client.post(  # type: ignore[attr-defined]
        "/sekretariat/kalender/adresse", data={"csrf_token": csrf_token(page.text)}
    )
    assert made.status_code == 200
    found = FEED.search(made.text)
    assert found, made.text[:3000]
    return found.group(1).removeprefix("https://aftaleflow.example")


def test_the_feed_holds_meetings_in_danish_time_across_the_summer_time_change(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        address = _make_address(d)
        d.client.get("/sekretariat/")  # the feed needs no log-in: a fresh client reads it
        feed = d.app.test_client().get(address)
        assert feed.status_code == 200
        assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
        every = _events(feed.data)
        events = {str(ev["SUMMARY"]): ev for ev in every}

        # winter (CET, +01:00) and summer (CEST, +02:00) meetings, each at its local time
        for title, day, clock, offset in [
            ("DAS Social – fokusområder og vision", date(2022, 3, 3), (13, 0), 1),
            (
                "KKR Nordjylland – igangsætning af Nordjysk Socialaftale",
                date(2022, 3, 25),
                (9, 0),
                1,
            ),
            ("Socialpolitisk Dialogforum", date(2022, 6, 15), (14, 0), 2),
            ("Workshop – Effektive og vidensbaserede løsninger", date(2022, 10, 26), (9, 30), 2),
            ("KKR Nordjylland – anbefaling af Nordjysk Socialaftale", date(2022, 11, 4), (9, 0), 1),
        ]:
            start = events[title].decoded("DTSTART")
            assert isinstance(start, datetime) and start.tzinfo is not None, title
            local = start.astimezone(CPH)
            assert (local.date(), (local.hour, local.minute)) == (day, clock), title
            assert local.utcoffset() == timedelta(hours=offset), title
            assert str(events[title]["DTSTART"].params["TZID"]) == "Europe/Copenhagen"

        deadline = events["Frist: Spørgsmål til de politiske udvalg"]
        assert deadline.decoded("DTSTART") == date(2022, 5, 20)
        reminders = [
            ev for ev in every if str(ev["SUMMARY"]).startswith("Påmindelser (12 parter): Spørg")
        ]
        # the questionnaire's three reminders, at office hours on working days (7 working days
        # before 20 May 2022 skips Store Bededag, 13 May)
        assert sorted(ev.decoded("DTSTART").astimezone(CPH) for ev in reminders) == [
            datetime(2022, 5, 10, 9, 0, tzinfo=CPH),
            datetime(2022, 5, 18, 9, 0, tzinfo=CPH),
            datetime(2022, 5, 23, 9, 0, tzinfo=CPH),
        ]
        assert "Læsø Kommune" in str(reminders[0]["DESCRIPTION"])
        assert [e.kind for e in d.events("feed_token_issued")] == ["feed_token_issued"]


def test_an_extended_deadline_moves_the_partys_reminders_in_the_month_view(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        Service(db, link_secret=SECRET).extend(
            KEY,
            QUESTIONNAIRE,
            "laeso",
            date(2022, 5, 27),
            at=AFTER_INVITATIONS,
            actor="test",
            reason="Udvalget mødes senere",
        )
        d.login()
        page = d.client.get("/sekretariat/kalender?maaned=2022-05")
        assert page.status_code == 200
        assert "Kalender: maj 2022" in page.text
        cell = page.text.split('data-day="2022-05-27"', 1)[1].split("</td>", 1)[0]
        assert "Forlænget frist for Læsø Kommune: Spørgsmål til de politiske udvalg" in cell
        on_20th = page.text.split('data-day="2022-05-20"', 1)[1].split("</td>", 1)[0]
        assert "Frist: Spørgsmål til de politiske udvalg" in on_20th
        # Læsø's reminders move with its deadline (7 working days before 27 May, Kristi
        # himmelfartsdag 26 May skipped); the other eleven keep theirs
        on_10th = page.text.split('data-day="2022-05-10"', 1)[1].split("</td>", 1)[0]
        assert "Påmindelser (11 parter): Spørgsmål til de politiske udvalg" in on_10th
        on_17th = page.text.split('data-day="2022-05-17"', 1)[1].split("</td>", 1)[0]
        assert "Påmindelse (Læsø Kommune): Spørgsmål til de politiske udvalg" in on_17th

        english = d.client.get("/sekretariat/kalender?maaned=2022-06&lang=en")
        assert "Calendar: June 2022" in english.text
        assert "Socialpolitisk Dialogforum" in english.text

        bad = d.client.get("/sekretariat/kalender?maaned=maj&lang=da")
        assert bad.status_code == 200
        assert "Måneden kunne ikke læses (skriv den som 2022-11)" in bad.text
        assert "Kalender: april 2022" in bad.text  # the clock's month instead


def test_the_feed_address_is_personal_replaced_and_revoked(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        outsider = d.app.test_client()
        assert outsider.get("/sekretariat/kalender").status_code == 303  # the page needs a log-in
        d.login(VIEWER, VIEWER_PASSWORD)  # a viewer may subscribe too: it is read-only
        first = _make_address(d)
        assert outsider.get(first).status_code == 200
        page = d.client.get("/sekretariat/kalender")
        assert "Du har en kalenderadresse" in page.text and first not in page.text  # shown once

        second = _make_address(d)
        assert second != first
        assert outsider.get(first).status_code == 404
        assert outsider.get(second).status_code == 200

        token = second.rsplit("/", 1)[1].removesuffix(".ics")
        forged = second.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
        assert outsider.get(forged).status_code == 404
        assert outsider.get("/sekretariat/kalender/feed/aft_x.ics").status_code == 404

        page = d.client.get("/sekretariat/kalender")
        gone = d.client.post(
            "/sekretariat/kalender/adresse/slet", data={"csrf_token": csrf_token(page.text)}
        )
        assert gone.status_code == 303
        assert outsider.get(second).status_code == 404
        assert "Du har ingen kalenderadresse" in d.client.get("/sekretariat/kalender").text
        assert [e.actor for e in d.events("feed_token_revoked")] == [f"user:{VIEWER}"]


def test_a_council_meeting_after_the_deadline_is_flagged_months_ahead(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    """April 2022, seven months before the approval deadline (30 November): the shipped 2022
    calendar has Læsø's byråd meet on 14 December, so Læsø is marked on the process page and
    in the meeting plan; every other party's plan makes the deadline."""
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        page = d.client.get(f"/sekretariat/proces/{KEY}").text
        notice = page.split('data-testid="plan-risk"', 1)[1].split("</div>", 1)[0]
        assert "1 part(er) kan ikke nå godkendelsesfristen efter mødeplanen:" in notice
        assert "Læsø Kommune" in notice and "Aalborg" not in notice

        plan = d.client.get(f"/sekretariat/proces/{KEY}/moedeplan").text
        assert "Kalenderen er eksempeldata." in plan
        risky = re.findall(
            r'<tr data-party="([a-z]+)" data-body="([a-z]+)" class="plan--risk"', plan
        )
        assert risky == [("laeso", "byraad")]
        row = plan.split('data-party="laeso" data-body="byraad"', 1)[1].split("</tr>", 1)[0]
        assert "14.12.2022" in row and "Risiko: mødet ligger efter fristen" in row
        row = plan.split('data-party="aalborg" data-body="socialudvalg"', 1)[1].split("</tr>")[0]
        assert "14.11.2022" in row and "07.11.2022" in row  # meeting, agenda deadline
        assert "14.11.2022 kl. 15.00" in row
        plan = d.client.get(f"/sekretariat/proces/{KEY}/moedeplan?lang=en").text
        row = plan.split('data-party="aalborg" data-body="socialudvalg"', 1)[1].split("</tr>")[0]
        assert "2022-11-14 15:00" in row and "kl." not in row


def test_an_agenda_deadline_passed_without_an_agreement_is_a_risk(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    """The engine has run to 4 November (before the simulated secretariat puts a version up
    for approval); on 10 November still no version is up: the socialudvalg meetings whose
    agenda closed on 7–9 November cannot take the item, and the page says so."""
    with dashboard(db_url, db, socialaftale, tmp_path, datetime(2022, 11, 4, 12, tzinfo=CPH)) as d:
        d.clock.set(datetime(2022, 11, 10, 12, tzinfo=CPH))
        d.login()
        plan = d.client.get(f"/sekretariat/proces/{KEY}/moedeplan").text
        missed = re.findall(
            r'<tr data-party="([a-z]+)" data-body="socialudvalg" class="plan--risk"', plan
        )
        assert "aalborg" in missed and "laeso" in missed
        assert "dagsordensfristen er passeret, før aftalen er sendt til godkendelse" in plan
