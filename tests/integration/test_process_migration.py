"""Moving a running process to a new version of its definition (``workflow.process_migration``):
the scenario of issue 13 on SQLite and PostgreSQL. A question added before the questionnaire
is sent: the preview changes nothing, the move is one event with both hashes, and the report
shows the questions each party answered. A question changed after it was sent: a new version
for those who have not submitted, and every answer keeps the version it answered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import ROOT
from tests.whatif_support import run_demo_until
from workflow.definition_upload import load_new_version
from workflow.errors import GuardRefused
from workflow.process_migration import MIGRATED, apply_migration, current, preview
from workflow.report import compiled_report
from workflow.service import Service, bound_for
from workflow.storage.db import Database
from workflow.storage.models import AnswerRow, EventRow, OutboxRow, ProcessRow, StageRow

KEY = "demo-socialaftale-2022"
STAGE = "fagudvalg-spoergsmaal"
SECRET = "s" * 32
NEW_QUESTION = """      - id: vision-eksempel
        type: text
        label: Giv et eksempel på egenmestring fra udvalgets kommune
        required: false
"""
ANCHOR = "      - id: fokusomraader-prioritet\n"


def questionnaire_file(tmp_path: Path, extra: str = NEW_QUESTION, name: str = "q.yaml") -> Path:
    body = (ROOT / "definitions" / "questionnaires" / "fagudvalg.yaml").read_text()
    path = tmp_path / name
    path.write_text(body.replace(ANCHOR, extra + ANCHOR, 1))
    return path


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2022, month, day, hour, 0, tzinfo=UTC)


def row_version(db: Database) -> tuple[int, str]:
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        assert row is not None
        return row.row_version, row.definition_hash


def answer(svc: Service, party: str, when: datetime, **data: object) -> None:
    svc.submit_answer(KEY, STAGE, party, dict(data), at=when, actor=party)


def test_a_question_added_before_the_questionnaire_is_sent(db: Database, tmp_path: Path) -> None:
    svc = Service(db, link_secret=SECRET)
    run_demo_until(svc, at(3, 10))
    old, year, _ = current(db, KEY)
    new = load_new_version(old, questionnaire_file(tmp_path), year)
    before = row_version(db)

    pv = preview(db, KEY, new, now=at(3, 10), link_secret=SECRET)

    assert pv.plan.allowed and pv.plan.bumped == {}
    assert [(c.area, c.what, c.ident) for c in pv.plan.changes] == [
        ("question", "added", f"{STAGE}.vision-eksempel")
    ]
    assert pv.mails is not None and pv.mails.unchanged and pv.mails.before > 100
    assert row_version(db) == before  # the preview wrote nothing

    plan = apply_migration(svc, KEY, new, at=at(3, 10), actor="test", reason="et eksempel")

    with db.sessions() as s:
        events = s.scalars(select(EventRow).where(EventRow.kind == MIGRATED)).all()
    assert [(e.data["old_hash"], e.data["new_hash"]) for e in events] == [(old.hash, new.hash)]
    assert row_version(db) == (before[0] + 1, plan.new.hash)

    run_demo_until(svc, at(4, 5))  # KKR meets, the questionnaire goes out on 4 April
    answer(svc, "aalborg", at(4, 6), **{"vision-egenmestring": 4, "vision-eksempel": "Borgerråd"})
    answer(svc, "hjorring", at(4, 6), **{"vision-egenmestring": 3})

    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        assert row is not None
        report = compiled_report(s, row, bound_for(row), STAGE)
    lines = {x.party: x for x in report.synthesis.coverage.lines}
    label = "Giv et eksempel på egenmestring fra udvalgets kommune"
    assert label in lines["aalborg"].answered and label not in lines["hjorring"].answered
    assert lines["aalborg"].answered[0].startswith("I hvilken grad kan udvalget")
    assert lines["aalborg"].questionnaire_version == 1 == lines["hjorring"].questionnaire_version


def test_a_question_changed_after_it_was_sent_is_a_new_version(
    db: Database, tmp_path: Path
) -> None:
    svc = Service(db, link_secret=SECRET)
    run_demo_until(svc, at(4, 5))
    answer(svc, "aalborg", at(4, 6), **{"vision-egenmestring": 4})
    old, year, _ = current(db, KEY)
    new = load_new_version(old, questionnaire_file(tmp_path), year)

    pv = preview(db, KEY, new, now=at(4, 7), link_secret=SECRET)
    assert pv.mails is not None
    assert sorted((m.kind, m.party) for m in pv.mails.new) == sorted(
        ("invitation", p) for p in old.participants if p != "aalborg"
    )  # the new version goes out to every party that has not submitted
    assert pv.mails.gone == []

    plan = apply_migration(svc, KEY, new, at=at(4, 7), actor="test", reason="nyt spørgsmål")

    assert plan.bumped == {"fagudvalg": (1, 2)}
    with db.sessions() as s:
        again = s.scalars(
            select(OutboxRow.party).where(
                OutboxRow.kind == "invitation", OutboxRow.stage_id == STAGE, OutboxRow.seq == 1
            )
        ).all()
    assert sorted(again) == sorted(p for p in old.participants if p != "aalborg")
    answer(svc, "hjorring", at(4, 8), **{"vision-egenmestring": 2, "vision-eksempel": "Mere"})
    with db.sessions() as s:
        versions = dict(
            s.execute(select(AnswerRow.party, AnswerRow.questionnaire_version)).tuples().all()
        )
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == KEY))
        assert row is not None
        report = compiled_report(s, row, bound_for(row), STAGE)
        event = s.scalar(select(EventRow).where(EventRow.kind == MIGRATED))
    assert versions == {"aalborg": 1, "hjorring": 2}
    cov = report.synthesis.coverage
    assert cov.questionnaire_version == 2
    lines = {x.party: x.questionnaire_version for x in cov.lines}
    assert lines["aalborg"] == 1 and lines["hjorring"] == 2
    assert event is not None and event.data["questionnaire_versions"] == {"fagudvalg": [1, 2]}


def test_removing_a_completed_stage_is_refused_and_writes_nothing(
    db: Database, tmp_path: Path
) -> None:
    svc = Service(db, link_secret=SECRET)
    run_demo_until(svc, at(3, 10))
    body = (ROOT / "definitions" / "processes" / "socialaftale.yaml").read_text()
    cut = body[: body.index("  - id: das-fokus")] + body[body.index("  - id: kkr-") :]
    tree = tmp_path / "definitions"
    for folder in ("processes", "parties", "questionnaires"):
        (tree / folder).mkdir(parents=True)
        for f in (ROOT / "definitions" / folder).glob("*.yaml"):
            (tree / folder / f.name).write_text(f.read_text())
    (tree / "processes" / "socialaftale.yaml").write_text(cut)
    old, year, _ = current(db, KEY)
    new = load_new_version(old, tree / "processes" / "socialaftale.yaml", year)
    before = row_version(db)

    with pytest.raises(GuardRefused) as refused:
        apply_migration(svc, KEY, new, at=at(3, 10), actor="test", reason="DAS udgår")

    assert "fasen 'das-fokus' er afsluttet" in str(refused.value)
    assert "a completed stage cannot be removed" in (refused.value.en or "")
    assert row_version(db) == before


EXTRA_MEETING = """  - id: ekstra-moede
    kind: meeting
    name: Ekstra møde i Socialpolitisk Dialogforum
    forum: Socialpolitisk Dialogforum
    action: Opfølgning på dialogforum
    opens: Y-08-01
    closes: Y-08-31
    meeting:
      id: ekstra
      title: Ekstra dialogforum
      date: Y-08-17
      time: "14:00"
      duration_minutes: 120
      location: Aalborg
    invite: [director]

