"""The rules of moving a running process to a new definition (``workflow.migration``), and
the what-if slip (``workflow.fork``): pure, on the shipped definition bound to 2022."""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import deepcopy
from datetime import date
from typing import Any

import pytest

from workflow.errors import AftaleflowError
from workflow.fork import parse_slip, slip_stage
from workflow.loader import Bundle
from workflow.migration import Plan, Progress, plan_migration
from workflow.timeline import bind

QUESTIONS = "fagudvalg-spoergsmaal"
DONE = {"das-fokus": "completed", "kkr-igangsaetter": "completed"}
SENT = Progress({**DONE, QUESTIONS: "open"}, {QUESTIONS: {"aalborg", "laeso"}}, {})
BEFORE_SENDING = Progress({"das-fokus": "completed", "kkr-igangsaetter": "open"})


def edited(b: Bundle, edit: Callable[[dict[str, Any]], None]) -> Bundle:
    src = deepcopy(b.source)
    edit(src)
    return Bundle.from_snapshot(json.dumps(src, default=str))


def stage(src: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in src["process"]["stages"] if s["id"] == sid)


def first_question(src: dict[str, Any]) -> dict[str, Any]:
    q: dict[str, Any] = src["questionnaires"]["fagudvalg"]["sections"][0]["questions"][0]
    return q


def plan(b: Bundle, edit: Callable[[dict[str, Any]], None], progress: Progress) -> Plan:
    return plan_migration(b, edited(b, edit), 2022, progress)


def test_a_completed_stage_cannot_be_removed(socialaftale: Bundle) -> None:
    def drop(src: dict[str, Any]) -> None:
        src["process"]["stages"].pop(0)

    got = plan(socialaftale, drop, SENT)
    assert [(c.area, c.what, c.ident) for c in got.changes] == [("stage", "removed", "das-fokus")]
    assert [r.da for r in got.refusals] == [
        "fasen 'das-fokus' er afsluttet; historien skrives ikke om, så en afsluttet fase kan "
        "ikke fjernes"
    ]
    assert "history is never rewritten" in got.refusals[0].en


def test_a_completed_stage_cannot_be_re_dated(socialaftale: Bundle) -> None:
    def later(src: dict[str, Any]) -> None:
        stage(src, "das-fokus")["meeting"]["date"] = "Y-03-08"

    got = plan(socialaftale, later, SENT)
    assert [c.ident for c in got.changes] == ["das-fokus.event:das-marts"]
    assert "torsdag den 3. marts 2022" in got.changes[0].da
    assert not got.allowed and "kan ikke dateres om" in got.refusals[0].da


def test_a_stage_with_invitations_out_cannot_be_removed(socialaftale: Bundle) -> None:
    def drop(src: dict[str, Any]) -> None:
        src["process"]["stages"] = [s for s in src["process"]["stages"] if s["id"] != QUESTIONS]
        for s in src["process"]["stages"]:
            s.pop("send_report", None)

    got = plan(socialaftale, drop, SENT)
    assert any("en sendt invitation kan ikke trækkes tilbage" in r.da for r in got.refusals)


def test_the_sending_of_a_sent_questionnaire_cannot_move_but_its_deadline_can(
    socialaftale: Bundle,
) -> None:
    def resend(src: dict[str, Any]) -> None:
        stage(src, QUESTIONS)["send"] = "Y-04-06"

    def extend(src: dict[str, Any]) -> None:
        stage(src, QUESTIONS)["deadline"] = "Y-05-27"

    assert "en sendt invitation kan ikke flyttes" in plan(socialaftale, resend, SENT).refusals[0].da
    longer = plan(socialaftale, extend, SENT)
    assert longer.allowed
    assert [c.da for c in longer.changes] == [
        "Spørgsmål til de politiske udvalg: frist fredag den 20. maj 2022 → fredag den 27. maj 2022",
        # the stage closes two weeks after its deadline (``closes: {after: deadline, weeks: 2}``)
        "Spørgsmål til de politiske udvalg: lukker fredag den 3. juni 2022 kl. 23.59 → fredag "
        "den 10. juni 2022 kl. 23.59",
    ]
    # before anything was sent, the sending may move
    assert plan(socialaftale, resend, BEFORE_SENDING).allowed


