"""What a personal link must never give away: forged, revoked and expired tokens get the same
plain 404; guessing is rate limited; one party never sees another's answers; a ``<script>``
typed into an answer is inert on every page and in the receipt mail; headers lock the
pages down."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from aftaleflow.config import from_env
from notifications.outgoing import OutgoingMail
from notifications.render import render
from notifications.sender import deliver_due
from notifications.transports import FileTransport
from tests.browser.support import AFTER_GRACE, SECRET, process_id, token
from tests.integration.conftest import make_settings
from tests.integration.test_web_respond import COMPLETE, Web, make_web
from web import MAX_BODY_MB, MAX_FILES_MB
from web.security import MISSES_PER_WINDOW
from web.uploads import FILES_MB
from workflow.links import LinkKey, make_token
from workflow.loader import Bundle
from workflow.responses import Responses
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def web(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Web]:
    yield from make_web(db_url, db, socialaftale, tmp_path)


def deliver(web: Web) -> None:
    """Send what is due now, as the scheduler would (to .eml files)."""
    settings = make_settings(web.uploads.parent, web.db, None)
    deliver_due(web.db, FileTransport(settings.mail_dir), settings, web.clock())


def not_found_body(web: Web) -> str:
    response = web.client.get("/svar/this-page-does-not-exist")
    assert response.status_code == 404
    return response.text


def test_pages_carry_the_security_headers(web: Web) -> None:
    for url in (web.url(), "/", "/svar/nope"):
        headers = web.client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"
    page = web.client.get(web.url()).text
    assert (
        "<script" not in page
        and " style=" not in page
        and "http://" not in page.split("</head>")[0]
    )
    assert web.app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_forged_revoked_and_expired_tokens_get_the_same_plain_404(web: Web, db: Database) -> None:
    plain = not_found_body(web)
    pid = process_id(db)
    forged = [
        "A" * 43,
        "short",
        make_token("another-secret", LinkKey(pid, "fagudvalg-spoergsmaal", "aalborg", "", 1)),
        make_token(SECRET, LinkKey(pid, "fagudvalg-spoergsmaal", "aalborg", "", 2)),  # not issued
        make_token(SECRET, LinkKey(pid, "fagudvalg-spoergsmaal", "no-such-party", "", 1)),
    ]
    for bad in forged:
        response = web.client.get(f"/svar/{bad}")
        assert (response.status_code, response.text) == (404, plain), bad
        assert web.client.get(f"/svar/{bad}/kvittering").status_code == 404

    # a questionnaire token is no approval token (and the reverse)
    assert web.client.get(f"/godkend/{token(db, 'aalborg')}").text == plain

    # revoked: the old token stops working, the re-issued one works and is mailed
    old = web.url()
    assert web.client.get(old).status_code == 200
    responses = Responses(Service(db, link_secret=SECRET))
    generation = responses.revoke(
        "socialaftale-2022",
        "fagudvalg-spoergsmaal",
        "aalborg",
        at=web.clock(),
        actor="secretariat",
        reason="forwarded to the wrong person",
        now=True,
    ).generation
    assert generation == 2
    assert web.client.get(old).status_code == 200  # until the new link is sent
    deliver(web)
    assert web.client.get(old).text == plain
    new = f"/svar/{token(db, 'aalborg', generation=2)}"
    assert web.client.get(new).status_code == 200
    with db.sessions() as s:
        mail = s.scalar(select(OutboxRow).where(OutboxRow.kind == "invitation", OutboxRow.seq == 1))
        kinds = set(s.scalars(select(EventRow.kind).where(EventRow.party == "aalborg")))
    assert mail is not None and mail.context["link"] == {"generation": 2}
    assert mail.context["reissued"] is True
    assert "link_reissued" in kinds

    # revoked without a new link: nothing works until a re-issue
    responses.revoke(
        "socialaftale-2022", "fagudvalg-spoergsmaal", "aalborg",
        at=web.clock(), actor="secretariat", reason="stop", reissue=False,
    )  # fmt: skip
    assert web.client.get(new).text == plain
    assert web.client.get(f"/svar/{token(db, 'aalborg', generation=3)}").text == plain

    # expired: the stage closed more than link_grace_days ago
    web.clock.set(AFTER_GRACE)
    assert web.client.get(web.url("rebild")).text == plain


def test_token_guessing_is_rate_limited_per_address(web: Web) -> None:
    good = web.url()
    for i in range(MISSES_PER_WINDOW):
        assert web.client.get(f"/svar/{'B' * 42}{i % 10}").status_code == 404
    blocked = web.client.get(good)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "For mange forsøg" in blocked.text
    other = web.client.get(good, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200  # another address is not affected
    web.clock.advance(timedelta(days=2))  # the demo's clock runs this fast: no way out
    assert web.client.get(good).status_code == 429
    web.wall.advance(timedelta(seconds=61))  # the limit runs on the wall clock
    assert web.client.get(good).status_code == 200


def test_a_party_never_sees_another_partys_answers(web: Web) -> None:
    secret = "Kun for Aalborg: fortroligt udkast"
    web.post(web.url(), {**COMPLETE, "oevrige-oensker": secret})
    web.post(web.url("thisted"), {"oevrige-oensker": "Thisted-kladde"}, action="draft")
    for url in (web.url("thisted"), web.url("thisted") + "/kvittering", web.url("rebild")):
        page = web.client.get(url, follow_redirects=True).text
        assert secret not in page
    assert "Thisted-kladde" not in web.client.get(web.url()).text
    assert "Thisted-kladde" in web.client.get(web.url("thisted")).text


def test_a_script_in_an_answer_is_inert_on_every_page_and_in_the_receipt(
    web: Web, db: Database, tmp_path: Path
) -> None:
    # refused first (re-shown form), then saved as a draft, then submitted
    refused = web.post(web.url(), {"oevrige-oensker": PAYLOAD})
    assert refused.status_code == 422
    web.post(web.url(), {"oevrige-oensker": PAYLOAD}, action="draft")
    draft = web.client.get(web.url()).text
    web.post(web.url(), {**COMPLETE, "oevrige-oensker": PAYLOAD})
    confirmation = web.client.get(web.url() + "/kvittering").text
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    for page in (refused.text, draft, confirmation):
        assert "<script" not in page and "<img" not in page
        assert escaped in page

    with db.sessions() as s:
        row = s.scalar(select(OutboxRow).where(OutboxRow.kind == "receipt"))
        assert row is not None
        mail = OutgoingMail.from_row(row)
    settings = from_env(
        {
            "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
            "AFTALEFLOW_SECRET_KEY": SECRET,
            "AFTALEFLOW_BASE_URL": "https://aftaleflow.example",
        }
    )
    rendered = render(mail, settings)
    assert "<script" not in rendered.html and "<img" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert PAYLOAD in rendered.text  # the text part is plain text: shown, never run


def _with_file(web: Web, size: int, typed: str) -> TestResponse:
    url = web.url()
    big = b"%PDF-" + b"0" * size
    form = {**COMPLETE, "oevrige-oensker": typed, "referat": (io.BytesIO(big), "referat.pdf")}
    return web.post(url, form)


def test_a_file_over_its_limit_keeps_what_was_typed(web: Web) -> None:
    """33 MB for a question that takes 10 MB: the form comes back with every answer typed and
    the question's limit named; nothing of the file is stored."""
    typed = "Skrevet lige før en alt for stor fil blev valgt – æøå"
    r = _with_file(web, 33 * 1024 * 1024, typed)
    assert r.status_code == 422
    assert typed in r.text and "Filen må højst fylde 10 MB" in r.text
    assert 'name="specialviden-deling" value="5" checked' in r.text
    assert not any(web.uploads.glob("*.pdf")), "nothing of the file was kept"


