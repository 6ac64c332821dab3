"""When the report goes to the dialogue forum: the planner offers ``SEND_REPORT`` at the
office hour N Danish working days before the meeting, once, and never before the stage is
open. Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from workflow.calendar import local_to_utc
from workflow.definition import MeetingStage, SendReport
from workflow.loader import Bundle
from workflow.planner import SEND_REPORT, ProcessView, StageView, plan
from workflow.timeline import BoundProcess, bind

FORUM = "dialogforum"
DONE = ["das-fokus", "kkr-igangsaetter", "fagudvalg-spoergsmaal"]


@pytest.fixture(scope="module")
def bound(socialaftale: Bundle) -> BoundProcess:
    return bind(socialaftale, 2022)


def nine(d: str) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(9, 0))


def state(opened: datetime | None, *, sent: bool = False) -> ProcessView:
    past = datetime(2022, 1, 1, tzinfo=UTC)
    stages = {s: StageView(s, "completed", opened_at=past, closed_at=past) for s in DONE}
    status = "open" if opened else "pending"
    stages[FORUM] = StageView(FORUM, status, opened_at=opened, report_sent=sent)
    return ProcessView("running", stages)


def test_five_working_days_before_the_forum_of_15_june_2022_is_8_june(
    bound: BoundProcess,
) -> None:
    assert bound.report_at(bound.stage(FORUM)) == nine("2022-06-08")
    assert bound.report_at(bound.stage("das-fokus")) is None  # no send_report there


def test_the_days_are_danish_working_days(bound: BoundProcess) -> None:
    stage = bound.stage(FORUM)
    d = stage.definition
    assert isinstance(d, MeetingStage) and d.send_report is not None
    seven = replace(
        stage,
        definition=d.model_copy(
            update={"send_report": SendReport(source=d.send_report.source, working_days_before=7)}
        ),
    )
    # 15 June back over 14, 13, 10, 9, 8, 7 and 3 June: 6 June 2022 is 2. pinsedag.
    assert bound.report_at(seven) == nine("2022-06-03")


def test_planned_on_the_day_once(bound: BoundProcess) -> None:
    opened = nine("2022-06-07")
    before = plan(bound, state(opened), nine("2022-06-08") - timedelta(minutes=1))
    assert [a.kind for a in before.actions] == []
    assert before.next_due == nine("2022-06-08")
    due = plan(bound, state(opened), nine("2022-06-08"))
    assert [(a.kind, a.stage, a.due_at) for a in due.actions] == [
        (SEND_REPORT, FORUM, nine("2022-06-08"))
    ]
    assert plan(bound, state(opened, sent=True), nine("2022-06-09")).actions == []


def test_a_stage_opened_late_sends_when_it_opens(bound: BoundProcess) -> None:
    assert plan(bound, state(None), nine("2022-06-09")).actions[0].kind != SEND_REPORT
    late = nine("2022-06-10")
    due = plan(bound, state(late), late)
    assert [(a.kind, a.due_at) for a in due.actions] == [(SEND_REPORT, late)]
