"""Dates that follow an earlier stage's recorded completion, and the values a decision
records for later stages (``workflow.follows``, ``workflow.decided``): binding with and without
actuals, the choice list and the workshops, and the refusals of wrong values."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from workflow.calendar import local_to_utc, to_local
from workflow.decided import decided_values
from workflow.errors import GuardRefused
from workflow.follows import Recorded, actuals_key, actuals_of
from workflow.loader import load_bundle
from workflow.timeline import bind, bound_definition

ROOT = Path(__file__).resolve().parents[2]
SOCIALAFTALE = ROOT / "definitions" / "processes" / "socialaftale.yaml"
RAMMEAFTALE = ROOT / "definitions" / "processes" / "rammeaftale-2018.yaml"
Q = "fagudvalg-spoergsmaal"
CHOSEN = ("socialpsykiatri", "velfaerdsteknologi", "rehabilitering")


def local(d: str, hour: int = 9) -> datetime:
    return local_to_utc(date.fromisoformat(d), time(hour))


def late_kkr() -> dict[str, Recorded]:
    """KKR's decision recorded three weeks late (Tuesday after Easter 2022), three areas."""
    return {"kkr-igangsaetter": Recorded(local("2022-04-19", 10), {"focus_areas": CHOSEN})}


def test_planned_dates_follow_kkrs_meeting_and_wait_for_its_decision() -> None:
    bound = bind(load_bundle(SOCIALAFTALE), 2022)
    q = bound.stage(Q)
    # KKR meets Friday 25 March: six working days later, eight weeks later (seed 004's spring)
    assert (q.send_at, q.deadline) == (local("2022-04-04"), date(2022, 5, 20))
    assert to_local(q.closes_at or local("2000-01-01")).date() == date(2022, 6, 3)
    assert q.planned and q.waits_on == ("kkr-igangsaetter",)
    assert bound.waiting(Q) == ("afventer KKR's beslutning", "awaiting KKR's decision")
    assert bound.waiting("workshops") == ("afventer KKR's beslutning", "awaiting KKR's decision")
    assert bound.waiting("dialogforum") is None and not bound.stage("dialogforum").planned
    # until recorded: the planned choice, the seed's three focus areas
    workshops = [e.id for e in bound.stage("workshops").events]
    assert workshops == ["socialpsykiatri", "den-gode-alderdom", "effektive-loesninger"]


def test_a_late_decision_moves_the_questionnaire_and_its_reminders() -> None:
    bound = bind(load_bundle(SOCIALAFTALE), 2022, late_kkr())
    q = bound.stage(Q)
    assert not q.planned and q.waits_on == ()
    assert bound.waiting(Q) is None
    assert q.send_at == local("2022-04-27")  # six working days after 19 April
    assert q.deadline == date(2022, 6, 14)  # eight weeks after 19 April
    assert to_local(q.closes_at or local("2000-01-01")).date() == date(2022, 6, 28)
    assert bound.reminder_moments(q, q.deadline) == (
        local("2022-06-02"),  # 7 working days before, over 2. pinsedag
        local("2022-06-10"),
        local("2022-06-15"),
    )
    assert bound.escalation_at(q, q.deadline) == local("2022-06-17")
    # the stages that do not follow KKR keep their dates
    plan = bind(load_bundle(SOCIALAFTALE), 2022)
    for sid in ("das-fokus", "dialogforum", "kkr-anbefaler", "politisk-godkendelse"):
        assert (bound.stage(sid).opens_at, bound.stage(sid).closes_at) == (
            plan.stage(sid).opens_at,
            plan.stage(sid).closes_at,
        )


def test_the_decided_areas_make_the_choice_list_and_the_workshops() -> None:
    bound = bind(load_bundle(SOCIALAFTALE), 2022, late_kkr())
    question = bound.bundle.questionnaires["fagudvalg"].question("fokusomraader-prioritet")
    assert [(o.value, o.label) for o in question.options] == [
        ("socialpsykiatri", "Sammen om en stærk socialpsykiatri"),
        ("velfaerdsteknologi", "Velfærdsteknologi"),
        ("rehabilitering", "Rehabilitering"),
    ]
    events = {e.id: to_local(e.start).date() for e in bound.stage("workshops").events}
    assert events == {
        "socialpsykiatri": date(2022, 9, 21),
        "velfaerdsteknologi": date(2022, 9, 28),
        "rehabilitering": date(2022, 10, 19),
    }
    workshops = bound.stage("workshops").definition
    assert [w.focus_area for w in getattr(workshops, "workshops", [])] == list(CHOSEN)


def test_a_definition_without_a_deciding_kkr_keeps_its_own_options() -> None:
    bound = bind(load_bundle(RAMMEAFTALE), 2016)
    question = bound.bundle.questionnaires["fagudvalg"].question("fokusomraader-prioritet")
    assert [o.value for o in question.options] == [
        "den-gode-alderdom",
        "socialpsykiatri",
        "effektive-loesninger",
    ]
    assert all(not s.planned and not s.waits_on for s in bound.stages)


def test_actuals_are_kept_as_json_and_cached_by_their_content() -> None:
    bundle = load_bundle(SOCIALAFTALE)
    stored = {k: v.as_json() for k, v in late_kkr().items()}
    assert actuals_of(stored) == late_kkr()
    assert actuals_key(None) == "" and actuals_key(stored) != ""
    first = bound_definition(bundle.hash, 2022, bundle.snapshot, stored, bundle)
    assert bound_definition(bundle.hash, 2022, bundle.snapshot, dict(stored)) is first
    # another process recorded the same day, an hour later: the same binding, kept once
    later = {
        "kkr-igangsaetter": {
            **stored["kkr-igangsaetter"],
            "at": local("2022-04-19", 11).isoformat(),
        }
    }
    assert bound_definition(bundle.hash, 2022, bundle.snapshot, later) is first
    plain = bound_definition(bundle.hash, 2022, bundle.snapshot)
    assert plain is not first and plain.stage(Q).deadline == date(2022, 5, 20)
    assert first.stage(Q).deadline == date(2022, 6, 14)


def test_recording_values_refuses_what_the_decision_does_not_offer() -> None:
    kkr = load_bundle(SOCIALAFTALE).process.stage("kkr-igangsaetter")
    assert decided_values(kkr, "approved", {"focus_areas": list(CHOSEN)}) == {
        "focus_areas": list(CHOSEN)
    }
    with pytest.raises(GuardRefused, match="boern-og-unge er ikke en af mulighederne"):
        decided_values(kkr, "approved", {"focus_areas": ["boern-og-unge"]})
    with pytest.raises(GuardRefused, match=r"vælg 1 til 5 \(valgt: 0\)"):
        decided_values(kkr, "approved", {})
    with pytest.raises(GuardRefused, match="beslutter ikke fokus"):
        decided_values(kkr, "approved", {"fokus": ["socialpsykiatri"]})
    with pytest.raises(GuardRefused, match="kun med en beslutning, der er truffet"):
        decided_values(kkr, "postponed", {"focus_areas": ["socialpsykiatri"]})
    assert decided_values(kkr, "postponed", {}) == {}
    with pytest.raises(GuardRefused) as refused:
        decided_values(kkr, "approved", {"focus_areas": ["x"]})
    assert refused.value.en and "is not one of the options" in refused.value.en
