"""The figures of a questionnaire, per question: what the dialogue forum reads.

A pure function of the questionnaire definition and the latest submitted answer per party
(no database, no clock): ``synthesise`` returns frozen values that the report page, the PDF,
the DOCX and the XLSX all draw from, so the four never disagree.

- **Single and multiple choice**: per option the number of parties that chose it, its share
  and the parties behind it. The share is of the parties that answered *that* question (for
  multiple choice the shares add up to more than 100 %).
- **Ranking** (every choice question, and so the priority question): the options ordered
  by that count: a plurality count for a single choice, an approval count for a multiple
  choice (each party gives one vote to every option it ticks). Options with the same count
  share a rank and the next rank is skipped (1, 2, 2, 4); within a tie the definition's
  order is kept. The questionnaire format has no ranked-ballot question, so a Borda count
  (n-1 points for a first place … 0 for the last) would rank exactly as the plurality count
  does on these answers; it is not offered until such a question type exists.
- **Scale**: the distribution over every point of the scale (points nobody chose included),
  the mean and the median of the parties that answered.
- **Free text** (and attached files): the answers under the question, each with its party,
  in the order of the participants.
- **Coverage**: per party answered on time, late, exempt or not answered, with the answer's
  version; and the questionnaire's id and version with the definition's hash.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from workflow.definition_questions import Question, Questionnaire

Status = Literal["answered", "late", "exempt", "missing"]
STATUSES: tuple[Status, ...] = ("answered", "late", "exempt", "missing")


@dataclass(frozen=True)
class Participant:
    slug: str
    name: str


@dataclass(frozen=True)
class Submitted:
    """The latest submitted answer of one party (values as stored: option values, ints)."""

    party: str
    data: Mapping[str, Any]
    late: bool = False
    version: int = 1
    submitted_at: datetime | None = None
    by_mail: bool = False
    questionnaire_version: int | None = None
    """The version of the questionnaire the answer answered (None: not recorded)."""


@dataclass(frozen=True)
class Count:
    """One option of a choice question, or one point of a scale."""

    value: str
    label: str
    count: int
    share: float
    """``count`` over the parties that answered the question (0 when nobody did)."""
    parties: tuple[str, ...]
    """The names of the parties behind it, in the order of the participants."""
    rank: int = 0
    """Choice questions: 1 for the most chosen; ties share a rank (1, 2, 2, 4)."""


@dataclass(frozen=True)
class TextAnswer:
    party: str
    party_name: str
    text: str
    late: bool


@dataclass(frozen=True)
class QuestionFigures:
    id: str
    label: str
    type: str
    answered: int
    """How many parties answered this question."""
    counts: tuple[Count, ...] = ()
    """Choice: the options in the definition's order; scale: every point, low to high."""
    mean: float | None = None
    median: float | None = None
    texts: tuple[TextAnswer, ...] = ()
    unanswered: tuple[str, ...] = ()
    """Names of parties that submitted the questionnaire but left this question empty."""
    min_label: str = ""
    max_label: str = ""

    @property
    def ranking(self) -> tuple[Count, ...]:
        """Choice questions: the options by rank (ties in the definition's order)."""
        if self.type not in ("single_choice", "multiple_choice"):
            return ()
        return tuple(sorted(self.counts, key=lambda c: c.rank))

    @property
    def is_choice(self) -> bool:
        return self.type in ("single_choice", "multiple_choice")


@dataclass(frozen=True)
class SectionFigures:
    id: str
    title: str
    focus_area: str
    intro: str
    questions: tuple[QuestionFigures, ...]


@dataclass(frozen=True)
class CoverageLine:
    party: str
    name: str
    status: Status
    version: int | None = None
    submitted_at: datetime | None = None
    by_mail: bool = False
    """The answer came by mail (confirmed by the secretariat)."""
    questionnaire_version: int | None = None
    """The version of the questionnaire the answer answered."""
    answered: tuple[str, ...] = ()
    """The questions (labels) the answer answered, in the questionnaire's order."""


@dataclass(frozen=True)
class Coverage:
    lines: tuple[CoverageLine, ...]
    questionnaire_id: str
    questionnaire_version: int
    definition_hash: str

    def count(self, status: Status) -> int:
        return sum(1 for line in self.lines if line.status == status)

    def names(self, status: Status) -> tuple[str, ...]:
        return tuple(line.name for line in self.lines if line.status == status)

    @property
    def submitted(self) -> int:
        """Parties whose answer counts (on time or late)."""
        return self.count("answered") + self.count("late")

    @property
    def total(self) -> int:
        return len(self.lines)


