"""Building the EmailMessage (headers, threading, injection) and parsing the SMTP URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import pytest

from notifications.message import InvalidAddress, address, build_message, new_message_id
from notifications.outgoing import Attachment, Recipient, RenderedMail
from notifications.sender import backoff
from notifications.transports import WIRE_POLICY, SendResult, SmtpConfig, eml_name

AT = datetime(2022, 4, 4, 7, 0, tzinfo=UTC)
SECRETARIAT = Recipient("Socialsekretariatet, KKR Nordjylland", "sek@kkr.example")
MAIL = RenderedMail("Påmindelse: frist", "Kære Læsø\n\nTekst – æøå\n", "<p>Kære Læsø</p>")


def build(
    mail: RenderedMail = MAIL, to: tuple[Recipient, ...] | None = None, **kw: str
) -> EmailMessage:
    return build_message(
        mail,
        to=to or (Recipient("Sekretær", "a@laeso.example"), Recipient("B", "b@laeso.example")),
        secretariat=SECRETARIAT,
        mail_from="Aftaleflow <noreply@aftaleflow.example>",
        message_id="<1.2@aftaleflow.example>",
        at=AT,
        **kw,
    )


def reparse(msg: EmailMessage) -> EmailMessage:
    return cast(
        EmailMessage, message_from_bytes(msg.as_bytes(policy=WIRE_POLICY), policy=policy.default)
    )


def test_headers_of_an_automatic_mail() -> None:
    msg = reparse(build(in_reply_to="<0.1@aftaleflow.example>", key="p1/s/laeso//reminder/1"))
    assert msg["From"] == '"Socialsekretariatet, KKR Nordjylland" <noreply@aftaleflow.example>'
    assert msg["Reply-To"] == '"Socialsekretariatet, KKR Nordjylland" <sek@kkr.example>'
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@laeso.example", "b@laeso.example"]
    assert msg["Subject"] == "Påmindelse: frist"
    assert msg["Message-ID"] == "<1.2@aftaleflow.example>"
    assert msg["In-Reply-To"] == msg["References"] == "<0.1@aftaleflow.example>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"].datetime == AT and msg["Date"].datetime.utcoffset() == timedelta(hours=2)
    assert msg["Content-Language"] == "da"
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == "Kære Læsø\n\nTekst – æøå\n"
    assert html is not None and html.get_content().strip() == "<p>Kære Læsø</p>"
    # 7-bit on the wire: no 8BITMIME needed at the relay.
    assert all(b < 128 for b in build().as_bytes(policy=WIRE_POLICY))


def test_no_threading_headers_without_a_parent() -> None:
    msg = build()
    assert msg["In-Reply-To"] is None and msg["References"] is None


def test_attachments_wrap_the_alternative() -> None:
    ics = Attachment(
        "invitation.ics",
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        "text",
        "calendar",
        {"method": "REQUEST", "charset": "utf-8"},
    )
    msg = reparse(build(RenderedMail("Indkaldelse", "tekst\n", "<p>x</p>", (ics,))))
    assert msg.get_content_type() == "multipart/mixed"
    (cal,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert cal.get_param("method") == "REQUEST" and cal.get_filename() == "invitation.ics"
    assert msg.get_body(("plain",)) is not None


def test_header_injection_is_impossible() -> None:
    evil = "Læsø Kommune\r\nBcc: x@evil.example"
    msg = build(
        RenderedMail(f"Frist for {evil}", "t\n", "<p>t</p>"),
        to=(Recipient(evil, "a@laeso.example"),),
        key="k\r\nBcc: y@evil.example",
    )
    raw = msg.as_bytes(policy=WIRE_POLICY)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not [line for line in head.split(b"\r\n") if line.lower().startswith(b"bcc")]
    again = reparse(msg)
    assert again["Bcc"] is None
    assert again["Subject"] == "Frist for Læsø Kommune Bcc: x@evil.example"
    assert [a.addr_spec for a in again["To"].addresses] == ["a@laeso.example"]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "no-at-sign",
        "a@b@c.example",
        "a@x.example\r\nBcc: y@evil.example",
        "a@x.example, b@evil.example",
        "<a@x.example>",
        "a b@x.example",
    ],
)
def test_unusable_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidAddress):
        address("Name", bad)


def test_message_ids_are_unique_on_our_domain() -> None:
    ids = {new_message_id("aftaleflow.example") for _ in range(1000)}
    assert len(ids) == 1000 and all(i.endswith("@aftaleflow.example>") for i in ids)
    assert eml_name("<1.2@aftaleflow.example>") == "1.2@aftaleflow.example.eml"


def test_smtp_urls() -> None:
    plain = SmtpConfig.parse("smtp://relay.example")
    assert (plain.host, plain.port, plain.security, plain.username) == (
        "relay.example",
        25,
        "plain",
        None,
    )
    tls = SmtpConfig.parse("smtp://user%40kkr:p%3Ass@relay.example:2525?starttls=1&timeout=7")
    assert (tls.port, tls.security, tls.username, tls.password, tls.timeout) == (
        2525,
        "starttls",
        "user@kkr",
        "p:ss",
        7.0,
    )
    assert "p:ss" not in tls.description and "p%3Ass" not in tls.description
    assert SmtpConfig.parse("smtp://relay.example?starttls=1").port == 587
    ssl = SmtpConfig.parse("smtps://u:p@relay.example")
    assert (ssl.port, ssl.security) == (465, "ssl")
    for bad, match in [
        ("http://relay.example", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://r.example?tls=1", "unknown option"),
        ("smtps://r.example?starttls=1", "TLS from the start"),
    ]:
        with pytest.raises(ValueError, match=match):
            SmtpConfig.parse(bad)


def test_backoff_doubles_from_one_minute_up_to_six_hours() -> None:
    minutes = [backoff(n).total_seconds() / 60 for n in range(1, 13)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360]
    assert backoff(10_000) == timedelta(hours=6)


def test_result_classification() -> None:
    partial = SendResult(
        accepted=("a@x.example",),
        refused={"b@x.example": (550, "no"), "c@x.example": (451, "later")},
    )
    assert partial.delivered and partial.permanently_refused == ["b@x.example"]
    assert not SendResult(error="down", temporary=True).delivered
