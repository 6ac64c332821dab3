"""The agreement's path (issue 16, item 6): the KKR decision that recommends the agreement
records which version it recommended (by default the newest, or the one chosen); putting up
for approval offers that version and says so when another is put up; the process page shows
draft → KKR → councils → Socialstyrelsen with the version at each step."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from aftaleflow.cli import cli
from tests.browser.support import APPROVAL, KEY, SECRET, docx_bytes, pdf_bytes
from workflow.calendar import TZ
from workflow.errors import GuardRefused, NotFound
from workflow.loader import Bundle
from workflow.service import Service
from workflow.storage.db import Database
from workflow.storage.models import StageRow

from .dashboard_support import PROCESS, Dash, dashboard

KKR = "kkr-anbefaler"
V1 = pdf_bytes("Nordjysk Socialaftale 2023-24, udkast 1")
V2 = docx_bytes()
SHA1, SHA2 = hashlib.sha256(V1).hexdigest(), hashlib.sha256(V2).hexdigest()
DOCUMENT = f"{PROCESS}/dokument"
OUTCOME = f"{PROCESS}/fase/{KKR}/resultat"
#: KKR's stage is open (1 November 2022); it meets on 4 November; approvals open 7 November.
KKR_OPEN = datetime(2022, 11, 2, 10, 0, tzinfo=TZ)


@pytest.fixture
def kkr(db_url: str, db: Database, socialaftale: Bundle, tmp_path: Path) -> Iterator[Dash]:
    with dashboard(db_url, db, socialaftale, tmp_path, KKR_OPEN) as d:
        d.login()
        for content, name in ((V1, "aftale-udkast-1.pdf"), (V2, "aftale-2.docx")):
            r = d.upload(DOCUMENT, {"file": (io.BytesIO(content), name), "note": "Udkast"})
            assert r.status_code == 303
        yield d


def _service(d: Dash) -> Service:
    return Service(d.db, link_secret=SECRET)


def _outcome(d: Dash) -> dict[str, object]:
    with d.db.sessions() as s:
        row = s.scalar(select(StageRow).where(StageRow.stage_id == KKR))
        assert row is not None and row.outcome is not None
        return row.outcome


def _run_to(d: Dash, until: datetime) -> None:
    service = _service(d)
    while (due := service.next_due()) is not None and due <= until:
        service.tick(due)
    d.clock.set(until)


def _approve(d: Dash, at: datetime, skip: tuple[str, str] | None = None) -> None:
    service = _service(d)
    for party in d.bundle.participants:
        region = d.bundle.parties.get(party).kind == "region"
        for step in ["regionsraad"] if region else ["socialudvalg", "byraad"]:
            if (party, step) != skip:
                service.record_approval(
                    KEY, APPROVAL, party, step, decision="approved", at=at, actor=party
                )


def _row(html: str, party: str, body: str) -> str:
    return html.split(f'data-party="{party}" data-body="{body}"')[1].split("</tr>")[0]


def test_the_decision_records_the_newest_version_by_default(kkr: Dash) -> None:
    service = _service(kkr)
    with pytest.raises(NotFound, match="ingen version 7 af aftalen"):
        service.record_outcome(
            KEY, KKR, outcome="approved", document_version=7, at=KKR_OPEN, actor="t"
        )
    with pytest.raises(GuardRefused, match="kun med resultatet approved"):
        service.record_outcome(KEY, KKR, outcome="held", document_version=1, at=KKR_OPEN, actor="t")
    service.record_outcome(
        KEY, KKR, outcome="approved", text="KKR anbefaler", at=KKR_OPEN, actor="t"
    )
    document = _outcome(kkr)["document"]
    assert document == {"version": 2, "sha256": SHA2, "filename": "aftale-2.docx"}
    (event,) = [e for e in kkr.events("outcome_recorded") if e.stage_id == KKR]
    assert event.data["document"]["version"] == 2
    assert service.recommended_version(KEY)["sha256"] == SHA2


def test_kkr_recommends_a_chosen_version_and_approval_offers_it(kkr: Dash) -> None:
    form = kkr.client.get(OUTCOME).text
    assert 'name="document_version" value="2" checked' in form  # the newest by default
    assert 'value="1"' in form and "Version 1 (aftale-udkast-1.pdf)" in form
    r = kkr.form(
        OUTCOME,
        {"outcome": "approved", "text": "KKR anbefaler aftalen", "document_version": "1",
         "reason": "KKR-mødet 4. november"},
    )  # fmt: skip
    assert r.status_code == 303, r.text[:2000]
    assert _outcome(kkr)["document"]["version"] == 1

    page = kkr.client.get(DOCUMENT).text
    assert "KKR anbefalede version 1." in page
    assert f"{DOCUMENT}/1/til-godkendelse" in page  # the recommended version is offered
    warned = kkr.client.get(f"{DOCUMENT}/2/til-godkendelse").text
    assert "anbefalede version 1, ikke version 2" in warned
    assert "anbefalede version" not in kkr.client.get(f"{DOCUMENT}/1/til-godkendelse").text
    r = kkr.form(f"{DOCUMENT}/2/til-godkendelse", {"reason": "Ved en fejl"})
    assert r.status_code == 303
    assert "anbefalede version 1, ikke version 2" in kkr.client.get(DOCUMENT).text  # told
    (put,) = kkr.events("document_put_up_for_approval")
    assert put.data["differs_from_recommended"] is True and put.data["recommended_version"] == 1
    assert 'data-testid="path-differs"' in kkr.client.get(PROCESS).text

    # Aalborg's socialudvalg approves version 2; then version 1 (KKR's) goes up instead.
    _run_to(kkr, datetime(2022, 11, 7, 12, 0, tzinfo=TZ))
    at = datetime(2022, 11, 8, 10, 0, tzinfo=TZ)
    _service(kkr).record_approval(
        KEY, APPROVAL, "aalborg", "socialudvalg", decision="approved", at=at, actor="aalborg"
    )
    r = kkr.form(f"{DOCUMENT}/1/til-godkendelse", {"reason": "KKR's version"})
    assert r.status_code == 303
    _approve(kkr, datetime(2022, 11, 9, 10, 0, tzinfo=TZ), skip=("aalborg", "socialudvalg"))

    html = kkr.client.get(PROCESS).text
    path = html.split('data-testid="agreement-path"')[1].split("</ol>")[0]
    recommended = path.split('data-testid="recommended-version"')[1].split("</span>")[0]
    assert "version 1" in recommended and SHA1[:12] in recommended
    assert 'data-testid="path-differs"' not in path
    assert "version 2" in _row(path, "aalborg", "socialudvalg")
    assert SHA2[:12] in _row(path, "aalborg", "socialudvalg")
    for party, body in [("aalborg", "byraad"), ("laeso", "socialudvalg"), ("laeso", "byraad"),
                        ("region-nordjylland", "regionsraad")]:  # fmt: skip
        row = _row(path, party, body)
        assert "version 1" in row and SHA1[:12] in row, (party, body)
    assert len(re.findall(r'data-party="[^"]+" data-body=', path)) == 23


def test_the_path_ends_with_the_version_sent_to_socialstyrelsen(kkr: Dash, tmp_path: Path) -> None:
    service = _service(kkr)
    service.record_outcome(KEY, KKR, outcome="approved", document_version=1, at=KKR_OPEN, actor="t")
    runner = CliRunner()  # the CLI puts up the recommended version by default
    env = {
        "AFTALEFLOW_DATABASE_URL": kkr.db.url,
        "AFTALEFLOW_SECRET_KEY": SECRET,
        "AFTALEFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    result = runner.invoke(
        cli, ["document", "approve-version", "--reason", "KKR", "--at", "2022-11-03T10:00"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "Version 1" in result.output and "Bemærk" not in result.output
    _run_to(kkr, datetime(2022, 11, 7, 12, 0, tzinfo=TZ))
    _approve(kkr, datetime(2022, 11, 8, 10, 0, tzinfo=TZ))
    _run_to(kkr, datetime(2022, 12, 6, 12, 0, tzinfo=TZ))
    path = kkr.client.get(PROCESS).text.split('data-testid="agreement-path"')[1]
    submitted = path.split('data-testid="submitted-version"')[1].split("</span>")[0]
    assert "version 1" in submitted and SHA1[:12] in submitted
