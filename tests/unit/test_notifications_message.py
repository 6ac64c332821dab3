"""Building the EmailMessage (headers, threading, injection) and parsing the SMTP URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any, cast

import pytest

from notifications.message import (
    InvalidAddress,
    address,
    build_message,
    compose,
    new_message_id,
)
from notifications.outgoing import Attachment, Recipient, RenderedMail
from notifications.results import backoff
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
        ("http://relay.example", "smtp:// eller smtps://"),
        ("smtp://", "mangler en vært"),
        ("smtp://r.example?tls=1", "ukendt"),
        ("smtps://r.example?starttls=1", "TLS fra starten"),
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


# ---------------------------------------------------------------------- compose (the wire bytes)

AWKWARD_NAMES = [
    "Læsø Kommune",
    "Doe, John",
    'Quote "me" \\ back',
    "J. Doe (formand)",
    "=?utf-8?b?Zm9v?= not really encoded",
    "Ærø " * 30,
    "x" * 120,
    "🙂 Smiley & Co; <tag>",
    "",
]


def test_compose_round_trips_awkward_headers() -> None:
    for name in AWKWARD_NAMES:
        subject = f"Påmindelse: {name} – frist"
        wire = compose(
            RenderedMail(subject, "t\n", "<p>t</p>"),
            to=(Recipient(name, "a@laeso.example"), Recipient("B", "b@laeso.example")),
            secretariat=Recipient(name, "sek@kkr.example"),
            mail_from="Aftaleflow <noreply@aftaleflow.example>",
            message_id="<1.2@aftaleflow.example>",
            at=AT,
            key=f"p1/{name}",
        )
        lines = wire.data.split(b"\r\n")
        assert all(b < 128 for b in wire.data), name
        assert all(len(line) <= 998 for line in lines), name
        head = wire.data.split(b"\r\n\r\n", 1)[0]
        assert all(len(line) <= 80 for line in head.split(b"\r\n")), name
        msg = wire.as_message()
        assert not msg.defects and msg["Subject"] == " ".join(subject.split()), name
        one = " ".join(name.split())
        # headerregistry keeps the folding space between two encoded-words of a name (RFC 2047
        # says a reader drops it, as email.header does): compare the names without spaces.
        to = msg["To"].addresses
        assert [("".join(a.display_name.split()), a.addr_spec) for a in to] == [
            ("".join(one.split()), "a@laeso.example"),
            ("B", "b@laeso.example"),
        ], name
        raw_to = message_from_bytes(wire.data)["To"]
        if "=?" in raw_to:  # encoded-words: an RFC 2047 reader gets the name back exactly
            assert one in str(make_header(decode_header(raw_to))), name
        assert "".join(msg["Reply-To"].addresses[0].display_name.split()) == "".join(one.split())
        assert msg["X-Aftaleflow-Key"] == " ".join(f"p1/{name}".split())
        assert msg["Message-ID"] == wire.message_id == "<1.2@aftaleflow.example>"


def test_compose_bodies_are_quoted_printable_and_exact() -> None:
    text = "Kære Læsø\r\n\n.\nFrom here\nslut med mellemrum   \n" + "lang " * 40 + "\n\ttab\n"
    html = "<p>Kære = Læsø</p>\n<p>" + "ø" * 200 + "</p>"
    msg = compose(
        RenderedMail("S", text, html),
        to=(Recipient("A", "a@laeso.example"),),
        secretariat=SECRETARIAT,
        mail_from="noreply@aftaleflow.example",
        message_id="<1@aftaleflow.example>",
        at=AT,
    )
    body = msg.data.split(b"\r\n\r\n", 1)[1]
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    parsed = msg.as_message()
    plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content() == text.replace("\r\n", "\n").replace("\n", "\r\n")
    assert rich.get_content() == html.replace("\n", "\r\n") + "\r\n"
    assert all(not p.defects for p in parsed.walk())


def test_compose_attachment_names_and_content_survive() -> None:
    content = bytes(range(256)) * 7
    names = ["invitation.ics", 'Aftale "endelig" for Læsø.pdf', "Socialaftale " * 20 + ".pdf"]
    atts = tuple(Attachment(n, content, "application", "pdf") for n in names)
    msg = compose(
        RenderedMail("S", "t\n", "<p>t</p>", atts),
        to=(Recipient("A", "a@laeso.example"),),
        secretariat=SECRETARIAT,
        mail_from="noreply@aftaleflow.example",
        message_id="<1@aftaleflow.example>",
        at=AT,
    )
    assert all(len(line) <= 998 for line in msg.data.split(b"\r\n"))
    parsed = msg.as_message()
    found = [p for p in parsed.walk() if p.get_content_type() == "application/pdf"]
    assert [p.get_filename() for p in found] == [" ".join(n.split()) for n in names]
    assert all(p.get_content() == content for p in found)
    assert all(not p.defects for p in parsed.walk())


def test_build_message_is_the_composed_message() -> None:
    kw: dict[str, Any] = {
        "to": (Recipient("Sekretær", "a@laeso.example"),),
        "secretariat": SECRETARIAT,
        "mail_from": "Aftaleflow <noreply@aftaleflow.example>",
        "message_id": "<1.2@aftaleflow.example>",
        "at": AT,
    }
    wire = compose(MAIL, **kw).as_message()
    built = build_message(MAIL, **kw)

    def headers(m: EmailMessage) -> list[tuple[str, str]]:  # the boundary is random
        return [(k, m.get_content_type() if k == "Content-Type" else str(v)) for k, v in m.items()]

    assert headers(built) == headers(wire) and len(headers(built)) == 11
    body = built.get_body(("plain",))
    assert body is not None and "Læsø" in body.get_content()
