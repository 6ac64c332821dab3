"""Every text a user sees exists in Danish and in English, with the same placeholders: the
respondent pages, the dashboard, the audit events, the workflow labels and the arrows of the
state diagrams; and dates are written by one module only."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from web import formatting, i18n, signup_texts
from web.dashboard import texts, workshop_texts
from workflow import dates, labels, machines

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "web/i18n.py": (i18n.DA, i18n.EN),
    "web/dashboard/texts.py": (texts.DA, texts.EN),
    "web/dashboard/texts.py events": (texts.EVENTS_DA, texts.EVENTS_EN),
    "workflow/labels.py": (labels.DA, labels.EN),
    "web/signup_texts.py": (signup_texts.DA, signup_texts.EN),
    "web/dashboard/workshop_texts.py": (workshop_texts.DA, workshop_texts.EN),
}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("table", TABLES)
def test_both_languages_have_every_key_with_the_same_placeholders(table: str) -> None:
    da, en = TABLES[table]
    assert set(da) - set(en) == set(), "Danish keys without English"
    assert set(en) - set(da) == set(), "English keys without Danish"
    for key in da:
        assert fields(da[key]) == fields(en[key]), key
        assert da[key].strip() and en[key].strip(), key


def test_every_state_and_arrow_of_the_diagrams_has_a_name_in_both_languages() -> None:
    for name in machines.SPECS:
        text = machines.mermaid(name)
        states = set(re.findall(r"(\w+) --> (\w+)", text))
        triggers = set(re.findall(r": (\w+)$", text, re.MULTILINE))
        for source, dest in states:
            for s in (source, dest):
                assert s in labels.DA and s in labels.EN, (name, s)
        for trigger in triggers:
            assert f"trigger_{trigger}" in texts.DA, (name, trigger)


def test_one_date_format_for_pages_mails_and_the_report() -> None:
    moment = datetime(2022, 5, 20, 12, 0, tzinfo=UTC)
    assert dates.format_date(moment) == "fredag den 20. maj 2022"
    assert dates.format_datetime(moment) == "fredag den 20. maj 2022 kl. 14.00"
    assert dates.format_short(moment) == "20.05.2022 kl. 14.00"
    assert dates.format_day(date(2022, 5, 20)) == "20.05.2022"
    assert dates.format_short(moment, "en") == "2022-05-20 14:00"
    assert formatting.format_datetime(moment) == dates.format_datetime(moment)
    assert formatting.format_date(moment, weekday=False) == "20. maj 2022"


def test_no_module_but_workflow_dates_formats_a_date_for_people() -> None:
    """strftime patterns for people live in workflow/dates.py only. Exceptions, none of them
    read as prose: the calendar files' formats, CSV cells (ISO, which a spreadsheet reads as a
    date), a log field, and the demo clock's start-up line (the CLI's dates are ISO like its
    input)."""
    pattern = re.compile(r"%d\.%m|%Y-%m-%d|:%d|%H\.%M|%H:%M")
    allowed = {
        "workflow/dates.py",
        "notifications/ics.py",
        "workflow/councils_ics.py",
        "workflow/exports.py",
        "workflow/scheduling.py",
        "workflow/clock.py",
    }
    found = []
    for folder in ("web", "notifications", "workflow"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in allowed and pattern.search(path.read_text()):
                found.append(rel)
    assert found == []
