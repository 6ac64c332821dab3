"""Bar charts of the report's figures: one geometry for the page's SVG and the PDF's drawing.

A chart is a horizontal bar per option (choice questions, most chosen first, so the chart
reads as the ranking) or per point of a scale (low to high). A bar's length is the share of
the parties that answered the question, so a full bar means every one of them. Each row
has its label on a line above the bar and the count with its share after the bar, so the
numbers are printed as text, not only drawn. Coordinates run from the top left (SVG's way);
the PDF turns them over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from web.dashboard.report_texts import percent
from web.dashboard.texts import dt
from workflow.report import CompiledReport
from workflow.synthesis import Count, QuestionFigures

#: Width of the chart in its own units (SVG user units; points in the PDF).
WIDTH = 640
ROW = 38
LABEL_Y = 13
BAR_Y = 18
BAR_HEIGHT = 14
#: Room kept right of the longest bar for "12 (100 %)".
VALUE_ROOM = 110
PAD = 4
LABEL_MAX = 92


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    """The count and share as text, e.g. ``5 (41,7 %)``."""
    count: int
    label_y: float
    bar_y: float
    length: float
    value_x: float


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    """Every bar's label and numbers in one sentence (the SVG's ``desc``)."""
    width: float
    height: float
    bar_height: float
    track: float
    """The length of a full bar (every party that answered)."""
    bars: tuple[Bar, ...]


def counts_for(q: QuestionFigures) -> tuple[Count, ...]:
    """What a question's chart shows: the ranking (choice) or the scale's points."""
    if q.is_choice:
        return q.ranking
    if q.type == "scale":
        return q.counts
    return ()


def chart(
    q: QuestionFigures,
    *,
    percent: Callable[[float], str],
    point: Callable[[Count], str],
    describe: Callable[[QuestionFigures], str],
    width: float = WIDTH,
) -> Chart | None:
    """The chart of ``q`` (None for free text and files). ``percent`` formats a share,
    ``point`` names a bar (an option's label, a scale point with its words) and
    ``describe`` gives the sentence before the numbers, in the page's language."""
    counts = counts_for(q)
    if not counts:
        return None
    span = width - VALUE_ROOM - PAD
    bars = []
    for i, c in enumerate(counts):
        top = PAD + i * ROW
        length = round(span * c.share, 1)
        name = point(c)
        if len(name) > LABEL_MAX:
            name = name[: LABEL_MAX - 1].rstrip() + "…"
        bars.append(
            Bar(
                label=name,
                value=f"{c.count} ({percent(c.share)})",
                count=c.count,
                label_y=top + LABEL_Y,
                bar_y=top + BAR_Y,
                length=max(length, 1.5 if c.count else 0),
                value_x=PAD + length + 6,
            )
        )
    sentence = "; ".join(f"{point(c)}: {c.count} ({percent(c.share)})" for c in counts)
    return Chart(
        title=q.label,
        description=f"{describe(q)} {sentence}.",
        width=width,
        height=PAD * 2 + len(counts) * ROW,
        bar_height=BAR_HEIGHT,
        track=span,
        bars=tuple(bars),
    )


def point(c: Count) -> str:
    """A bar's name: an option's label, or a scale point with its words."""
    if c.value.lstrip("-").isdigit():
        return f"{c.value} – {c.label}" if c.label else c.value
    return c.label


def report_charts(report: CompiledReport, width: float = WIDTH) -> dict[str, Chart]:
    """The chart of every choice and scale question of ``report``, by question id, with
    the texts and numbers of the page's language."""
    out: dict[str, Chart] = {}
    for sec in report.sections:
        for q in sec.questions:
            drawn = chart(
                q,
                percent=percent,
                point=point,
                describe=lambda q: dt("chart_describe", n=q.answered),
                width=width,
            )
            if drawn is not None:
                out[q.id] = drawn
    return out
