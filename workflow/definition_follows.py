"""Dates that follow an earlier stage, and values a decision records for later stages.

A stage's ``send``, ``deadline`` or ``closes`` may be written ``{after: STAGE, working_days: 5}``
or ``{after: send, weeks: 7}``: counted from STAGE's completion (as recorded; until then its
planned completion, shown as "planlagt") or from one of the stage's own earlier dates
(``opens``, ``send``, ``deadline``). A decision stage may declare ``decides:`` values (KKR's
focus areas) that later stages use: a question's ``choices_from: kkr-igangsaetter.focus_areas``
and a workshops stage's ``one_per: kkr-igangsaetter.focus_areas``. Bound in
``workflow.timeline``; checked in ``workflow.follows_checks``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PlainValidator, ValidationError, model_validator

from workflow.definition_base import SLUG, DateExpr, LocatedValueError, Strict

#: The stage's own dates a date may follow, in the order they are resolved.
OWN_DATES: tuple[str, ...] = ("opens", "send", "deadline", "closes")


class After(Strict):
    """A date counted from an earlier stage's completion or from the stage's own date."""

    after: Annotated[str, Field(pattern=SLUG)]
    working_days: Annotated[int, Field(ge=0, le=250)] | None = None
    weeks: Annotated[int, Field(ge=0, le=52)] | None = None
    days: Annotated[int, Field(ge=0, le=366)] | None = None

    @model_validator(mode="after")
    def _one_count(self) -> After:
        given = [n for n in (self.working_days, self.weeks, self.days) if n is not None]
        if len(given) != 1:
            raise ValueError("skriv præcis én af working_days, weeks og days efter 'after'")
        return self

    @property
    def own(self) -> bool:
        """Counted from the stage's own date (``send``), not from another stage."""
        return self.after in OWN_DATES

    def __str__(self) -> str:
        if self.working_days is not None:
            n = f"{self.working_days} arbejdsdage"
        elif self.weeks is not None:
            n = f"{self.weeks} uger"
        else:
            n = f"{self.days} dage"
        return f"{n} efter {self.after}"


def _date_value(value: object) -> str | After:
    """A date text, or a mapping read as ``After``: one message either way (not one per
    branch of a union)."""
    if isinstance(value, After):
        return value
    if isinstance(value, str):
        DateExpr.parse(value)
        return value
    if isinstance(value, dict):
        try:
            return After.model_validate(value)
        except ValidationError as e:
            err = e.errors()[0]
            raise LocatedValueError(
                str(err["msg"]).removeprefix("Value error, "), tuple(err["loc"])
            ) from None
    raise ValueError(
        "skriv en dato (Y-04-04) eller en dato, der følger en tidligere fase, "
        "fx {after: kkr-igangsaetter, working_days: 5}"
    )


#: A date field: ``Y-04-04`` or ``{after: kkr-igangsaetter, working_days: 5}``.
DateValue = Annotated[str | After, PlainValidator(_date_value)]


def fixed(value: DateValue | None) -> str | None:
    """The written date of a field, or None when it follows another date."""
    return value if isinstance(value, str) else None


def valid_date_value(value: DateValue | None) -> DateValue | None:
    """A field check: a ``DateExpr`` text, an ``After`` or absent."""
    if isinstance(value, str):
        DateExpr.parse(value)
    return value


class Choice(Strict):
    value: Annotated[str, Field(pattern=SLUG)]
    label: str


class DecidedValue(Strict):
    """A value a decision records: ``min`` to ``max`` of ``options`` (KKR's focus areas).
    ``planned`` is the expected choice, used for the projected timeline and by ``simulate``."""

    label: str
    label_en: str = ""
    options: list[Choice]
    min: Annotated[int, Field(ge=0, le=100)] = 1
    max: Annotated[int, Field(ge=1, le=100)] | None = None
    planned: list[str] = []

    @model_validator(mode="after")
    def _shape(self) -> DecidedValue:
        values = [o.value for o in self.options]
        if len(values) < 1:
            raise LocatedValueError("en beslutning skal have mindst én mulighed", ("options",))
        if len(set(values)) != len(values):
            raise LocatedValueError("en mulighed er nævnt to gange", ("options",))
        if self.max is not None and self.min > self.max:
            raise LocatedValueError(f"min {self.min} er større end max {self.max}", ("min",))
        for j, p in enumerate(self.planned):
            if p not in values:
                raise LocatedValueError(
                    f"{p!r} i planned er ikke en af mulighederne ({', '.join(values)})",
                    ("planned", j),
                )
        return self

    def label_of(self, value: str) -> str:
        return next((o.label for o in self.options if o.value == value), value)


def split_ref(ref: str) -> tuple[str, str] | None:
    """``kkr-igangsaetter.focus_areas`` → (stage, value); None when not of that form."""
    stage, dot, key = ref.partition(".")
    return (stage, key) if dot and stage and key else None
