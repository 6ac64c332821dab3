"""The workshop sign-up mails: the invitation's sign-up link, a confirmation with the
workshop's calendar file, the waiting list, the reminder and the secretariat's flag."""

from __future__ import annotations

import icalendar

from notifications.render import render
from tests.unit.test_notifications_render import CONTEXTS, DA, EN, SIGNUP, mail
from workflow.links import LinkKey, make_token


def test_a_confirmation_carries_the_workshop_as_a_calendar_file() -> None:
    out = render(mail("workshop_confirmation"), DA)
    assert out.subject == (
        "Tilmelding bekræftet: Workshop – Sammen om en stærk socialpsykiatri – "
        "onsdag den 21. september 2022"
    )
    assert out.text.startswith("Kære Anna Berg")
    (ics,) = [a for a in out.attachments if a.filename == "invitation.ics"]
    event = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Workshop – Sammen om en stærk socialpsykiatri"
    assert event.decoded("DTSTART").isoformat() == "2022-09-21T09:30:00+02:00"


def test_one_moved_up_from_the_waiting_list_is_told_so() -> None:
    out = render(mail("workshop_confirmation", promoted=True), DA)
    assert out.subject.startswith("Du har fået en plads:")
    assert "rykket op fra ventelisten" in out.text
    assert any(a.filename == "invitation.ics" for a in out.attachments)


def test_the_waiting_list_mail_has_no_calendar_file() -> None:
    out = render(mail("workshop_waiting"), DA)
    assert out.subject.startswith("Venteliste:") and "ventelisten" in out.text
    assert not out.attachments
    assert render(mail("workshop_waiting"), EN).subject.startswith("Waiting list:")


def test_the_invitation_and_the_reminder_link_to_the_sign_up() -> None:
    token = make_token("secret", LinkKey(7, "workshops", "laeso", "socialpsykiatri", 1))
    url = f"https://aftaleflow.example/tilmeld/{token}"
    invitation = mail(
        "meeting_invitation",
        stage_id="workshops",
        step="socialpsykiatri",
        event=CONTEXTS["workshop_confirmation"]["event"],
        link={"generation": 1, "page": "tilmeld"},
        signup=SIGNUP,
    )
    out = render(invitation, DA)
    assert url in out.text and url in out.html
    assert "plads til 3 deltagere" in out.text and "onsdag den 14. september 2022" in out.text
    reminder = render(mail("workshop_signup_reminder"), DA)
    assert url in reminder.text and reminder.subject.startswith("Påmindelse: tilmelding")
    plain = render(mail("meeting_invitation"), DA)
    assert "tilmeld" not in plain.text.lower()


def test_the_secretariat_is_told_the_numbers() -> None:
    out = render(mail("workshop_below_minimum"), DA)
    assert out.subject == (
        "For få tilmeldte: Workshop – Sammen om en stærk socialpsykiatri – 1 af mindst 2"
    )
    assert out.text.startswith("Kære sekretariat")


def test_a_cancelled_participant_is_told_and_one_with_a_seat_gets_the_calendar_cancel() -> None:
    out = render(mail("workshop_cancellation"), DA)
    assert out.subject.startswith("Afmeldt:") and out.text.startswith("Kære Anna Berg")
    (ics,) = [a for a in out.attachments if a.filename == "aflysning.ics"]
    cal = icalendar.Calendar.from_ical(ics.content)
    assert str(cal["METHOD"]) == "CANCEL"
    assert int(cal.walk("VEVENT")[0]["SEQUENCE"]) == 1
    waiting = render(mail("workshop_cancellation", was="waiting"), DA)
    assert not waiting.attachments and "taget af ventelisten" in waiting.text