def test_an_invited_party_cannot_be_removed(socialaftale: Bundle) -> None:
    def without(party: str) -> Callable[[dict[str, Any]], None]:
        def edit(src: dict[str, Any]) -> None:
            src["process"]["participants"] = [
                p["slug"] for p in src["parties"]["parties"] if p["slug"] != party
            ]

        return edit

    assert (
        "parten 'laeso' er inviteret" in plan(socialaftale, without("laeso"), SENT).refusals[0].da
    )
    allowed = plan(socialaftale, without("morso"), SENT)
    assert allowed.allowed and [c.ident for c in allowed.changes] == ["morso"]


def test_a_question_changed_after_sending_is_a_new_version(socialaftale: Bundle) -> None:
    def reword(src: dict[str, Any]) -> None:
        first_question(src)["label"] = "Hvor enig er udvalget i egenmestring som vision?"

    before = plan(socialaftale, reword, BEFORE_SENDING)
    assert before.allowed and before.bumped == {}
    assert before.new.questionnaires["fagudvalg"].version == 1
    assert [c.what for c in before.changes] == ["changed"]

    after = plan(socialaftale, reword, SENT)
    assert after.allowed and after.bumped == {"fagudvalg": (1, 2)}
    assert after.new.questionnaires["fagudvalg"].version == 2
    assert after.new.hash != edited(socialaftale, reword).hash  # the bump is in the snapshot
    assert "går ud som version 2" in after.changes[-1].da

    def reword_as_3(src: dict[str, Any]) -> None:
        reword(src)
        src["questionnaires"]["fagudvalg"]["version"] = 3

    assert plan(socialaftale, reword_as_3, SENT).bumped == {"fagudvalg": (1, 3)}


def test_a_new_stage_is_listed_and_allowed(socialaftale: Bundle) -> None:
    def add(src: dict[str, Any]) -> None:
        extra = deepcopy(stage(src, "dialogforum"))
        extra.update(id="ekstra-moede", name="Ekstra møde", opens="Y-07-01", closes="Y-07-31")
        extra["meeting"].update(id="ekstra", date="Y-07-05", weekday=None)
        extra["meeting"].pop("weekday")
        extra.pop("send_report", None)
        src["process"]["stages"].insert(4, extra)

    got = plan(socialaftale, add, SENT)
    assert got.allowed
    assert [(c.area, c.what, c.ident) for c in got.changes] == [("stage", "added", "ekstra-moede")]


def test_parse_slip() -> None:
    assert parse_slip("kkr-igangsaetter=+3w") == ("kkr-igangsaetter", 21)
    assert parse_slip("dialogforum=+10d") == ("dialogforum", 10)
    assert parse_slip("x=-1w") == ("x", -7)
    for bad in ("kkr", "kkr=3", "=+3w", "kkr=+3m"):
        with pytest.raises(AftaleflowError, match="skriv FASE=\\+3w"):
            parse_slip(bad)


def test_a_slip_moves_the_meeting_and_the_closing(socialaftale: Bundle) -> None:
    slipped = bind(slip_stage(socialaftale, 2022, "kkr-igangsaetter", 21), 2022)
    st = slipped.stage("kkr-igangsaetter")
    # 25 March + 3 weeks = Langfredag, 15 April: the meeting rolls to Tuesday 19 April
    assert st.events[0].start.date() == date(2022, 4, 19)
    assert st.closes_at is not None and st.closes_at.date() == date(2022, 4, 21)
    assert st.opens_at == bind(socialaftale, 2022).stage("kkr-igangsaetter").opens_at
    with pytest.raises(AftaleflowError, match="ingen fase 'kkr'"):
        slip_stage(socialaftale, 2022, "kkr", 7)


def test_a_finished_process_does_not_move(socialaftale: Bundle) -> None:
    def reword(src: dict[str, Any]) -> None:
        first_question(src)["label"] = "Ny ordlyd"

    done = Progress(dict.fromkeys([s.id for s in socialaftale.process.stages], "completed"))
    done.status = "completed"
    got = plan(socialaftale, reword, done)
    assert got.refusals[0].da == "processen er afsluttet; historien skrives ikke om"
