"""The whole 2022 cycle through the service, with the store reloaded between every step."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from workflow.calendar import is_working_day, to_local
from workflow.loader import Bundle
from workflow.service import Service
from workflow.simulation import simulate
from workflow.storage.db import Database
from workflow.storage.models import EventRow, OutboxRow, ProcessRow, StageRow, TaskRow

LATE = frozenset({"laeso", "morso"})


def test_whole_2022_cycle_with_reload_between_steps(db_url: str, socialaftale: Bundle) -> None:
    opened: list[Database] = [Database(db_url)]
    first = Service(opened[0], link_secret="test-secret")
    reloads = 0

    def fresh() -> Service:
        nonlocal reloads
        reloads += 1
        for old in opened:
            old.dispose()
        opened.clear()
        db = Database(db_url)
        opened.append(db)
        return Service(db, link_secret="test-secret")

    result = simulate(first, socialaftale, 2022, late=LATE, reload=fresh)
    assert reloads > 90  # every tick and every simulated person got a fresh store

    db = Database(db_url)
    with db.sessions() as s:
        process = s.scalar(select(ProcessRow))
        assert process is not None
        assert process.status == "completed"
        assert process.definition_hash == socialaftale.hash
        stages = list(s.scalars(select(StageRow).order_by(StageRow.seq)))
        assert [st.status for st in stages] == ["completed"] * 8
        months = [to_local(st.opened_at).month for st in stages if st.opened_at]
        assert months == [1, 3, 4, 6, 9, 11, 11, 12]
        tasks = list(s.scalars(select(TaskRow)))
        questionnaire = {t.party: t for t in tasks if t.kind == "questionnaire"}
        assert len(questionnaire) == 12
        assert {p for p, t in questionnaire.items() if t.status == "late"} == LATE
        assert all(t.status == "submitted" for p, t in questionnaire.items() if p not in LATE)
        approvals = [t for t in tasks if t.kind == "approval"]
        assert len(approvals) == 11 * 2 + 1  # socialudvalg + byråd in 11 kommuner, regionsråd
        assert all(t.status == "approved" for t in approvals)

        events = list(s.scalars(select(EventRow).order_by(EventRow.id)))
        kinds = Counter(e.kind for e in events)
        assert kinds["process_started"] == 1
        assert kinds["stage_opened"] == 8
        assert kinds["stage_completed"] == 8
        assert kinds["invited"] == 12
        assert kinds["answer_submitted"] == 12
        assert kinds["approval_requested"] == 23
        assert kinds["approval_approved"] == 23
        assert kinds["agreement_submitted"] == 1
        assert kinds["process_completed"] == 1
        escalated = {e.party for e in events if e.kind == "escalated"}
        assert escalated == LATE
        reminded = {e.party for e in events if e.kind == "reminded"}
        assert reminded == LATE

        # The agreement goes to Socialstyrelsen only after the last of the 23 approvals.
        last_approval = max(e.at for e in events if e.kind == "approval_approved")
        submitted = next(e for e in events if e.kind == "agreement_submitted")
        assert submitted.at >= last_approval
        assert submitted.data["approvals"] == 23

        # Every mail is planned for office hours on a working day.
        mails = list(s.scalars(select(OutboxRow)))
        assert mails
        for m in mails:
            local = to_local(m.send_after)
            assert is_working_day(local.date()), (m.kind, local)
            assert 9 <= local.hour < 16, (m.kind, local)
        keys = [m.idempotency_key for m in mails]
        assert len(keys) == len(set(keys))
        per_kind = Counter(m.kind for m in mails)
        assert per_kind["invitation"] == 12
        assert per_kind["escalation"] == 2
        assert per_kind["submission"] == 1
        assert per_kind["meeting_invitation"] == 12 * 3 + 12  # 3 workshops + dialogue forum
    assert result.final_status == "completed"
    db.dispose()
    for old in opened:
        old.dispose()


def test_a_changed_definition_file_does_not_touch_a_running_process(
    db: Database, socialaftale: Bundle, tmp_path: object
) -> None:
    svc = Service(db, link_secret="s")
    key = svc.start(socialaftale, 2022, at=datetime(2022, 1, 3, tzinfo=UTC))
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        assert row is not None
        snapshot = row.definition_snapshot
    # the process keeps running on its stored snapshot, whatever happens to the file
    assert Bundle.from_snapshot(snapshot).hash == socialaftale.hash
    svc.tick(datetime(2022, 1, 10, 12, tzinfo=UTC))
    with db.sessions() as s:
        row = s.scalar(select(ProcessRow).where(ProcessRow.key == key))
        assert row is not None and row.definition_snapshot == snapshot
