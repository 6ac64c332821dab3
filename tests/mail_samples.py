"""Received mail as it arrives from Danish public-sector mailboxes, built in the tests.

Each builder returns the bytes of a whole message shaped like the real thing: an Exchange
non-delivery report in Danish, a Postfix DSN, an Outlook out-of-office reply in Danish, a
committee secretary's reply with a filled-in Word file, a stranger with a forged From.
Only ``*.example`` addresses.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from docx import Document

DATE = datetime(2022, 4, 6, 8, 15, tzinfo=UTC)


def docx_bytes(text: str = "Svar fra Læsø Kommune") -> bytes:
    doc = Document()
    doc.add_heading("Spørgeskema til fagudvalg", level=1)
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _base(subject: str, sender: str, to: str, *, msgid_domain: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(DATE)
    msg["Message-ID"] = make_msgid(domain=msgid_domain)
    return msg


def reply_with_docx(
    in_reply_to: str,
    *,
    sender: str = "Sekretær <sekretaer@laeso.example>",
    docx: bytes | None = None,
) -> bytes:
    """An Outlook reply to an invitation with the filled-in form attached."""
    msg = _base("SV: Spørgeskema til fagudvalg", sender, "noreply@aftaleflow.example",
                msgid_domain="laeso.example")  # fmt: skip
    msg["In-Reply-To"] = in_reply_to
    msg["References"] = in_reply_to
    msg["Thread-Topic"] = "Spørgeskema til fagudvalg"
    msg.set_content(
        "Hej\n\nHermed vores svar, behandlet på udvalgsmødet.\n\nVenlig hilsen\nSekretær"
    )
    msg.add_alternative(
        "<html><body><p>Hej</p><p>Hermed vores svar.</p>"
        "<script>alert('x')</script><img src='https://tracker.example/p.gif'></body></html>",
        subtype="html",
    )
    msg.add_attachment(
        docx if docx is not None else docx_bytes(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="Svar fra Læsø.docx",
    )
    msg.add_attachment(b"MZ\x90\x00 not a document", maintype="application",
                       subtype="octet-stream", filename="program.exe")  # fmt: skip
    return msg.as_bytes()


def out_of_office(
    in_reply_to: str, *, sender: str = "Sekretær <sekretaer@thisted.example>"
) -> bytes:
    """Exchange's Danish automatic reply (Outlook "Automatiske svar")."""
    msg = _base("Automatisk svar: Spørgeskema til fagudvalg", sender,
                "noreply@aftaleflow.example", msgid_domain="thisted.example")  # fmt: skip
    msg["In-Reply-To"] = in_reply_to
    msg["References"] = in_reply_to
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-MS-Exchange-Inbox-Rules-Loop"] = "sekretaer@thisted.example"
    msg.set_content(
        "Jeg er på ferie og tilbage 15. august. Henvendelser til kommunen@thisted.example."
    )
    return msg.as_bytes()


def out_of_office_subject_only(sender: str = "Sekretær <sekretaer@hjoerring.example>") -> bytes:
    """An auto-reply that says so only in its subject (older Outlook rules)."""
    msg = _base("Fraværende: Påmindelse", sender, "noreply@aftaleflow.example",
                msgid_domain="hjoerring.example")  # fmt: skip
    msg.set_content("Jeg er fraværende til og med fredag.")
    return msg.as_bytes()


def _delivery_status(reporting: str, recipient: str, status: str, diagnostic: str) -> str:
    return (
        f"Reporting-MTA: dns; {reporting}\n"
        f"Arrival-Date: {format_datetime(DATE)}\n"
        "\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        "Action: failed\n"
        f"Status: {status}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n"
    )


