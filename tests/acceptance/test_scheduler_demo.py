"""``make run`` on a fresh clone: the scheduler and the web app on the embedded defaults.

The test runs the very command of the Makefile's ``run`` target as a subprocess, in a
temporary ``var/``: it prints the URL and a login, and within a minute the demo's simulated
secretariat has recorded the two opening meetings and invitations to all 12 parties are in
the outbox and written as mail files. In the web app, a mail's personal link opens that
party's questionnaire, and the secretariat's outbox page (with the demo login) shows the 12
invitations and opens a party's questionnaire from one of them.
"""

from __future__ import annotations

import html
import http.cookiejar
import re
import shlex
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import select

from tests.acceptance.conftest import (
    SchedulerProcess,
    free_port,
    opened,
    poll,
    scheduler_env,
)
from tests.conftest import ROOT
from workflow.storage.models import OutboxRow

PARTIES = 12


def make_run_arguments() -> list[str]:
    """The arguments the Makefile's ``run`` target gives ``run_scheduler.py``."""
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    line = next(x for x in recipe.splitlines() if "run_scheduler.py" in x)
    words = shlex.split(line.replace("$(BIN)/", "").replace("$(ARGS)", ""))
    return words[words.index("run_scheduler.py") + 1 :]


class Browser:
    """A tiny cookie-keeping HTTP client (redirects followed) for the server under test."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> tuple[int, str, str]:
        """Status, page and the address it ended at."""
        try:
            with self.opener.open(url, timeout=10) as response:
                page = response.read().decode("utf-8", "replace")
                return int(response.status), page, str(response.url)
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.read().decode("utf-8", "replace"), url

    def post(self, url: str, fields: dict[str, str]) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(url, data=data, timeout=10) as response:
                page = response.read().decode("utf-8", "replace")
                return int(response.status), page, str(response.url)
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.read().decode("utf-8", "replace"), url


@pytest.mark.slow
def test_make_run_starts_the_demo_and_invites_all_parties_within_a_minute(
    tmp_path: Path, schedulers: list[SchedulerProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    args = make_run_arguments()
    assert "--demo" in args
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    var = tmp_path / "var"
    env = scheduler_env(var, AFTALEFLOW_BASE_URL=base)
    began = time.monotonic()
    proc = SchedulerProcess(args, env, tmp_path / "logs", "make-run").start()
    schedulers.append(proc)

    poll(lambda: "Stop med Ctrl-C" in proc.stdout(), 60, f"no banner:\n{proc.stderr()}")
    banner = proc.stdout()
    has_web = "--web" in args and f"Web:       {base}/" in banner
    if has_web:
        assert "Login:     demo / " in banner
    url = f"sqlite:///{var / 'aftaleflow.db'}"

    def invited() -> set[str]:
        with opened(url) as db, db.sessions() as s:
            parties = set(s.scalars(select(OutboxRow.party).where(OutboxRow.kind == "invitation")))
        return parties if len(parties) == PARTIES else set()

    poll(invited, max(1.0, 60 - (time.monotonic() - began)), "no invitations within a minute")
    first_invitations = time.monotonic() - began

    def mail_file() -> EmailMessage | None:
        for path in sorted((var / "mail").glob("*.eml")):
            msg = cast(EmailMessage, message_from_bytes(path.read_bytes(), policy=policy.default))
            if "/invitation/" in str(msg["X-Aftaleflow-Key"] or ""):
                return msg
        return None

    invitation = poll(mail_file, 30, "no invitation was written to var/mail")
    with opened(url) as db, db.sessions() as s:
        names = {
            r.party: str(r.context["party_name"])
            for r in s.scalars(select(OutboxRow).where(OutboxRow.kind == "invitation"))
        }
    outbox_page = "no web app"
    if has_web:
        browser = Browser()
        assert browser.get(f"{base}/")[0] == 200
        # the mail's personal link opens that party's questionnaire
        body = invitation.get_body(("plain",))
        assert body is not None
        link = re.search(rf"{re.escape(base)}/svar/[\w-]+", body.get_content())
        assert link, "the invitation has no personal link"
        status, page, _ = browser.get(link.group(0))
        party = str(invitation["X-Aftaleflow-Key"]).split("/")[2]
        assert status == 200
        assert names[party] in page, f"{names[party]} not on the questionnaire page"
        # the outbox page (the secretariat's dashboard, with the demo login) shows them all
        status, page, _ = browser.get(f"{base}/sekretariat/login")
        assert status == 200, "no login page for the secretariat"
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        fields = {"csrf_token": token.group(1), "name": "demo", "password": "socialaftale"}
        status, page, _ = browser.post(f"{base}/sekretariat/login", fields)
        assert status == 200, "the demo login was refused"
        status, page, _ = browser.get(f"{base}/sekretariat/udbakke?kind=invitation")
        assert status == 200
        shown = html.unescape(page)
        assert all(name in shown for name in names.values()), "invitations missing"
        opens = re.findall(r'href="(/sekretariat/udbakke/\d+/svarlink)"', page)
        assert len(opens) >= PARTIES, "no personal link to open on the outbox page"
        status, page, landed = browser.get(base + opens[0])
        assert status == 200 and "/svar/" in landed
        assert any(name in html.unescape(page) for name in names.values())
        outbox_page = "shows them; its link opened the questionnaire"

    assert proc.proc is not None
    proc.proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.proc.wait(timeout=60) == 0
    assert "action=scheduler_stopped" in proc.stderr()
    assert "Traceback" not in proc.stderr()
    with capsys.disabled():
        print(
            f"\n[make run] invitations to all {PARTIES} parties {first_invitations:.1f} s "
            f"after start (web app: {'yes' if has_web else 'not installed'}; "
            f"outbox page: {outbox_page})"
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # hand the 303 back: the test reads its Location


@pytest.mark.parametrize("how", ["flag", "AFTALEFLOW_BIND"])
def test_make_run_with_bind_uses_that_address_in_the_banner_mails_and_outbox(
    tmp_path: Path, schedulers: list[SchedulerProcess], how: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    var = tmp_path / "var"
    args = [*make_run_arguments(), "--speed", "8d"]  # the invitations in about 12 s
    if how == "flag":
        args += ["--bind", f"127.0.0.1:{port}"]
        env = scheduler_env(var)  # no AFTALEFLOW_BASE_URL
    else:
        env = scheduler_env(var, AFTALEFLOW_BIND=f"127.0.0.1:{port}")
    proc = SchedulerProcess(args, env, tmp_path / "logs", "make-run").start()
    schedulers.append(proc)

    poll(lambda: "Stop med Ctrl-C" in proc.stdout(), 60, f"no banner:\n{proc.stderr()}")
    banner = proc.stdout()
    assert f"Web:       {base}/" in banner
    assert f"(sekretariatet: {base}/sekretariat/)" in banner
    assert "8000" not in banner

    def invitation_link() -> str | None:
        for path in sorted((var / "mail").glob("*.eml")):
            msg = cast(EmailMessage, message_from_bytes(path.read_bytes(), policy=policy.default))
            body = msg.get_body(("plain",))
            if "/invitation/" in str(msg["X-Aftaleflow-Key"] or "") and body is not None:
                found = re.search(r"https?://[^\s/]+/svar/[\w-]+", body.get_content())
                return found.group(0) if found else None
        return None

    link = poll(invitation_link, 60, f"no invitation in var/mail:\n{proc.stderr()}")
    assert link.startswith(f"{base}/svar/")

    # the outbox's "Åbn svarlinket" sends the admin to the same address
    jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    browser = Browser()
    browser.opener = urllib.request.build_opener(jar)
    _, page, _ = browser.get(f"{base}/sekretariat/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    fields = {"csrf_token": token.group(1), "name": "demo", "password": "socialaftale"}
    assert browser.post(f"{base}/sekretariat/login", fields)[0] == 200
    _, page, _ = browser.get(f"{base}/sekretariat/udbakke?kind=invitation")
    opens = re.findall(r'href="(/sekretariat/udbakke/\d+/svarlink)"', page)
    assert opens, "no personal link to open on the outbox page"
    no_follow = urllib.request.build_opener(jar, _NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as answer:
        no_follow.open(base + opens[0], timeout=10)
    with answer.value as redirect:
        assert redirect.code == 303
        assert str(redirect.headers["Location"]).startswith(f"{base}/svar/")

    assert proc.terminate() == 0
    assert "Traceback" not in proc.stderr()


def test_base_url_wins_over_bind(tmp_path: Path, schedulers: list[SchedulerProcess]) -> None:
    port = free_port()
    public = "https://aftaleflow.kkr-nordjylland.example"
    env = scheduler_env(tmp_path / "var", AFTALEFLOW_BASE_URL=public)
    args = [*make_run_arguments(), "--bind", f"127.0.0.1:{port}"]
    proc = SchedulerProcess(args, env, tmp_path / "logs", "make-run").start()
    schedulers.append(proc)

    poll(lambda: "Stop med Ctrl-C" in proc.stdout(), 60, f"no banner:\n{proc.stderr()}")
    assert f"Web:       {public}/" in proc.stdout()
    assert f"web app on http://127.0.0.1:{port}" in proc.stderr()  # it listens on --bind
    assert proc.terminate() == 0
