"""Dates, times and sizes as a Danish (or English) reader expects them, in Danish time.

Stored moments are UTC; a page shows Europe/Copenhagen local time.
"""

from __future__ import annotations

from datetime import date, datetime

from workflow.calendar import to_local

WEEKDAYS = {
    "da": ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
MONTHS = {
    "da": [
        "januar", "februar", "marts", "april", "maj", "juni",
        "juli", "august", "september", "oktober", "november", "december",
    ],
    "en": [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ],
}  # fmt: skip


def format_date(
    value: date | datetime | str | None, lang: str = "da", *, weekday: bool = True
) -> str:
    """``fredag den 20. maj 2022`` / ``Friday 20 May 2022`` (an ISO date string too)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    d = to_local(value).date() if isinstance(value, datetime) else value
    month = MONTHS[lang][d.month - 1]
    if lang == "en":
        text = f"{d.day} {month} {d.year}"
        return f"{WEEKDAYS['en'][d.weekday()]} {text}" if weekday else text
    text = f"{d.day}. {month} {d.year}"
    return f"{WEEKDAYS['da'][d.weekday()]} den {text}" if weekday else text


def format_datetime(value: datetime | None, lang: str = "da") -> str:
    """``den 19. maj 2022 kl. 14.03`` / ``on 19 May 2022 at 14:03`` (Danish time)."""
    if value is None:
        return ""
    local = to_local(value)
    if lang == "en":
        return f"on {format_date(local, 'en', weekday=False)} at {local:%H:%M}"
    return f"den {format_date(local, 'da', weekday=False)} kl. {local:%H.%M}"


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
