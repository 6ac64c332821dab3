"""What the dashboard pages show: the overview with the timeline and today's marker, the
party × stage matrix, counts, the next mails, the overdue parties with how late, the
scheduler's last tick, the party page, the outbox and audit filters, and English."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from tests.browser.support import (
    AFTER_DEADLINE,
    AFTER_INVITATIONS,
    KEY,
    QUESTIONNAIRE,
    SECRET,
    Clock,
    build_app,
)
from web import close_app
from web.dashboard import timeline
from workflow.calendar import TZ
from workflow.loader import Bundle
from workflow.queries import process_status
from workflow.scheduling import record_tick
from workflow.service import Service, bound_for
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import ProcessRow

from .dashboard_support import ADMIN, ADMIN_PASSWORD, PROCESS, add_users, csrf_token, dashboard


def test_the_timeline_geometry(db: Database, socialaftale: Bundle) -> None:
    simulate(Service(db, link_secret=SECRET), socialaftale, 2022, until=AFTER_INVITATIONS)
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow))
        assert row is not None
        stages = process_status(s, row.key, bound_for(row)).stages
    tl = timeline.build(stages, AFTER_INVITATIONS)
    assert (tl.start, tl.end) == (date(2022, 1, 1), date(2023, 1, 1))
    assert [b.status for b in tl.bars][:3] == ["completed", "completed", "open"]
    assert all(timeline.LABEL_WIDTH <= b.x < b.x + b.width <= tl.width for b in tl.bars)
    q = tl.bars[2]
    assert q.deadline_x is not None and q.x < q.deadline_x < q.x + q.width
    assert tl.today_x is not None and q.x < tl.today_x < q.deadline_x
    assert [t.label for t in tl.ticks][:3] == ["jan 2022", "feb", "mar"]
    later = timeline.build(stages, datetime(2023, 3, 1, tzinfo=TZ), "en")
    assert later.today_x is None and later.ticks[0].label == "Jan 2022"
    for bar in tl.bars:  # every stage name whole, on one line or two, never cut
        assert " ".join(text for _, text in bar.lines) == bar.name
        assert 1 <= len(bar.lines) <= 2 and "…" not in bar.name
    long = next(
        b for b in tl.bars if b.name == "Den godkendte aftale fremsendes til Socialstyrelsen"
    )
    assert [text for _, text in long.lines] == [
        "Den godkendte aftale fremsendes til",
        "Socialstyrelsen",
    ]


def test_the_diagrams_speak_danish_and_english(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        da = html.unescape(d.client.get("/sekretariat/diagram").text)
        assert 'state "Afventer" as pending' in da and "requested --> approved: godkend" in da
        assert "trigger_" not in da and ": remind" not in da
        en = html.unescape(d.client.get("/sekretariat/diagram?lang=en").text)
        assert 'state "Pending" as pending' in en and "requested --> approved: approve" in en
        process = d.client.get(f"{PROCESS}?lang=en").text
        assert '<html lang="en">' in process
        assert '<tspan x="6" y=' in process and "Socialstyrelsen</tspan>" in process
        assert 'class="timeline__label" x="6" y="' in process and '" lang="da">' in process
        css = d.client.get("/sekretariat/static/dashboard.css")
        assert "min-width: 1000px" in css.text, "the timeline never shrinks its text"
        css.close()


def test_overview_and_process_page(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        home = d.client.get("/sekretariat/").text
        assert "Scheduleren har ikke kørt endnu." in home
        assert "Nordjysk Socialaftale 2023-2024" in home and "<svg" in home
        assert "timeline__today" in home
        report = Service(db, link_secret=SECRET).tick(AFTER_INVITATIONS)
        record_tick(db, report, AFTER_INVITATIONS)
        page = d.client.get(PROCESS).text
        assert "Scheduleren kørte senest 04.04.2022 kl. 09.30" in page
        matrix = page.split('id="matrix"')[1].split("</table>")[0]
        rows = re.findall(r'<tr data-party="([a-z-]+)">', matrix)
        assert len(rows) == 12
        assert matrix.count('<span class="badge badge--invited">Inviteret</span>') == 12
        assert matrix.count('<span class="badge badge--not_invited">Ikke inviteret</span>') == 12
        counts = page.split('id="counts"')[1].split("</ul>")[0]
        assert "Inviteret</span> <strong>12</strong>" in counts
        assert "Ingen parter er over fristen." in page
        upcoming = page.split('id="upcoming"')[1].split("</table>")[0]
        assert upcoming.count("Påmindelse nr. 1") == 12
        assert "10.05.2022 kl. 09.00" in upcoming
        assert "Alle parter" in upcoming  # the invitations of the stages to come
        en = d.client.get(f"{PROCESS}?lang=en").text
        assert '<html lang="en">' in en and "Parties and stages" in en and "Invited" in en
        assert "Next planned mails" in en
        d.client.get(f"{PROCESS}?lang=da")


def test_overdue_parties_with_how_late(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    service = Service(db, link_secret=SECRET)
    simulate(service, socialaftale, 2022, until=AFTER_DEADLINE, late=frozenset({"laeso", "morso"}))
    add_users(db, AFTER_DEADLINE)
    app = build_app(db_url, tmp_path / "uploads", Clock(AFTER_DEADLINE))
    try:
        client = app.test_client()
        token = csrf_token(client.get("/sekretariat/login").text)
        client.post(
            "/sekretariat/login",
            data={"csrf_token": token, "name": ADMIN, "password": ADMIN_PASSWORD},
        )
        page = client.get(PROCESS).text
        overdue = page.split('id="overdue"')[1].split("</table>")[0]
        assert "Læsø Kommune" in overdue and "Morsø Kommune" in overdue
        assert "4 dage (2 arbejdsdage)" in overdue  # 20 May → 24 May, Monday 23 counted
        matrix = page.split('id="matrix"')[1].split("</table>")[0]
        assert matrix.count("badge--overdue") == 2
        upcoming = page.split('id="upcoming"')[1].split("</table>")[0]
        assert upcoming.count("Eskalering") == 2
        party = client.get(f"{PROCESS}/part/laeso").text
        assert "Overskredet" in party and "Eskalering 25.05.2022 kl. 09.00" in party
        assert "Påmindelse nr. 3" in party  # the mails sent to it, with their status
        log = client.get(f"/sekretariat/log?process={KEY}&party=laeso&kind=overdue").text
        assert "Frist overskredet" in log and "laeso" in log
        dated = client.get("/sekretariat/log?fra=2022-05-21&til=2022-05-21").text
        assert "Viser 0 af 0." in dated  # a Saturday: nothing happened
        bad = client.get("/sekretariat/log?fra=21-05-2022").text
        assert "En dato i filteret er ikke gyldig" in bad
        outbox = client.get(f"/sekretariat/udbakke?process={KEY}&kind=reminder&party=laeso").text
        assert outbox.count('<tr id="mail-') == 3
    finally:
        close_app(app)


def test_the_party_page_shows_contacts_answers_and_versions(
    db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path
) -> None:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        service = Service(db, link_secret=SECRET)
        first = {"oevrige-oensker": "Første udgave", "fokusomraader-prioritet": "socialpsykiatri"}
        service.submit_answer(KEY, QUESTIONNAIRE, "rebild", first, at=AFTER_INVITATIONS, actor="r")
        second = {"oevrige-oensker": "Anden udgave"}
        service.submit_answer(KEY, QUESTIONNAIRE, "rebild", second, at=AFTER_INVITATIONS, actor="r")
        d.login()
        page = d.client.get(f"{PROCESS}/part/rebild").text
        assert "Rebild Kommune" in page and "socialudvalg@rebild.example" in page
        assert "version 2, indsendt" in page and "version 1, indsendt" in page
        assert page.index("Anden udgave") < page.index("Første udgave")
        assert "Sammen om en stærk socialpsykiatri" in page
        assert "Indsendt" in page
        assert d.client.get(f"{PROCESS}/part/ukendt").status_code == 404


def test_every_text_the_dashboard_uses_exists_in_danish_and_english() -> None:
    from web.dashboard import texts

    root = Path(texts.__file__).parent
    sources = [p.read_text() for p in root.rglob("*.py")]
    sources += [p.read_text() for p in (root / "templates").rglob("*.html")]
    literal = {
        key
        for source in sources
        for key in re.findall(r"""\bdt\(\s*["']([a-z0-9_]+)["']""", source)
        if not key.endswith("_")  # a prefix: dt("role_" ~ role), listed below
    }
    fields = {key for source in sources for key in re.findall(r'"((?:f|err)_[a-z_]+)"', source)}
    dynamic = {
        *(f"role_{r}" for r in ("admin", "viewer", "committee_secretary", "director")),
        "role_council_secretariat",
        *(f"mail_{s}" for s in ("queued", "sending", "sent", "failed", "cancelled")),
        *(f"machine_{m}" for m in ("process", "stage", "questionnaire_task", "approval_step")),
        *(f"{p}_{v}" for p in ("act", "done") for v in ("open", "close", "reopen")),
        *(f"{v}_intro" for v in ("open", "close", "reopen")),
        *(f"outcome_{o}" for o in ("held", "approved", "rejected", "postponed")),
        *(f"decision_{d}" for d in ("approved", "rejected", "postponed")),
        "login_title",
        "login_name",
        "login_password",
        "login_submit",
        "login_intro",
        "forbidden_title",
        "forbidden_text",
    }
    needed = literal | fields | dynamic
    assert not needed - set(texts.DA), sorted(needed - set(texts.DA))
    missing = sorted(needed - set(texts.EN))
    assert missing == [], missing
