"""Classifying received mail: bounces, auto-replies, our own mail, replies with attachments."""

from __future__ import annotations

from email.utils import make_msgid

import pytest

from notifications.classify import html_to_text, read
from tests import mail_samples as samples

DOMAIN = "aftaleflow.example"
SENT = make_msgid(domain=DOMAIN)
ORIGINAL = (
    f"From: noreply@{DOMAIN}\r\nTo: sekretaer@morsoe.example\r\nSubject: Sp\r\n"
    f"Message-ID: {SENT}\r\nAuto-Submitted: auto-generated\r\n\r\nHej\r\n"
).encode()


def test_exchange_ndr_in_danish_is_a_bounce_naming_the_address_and_the_original() -> None:
    r = read(samples.exchange_ndr(ORIGINAL, "sekretaer@morsoe.example"), own_domain=DOMAIN)
    assert r.classification == "bounce"
    (failure,) = r.failures
    assert failure.address == "sekretaer@morsoe.example"
    assert failure.permanent and failure.status == "5.1.10"
    assert "RecipientNotFound" in failure.reason
    assert SENT in r.references, "the returned headers name the mail that bounced"
    assert r.subject.startswith("Kan ikke leveres:")


def test_postfix_dsn_is_a_bounce_with_the_whole_original() -> None:
    r = read(samples.postfix_dsn(ORIGINAL, "udvalg@laeso.example"), own_domain=DOMAIN)
    assert r.classification == "bounce"
    assert [(f.address, f.status) for f in r.failures] == [("udvalg@laeso.example", "5.1.1")]
    assert "User unknown" in r.failures[0].reason
    assert SENT in r.references


def test_a_non_standard_bounce_is_found_by_flufl_bounce() -> None:
    r = read(samples.qmail_bounce("gone@vesthimmerland.example"), own_domain=DOMAIN)
    assert r.classification == "bounce"
    assert [f.address for f in r.failures] == ["gone@vesthimmerland.example"]
    assert r.failures[0].permanent


def test_danish_out_of_office_is_an_auto_reply_with_its_text() -> None:
    r = read(samples.out_of_office(SENT), own_domain=DOMAIN)
    assert r.classification == "auto_reply"
    assert {"auto-submitted", "x-auto-response-suppress", "subject"} <= set(r.signals)
    assert "tilbage 15. august" in r.text
    assert r.references == (SENT,)
    assert r.parts == ()


def test_an_auto_reply_known_only_by_its_subject() -> None:
    r = read(samples.out_of_office_subject_only(), own_domain=DOMAIN)
    assert (r.classification, r.signals) == ("auto_reply", ("subject",))


def test_a_reply_with_a_docx_keeps_the_docx_and_refuses_the_program() -> None:
    r = read(samples.reply_with_docx(SENT), own_domain=DOMAIN)
    assert r.classification == "reply"
    assert r.from_address == "sekretaer@laeso.example"
    assert r.references == (SENT,)
    kept, refused = r.parts
    assert (kept.filename, kept.kind, kept.refused) == ("Svar fra Læsø.docx", "docx", "")
    assert kept.content[:2] == b"PK" and kept.size == len(kept.content)
    assert (refused.filename, refused.kind, refused.refused, refused.content) == (
        "program.exe",
        None,
        "type",
        b"",
    )
    assert "Hermed vores svar" in r.text


def test_a_docx_named_pdf_is_kept_as_what_it_is_and_a_pdf_named_docx_too() -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "a@laeso.example"
    msg["Subject"] = "SV: x"
    msg.set_content("se vedhæftet")
    msg.add_attachment(
        samples.docx_bytes(), maintype="application", subtype="pdf", filename="x.pdf"
    )
    msg.add_attachment(
        b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="msword", filename="y.docx"
    )
    r = read(msg.as_bytes(), own_domain=DOMAIN)
    assert [(p.filename, p.kind) for p in r.parts] == [("x.pdf", "docx"), ("y.docx", "pdf")]


def test_our_own_mail_is_never_a_reply() -> None:
    r = read(samples.own_mail(), own_domain=DOMAIN)
    assert r.classification == "own"
    # recognised by the Message-ID domain alone, too (a relay may drop our X- header)
    stripped = samples.own_mail().replace(b"X-Aftaleflow-Key: p1:reminder:x\n", b"")
    assert read(stripped, own_domain=DOMAIN).classification == "own"


def test_other_automatic_mail_is_not_a_reply() -> None:
    raw = b"From: nyhedsbrev@kl.example\r\nSubject: Nyt fra KL\r\nPrecedence: bulk\r\n\r\nHej\r\n"
    assert read(raw, own_domain=DOMAIN).classification == "automatic"
    raw = b"From: system@kl.example\r\nSubject: Kvittering\r\nAuto-Submitted: auto-generated\r\n\r\nHej\r\n"
    assert read(raw, own_domain=DOMAIN).classification == "automatic"


def test_a_person_quoting_an_error_is_not_a_bounce() -> None:
    raw = (
        b"From: sekretaer@laeso.example\r\nSubject: Undeliverable: jeres mail\r\n\r\n"
        b"Vi fik denne fejl: 550 5.1.1 User unknown <x@y.example>\r\n"
    )
    assert read(raw, own_domain=DOMAIN).classification == "reply"


def test_html_only_mail_is_read_as_text_without_its_script() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: hej\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Svar &amp; bilag</p><script>alert(1)</script><p>Linje 2</p>\r\n"
    )
    r = read(raw, own_domain=DOMAIN)
    assert r.text.split() == ["Svar", "&", "bilag", "Linje", "2"]
    assert "alert" not in html_to_text("<style>p{}</style><script>alert(1)</script>x")


def test_a_forged_from_is_just_a_reply_without_references() -> None:
    r = read(samples.forged("sekretaer@laeso.example"), own_domain=DOMAIN)
    assert (r.classification, r.references) == ("reply", ())


def test_malformed_mail_is_read_without_an_error() -> None:
    raw = b"From: =?utf-8?q?broken\r\nSubject: =?bogus?x?zz?=\r\nDate: not a date\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n"
    r = read(raw, own_domain=DOMAIN)
    assert r.classification == "reply" and r.sent_at is None


def test_a_delivery_report_from_our_own_domain_is_still_a_bounce() -> None:
    raw = samples.postfix_dsn(ORIGINAL, "udvalg@laeso.example").replace(
        b"@relay.example>", f"@{DOMAIN}>".encode()
    )
    assert f"@{DOMAIN}>".encode() in raw
    assert read(raw, own_domain=DOMAIN).classification == "bounce"


def test_a_message_that_cannot_be_read_is_kept_for_a_person(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import notifications.classify as classify

    def broken(raw: bytes, *, own_domain: str) -> None:
        raise UnicodeError("bad")

    monkeypatch.setattr(classify, "read", broken)
    r = classify.read_safely(b"x", own_domain=DOMAIN)
    assert (r.classification, r.signals, r.size) == ("automatic", ("unreadable",), 1)
