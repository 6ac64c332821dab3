"""What every definition model stands on: ``Strict`` (unknown keys are errors, nothing is
coerced), ``LocatedValueError`` (a problem the loader can name the line of), ``DateExpr``
(a date relative to the preparation year) and the shared field checks.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict

#: An id: small letters, digits, ``-`` and ``_``.
SLUG = r"^[a-z0-9][a-z0-9_-]*$"
_DATE_EXPR = re.compile(r"^(?:(?P<abs>\d{4})|Y(?P<off>[+-]\d)?)-(?P<m>\d{2})-(?P<d>\d{2})$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class LocatedValueError(ValueError):
    """A validation error about one part of the value being validated: ``loc`` is the path
    from the validated field (or model) to that part, so the loader can name its line."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class Strict(BaseModel):
    """Base for every definition model: unknown keys are errors, nothing is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True, order=True)
class DateExpr:
    """A date written relative to the preparation year ``Y`` (``Y-03-15``, ``Y+1-01-10``)
    or absolute (``2016-10-24``)."""

    year_offset: int | None
    absolute_year: int | None
    month: int
    day: int

    @classmethod
    def parse(cls, text: str) -> DateExpr:
        m = _DATE_EXPR.match(text)
        if not m:
            raise ValueError(
                f"{text!r} er ikke en dato; skriv Y-MM-DD (i forhold til forberedelsesåret), "
                "Y+1-MM-DD eller en fast dato ÅÅÅÅ-MM-DD"
            )
        month, day = int(m["m"]), int(m["d"])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: måned {month} findes ikke")
        year = int(m["abs"]) if m["abs"] else 2024  # a leap year: Y-02-29 is checked at binding
        if not 1 <= day <= _calendar.monthrange(year, month)[1]:
            raise ValueError(f"{text!r}: dag {day} findes ikke i måned {month}")
        if m["abs"]:
            return cls(None, int(m["abs"]), month, day)
        return cls(int(m["off"] or 0), None, month, day)

    def bind(self, year: int) -> date:
        y = self.absolute_year if self.absolute_year is not None else year + (self.year_offset or 0)
        return date(y, self.month, self.day)

    def sort_key(self, year: int) -> tuple[int, int, int]:
        y = self.absolute_year if self.absolute_year is not None else year + (self.year_offset or 0)
        return (y, self.month, self.day)

    def __str__(self) -> str:
        if self.absolute_year is not None:
            return f"{self.absolute_year:04d}-{self.month:02d}-{self.day:02d}"
        off = f"{self.year_offset:+d}" if self.year_offset else ""
        return f"Y{off}-{self.month:02d}-{self.day:02d}"


def valid_date_expr(value: str | None) -> str | None:
    """A field check: the text is a ``DateExpr`` (or absent)."""
    if value is not None:
        DateExpr.parse(value)
    return value


def valid_clock(value: str | None) -> str | None:
    """A field check: the text is a time of day ``TT:MM`` (or absent)."""
    if value is not None and not _TIME.match(value):
        raise ValueError(f"{value!r} er ikke et klokkeslæt; skriv TT:MM, fx 09:00")
    return value