def _report(head: str, human: str, status: str, original: bytes, *, headers_only: bool) -> bytes:
    """A ``multipart/report; report-type=delivery-status`` as MTAs write it (RFC 3464)."""
    boundary = "=_report_7f3a"
    back = original.replace(b"\r\n", b"\n").decode("utf-8", "replace")
    if headers_only:
        back = back.split("\n\n", 1)[0] + "\n"
    returned = "text/rfc822-headers" if headers_only else "message/rfc822"
    text = (
        f"{head}"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n'
        "\n"
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        f"{human}\n"
        f"--{boundary}\n"
        "Content-Type: message/delivery-status\n\n"
        f"{status}\n"
        f"--{boundary}\n"
        f"Content-Type: {returned}\n\n"
        f"{back}\n"
        f"--{boundary}--\n"
    )
    return text.replace("\n", "\r\n").encode("utf-8")


def _head(subject: str, sender: str, domain: str) -> str:
    return (
        f"From: {sender}\n"
        "To: noreply@aftaleflow.example\n"
        f"Subject: {subject}\n"
        f"Date: {format_datetime(DATE)}\n"
        f"Message-ID: {make_msgid(domain=domain)}\n"
        "Auto-Submitted: auto-replied\n"
    )


def exchange_ndr(original: bytes, recipient: str) -> bytes:
    """Exchange Online's Danish NDR ("Kan ikke leveres:") as multipart/report with the
    delivery-status fields and the original message's headers."""
    return _report(
        _head("Kan ikke leveres: Spørgeskema til fagudvalg",
              "Microsoft Outlook <postmaster@morsoe.example>", "morsoe.example")
        + "X-MS-Exchange-Message-Is-Ndr: \n",
        "Din meddelelse kunne ikke leveres til en eller flere modtagere.\n\n"
        f"{recipient}\nMailadressen blev ikke fundet.\n",
        _delivery_status("AM0PR01MB1234.eurprd01.prod.exchangelabs.com", recipient, "5.1.10",
                         "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"),
        original,
        headers_only=True,
    )  # fmt: skip


def postfix_dsn(original: bytes, recipient: str) -> bytes:
    """Postfix's bounce: "Undelivered Mail Returned to Sender" with the whole original."""
    return _report(
        _head("Undelivered Mail Returned to Sender",
              "MAILER-DAEMON@relay.aftaleflow.example (Mail Delivery System)", "relay.example"),
        "This is the mail system at host relay.aftaleflow.example.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        f"<{recipient}>: host mx.example[192.0.2.1] said: 550 5.1.1 User unknown\n",
        _delivery_status("relay.aftaleflow.example", recipient, "5.1.1",
                         f"550 5.1.1 <{recipient}>: Recipient address rejected: User unknown"),
        original,
        headers_only=False,
    )  # fmt: skip


def qmail_bounce(recipient: str) -> bytes:
    """A non-standard bounce (qmail's plain text), found by ``flufl.bounce``."""
    msg = _base("failure notice", "MAILER-DAEMON@mx.example", "noreply@aftaleflow.example",
                msgid_domain="mx.example")  # fmt: skip
    msg.set_content(
        "Hi. This is the qmail-send program at mx.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{recipient}>:\n"
        "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "Subject: Spørgeskema\n"
    )
    return msg.as_bytes()


def forged(from_address: str) -> bytes:
    """A stranger's mail with a committee secretary's address in From, and no thread."""
    msg = _base("Svar på spørgeskema", f"Sekretær <{from_address}>", "noreply@aftaleflow.example",
                msgid_domain="stranger.example")  # fmt: skip
    msg.set_content("Vi har ingen bemærkninger.")
    return msg.as_bytes()


def own_mail(domain: str = "aftaleflow.example") -> bytes:
    """A mail Aftaleflow sent, come back to its own mailbox (a forwarding loop)."""
    msg = _base("Påmindelse: Spørgeskema", f"noreply@{domain}", "noreply@aftaleflow.example",
                msgid_domain=domain)  # fmt: skip
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Aftaleflow-Key"] = "p1:reminder:x"
    msg.set_content("Husk at svare.")
    return msg.as_bytes()
