"""The Indbakke pages through Flask's test client: who sees what, sanitised HTML, downloads,
and an admin assigning or ignoring an unmatched mail (audited)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from aftaleflow.config import from_env
from notifications.classify import read
from notifications.inbound import Where, record
from notifications.sender import deliver_due
from notifications.transports import FileTransport
from tests import mail_samples as samples
from tests.browser.support import AFTER_INVITATIONS, KEY, QUESTIONNAIRE, SECRET
from workflow.loader import Bundle
from workflow.storage.db import Database
from workflow.storage.models import InboundMailRow, OutboxRow

from .dashboard_support import VIEWER, VIEWER_PASSWORD, Dash, dashboard

HOSTILE_HTML = (
    b"From: Fremmed <fremmed@stranger.example>\r\nSubject: Se her\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p onclick="window.__xss=1">Hej <b>fed</b></p><script>window.__xss = 1</script>'
    b'<img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">klik</a>'
    b'<a href="https://ok.example/">ok</a><style>body{display:none}</style>\r\n'
)


def store(d: Dash, uploads: Path, raw: bytes, uid: int) -> int:
    with d.db.transaction() as s:
        row = record(s, read(raw, own_domain="aftaleflow.example"), raw,
                     where=Where("INBOX", 1, uid), at=d.clock(), upload_dir=uploads, worker="t")  # fmt: skip
        return row.id


def d_row(d: Dash, mail_id: int) -> InboundMailRow:
    with d.db.sessions() as s:
        row = s.get(InboundMailRow, mail_id)
        assert row is not None
        return row


def sent_ids(d: Dash, tmp_path: Path) -> dict[str, str]:
    settings = from_env({"AFTALEFLOW_VAR_DIR": str(tmp_path / "var"), "AFTALEFLOW_SECRET_KEY": SECRET,
                         "AFTALEFLOW_DATABASE_URL": d.db.url})  # fmt: skip
    deliver_due(d.db, FileTransport(tmp_path / "mail"), settings, d.clock())
    with d.db.sessions() as s:
        return {r.party: str(r.message_id) for r in s.scalars(select(OutboxRow))}


def test_the_indbakke_lists_shows_sanitised_and_downloads(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        uploads = tmp_path / "uploads"
        ids = sent_ids(d, tmp_path)
        reply = store(d, uploads, samples.reply_with_docx(ids["laeso"]), 1)
        hostile = store(d, uploads, HOSTILE_HTML, 2)
        bounce = store(d, uploads, samples.qmail_bounce("socialudvalg@morso.example"), 3)

        assert d.client.get("/sekretariat/indbakke").status_code == 303  # log in first
        assert d.client.get(f"/sekretariat/indbakke/{reply}/bilag/1").status_code == 303
        d.login(VIEWER, VIEWER_PASSWORD)
        listing = d.client.get("/sekretariat/indbakke").text
        assert listing.count('data-class="reply"') == 2 and 'data-class="bounce"' in listing
        assert f'id="inbound-{reply}" data-status="assigned"' in listing
        assert f'id="inbound-{hostile}" data-status="new"' in listing
        only_new = d.client.get("/sekretariat/indbakke?status=new").text
        assert f'id="inbound-{hostile}"' in only_new and f'id="inbound-{reply}"' not in only_new

        page = d.client.get(f"/sekretariat/indbakke/{hostile}").text
        html = page.split('<div class="mail-html">', 1)[1].split("</div>", 1)[0]
        assert "<b>fed</b>" in html and 'href="https://ok.example/"' in html
        for bad in ("<script", "onclick", "<img", "javascript:", "<style", "__xss"):
            assert bad not in html, bad
        assert "tracker.example" not in page

        page = d.client.get(f"/sekretariat/indbakke/{reply}").text
        assert "Hermed vores svar" in page and "Svar fra Læsø.docx" in page
        assert "ikke gemt: kun PDF, Word (DOCX) og ODT gemmes" in page  # the .exe
        assert "Knyt til en part" not in page  # a viewer does not act, and it is matched
        got = d.client.get(f"/sekretariat/indbakke/{reply}/bilag/1")
        assert (got.status_code == 200 and got.data == samples.docx_bytes()) or got.data[
            :2
        ] == b"PK"
        assert got.headers["Content-Disposition"].startswith("attachment")
        assert got.mimetype.endswith("wordprocessingml.document")
        assert d.client.get(f"/sekretariat/indbakke/{reply}/bilag/2").status_code == 404  # refused
        assert d.client.get("/sekretariat/indbakke/999").status_code == 404
        eml = d.client.get(f"/sekretariat/indbakke/{hostile}/original.eml")
        assert eml.data == HOSTILE_HTML and eml.mimetype == "message/rfc822"
        assert "socialudvalg@morso.example" in d.client.get(f"/sekretariat/indbakke/{bounce}").text
        assert d.client.get(f"/sekretariat/indbakke/{hostile}/tildel").status_code == 403


def test_an_admin_assigns_or_ignores_an_unmatched_mail(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        uploads = tmp_path / "uploads"
        stranger = store(d, uploads, samples.forged("socialudvalg@laeso.example"), 1)
        spam = store(d, uploads, HOSTILE_HTML, 2)
        d.login()
        assert "Knyt til en part" in d.client.get(f"/sekretariat/indbakke/{stranger}").text

        url = f"/sekretariat/indbakke/{stranger}/tildel"
        missing = d.form(url, {"process_key": KEY, "stage": QUESTIONNAIRE, "party": "laeso"})
        assert missing.status_code == 400 and "Der er et problem" in missing.text
        wrong = d.form(
            url, {"process_key": KEY, "stage": "ukendt", "party": "laeso", "reason": "x"}
        )
        assert wrong.status_code == 400
        done = d.form(url, {"process_key": KEY, "stage": QUESTIONNAIRE, "party": "laeso",
                            "reason": "Sekretæren ringede: mailen er Læsøs svar"})  # fmt: skip
        assert done.status_code == 303 and done.headers["Location"].endswith(
            f"/indbakke/{stranger}"
        )
        again = d.form(
            url, {"process_key": KEY, "stage": QUESTIONNAIRE, "party": "laeso", "reason": "x"}
        )
        assert again.status_code == 409 and "er allerede knyttet til en opgave" in again.text

        ignored = d.form(f"/sekretariat/indbakke/{spam}/ignorer", {"reason": "Spam"})
        assert ignored.status_code == 303

        with d.db.sessions() as s:
            a, b = s.get(InboundMailRow, stranger), s.get(InboundMailRow, spam)
            assert a is not None and b is not None
            assert (a.status, a.party, a.stage_id, a.matched_by, a.updated_by) == (
                "assigned", "laeso", QUESTIONNAIRE, "manual", "user:anne",
            )  # fmt: skip
            assert a.process_id is not None and b.status == "ignored"
        (event,) = d.events("inbound_assigned")
        assert (event.actor, event.party, event.reason) == (
            "user:anne",
            "laeso",
            "Sekretæren ringede: mailen er Læsøs svar",
        )
        assert event.data["inbound_id"] == stranger
        assert d.events("inbound_ignored")[0].reason == "Spam"
        log = d.client.get("/sekretariat/log?kind=inbound_assigned").text
        assert "Modtaget mail knyttet til part" in log
        party = d.client.get(f"/sekretariat/proces/{KEY}/part/laeso")
        assert party.status_code == 200


def test_english(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        store(d, tmp_path / "uploads", samples.out_of_office_subject_only(), 1)
        d.login()
        page = d.client.get("/sekretariat/indbakke?lang=en").text
        assert "<h1>Inbox</h1>" in page
        assert 'badge--inbox-auto_reply">Auto-reply</span>' in page
        assert 'badge--inbox-status-new">New</span>' in page
