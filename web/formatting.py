"""Dates, times and sizes as a Danish (or English) reader expects them, in Danish time.

Stored moments are UTC; a page shows Europe/Copenhagen local time. The dates themselves are
written by ``workflow.dates``, the one date formatter of pages, mails and the PDF report;
these wrappers only let a template pass an empty value.
"""

from __future__ import annotations

from datetime import date, datetime

from workflow import dates


def format_date(
    value: date | datetime | str | None, lang: str = "da", *, weekday: bool = True
) -> str:
    """``fredag den 20. maj 2022`` / ``Friday 20 May 2022`` (an ISO date string too)."""
    if value is None or value == "":
        return ""
    return dates.format_date(value, lang, weekday=weekday)


def format_datetime(value: datetime | None, lang: str = "da") -> str:
    """``fredag den 19. maj 2022 kl. 14.03`` / ``Thursday 19 May 2022 at 14:03``."""
    if value is None:
        return ""
    return dates.format_datetime(value, lang)


def format_size(size: int, lang: str = "da") -> str:
    """``12 kB``, ``1,4 MB`` (decimal comma in Danish)."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} kB"
    text = f"{size / (1024 * 1024):.1f}"
    return (text.replace(".", ",") if lang == "da" else text) + " MB"


def format_types(kinds: list[str] | tuple[str, ...], lang: str = "da") -> str:
    """``PDF, DOCX eller ODT``."""
    names = [k.upper() for k in kinds]
    if len(names) < 2:
        return "".join(names)
    word = "eller" if lang == "da" else "or"
    return f"{', '.join(names[:-1])} {word} {names[-1]}"
