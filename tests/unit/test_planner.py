"""The planner is a pure function: definition + state + moment → actions. No database here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from workflow.calendar import local_to_utc
from workflow.loader import Bundle
from workflow.planner import (
    COMPLETE_STAGE,
    ESCALATE,
    INVITE,
    MARK_OVERDUE,
    OPEN_STAGE,
    REMIND,
    REQUEST_APPROVAL,
    SKIP_REMINDER,
    ProcessView,
    StageView,
    TaskView,
    plan,
)
from workflow.timeline import BoundProcess, bind

Q = "fagudvalg-spoergsmaal"
A = "politisk-godkendelse"
DEADLINE = date(2022, 5, 20)


@pytest.fixture(scope="module")
def bound(socialaftale: Bundle) -> BoundProcess:
    return bind(socialaftale, 2022)


def local(d: str, hour: int = 9, minute: int = 0) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour, minute))


def stages(**status: str) -> dict[str, StageView]:
    ids = [
        "das-fokus",
        "kkr-igangsaetter",
        Q,
        "dialogforum",
        "workshops",
        "kkr-anbefaler",
        A,
        "socialstyrelsen",
    ]
    closed = datetime(2022, 1, 1, tzinfo=UTC)
    out = {}
    for sid in ids:
        st = status.get(sid.replace("-", "_"), "pending")
        out[sid] = StageView(
            sid,
            st,
            opened_at=closed if st != "pending" else None,
            closed_at=closed if st == "completed" else None,
        )
    return out


def questionnaire_open(**task: object) -> ProcessView:
    t = TaskView(Q, "laeso", "", 0, "invited", DEADLINE, last_mail_at=local("2022-04-04"))
    t = replace(t, **task)  # type: ignore[arg-type]
    return ProcessView(
        "running",
        stages(das_fokus="completed", kkr_igangsaetter="completed", fagudvalg_spoergsmaal="open"),
        {t.key: t},
    )


def kinds(actions: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return [(a.kind, a.n) for a in actions]


def test_the_first_stage_opens_on_its_date_at_the_office_hour(bound: BoundProcess) -> None:
    view = ProcessView("running", stages())
    assert plan(bound, view, local("2022-01-07")).actions == []
    p = plan(bound, view, local("2022-01-10", 9))
    assert kinds(p.actions) == [(OPEN_STAGE, 0)]
    assert p.actions[0].due_at == local("2022-01-10", 9)


def test_a_meeting_stage_waits_for_its_outcome_however_late_it_is(bound: BoundProcess) -> None:
    view = ProcessView("running", stages(das_fokus="open"))
    p = plan(bound, view, local("2022-12-31"))
    assert p.actions == [] and p.next_due is None


def test_nothing_is_due_before_the_next_moment_it_reports(bound: BoundProcess) -> None:
    view = questionnaire_open()
    p = plan(bound, view, local("2022-04-05"))
    assert p.actions == []
    assert p.next_due == local("2022-05-10")  # reminder 1: 7 working days before 20 May
    assert kinds(plan(bound, view, p.next_due).actions) == [(REMIND, 1)]


def test_pending_task_is_invited_at_the_send_date(bound: BoundProcess) -> None:
    view = questionnaire_open(status="pending", last_mail_at=None)
    assert plan(bound, view, local("2022-04-01", 12)).actions == []
    assert kinds(plan(bound, view, local("2022-04-04", 9)).actions) == [(INVITE, 0)]


def test_submitted_or_exempt_parties_get_no_reminders(bound: BoundProcess) -> None:
    for status in ("submitted", "late", "exempt"):
        p = plan(bound, questionnaire_open(status=status), local("2022-05-30"))
        assert all(a.party != "laeso" for a in p.actions), status


def test_overdue_after_the_deadline_day_then_reminder_then_escalation(bound: BoundProcess) -> None:
    view = questionnaire_open(reminders_done=2, last_mail_at=local("2022-05-18"))
    assert plan(bound, view, local("2022-05-20", 23, 59)).actions == []
    assert kinds(plan(bound, view, local("2022-05-21", 0, 1)).actions) == [(MARK_OVERDUE, 0)]
    overdue = questionnaire_open(
        status="overdue", reminders_done=2, last_mail_at=local("2022-05-18")
    )
    assert kinds(plan(bound, overdue, local("2022-05-23")).actions) == [(REMIND, 3)]
    escalating = replace(
        overdue.tasks[(Q, "laeso", "")], reminders_done=3, last_mail_at=local("2022-05-23")
    )
    view = replace(overdue, tasks={escalating.key: escalating})
    assert kinds(plan(bound, view, local("2022-05-25")).actions) == [(ESCALATE, 0)]
    done = replace(escalating, escalated=True)
    assert plan(bound, replace(view, tasks={done.key: done}), local("2022-05-30")).actions == []


def test_a_reminder_within_the_minimum_gap_is_skipped(bound: BoundProcess) -> None:
    view = questionnaire_open(last_mail_at=local("2022-05-09"))  # re-sent the day before
    p = plan(bound, view, local("2022-05-10"))
    assert kinds(p.actions) == [(SKIP_REMINDER, 1)]
    assert "2 dage" in p.actions[0].reason


def test_after_downtime_an_overtaken_reminder_is_skipped_not_sent(bound: BoundProcess) -> None:
    p = plan(bound, questionnaire_open(), local("2022-05-19"))
    assert kinds(p.actions) == [(SKIP_REMINDER, 1)]
    assert p.actions[0].due_at == local("2022-05-10")


def test_an_extended_deadline_moves_the_pending_reminders(bound: BoundProcess) -> None:
    view = questionnaire_open(deadline=date(2022, 6, 3))
    p = plan(bound, view, local("2022-05-10"))
    assert p.actions == []
    assert p.next_due == local("2022-05-24")


def test_the_questionnaire_stage_closes_on_its_date(bound: BoundProcess) -> None:
    view = questionnaire_open(status="submitted")
    assert plan(bound, view, local("2022-06-03", 12)).actions == []
    assert kinds(plan(bound, view, local("2022-06-04", 0)).actions) == [(COMPLETE_STAGE, 0)]


def approval_view(*steps: TaskView) -> ProcessView:
    before = {
        k: "completed"
        for k in (
            "das_fokus",
            "kkr_igangsaetter",
            "fagudvalg_spoergsmaal",
            "dialogforum",
            "workshops",
            "kkr_anbefaler",
        )
    }
    return ProcessView(
        "running", stages(**before, politisk_godkendelse="open"), {s.key: s for s in steps}
    )


def test_the_byraad_is_asked_only_after_the_socialudvalg_approved(bound: BoundProcess) -> None:
    at = local("2022-11-08", 10)
    su = TaskView(A, "aalborg", "socialudvalg", 0, "requested", date(2022, 11, 30))
    br = TaskView(A, "aalborg", "byraad", 1, "pending", date(2022, 11, 30))
    assert plan(bound, approval_view(su, br), at).actions == []
    su_ok = replace(su, status="approved", decided_at=at)
    p = plan(bound, approval_view(su_ok, br), at)
    assert [(a.kind, a.step) for a in p.actions] == [(REQUEST_APPROVAL, "byraad")]


def test_approval_completes_only_when_every_chain_is_approved(bound: BoundProcess) -> None:
    at = local("2022-11-10", 10)
    done = [
        TaskView(A, p, "regionsraad", 0, "approved", None, decided_at=at - timedelta(hours=1))
        for p in ("region-nordjylland",)
    ]
    waiting = TaskView(A, "laeso", "byraad", 1, "requested", date(2022, 11, 30))
    first = TaskView(A, "laeso", "socialudvalg", 0, "approved", None, decided_at=at)
    p = plan(bound, approval_view(*done, first, waiting), at)
    assert COMPLETE_STAGE not in [a.kind for a in p.actions]
    p = plan(
        bound, approval_view(*done, first, replace(waiting, status="approved", decided_at=at)), at
    )
    assert [a.kind for a in p.actions] == [COMPLETE_STAGE]


def test_a_blocked_process_plans_nothing(bound: BoundProcess) -> None:
    view = replace(questionnaire_open(), status="blocked")
    assert plan(bound, view, local("2022-05-30")).actions == []


def test_the_approval_stage_waits_for_an_agreement_put_up_for_approval(
    bound: BoundProcess,
) -> None:
    """Issue 11 point 2: a council must know what it approves; the stage opens on its date
    only once a version is up, and nothing falls due for it meanwhile."""
    before = approval_view().stages | {A: StageView(A, "pending")}
    waiting = ProcessView("running", before)
    late = local("2022-11-20", 10)
    p = plan(bound, waiting, late)
    assert OPEN_STAGE not in [a.kind for a in p.actions]
    assert p.next_due is None
    up = replace(waiting, agreement_up=True)
    assert [(a.kind, a.stage) for a in plan(bound, up, late).actions] == [(OPEN_STAGE, A)]
