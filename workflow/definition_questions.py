"""A questionnaire of a definition: sections of questions (every question type) as validated,
frozen data.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from workflow.definition_base import SLUG, LocatedValueError, Strict

QuestionType = Literal["single_choice", "multiple_choice", "text", "scale", "file"]


class Option(Strict):
    value: Annotated[str, Field(pattern=SLUG)]
    label: str


class Question(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    type: QuestionType
    label: str
    help: str = ""
    required: bool = False
    options: list[Option] = []
    choices_from: str | None = None
    """``STAGE.VALUE``: the options are the values a decision records (KKR's focus areas);
    ``options``, if given, are used by a process without that decision."""
    min: int = 1
    max: int = 5
    min_label: str = ""
    max_label: str = ""
    accept: list[Literal["pdf", "docx", "odt"]] = ["pdf", "docx", "odt"]
    max_mb: int = 10
    max_length: int = 10000

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.choices_from is not None:
            if self.type not in ("single_choice", "multiple_choice"):
                raise LocatedValueError(
                    f"et {self.type}-spørgsmål kan ikke tage svarmuligheder fra en beslutning",
                    ("choices_from",),
                )
            if len(self.options) == 1:
                raise LocatedValueError(
                    f"et {self.type}-spørgsmål skal have mindst to svarmuligheder", ("options",)
                )
        elif self.type in ("single_choice", "multiple_choice") and len(self.options) < 2:
            raise LocatedValueError(
                f"et {self.type}-spørgsmål skal have mindst to svarmuligheder", ("options",)
            )
        if self.type not in ("single_choice", "multiple_choice") and self.options:
            raise LocatedValueError(
                f"et {self.type}-spørgsmål har ingen svarmuligheder (options)", ("options",)
            )
        if self.type == "scale" and self.min >= self.max:
            raise LocatedValueError("en skala skal have min < max", ("max",))
        return self


class Section(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    title: str
    intro: str = ""
    focus_area: str = ""
    questions: list[Question]


class Questionnaire(Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    version: int
    title: str
    intro: str = ""
    sections: list[Section]

    @model_validator(mode="after")
    def _unique_ids(self) -> Questionnaire:
        seen: set[str] = set()
        for si, s in enumerate(self.sections):
            for qi, q in enumerate(s.questions):
                if q.id in seen:
                    raise LocatedValueError(
                        f"spørgsmåls-id'et {q.id!r} er brugt to gange",
                        ("sections", si, "questions", qi, "id"),
                    )
                seen.add(q.id)
        return self

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)
