"""Rendering is pure: row data in, subject + text + HTML + attachments out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import icalendar
import pytest

from notifications.ics import build_ics, event_uid
from notifications.outgoing import OutgoingMail, Recipient
from notifications.render import KINDS, RenderError, personal_url, render
from workflow.dates import format_date, format_datetime, format_short, format_time
from workflow.links import LinkKey, make_token


@dataclass(frozen=True)
class FakeSettings:
    base_url: str = "https://aftaleflow.example"
    secret_key: str = "secret"
    language: str = "da"
    mail_domain: str = "aftaleflow.example"
    mail_from: str = "noreply@aftaleflow.example"


DA = FakeSettings()
EN = FakeSettings(language="en")
SECRETARIAT = {"name": "Socialsekretariatet, KKR Nordjylland", "email": "sek@kkr.example"}
COMMON: dict[str, Any] = {
    "process_id": 7, "process_key": "socialaftale-2022", "title": "Nordjysk Socialaftale 2023-2024",
    "year": 2022, "stage_id": "fagudvalg-spoergsmaal",
    "stage_name": "Spørgsmål til de politiske udvalg", "forum": "Fagudvalg", "party": "laeso",
    "party_name": "Læsø Kommune", "step": "", "secretariat": SECRETARIAT,
    "planned_at": "2022-04-04T07:00:00+00:00",
}  # fmt: skip
CONTEXTS: dict[str, dict[str, Any]] = {
    "invitation": {"deadline": "2022-05-20", "link": {"generation": 1},
                   "questionnaire": "fagudvalg", "accept_late": True},
    "reminder": {"deadline": "2022-05-20", "n": 1, "working_days_left": 7,
                 "working_days_late": 0, "body": "", "link": {"generation": 1},
                 "reminds": "invitation"},
    "escalation": {"deadline": "2022-05-20", "working_days_late": 3,
                   "committee": [{"name": "Sekretær", "email": "udvalg@laeso.example"}]},
    "receipt": {"deadline": "2022-05-20", "link": {"generation": 1}, "late": True,
                "submitted_at": "2022-05-25T08:30:00+00:00",
                "answers": [{"label": "Hvad er jeres vision?", "answer": "Egenmestring\nfor alle"},
                            {"question": "Prioritér fokusområder", "answer": ["Alderdom", "Psykiatri"]},
                            {"label": "Andet", "answer": None}]},
    "approval_request": {"step": "byraad", "stage_id": "politisk-godkendelse",
                         "deadline": "2022-11-30", "link": {"generation": 2}, "body": "byraad"},
    "meeting_invitation": {"stage_id": "dialogforum", "step": "dialogforum", "event": {
        "id": "dialogforum", "title": "Socialpolitisk Dialogforum",
        "start": "2022-06-15T12:00:00+00:00", "end": "2022-06-15T15:00:00+00:00",
        "location": "Aalborg Kongres & Kultur Center", "sequence": 0, "method": "REQUEST"}},
    "submission": {"party": "", "party_name": "", "stage_id": "socialstyrelsen",
                   "recipient": "Socialstyrelsen", "party_names": {"laeso": "Læsø Kommune"},
                   "approvals": [
                       {"party": "laeso", "step": "socialudvalg", "status": "approved",
                        "decision": "approved", "meeting_date": "2022-11-09", "agenda_item": "4",
                        "decision_text": "Anbefales", "minutes": ""},
                       {"party": "laeso", "step": "byraad", "status": "approved",
                        "decision": "approved", "meeting_date": "2022-11-24", "agenda_item": "12",
                        "decision_text": "Godkendt", "minutes": "https://laeso.example/ref"}]},
    "forum_report": {"stage_id": "dialogforum", "step": "rapport",
                     "link": {"generation": 1, "page": "rapport"},
                     "source": "fagudvalg-spoergsmaal",
                     "source_name": "Spørgsmål til de politiske udvalg", "event": {
        "title": "Socialpolitisk Dialogforum", "start": "2022-06-15T12:00:00+00:00",
        "end": "2022-06-15T15:00:00+00:00", "location": "Aalborg Kongres & Kultur Center"}},
    "rejection": {"step": "byraad", "stage_id": "politisk-godkendelse",
                  "decision_text": "Byrådet ønsker ændringer i afsnit 3"},
    "digest": {"party": "", "party_name": "", "week": 21,
               "counts": {"Besvaret": 10, "Mangler": 2},
               "overdue": [{"party_name": "Morsø Kommune", "stage_name": "Spørgsmål",
                            "deadline": "2022-05-20", "working_days_late": 2}],
               "next_mails": [{"kind": "reminder", "party_name": "Morsø Kommune",
                               "send_after": "2022-05-25T07:00:00+00:00"}]},
}  # fmt: skip
WORKSHOP_EVENT = {
    "id": "socialpsykiatri", "title": "Workshop – Sammen om en stærk socialpsykiatri",
    "start": "2022-09-21T07:30:00+00:00", "end": "2022-09-21T11:30:00+00:00",
    "location": "Aalborg", "sequence": 0, "method": "REQUEST"}  # fmt: skip
SIGNUP = {"capacity": 3, "deadline": "2022-09-14T21:59:59+00:00"}
CONTEXTS.update({
    "workshop_confirmation": {"stage_id": "workshops", "step": "socialpsykiatri",
                              "event": WORKSHOP_EVENT, "promoted": False,
                              "participant": {"name": "Anna Berg", "role": "Konsulent"}},
    "workshop_waiting": {"stage_id": "workshops", "step": "socialpsykiatri",
                         "event": WORKSHOP_EVENT, "promoted": False,
                         "participant": {"name": "Dorte Dam", "role": ""}},
    "workshop_signup_reminder": {"stage_id": "workshops", "step": "socialpsykiatri",
                                 "event": WORKSHOP_EVENT, "signup": SIGNUP,
                                 "link": {"generation": 1, "page": "tilmeld"}},
    "workshop_cancellation": {"stage_id": "workshops", "step": "socialpsykiatri",
                              "event": {**WORKSHOP_EVENT, "method": "CANCEL", "sequence": 1},
                              "participant": {"name": "Anna Berg", "role": ""},
                              "was": "confirmed"},
    "workshop_below_minimum": {"stage_id": "workshops", "step": "socialpsykiatri", "party": "",
                               "party_name": "", "event": WORKSHOP_EVENT, "confirmed": 1,
                               "minimum": 2, "capacity": 3, "signup": SIGNUP},
})  # fmt: skip
CONTEXTS["message"] = {
    "stage_id": "", "subject": "Nyt om mødet <i>i juni</i>",
    "text": "Kære alle\n\nMødet flyttes.\nSe <b>bilaget</b> & svar.", "author": "user:anne",
    "files": [{"filename": "Bilag.pdf", "sha256": "0" * 64, "media_type": "application/pdf",
               "size": 10}]}  # fmt: skip
FORUM_EVENT = {
    **CONTEXTS["meeting_invitation"]["event"],
    "start": "2022-06-22T12:00:00+00:00",
    "end": "2022-06-22T15:00:00+00:00",
    "location": "Hjørring Rådhus",
    "sequence": 1,
}
CONTEXTS.update({
    "meeting_update": {"stage_id": "dialogforum", "step": "dialogforum", "event": FORUM_EVENT,
                       "change": "postponed",
                       "was": {"start": "2022-06-15T12:00:00+00:00",
                               "end": "2022-06-15T15:00:00+00:00",
                               "location": "Aalborg Kongres & Kultur Center"}},
    "new_deadline": {"deadline": "2022-05-27", "previous_deadline": "2022-05-20",
                     "link": {"generation": 1}},
})  # fmt: skip
RECIPIENTS = (Recipient("Sekretær for Socialudvalget", "udvalg@laeso.example"),)


def mail(kind: str, **extra: Any) -> OutgoingMail:
    ctx = {**COMMON, **CONTEXTS[kind], **extra}
    return OutgoingMail(id=1, idempotency_key=f"p7/x/{kind}", kind=kind,
                        stage_id=ctx["stage_id"], party=ctx["party"], step=ctx["step"], seq=0,
                        recipients=RECIPIENTS, context=ctx, process_id=7)  # fmt: skip


def test_danish_dates_need_no_locale() -> None:
    assert format_date(date(2022, 5, 20)) == "fredag den 20. maj 2022"
    assert format_date("2022-11-30") == "onsdag den 30. november 2022"
    assert format_date(date(2022, 12, 25), weekday=False) == "25. december 2022"
    assert format_date(date(2022, 3, 6)) == "søndag den 6. marts 2022"
    assert format_date(date(2022, 5, 20), "en") == "Friday 20 May 2022"
    # Times are shown in Danish time, summer and winter.
    assert format_time("2022-06-15T12:00:00+00:00") == "kl. 14.00"
    assert format_time(datetime(2022, 1, 10, 8, 5, tzinfo=UTC)) == "kl. 09.05"
    assert format_datetime("2022-06-15T12:00:00+00:00") == "onsdag den 15. juni 2022 kl. 14.00"
    # A UTC evening is already the next day in Denmark.
    assert format_date(datetime(2022, 5, 19, 22, 30, tzinfo=UTC)) == "fredag den 20. maj 2022"
    assert format_short(datetime(2022, 4, 4, 7, tzinfo=UTC)) == "04.04.2022 kl. 09.00"


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_text_and_html(kind: str, lang: str) -> None:
    out = render(mail(kind), FakeSettings(language=lang))
    assert out.subject and "\n" not in out.subject
    assert out.language == lang
    assert out.text.endswith("\n") and "\n\n\n" not in out.text
    assert "None" not in out.text and "None" not in out.html
    for marker in ("<p", "<br", "&lt;", "&amp;", "&quot;"):
        assert marker not in out.text, f"{kind}: the text part is not HTML"
    assert out.html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in out.html
    assert SECRETARIAT["name"] in out.text or kind in ("rejection", "digest")
    greeting = {"da": ("Kære", "Til"), "en": ("Dear", "To")}[lang]
    assert out.text.startswith(greeting)


def test_danish_subjects_and_wording() -> None:
    subjects = {k: render(mail(k), DA).subject for k in KINDS}
    assert subjects["invitation"] == (
        "Nordjysk Socialaftale 2023-2024: Spørgsmål til de politiske udvalg – "
        "svar senest fredag den 20. maj 2022"
    )
    assert subjects["reminder"].startswith("Påmindelse:")
    assert subjects["receipt"] == (
        "Kvittering: Læsø Kommunes svar på »Spørgsmål til de politiske udvalg« er modtaget"
    )
    assert subjects["approval_request"] == (
        "Nordjysk Socialaftale 2023-2024: godkendelse i byrådet – Læsø Kommune"
    )
    assert subjects["meeting_invitation"] == (
        "Indkaldelse: Socialpolitisk Dialogforum – onsdag den 15. juni 2022"
    )
    assert subjects["rejection"] == (
        "Nordjysk Socialaftale 2023-2024: byrådet i Læsø Kommune har afvist aftalen"
    )
    assert subjects["digest"] == "Ugestatus uge 21: Nordjysk Socialaftale 2023-2024"


def test_a_moved_meeting_says_old_and_new_and_updates_the_same_calendar_entry() -> None:
    out = render(mail("meeting_update"), DA)
    assert out.subject == "Udsat: Socialpolitisk Dialogforum – nu onsdag den 22. juni 2022"
    assert "Før: onsdag den 15. juni 2022" in out.text and "Aalborg Kongres" in out.text
    assert "Nu: onsdag den 22. juni 2022" in out.text and "Hjørring Rådhus" in out.text
    (ics,) = [a for a in out.attachments if a.filename.endswith(".ics")]
    cal = icalendar.Calendar.from_ical(ics.content)
    ev = next(iter(cal.walk("VEVENT")))
    assert str(cal["METHOD"]) == "REQUEST" and int(ev["SEQUENCE"]) == 1
    assert str(ev["UID"]) == event_uid(7, "dialogforum", "dialogforum", DA.mail_domain)
    assert str(ev["LOCATION"]) == "Hjørring Rådhus"
    gone = render(mail("meeting_update", change="cancelled",
                       event={**FORUM_EVENT, "method": "CANCEL", "sequence": 2}), EN)  # fmt: skip
    assert gone.subject.startswith("Cancelled: Socialpolitisk Dialogforum")
    (ics,) = [a for a in gone.attachments if a.filename.endswith(".ics")]
    cal = icalendar.Calendar.from_ical(ics.content)
    ev = next(iter(cal.walk("VEVENT")))
    assert str(cal["METHOD"]) == "CANCEL" and str(ev["STATUS"]) == "CANCELLED"
    assert int(ev["SEQUENCE"]) == 2


def test_a_new_deadline_names_both_days_and_the_personal_link() -> None:
    out = render(mail("new_deadline"), DA)
    assert out.subject.startswith("Ny frist: Nordjysk Socialaftale 2023-2024")
    assert "Før: fredag den 20. maj 2022" in out.text
    assert "Ny frist: fredag den 27. maj 2022" in out.text
    assert "https://aftaleflow.example/svar/" in out.text
    approval = render(mail("new_deadline", step="byraad", body="byraad"), DA)
    assert "godkendelse i byrådet" in approval.subject and "/godkend/" in approval.text


def test_reminder_says_how_many_working_days_are_left_or_late() -> None:
    before = render(mail("reminder"), DA).text
    assert "Der er 7 arbejdsdage tilbage" in before
    one = render(mail("reminder", working_days_left=1), DA).text
    assert "Der er 1 arbejdsdag tilbage" in one
    late = render(mail("reminder", n=3, working_days_left=0, working_days_late=2), DA)
    assert "svaret er nu 2 arbejdsdage forsinket" in late.text
    assert "fristen var fredag den 20. maj 2022" in late.subject
    today = render(mail("reminder", working_days_left=0), DA).text
    assert "Fristen er i dag, fredag den 20. maj 2022" in today
    approval = render(mail("reminder", step="socialudvalg", body="socialudvalg",
                           reminds="approval_request"), DA)  # fmt: skip
    assert "socialudvalgets beslutning" in approval.text and "/godkend/" in approval.text


def test_personal_links_are_derived_from_the_secret() -> None:
    ctx = {**COMMON, **CONTEXTS["invitation"]}
    token = make_token("secret", LinkKey(7, "fagudvalg-spoergsmaal", "laeso", "", 1))
    assert personal_url("https://a.example/", "secret", ctx) == f"https://a.example/svar/{token}"
    approval = {**ctx, "step": "byraad", "link": {"generation": 2}}
    token = make_token("secret", LinkKey(7, "fagudvalg-spoergsmaal", "laeso", "byraad", 2))
    assert personal_url("https://a.example", "secret", approval) == (
        f"https://a.example/godkend/{token}"
    )
    assert personal_url("https://a.example", "secret", {**ctx, "link": None}) is None
    out = render(mail("invitation"), DA)
    assert render(mail("invitation"), DA).text.count("https://aftaleflow.example/svar/") == 1
    assert 'href="https://aftaleflow.example/svar/' in out.html


def test_html_is_escaped_and_text_is_not() -> None:
    out = render(mail("meeting_invitation", party_name="<script>alert(1)</script> & Co"), DA)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "Aalborg Kongres &amp; Kultur Center" in out.html
    assert "Sted: Aalborg Kongres & Kultur Center" in out.text
    assert "Kære <script>alert(1)</script> & Co" in out.text
    assert "Tid: onsdag den 15. juni 2022 kl. 14.00–17.00" in out.text


def test_receipt_copies_the_answers() -> None:
    out = render(mail("receipt"), DA)
    assert "1. Hvad er jeres vision?\n   Egenmestring\n   for alle" in out.text
    assert "2. Prioritér fokusområder\n   Alderdom, Psykiatri" in out.text
    assert "3. Andet\n   (ikke besvaret)" in out.text
    assert "Svaret kom efter fristen" in out.text
    assert "onsdag den 25. maj 2022 kl. 10.30" in out.text


def test_submission_has_the_approval_record() -> None:
    out = render(mail("submission"), DA)
    assert "Kære Socialstyrelsen" in out.text
    assert "- Læsø Kommune, byråd: Godkendt, møde 24. november 2022, dagsordenspunkt 12" in out.text
    assert "Referat: https://laeso.example/ref" in out.text
    assert out.html.count("<tr>") == 3 and "Anbefales" in out.html
    assert "alle 1 parter" in out.text


def test_digest_and_rejection_for_the_secretariat() -> None:
    digest = render(mail("digest"), DA).text
    assert (
        "- Besvaret: 10" in digest
        and "- Morsø Kommune: Spørgsmål, frist fredag den 20. maj" in digest
    )
    assert "onsdag den 25. maj 2022 kl. 09.00: påmindelse til Morsø Kommune" in digest
    empty = render(mail("digest", counts={}, overdue=[], next_mails=[]), DA).text
    assert "Ingen parter er bagud." in empty and "Ingen planlagte mails." in empty
    rejection = render(mail("rejection"), DA).text
    assert "Byrådet i Læsø Kommune har afvist" in rejection
    assert "Byrådet ønsker ændringer i afsnit 3" in rejection


def test_meeting_invitation_carries_an_ics() -> None:
    out = render(mail("meeting_invitation"), DA)
    (att,) = out.attachments
    assert (att.maintype, att.subtype, att.params["method"]) == ("text", "calendar", "REQUEST")
    cal = icalendar.Calendar.from_ical(att.content)
    assert cal["METHOD"] == "REQUEST"
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Copenhagen"
    (ev,) = cal.walk("VEVENT")
    assert str(ev["UID"]) == event_uid(7, "dialogforum", "dialogforum", "aftaleflow.example")
    assert "TZID=Europe/Copenhagen:20220615T140000" in att.content.decode()
    assert ev["SEQUENCE"] == 0 and str(ev["STATUS"]) == "CONFIRMED"
    assert str(ev["ORGANIZER"]) == "mailto:sek@kkr.example"
    assert "Socialpolitisk Dialogforum" in str(ev["DESCRIPTION"])
    assert "sendt automatisk" not in str(ev["DESCRIPTION"]), "no mail footer in the calendar"


def test_cancelled_meeting() -> None:
    event = {**CONTEXTS["meeting_invitation"]["event"], "method": "CANCEL", "sequence": 2}
    out = render(mail("meeting_invitation", event=event), DA)
    assert out.subject.startswith("Aflyst:")
    cal = icalendar.Calendar.from_ical(out.attachments[0].content)
    (ev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and ev["SEQUENCE"] == 2 and str(ev["STATUS"]) == "CANCELLED"
    with pytest.raises(ValueError, match="unknown calendar method"):
        build_ics({**COMMON, "event": {**event, "method": "PUBLISH"}}, attendees=RECIPIENTS,
                  organizer=RECIPIENTS[0], domain="a.example")  # fmt: skip


def test_render_errors_name_the_mail() -> None:
    with pytest.raises(RenderError, match="no template for mail kind 'fax'"):
        render(OutgoingMail(1, "k", "fax", "", "", "", 0, RECIPIENTS, COMMON), DA)
    broken = mail("escalation")
    ctx = dict(broken.context)
    del ctx["working_days_late"]
    with pytest.raises(RenderError, match="p7/x/escalation"):
        render(
            OutgoingMail(1, broken.idempotency_key, "escalation", "", "", "", 0, RECIPIENTS, ctx),
            DA,
        )
    bad_event = {**CONTEXTS["meeting_invitation"]["event"], "start": "someday"}
    with pytest.raises(RenderError, match="meeting_invitation"):
        render(mail("meeting_invitation", event=bad_event), DA)
    with pytest.raises(RenderError, match="no mail templates for language 'fr'"):
        render(mail("invitation"), FakeSettings(language="fr"))


def test_the_forum_report_mail_links_to_the_report_page() -> None:
    out = render(mail("forum_report"), DA)
    token = make_token("secret", LinkKey(7, "dialogforum", "laeso", "rapport", 1))
    assert f"https://aftaleflow.example/rapport/{token}" in out.text
    assert f'href="https://aftaleflow.example/rapport/{token}"' in out.html
    assert out.subject.startswith("Opsamling til Socialpolitisk Dialogforum")
    assert "onsdag den 15. juni 2022 kl. 14.00" in out.text
    assert "Åbn rapporten" in out.html and "kræver ikke login" in out.text
    english = render(mail("forum_report"), EN)
    assert english.subject.startswith("Summary for Socialpolitisk Dialogforum")
    assert "Open the report" in english.html


@pytest.mark.parametrize(("lang", "attached"), [("da", "Vedhæftet"), ("en", "Attached")])
def test_a_mail_the_secretariat_wrote_keeps_its_words_and_escapes_them(
    lang: str, attached: str
) -> None:
    out = render(mail("message"), FakeSettings(language=lang))
    assert out.subject == "Nyt om mødet <i>i juni</i>"
    assert "Mødet flyttes.\nSe <b>bilaget</b> & svar." in out.text
    assert f"{attached}: Bilag.pdf" in out.text
    assert "<p>Mødet flyttes.<br>Se &lt;b&gt;bilaget&lt;/b&gt; &amp; svar.</p>" in out.html
    assert "<b>bilaget</b>" not in out.html


def test_an_approval_request_names_the_meeting_it_asks_for() -> None:
    planned = {"meeting": "2022-12-12", "agenda_deadline": "2022-12-05", "deadline": "2022-12-14"}
    da = render(mail("approval_request", **planned), DA)
    assert "Frist: onsdag den 14. december 2022" in da.text
    assert "Møde: mandag den 12. december 2022 (dagsordensfrist mandag den 5. december 2022)" in (
        da.text
    )
    assert "mandag den 12. december 2022 (dagsordensfrist mandag den 5. december 2022)" in da.html
    en = render(mail("approval_request", **planned), EN)
    assert "Meeting: Monday 12 December 2022 (agenda deadline Monday 5 December 2022)" in en.text
    assert "Monday 12 December 2022 (agenda deadline" in en.html
    # without a calendar: no meeting line
    plain = render(mail("approval_request"), DA)
    assert "Møde:" not in plain.text and "dagsordensfrist" not in plain.html
