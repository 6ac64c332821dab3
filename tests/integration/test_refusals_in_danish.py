"""A refused action says why in Danish (issue 11 point 19): on the command line after
"Fejl:", on the dashboard in Danish, and in English when the dashboard is shown in English.
SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aftaleflow.cli import main
from tests.browser.support import AFTER_INVITATIONS, run_until
from workflow.loader import Bundle
from workflow.storage.db import Database

from .dashboard_support import PROCESS, Dash, dashboard

WORKSHOPS = "»Faglige workshops for hvert fokusområde«"
DIALOGFORUM = "»Socialpolitisk Dialogforum«"


@pytest.fixture
def invited(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, AFTER_INVITATIONS) as d:
        d.login()
        yield d


def test_a_refused_dashboard_action_says_why_in_danish_and_in_english(invited: Dash) -> None:
    d = invited
    url = f"{PROCESS}/fase/workshops/aabn"
    r = d.form(url, {"reason": "Vi vil gerne i gang"})
    assert r.status_code == 409
    assert "Handlingen blev afvist:" in r.text
    assert f"Fasen {WORKSHOPS} åbner først, når {DIALOGFORUM} er afsluttet." in r.text
    assert "opens after" not in r.text

    d.client.get(f"{PROCESS}?lang=en")  # the secretariat switches to English
    r = d.form(url, {"reason": "We want to start"})
    assert r.status_code == 409
    assert f"The stage {WORKSHOPS} opens after {DIALOGFORUM}, which is not finished." in r.text
    assert "åbner først" not in r.text

    r = d.form(f"{PROCESS}/fase/das-fokus/resultat", {"outcome": "held", "reason": "x"})
    assert r.status_code == 409
    assert "an outcome can only be recorded while it is open" in r.text


def test_a_refused_command_prints_one_danish_line(
    db: Database,
    socialaftale: Bundle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_until(db, socialaftale, AFTER_INVITATIONS)
    monkeypatch.setenv("AFTALEFLOW_DATABASE_URL", db.url)
    monkeypatch.setenv("AFTALEFLOW_VAR_DIR", str(tmp_path / "var"))

    code = main(["record", "outcome", "das-fokus", "--outcome", "held", "--at", "2022-04-05T10:00"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (
        "Fejl: Fasen »DAS Social drøfter fokusområder og vision« er afsluttet; et resultat kan "
        "kun registreres, mens den er åben."
    )

    args = ["politisk-godkendelse", "aalborg", "socialudvalg", "--decision", "approved"]
    code = main(["record", "approval", *args, "--at", "2022-04-05T10:00"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert (
        "Fejl: Fasen »Aftalen godkendes politisk« er ikke åbnet endnu; godkendelser "
        "registreres, mens den er åben." in err
    )

    code = main(["record", "outcome", "no-such-stage", "--outcome", "held"])
    assert code == 2 and "Fejl:" in capsys.readouterr().err
