"""Who reaches the dashboard: log-in with argon2 hashes, lock-out on the app's clock, log-out
that ends every copy of the session, a viewer who can read but not act, and a visitor who
reaches nothing but the log-in page (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.browser.support import AFTER_INVITATIONS, APPROVAL, KEY, QUESTIONNAIRE
from web.dashboard import LOGIN_MISSES_PER_MINUTE
from workflow import users
from workflow.loader import Bundle
from workflow.storage.db import Database
from workflow.storage.models import EventRow, UserRow

from .dashboard_support import (
    ADMIN,
    ADMIN_PASSWORD,
    PROCESS,
    VIEWER,
    VIEWER_PASSWORD,
    Dash,
    csrf_token,
    dashboard,
)

STAGE = f"{PROCESS}/fase/{QUESTIONNAIRE}"
#: Every page of the dashboard, for the visitor and the viewer.
PAGES = [
    "/sekretariat/",
    PROCESS,
    f"{PROCESS}/part/aalborg",
    f"{PROCESS}/dokument",
    "/sekretariat/udbakke",
    "/sekretariat/log",
    "/sekretariat/diagram",
    f"{PROCESS}/eksport/svar.xlsx",
    f"{PROCESS}/eksport/svar-{QUESTIONNAIRE}.csv",
    f"{PROCESS}/eksport/godkendelser.xlsx",
    f"{PROCESS}/eksport/godkendelser.csv",
    f"{PROCESS}/rapport/{QUESTIONNAIRE}",
    f"{PROCESS}/rapport/{QUESTIONNAIRE}.pdf",
]
#: Every action; all of them need an admin, whether GET (the form) or POST.
ACTIONS = [
    f"{PROCESS}/fase/das-fokus/resultat",
    f"{STAGE}/aabn",
    f"{STAGE}/luk",
    f"{STAGE}/genaabn",
    f"{PROCESS}/fase/{APPROVAL}/part/aalborg/godkendelse/socialudvalg",
    f"{STAGE}/part/aalborg/frist",
    f"{STAGE}/part/aalborg/fritag",
    f"{STAGE}/part/aalborg/nyt-link",
    f"{PROCESS}/annuller",
    f"{PROCESS}/dokument/1/til-godkendelse",
    "/sekretariat/udbakke/1/send-igen",
]
#: An admin-only page that has no form.
LINK = "/sekretariat/udbakke/1/svarlink"


@pytest.fixture
def dash(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        yield d


def event_count(db: Database) -> int:
    with db.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(EventRow)) or 0)


def test_a_visitor_reaches_nothing_but_the_login_page(dash: Dash) -> None:
    for url in [*PAGES, *ACTIONS, LINK]:
        r = dash.client.get(url)
        assert r.status_code == 303, url
        assert r.headers["Location"].startswith("/sekretariat/login"), url
    before = event_count(dash.db)
    for url in [*ACTIONS, f"{PROCESS}/dokument", "/sekretariat/logout"]:
        r = dash.client.post(url, data={"reason": "ingen adgang"})
        assert r.status_code in (303, 400), url  # to the log-in page, or no CSRF token
        assert r.status_code == 400 or r.headers["Location"].startswith("/sekretariat/login")
    assert event_count(dash.db) == before, "nothing was done"
    login = dash.client.get("/sekretariat/login")
    assert login.status_code == 200 and 'name="password"' in login.text
    with dash.client.get("/sekretariat/static/dashboard.css") as css:
        assert css.status_code == 200
    assert dash.client.get("/api/v1/processes").status_code == 401


def test_login_sends_back_to_the_page_asked_for_and_never_elsewhere(dash: Dash) -> None:
    first = dash.client.get(f"{PROCESS}/part/aalborg")
    assert first.headers["Location"] == f"/sekretariat/login?next={PROCESS}/part/aalborg"
    page = dash.client.get(first.headers["Location"])
    r = dash.client.post(
        "/sekretariat/login",
        data={
            "csrf_token": csrf_token(page.text),
            "name": ADMIN,
            "password": ADMIN_PASSWORD,
            "next": f"{PROCESS}/part/aalborg",
        },
    )
    assert r.status_code == 303 and r.headers["Location"] == f"{PROCESS}/part/aalborg"
    inside = dash.client.get(r.headers["Location"])
    dash.client.post("/sekretariat/logout", data={"csrf_token": csrf_token(inside.text)})
    for evil in ("//evil.example/x", "https://evil.example/", "/svar/x", "/\\evil.example"):
        page = dash.client.get("/sekretariat/login")
        r = dash.client.post(
            "/sekretariat/login",
            data={
                "csrf_token": csrf_token(page.text),
                "name": ADMIN,
                "password": ADMIN_PASSWORD,
                "next": evil,
            },
        )
        assert r.headers["Location"] == "/sekretariat/", evil
        out = dash.client.get("/sekretariat/")
        dash.client.post("/sekretariat/logout", data={"csrf_token": csrf_token(out.text)})


def refusal(html: str) -> str:
    """The error paragraph of a refused log-in page."""
    found = re.search(r'id="login-error-title">[^<]*</h2>\s*<p>([^<]*)</p>', html)
    assert found, html[:2000]
    return found.group(1)


def test_wrong_password_then_lockout_on_the_wall_clock(dash: Dash) -> None:
    """One message for an unknown name, a wrong password and a locked user (no
    enumeration); the lock covers the right password too, and it runs on the wall clock:
    a month of business time (the demo's fast clock) does not lift it."""
    r = dash.login(ADMIN, "forkert")
    assert r.status_code == 401
    message = refusal(r.text)
    assert message.startswith("Forkert brugernavn eller adgangskode.")
    unknown = dash.login("ukendt", "forkert")
    assert unknown.status_code == 401 and refusal(unknown.text) == message
    for _ in range(users.MAX_FAILURES - 1):
        r = dash.login(ADMIN, "forkert")
    assert r.status_code == 401 and refusal(r.text) == message
    assert dash.events("user_locked"), "the fifth wrong password locked the user"
    # locked: even the right password is refused, with the same words, until the lock ends
    r = dash.login(ADMIN, ADMIN_PASSWORD)
    assert r.status_code == 401 and refusal(r.text) == message
    for _ in range(users.MAX_FAILURES + 1):  # an unknown name never locks, and says the same
        assert refusal(dash.login("ukendt", "forkert").text) == message
    assert dash.client.get("/sekretariat/").status_code == 303
    dash.clock.advance(timedelta(days=30))  # business time runs fast in the demo …
    assert dash.login(ADMIN, ADMIN_PASSWORD).status_code == 401, "… and lifts no lock"
    dash.wall.advance(users.LOCKOUT - timedelta(minutes=1))
    assert dash.login(ADMIN, ADMIN_PASSWORD).status_code == 401
    dash.wall.advance(timedelta(minutes=1, seconds=1))
    r = dash.login(ADMIN, ADMIN_PASSWORD)
    assert r.status_code == 303
    assert dash.client.get("/sekretariat/").status_code == 200
    kinds = [e.kind for e in dash.events("user_locked")]
    assert kinds == ["user_locked"]
    assert len(dash.events("login_failed")) == users.MAX_FAILURES + 1 + users.MAX_FAILURES + 1
    assert len(dash.events("login_refused_locked")) == 3
    (login,) = dash.events("login")
    assert login.actor == f"user:{ADMIN}"
    with dash.db.sessions() as s:
        row = s.scalar(select(UserRow).where(UserRow.name == ADMIN))
        assert row is not None and row.failed_logins == 0 and row.locked_until is None


def test_failed_logins_per_address_are_limited_on_the_wall_clock(dash: Dash) -> None:
    for i in range(LOGIN_MISSES_PER_MINUTE):
        assert dash.login(f"gaet{i}", "forkert").status_code == 401
    blocked = dash.login(ADMIN, ADMIN_PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    dash.clock.advance(timedelta(days=2))  # one second of the demo's clock
    assert dash.login(ADMIN, ADMIN_PASSWORD).status_code == 429
    dash.wall.advance(timedelta(seconds=61))
    assert dash.login(ADMIN, ADMIN_PASSWORD).status_code == 303


def test_logout_ends_every_copy_of_the_session(dash: Dash) -> None:
    dash.login()
    page = dash.client.get("/sekretariat/")
    assert page.status_code == 200
    cookie = dash.client.get_cookie("aftaleflow_session")
    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Lax"
    copy = dash.app.test_client()
    copy.set_cookie(cookie.key, cookie.value)
    assert copy.get("/sekretariat/").status_code == 200
    r = dash.client.post("/sekretariat/logout", data={"csrf_token": csrf_token(page.text)})
    assert r.status_code == 303
    assert dash.client.get("/sekretariat/").status_code == 303
    assert copy.get("/sekretariat/").status_code == 303, "a copied cookie stops working too"
    assert [e.actor for e in dash.events("logout")] == [f"user:{ADMIN}"]


def test_a_viewer_reads_everything_but_cannot_act(dash: Dash) -> None:
    r = dash.login(VIEWER, VIEWER_PASSWORD)
    assert r.status_code == 303
    for url in PAGES:
        assert dash.client.get(url).status_code == 200, url
    process = dash.client.get(PROCESS).text
    party = dash.client.get(f"{PROCESS}/part/aalborg").text
    outbox = dash.client.get("/sekretariat/udbakke").text
    document = dash.client.get(f"{PROCESS}/dokument").text
    for html in (process, party, outbox, document):
        assert 'class="action-link"' not in html
        assert "/fritag" not in html and "/frist" not in html and "/annuller" not in html
    assert 'type="file"' not in document
    token = csrf_token(process)  # the log-out form's: a valid token for this session
    before = event_count(dash.db)
    assert dash.client.get(LINK).status_code == 403
    for url in ACTIONS:
        assert dash.client.get(url).status_code == 403, url
        r = dash.client.post(url, data={"csrf_token": token, "reason": "prøver alligevel"})
        assert r.status_code == 403, url
    r = dash.client.post(f"{PROCESS}/dokument", data={"csrf_token": token, "note": "x"})
    assert r.status_code == 403
    assert event_count(dash.db) == before, "a viewer changed nothing"
    forbidden = dash.client.get(f"{STAGE}/part/aalborg/frist")
    assert "Du har ikke adgang" in forbidden.text


def test_a_post_without_the_csrf_token_is_refused(dash: Dash) -> None:
    dash.login()
    before = event_count(dash.db)
    r = dash.client.post(f"{STAGE}/part/aalborg/fritag", data={"reason": "uden token"})
    assert r.status_code == 400
    assert event_count(dash.db) == before


def test_security_headers_on_dashboard_pages(dash: Dash) -> None:
    dash.login()
    r = dash.client.get(PROCESS)
    assert "script-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Frame-Options"] == "DENY"
    diagram = dash.client.get("/sekretariat/diagram")
    csp = diagram.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "http" not in csp


def test_huge_ids_in_every_int_route_are_not_found(dash: Dash) -> None:
    """A number past the database's INTEGER range is a 404 (it overflowed to a 500 on SQLite
    and PostgreSQL); the largest accepted one reaches the database and is not found either."""
    dash.login()
    routes = sorted(rule.rule for rule in dash.app.url_map.iter_rules() if "<int:" in rule.rule)
    assert len(routes) >= 4, routes
    for huge in ("99999999999999999999", str(2**31), str(2**63), "9" * 5000):
        for rule in routes:
            url = re.sub(r"<int:\w+>", huge, rule).replace("<key>", KEY)
            r = dash.client.get(url)
            assert r.status_code == 404, (url[:120], r.status_code)
            assert "Siden findes ikke" in r.text, url[:120]
    for rule in routes:  # the largest accepted number reaches the database without overflow
        url = re.sub(r"<int:\w+>", str(2**31 - 1), rule).replace("<key>", KEY)
        assert dash.client.get(url).status_code < 500, url