@dataclass(frozen=True)
class Synthesis:
    questionnaire_title: str
    coverage: Coverage
    sections: tuple[SectionFigures, ...]

    def question(self, qid: str) -> QuestionFigures:
        for section in self.sections:
            for q in section.questions:
                if q.id == qid:
                    return q
        raise KeyError(qid)


def synthesise(
    questionnaire: Questionnaire,
    participants: Sequence[Participant],
    answers: Mapping[str, Submitted],
    *,
    exempt: frozenset[str] = frozenset(),
    first: Sequence[str] = (),
    definition_hash: str = "",
) -> Synthesis:
    """The figures of ``questionnaire`` from ``answers`` (keyed by party slug).

    Only the answers of ``participants`` count. A party with an answer counts as answered
    (or late) even if it is also in ``exempt``. ``first`` are question ids shown first in
    their section (the stage's ``report_questions``)."""
    counted = [(p, answers[p.slug]) for p in participants if p.slug in answers]
    front = set(first)
    sections = tuple(
        SectionFigures(
            sec.id,
            sec.title,
            sec.focus_area,
            sec.intro,
            tuple(
                question_figures(q, counted)
                for q in sorted(sec.questions, key=lambda x: x.id not in front)
            ),
        )
        for sec in questionnaire.sections
    )
    coverage = Coverage(
        tuple(
            _coverage_line(p, answers.get(p.slug), p.slug in exempt, questionnaire)
            for p in participants
        ),
        questionnaire.id,
        questionnaire.version,
        definition_hash,
    )
    return Synthesis(questionnaire.title, coverage, sections)


def _coverage_line(
    p: Participant, a: Submitted | None, exempt: bool, questionnaire: Questionnaire
) -> CoverageLine:
    if a is not None:
        status: Status = "late" if a.late else "answered"
        answered = tuple(q.label for q in questionnaire.questions if _given(a.data.get(q.id)))
        return CoverageLine(
            p.slug,
            p.name,
            status,
            a.version,
            a.submitted_at,
            a.by_mail,
            a.questionnaire_version,
            answered,
        )
    return CoverageLine(p.slug, p.name, "exempt" if exempt else "missing")


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def question_figures(
    q: Question, counted: Sequence[tuple[Participant, Submitted]]
) -> QuestionFigures:
    """The figures of one question from the (participant, answer) pairs that count."""
    given = [(p, a, a.data.get(q.id)) for p, a in counted if _given(a.data.get(q.id))]
    unanswered = tuple(p.name for p, a in counted if not _given(a.data.get(q.id)))
    n = len(given)
    if q.type in ("single_choice", "multiple_choice"):
        chosen: dict[str, list[str]] = {o.value: [] for o in q.options}
        n = 0
        for p, _, value in given:
            values = value if isinstance(value, list) else [value]
            known = [v for v in dict.fromkeys(str(x) for x in values) if v in chosen]
            for v in known:
                chosen[v].append(p.name)
            n += bool(known)
        sizes = [len(names) for names in chosen.values()]
        counts = tuple(
            Count(
                o.value,
                o.label,
                len(chosen[o.value]),
                _share(len(chosen[o.value]), n),
                tuple(chosen[o.value]),
                rank=1 + sum(1 for s in sizes if s > len(chosen[o.value])),
            )
            for o in q.options
        )
        return QuestionFigures(q.id, q.label, q.type, n, counts, unanswered=unanswered)
    if q.type == "scale":
        points: dict[int, list[str]] = {v: [] for v in range(q.min, q.max + 1)}
        numbers: list[int] = []
        for p, _, value in given:
            number = _int(value)
            if number is not None and number in points:
                points[number].append(p.name)
                numbers.append(number)
        counts = tuple(
            Count(
                str(v),
                q.min_label if v == q.min else q.max_label if v == q.max else "",
                len(names),
                _share(len(names), len(numbers)),
                tuple(names),
            )
            for v, names in points.items()
        )
        return QuestionFigures(
            q.id,
            q.label,
            q.type,
            len(numbers),
            counts,
            mean=statistics.fmean(numbers) if numbers else None,
            median=float(statistics.median(numbers)) if numbers else None,
            unanswered=unanswered,
            min_label=q.min_label,
            max_label=q.max_label,
        )
    texts = tuple(TextAnswer(p.slug, p.name, _text(q, value), a.late) for p, a, value in given)
    return QuestionFigures(q.id, q.label, q.type, n, texts=texts, unanswered=unanswered)


def _share(count: int, of: int) -> float:
    return count / of if of else 0.0


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _text(q: Question, value: Any) -> str:
    if q.type == "file":
        return str(value.get("filename", "")) if isinstance(value, Mapping) else str(value)
    return str(value)
