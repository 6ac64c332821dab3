"""What every dashboard template can use: the texts, labels, dates and the user."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from web.dashboard.auth import current_user
from web.dashboard.blueprint import bp
from web.dashboard.texts import dt, dt_or, event_label
from web.i18n import lang
from workflow import dates, machines
from workflow.contacts import PAUSED
from workflow.labels import label as workflow_label


def label(key: str) -> str:
    return workflow_label(key, lang()) if key else ""


def moment(value: datetime | None) -> str:
    """A stored moment in Danish time: ``19.05.2022 kl. 14.03`` / ``2022-05-19 14:03``."""
    return "" if value is None else dates.format_short(value, lang())


def day(value: date | datetime | str | None) -> str:
    """A date (a moment's Danish date): ``19.05.2022`` / ``2022-05-19``."""
    if value is None or value == "":
        return ""
    return dates.format_day(value, lang())


def mail_error(text: str | None) -> str:
    """A mail's last error as the page shows it: a bounce's pause in the page's language."""
    value = text or ""
    if value.startswith(PAUSED):
        return dt("mail_paused_because", addresses=value.removeprefix(PAUSED).strip())
    return value


def in_lang(pair: tuple[str, str] | None) -> str:
    """A (Danish, English) text from the definition in the page's language."""
    if not pair:
        return ""
    return pair[0] if lang() == "da" else pair[1]


def can_stage(status: str, trigger: str) -> bool:
    return machines.can("stage", status, trigger)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "dt": dt,
        "dt_or": dt_or,
        "label": label,
        "event_label": event_label,
        "moment": moment,
        "day": day,
        "can_stage": can_stage,
        "in_lang": in_lang,
        "mail_error": mail_error,
        "user": current_user(),
    }