def test_files_over_the_budget_of_one_request_keep_what_was_typed(web: Web) -> None:
    web.app.config[FILES_MB] = 1  # the budget for all files of one request together
    typed = "Referatet er på 2 MB"
    r = _with_file(web, 2 * 1024 * 1024, typed)
    assert r.status_code == 422 and typed in r.text
    assert "alle filer i én indsendelse må tilsammen højst fylde 1 MB" in r.text
    assert "Det, du har skrevet, er bevaret" in r.text
    assert not any(web.uploads.glob("*.pdf"))
    small = _with_file(web, 100 * 1024, typed)  # within the budget: accepted
    assert small.status_code == 303


def test_a_request_over_the_hard_cap_gets_a_413_that_names_the_limit(web: Web) -> None:
    assert web.app.config["MAX_CONTENT_LENGTH"] == MAX_BODY_MB * 1024 * 1024
    assert web.app.config[FILES_MB] == MAX_FILES_MB < MAX_BODY_MB
    web.app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    r = _with_file(web, 3 * 1024 * 1024, "tabt")
    assert r.status_code == 413
    assert "Indsendelsen er for stor" in r.text
    assert "fylder mere end 2 MB, som er det mest, der modtages ad gangen" in r.text
    assert f'<a href="{web.url()}">Tilbage til formularen</a>' in r.text
    web.app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_MB * 1024 * 1024
    web.app.config["MAX_FORM_MEMORY_SIZE"] = 10_000
    long_text = _with_file(web, 10, "x" * 20_000)
    assert long_text.status_code == 413
    assert "Teksten i formularen fylder mere end 10 kB" in long_text.text
    english = web.client.get("/?lang=en")
    assert english.status_code == 200
    r = _with_file(web, 10, "y" * 20_000)
    assert "The text of the form is larger than 10 kB" in r.text


def test_the_web_never_imports_notifications() -> None:
    for path in (ROOT / "web").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "notifications" for n in names), path
