"""The process timeline as geometry for an inline SVG: stages as bars on a date axis, month
ticks, and today's marker. Pure: the template draws it with presentation attributes and CSS
classes only (the CSP allows no inline styles), so it works without JavaScript.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflow.calendar import to_local
from workflow.queries import StageStatus

#: Width of the drawing in SVG units (it scales to the page), the stage-name column, the
#: height of one stage's row and of the month axis above the rows.
WIDTH = 1000
LABEL_WIDTH = 260
ROW = 30
AXIS = 34
RIGHT_PAD = 12
#: Characters of a stage name per line in the name column (13px text in 260 units); a longer
#: name goes on two lines, never cut.
LABEL_CHARS = 36
#: The distance between the two lines of a long name.
LINE_GAP = 14
#: A stage without a closing date is drawn this long.
DEFAULT_LENGTH = timedelta(days=14)

MONTHS = {
    "da": ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


@dataclass(frozen=True)
class Bar:
    stage_id: str
    name: str
    status: str
    y: float
    x: float
    width: float
    text_y: float
    deadline_x: float | None
    #: The name as lines to draw, each with its baseline: one line, or two for a long name.
    lines: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    label_width: int
    axis: int
    bars: list[Bar]
    ticks: list[Tick]
    today_x: float | None
    start: date
    end: date


def build(stages: list[StageStatus], now: datetime, lang: str = "da") -> Timeline:
    """The geometry for ``stages`` with today (``now``) marked when it falls on the axis."""
    spans = [(s, to_local(s.opens_at).date(), _end(s)) for s in stages]
    start = min((a for _, a, _ in spans), default=to_local(now).date())
    end = max((b for _, _, b in spans), default=start + DEFAULT_LENGTH)
    start = start.replace(day=1)
    end = _next_month(end)
    days = max((end - start).days, 1)
    plot = WIDTH - LABEL_WIDTH - RIGHT_PAD

    def x(d: date) -> float:
        return round(LABEL_WIDTH + plot * (d - start).days / days, 1)

    bars = []
    for i, (st, a, b) in enumerate(spans):
        y = AXIS + i * ROW + 5
        left, right = x(a), x(b + timedelta(days=1))
        bars.append(
            Bar(
                st.id,
                st.name,
                st.status,
                y,
                left,
                max(right - left, 3.0),
                y + ROW / 2 + 1,
                x(st.deadline) if st.deadline else None,
                name_lines(st.name, y + ROW / 2 + 1),
            )
        )
    ticks: list[Tick] = []
    month = start
    names = MONTHS.get(lang, MONTHS["da"])
    while month < end:
        text = names[month.month - 1] + (f" {month.year}" if month.month == 1 or not ticks else "")
        ticks.append(Tick(x(month), text))
        month = _next_month(month)
    today = to_local(now).date()
    today_x = x(today) if start <= today < end else None
    return Timeline(
        WIDTH, AXIS + len(bars) * ROW + 10, LABEL_WIDTH, AXIS, bars, ticks, today_x, start, end
    )


def name_lines(name: str, text_y: float) -> tuple[tuple[float, str], ...]:
    """A stage name on one line, or on two around ``text_y`` when it is long (the second
    line takes the rest, so nothing is ever cut off)."""
    lines = textwrap.wrap(name, LABEL_CHARS) or [""]
    if len(lines) == 1:
        return ((text_y, lines[0]),)
    rest = " ".join(lines[1:])
    return ((text_y - LINE_GAP / 2, lines[0]), (text_y + LINE_GAP / 2, rest))


def _end(s: StageStatus) -> date:
    if s.closes_at is not None:
        return to_local(s.closes_at).date()
    return to_local(s.opens_at + DEFAULT_LENGTH).date()


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)