"""


def test_a_stage_added_and_one_removed_show_in_the_mail_plan(db: Database, tmp_path: Path) -> None:
    """Before anything of them has begun: the workshops go (their sign-up mails disappear),
    an extra meeting comes (its invitations appear), and the move adds and drops the rows."""
    svc = Service(db, link_secret=SECRET)
    run_demo_until(svc, at(3, 10))
    body = (ROOT / "definitions" / "processes" / "socialaftale.yaml").read_text()
    body = (
        body[: body.index("  - id: workshops")]
        + EXTRA_MEETING
        + body[body.index("  - id: kkr-anbefaler") :]
    )
    tree = tmp_path / "definitions"
    for folder in ("processes", "parties", "questionnaires"):
        (tree / folder).mkdir(parents=True)
        for f in (ROOT / "definitions" / folder).glob("*.yaml"):
            (tree / folder / f.name).write_text(f.read_text())
    (tree / "processes" / "socialaftale.yaml").write_text(body)
    old, year, _ = current(db, KEY)
    new = load_new_version(old, tree / "processes" / "socialaftale.yaml", year)

    pv = preview(db, KEY, new, now=at(3, 10), link_secret=SECRET)

    assert pv.plan.allowed
    assert {(c.what, c.ident) for c in pv.plan.changes if c.area == "stage"} == {
        ("added", "ekstra-moede"),
        ("removed", "workshops"),
    }
    assert pv.mails is not None
    assert {m.stage for m in pv.mails.gone} == {"workshops"}
    assert sorted(m.party for m in pv.mails.new if m.kind == "meeting_invitation") == sorted(
        old.participants
    )
    assert {m.stage for m in pv.mails.new} == {"ekstra-moede"}

    apply_migration(svc, KEY, new, at=at(3, 10), actor="test", reason="ekstra møde")

    with db.sessions() as s:
        pid = s.scalar(select(ProcessRow.id).where(ProcessRow.key == KEY))
        stages = dict(
            s.execute(select(StageRow.stage_id, StageRow.seq).where(StageRow.process_id == pid))
            .tuples()
            .all()
        )
    assert stages["ekstra-moede"] == 4 and "workshops" not in stages
    assert sorted(stages.values()) == list(range(len(stages)))
