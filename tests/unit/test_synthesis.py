"""The figures per question, computed without a database from the shipped questionnaire and
the varied answers of twelve parties (tests/report_answers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.report_answers import CHOICES, LATE, PARTIES, SCALES, TEXTS, answer
from workflow.definition_questions import Questionnaire
from workflow.loader import load_bundle
from workflow.synthesis import Participant, Submitted, Synthesis, synthesise
from workflow.validation import validate_answers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    bundle = load_bundle(ROOT / "definitions/processes/socialaftale.yaml", reference_year=2022)
    return {p: bundle.parties.get(p).name for p in bundle.participants}


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    bundle = load_bundle(ROOT / "definitions/processes/socialaftale.yaml", reference_year=2022)
    return bundle.questionnaires["fagudvalg"]


def _stored(q: Questionnaire, party: str) -> dict[str, object]:
    """The answer as the engine stores it (validated: a scale becomes an int)."""
    data, issues = validate_answers(q, answer(party), complete=True)
    assert issues == {}
    return data


def _synthesis(
    q: Questionnaire, names: dict[str, str], answering: list[str], exempt: frozenset[str]
) -> Synthesis:
    at = datetime(2022, 5, 19, 12, tzinfo=UTC)
    answers = {
        p: Submitted(
            p, _stored(q, p), late=p == LATE, version=2 if p == "morso" else 1, submitted_at=at
        )
        for p in answering
    }
    participants = [Participant(p, names[p]) for p in PARTIES]
    return synthesise(
        q,
        participants,
        answers,
        exempt=exempt,
        first=["vision-egenmestring", "fokusomraader-prioritet"],
        definition_hash="ab" * 32,
    )


def test_choice_questions_count_share_rank_and_name_the_parties(
    questionnaire: Questionnaire, names: dict[str, str]
) -> None:
    s = _synthesis(questionnaire, names, PARTIES, frozenset())
    for qid, expected in CHOICES.items():
        q = s.question(qid)
        assert {c.value: (c.count, c.rank) for c in q.counts} == expected, qid
        assert [c.value for c in q.counts] == [
            o.value for o in questionnaire.question(qid).options
        ], "options in the definition's order"
        ranking = [c.rank for c in q.ranking]
        assert ranking == sorted(ranking)
    prio = s.question("fokusomraader-prioritet")
    assert prio.answered == 12
    first = {c.value: c for c in prio.counts}["den-gode-alderdom"]
    assert first.share == pytest.approx(5 / 12)
    assert first.parties == tuple(
        names[p] for p in ["hjorring", "laeso", "morso", "thisted", "vesthimmerland"]
    )
    assert [c.value for c in prio.ranking] == [
        "den-gode-alderdom",  # a tie keeps the definition's order
        "socialpsykiatri",
        "effektive-loesninger",
    ]
    elderly = s.question("alderdom-initiativer")
    assert elderly.answered == 3 and len(elderly.unanswered) == 9
    assert {c.value: c for c in elderly.counts}["tidlig-opsporing-demens"].share == pytest.approx(
        2 / 3
    ), "the share is of the parties that answered the question"
    arrows = s.question("vision-retningspile")
    assert sum(c.share for c in arrows.counts) > 1, "multiple choice: shares add up past 100 %"


def test_scales_give_distribution_mean_and_median(
    questionnaire: Questionnaire, names: dict[str, str]
) -> None:
    s = _synthesis(questionnaire, names, PARTIES, frozenset())
    for qid, (answered, distribution, mean, median) in SCALES.items():
        q = s.question(qid)
        assert q.answered == answered
        assert [c.count for c in q.counts] == distribution
        assert [c.value for c in q.counts] == ["1", "2", "3", "4", "5"]
        assert q.mean == pytest.approx(mean) and q.median == median
    vision = s.question("vision-egenmestring")
    assert vision.counts[0].label == "Slet ikke" and vision.counts[-1].label == "I meget høj grad"
    assert vision.counts[1].parties == (names["laeso"],)


def test_free_text_is_grouped_under_its_question_with_the_party(
    questionnaire: Questionnaire, names: dict[str, str]
) -> None:
    s = _synthesis(questionnaire, names, PARTIES, frozenset())
    wishes = s.question("oevrige-oensker")
    assert [(t.party, t.text) for t in wishes.texts] == list(TEXTS.items())
    assert [t.late for t in wishes.texts] == [False, False, True]
    assert s.question("referat").texts == () and s.question("referat").answered == 0


def test_coverage_names_answered_late_exempt_and_missing_and_the_version(
    questionnaire: Questionnaire, names: dict[str, str]
) -> None:
    answering = [p for p in PARTIES if p not in ("thisted", "rebild")]
    s = _synthesis(questionnaire, names, answering, frozenset({"rebild"}))
    c = s.coverage
    assert (c.count("answered"), c.count("late"), c.count("exempt"), c.count("missing")) == (
        9,
        1,
        1,
        1,
    )
    assert c.names("late") == (names[LATE],)
    assert c.names("exempt") == (names["rebild"],) and c.names("missing") == (names["thisted"],)
    assert c.submitted == 10 and c.total == 12
    assert {x.party: x.version for x in c.lines}["morso"] == 2
    assert (c.questionnaire_id, c.questionnaire_version, c.definition_hash) == (
        "fagudvalg",
        1,
        "ab" * 32,
    )
    assert s.question("fokusomraader-prioritet").answered == 10


def test_report_questions_come_first_in_their_section(
    questionnaire: Questionnaire, names: dict[str, str]
) -> None:
    s = _synthesis(questionnaire, names, PARTIES, frozenset())
    assert [q.id for q in s.sections[0].questions][:2] == [
        "vision-egenmestring",
        "fokusomraader-prioritet",
    ]
    assert [sec.id for sec in s.sections] == [sec.id for sec in questionnaire.sections]


def test_nobody_answered_gives_zeros_not_errors(
    questionnaire: Questionnaire, names: dict[str, str]
) -> None:
    s = _synthesis(questionnaire, names, [], frozenset())
    vision = s.question("vision-egenmestring")
    assert vision.answered == 0 and vision.mean is None and vision.median is None
    assert all(c.share == 0 and c.count == 0 for c in vision.counts)
    assert all(c.rank == 1 for c in s.question("fokusomraader-prioritet").counts)
    assert s.coverage.count("missing") == 12


def test_an_answer_outside_the_definition_is_not_counted(
    questionnaire: Questionnaire, names: dict[str, str]
) -> None:
    """An answer stored under an older questionnaire (an option or a point since removed)
    is left out of the counts instead of breaking the report."""
    answers = {
        "aalborg": Submitted(
            "aalborg",
            {"fokusomraader-prioritet": "fjernet", "vision-egenmestring": 9},
        )
    }
    s = synthesise(questionnaire, [Participant("aalborg", names["aalborg"])], answers)
    prio = s.question("fokusomraader-prioritet")
    assert prio.answered == 0 and sum(c.count for c in prio.counts) == 0
    assert s.question("vision-egenmestring").answered == 0
