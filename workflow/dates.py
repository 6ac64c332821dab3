"""The one place dates and times are written for people: pages, mails, the PDF report.

Danish first, in Danish time (Europe/Copenhagen), and the same format everywhere:

- ``format_date``: ``fredag den 20. maj 2022`` (``weekday=False``: ``20. maj 2022``)
- ``format_datetime``: ``fredag den 20. maj 2022 kl. 14.00``
- ``format_day``: ``20.05.2022``, for tables
- ``format_short``: ``20.05.2022 kl. 14.00``, for tables and lists
- ``format_time``: ``kl. 14.00``
- ``format_sending``: ``sendes mandag den 7. november 2022 kl. 09.00 (kontortid)`` or ``sendes nu``

English: ``Friday 20 May 2022``, ``… at 14:00``, ``2022-05-20``, ``2022-05-20 14:00``. Pure and
independent of the process locale, so a server with ``LANG=C`` writes the same text.
"""

from __future__ import annotations

from datetime import date, datetime

from workflow.calendar import to_local

DA_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
DA_MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def as_date(value: date | str) -> date:
    """A date from a ``date``, a ``datetime`` (taken in Danish time) or an ISO string."""
    if isinstance(value, datetime):
        return to_local(value).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = value.strip()
    if len(text) > 10:
        return as_date(datetime.fromisoformat(text))
    return date.fromisoformat(text)


def as_local(value: datetime | str) -> datetime:
    """An aware datetime (or ISO string) in Danish time; naive values are taken as UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"a time without a time zone cannot be shown: {value!r}")
    return to_local(moment)


def format_date(value: date | str, lang: str = "da", *, weekday: bool = True) -> str:
    """``fredag den 20. maj 2022`` (da) or ``Friday 20 May 2022`` (en)."""
    d = as_date(value)
    if lang == "en":
        text = f"{d.day} {EN_MONTHS[d.month - 1]} {d.year}"
        return f"{EN_WEEKDAYS[d.weekday()]} {text}" if weekday else text
    text = f"{d.day}. {DA_MONTHS[d.month - 1]} {d.year}"
    return f"{DA_WEEKDAYS[d.weekday()]} den {text}" if weekday else text


def format_time(value: datetime | str, lang: str = "da") -> str:
    """``kl. 14.00`` (da) or ``14:00`` (en), in Danish time."""
    local = as_local(value)
    if lang == "en":
        return f"{local.hour:02d}:{local.minute:02d}"
    return f"kl. {local.hour:02d}.{local.minute:02d}"


def format_datetime(value: datetime | str, lang: str = "da") -> str:
    """``onsdag den 15. juni 2022 kl. 14.00`` (da) or ``Wednesday 15 June 2022 at 14:00``."""
    local = as_local(value)
    joiner = " at " if lang == "en" else " "
    return f"{format_date(local.date(), lang)}{joiner}{format_time(local, lang)}"


def format_day(value: date | str, lang: str = "da") -> str:
    """``04.04.2022`` (da) or ``2022-04-04`` (en): a date for tables."""
    d = as_date(value)
    return d.isoformat() if lang == "en" else f"{d.day:02d}.{d.month:02d}.{d.year}"


def format_short(value: datetime | str, lang: str = "da") -> str:
    """``04.04.2022 kl. 09.00`` (da) or ``2022-04-04 09:00`` (en), in Danish time: for
    tables and lists."""
    local = as_local(value)
    return f"{format_day(local.date(), lang)} {format_time(local, lang)}"


def format_month(year: int, month: int, lang: str = "da") -> str:
    """``november 2022`` (da) or ``November 2022`` (en): a month view's heading."""
    names = EN_MONTHS if lang == "en" else DA_MONTHS
    return f"{names[month - 1]} {year}"


def weekday_names(lang: str = "da") -> tuple[str, ...]:
    """Monday first: a month view's column headings."""
    return EN_WEEKDAYS if lang == "en" else DA_WEEKDAYS


def format_sending(due: datetime | str, at: datetime, lang: str = "da") -> str:
    """When a queued mail goes out, seen at ``at``: ``sendes nu`` when it is due already, else
    ``sendes mandag den 7. november 2022 kl. 09.00 (kontortid)`` (it waits for office hours)."""
    moment = as_local(due)
    if moment <= at:
        return "will be sent now" if lang == "en" else "sendes nu"
    if lang == "en":
        return f"will be sent {format_datetime(moment, lang)} (office hours)"
    return f"sendes {format_datetime(moment, lang)} (kontortid)"
