"""When a workshop's sign-up closes and its reminder and minimum check fall due: working days
before, on the shipped definition bound to 2022 and 2024."""

from __future__ import annotations

from datetime import date

from tests.conftest import SOCIALAFTALE
from workflow.calendar import is_working_day, to_local
from workflow.loader import load_bundle
from workflow.planner import plan
from workflow.signup_rules import FLAG_WORKSHOP, REMIND_SIGNUP, signup_due, signup_windows
from workflow.timeline import bind
from workflow.views import ProcessView, StageView


def test_the_shipped_workshops_close_five_working_days_before() -> None:
    bound = bind(load_bundle(SOCIALAFTALE, reference_year=2022), 2022)
    windows = signup_windows(bound, bound.stage("workshops"))
    assert [w.id for w in windows] == [
        "socialpsykiatri",
        "den-gode-alderdom",
        "effektive-loesninger",
    ]
    first = windows[0]
    assert to_local(first.event.start).date() == date(2022, 9, 21)
    assert to_local(first.deadline).date() == date(2022, 9, 14)  # Wednesday a week before
    assert to_local(first.remind_at).date() == date(2022, 9, 9)  # 3 working days before that
    assert to_local(first.flag_at).date() == date(2022, 9, 7)  # 10 working days before
    assert first.rules.capacity == 40 and first.rules.minimum == 12


def test_every_moment_is_a_working_day_in_2024() -> None:
    bound = bind(load_bundle(SOCIALAFTALE, reference_year=2024), 2024)
    for w in signup_windows(bound, bound.stage("workshops")):
        for moment in (w.deadline, w.remind_at, w.flag_at):
            assert is_working_day(to_local(moment).date()), (w.id, moment)
        assert w.flag_at < w.event.start and w.remind_at < w.deadline < w.event.start


def test_the_planner_offers_each_once_while_the_stage_is_open() -> None:
    bound = bind(load_bundle(SOCIALAFTALE, reference_year=2022), 2022)
    bst = bound.stage("workshops")
    due = signup_due(bound, bst, None)
    assert sorted(k for k, _, w in due if w == "socialpsykiatri") == [FLAG_WORKSHOP, REMIND_SIGNUP]
    done = {"signup_reminded": ["socialpsykiatri"], "signup_flagged": ["socialpsykiatri"]}
    assert all(w != "socialpsykiatri" for _, _, w in signup_due(bound, bst, done))
    opened = bst.opens_at
    stages = {s.id: StageView(s.id, "completed", closed_at=opened) for s in bound.stages}
    stages["workshops"] = StageView("workshops", "open", opened_at=opened)
    view = ProcessView("running", stages)
    first = min(m for _, m, _ in due)
    got = plan(bound, view, first)
    assert [(a.kind, a.step) for a in got.actions] == [(FLAG_WORKSHOP, "socialpsykiatri")]
