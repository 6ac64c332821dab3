"""Changes to a calendar file's text: one body's meetings added, moved and deleted, its
agenda deadline set and cleared; the comment block, the other bodies and the usual time kept;
a change that cannot hold refused in Danish and English."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from workflow.councils_edit import (
    CalendarChange,
    CalendarChangeRefused,
    agenda_days_of,
    changed_text,
)

TEXT = """# Example calendar
# two lines of comment
year: 2022
parties: nordjylland
agenda_deadline_days: {default: 9, byraad: 7}
cycle:
  kkr:
    time: "09:00"
    meetings: [2022-03-25, {date: 2022-06-17, time: "13:00"}]
councils:
  aalborg:
    byraad:
      time: "17:00"
      meetings: [2022-01-31, 2022-02-28]
"""


def meetings(text: str, owner: str, body: str) -> list[object]:
    data = yaml.safe_load(text)
    section = data["cycle"] if owner == "cycle" else data["councils"][owner]
    return list(section[body]["meetings"])


def test_add_move_delete_keep_the_rest() -> None:
    added = changed_text(
        TEXT, CalendarChange("add", "aalborg", "byraad", day=date(2022, 3, 28), time="16:00")
    )
    assert added.startswith("# Example calendar\n# two lines of comment\n")
    assert meetings(added, "aalborg", "byraad") == [
        date(2022, 1, 31),
        date(2022, 2, 28),
        {"date": date(2022, 3, 28), "time": "16:00"},
    ]
    assert meetings(added, "cycle", "kkr") == meetings(TEXT, "cycle", "kkr")
    moved = changed_text(
        added,
        CalendarChange("move", "aalborg", "byraad", day=date(2022, 3, 28), to=date(2022, 3, 29)),
    )
    assert meetings(moved, "aalborg", "byraad")[-1] == date(2022, 3, 29)  # the usual time
    deleted = changed_text(moved, CalendarChange("delete", "cycle", "kkr", day=date(2022, 6, 17)))
    assert meetings(deleted, "cycle", "kkr") == [date(2022, 3, 25)]
    first = changed_text(
        TEXT, CalendarChange("add", "laeso", "socialudvalg", day=date(2022, 5, 18))
    )
    assert meetings(first, "laeso", "socialudvalg") == [date(2022, 5, 18)]


def test_the_agenda_deadline_of_one_body() -> None:
    assert agenda_days_of(TEXT, "aalborg", "byraad") == (7, "file")
    assert agenda_days_of(TEXT, "cycle", "kkr") == (9, "default")
    own = changed_text(TEXT, CalendarChange("agenda_days", "aalborg", "byraad", days=12))
    assert agenda_days_of(own, "aalborg", "byraad") == (12, "body")
    assert agenda_days_of(own, "hjorring", "byraad") == (7, "file")
    cleared = changed_text(own, CalendarChange("agenda_days", "aalborg", "byraad", days=None))
    assert agenda_days_of(cleared, "aalborg", "byraad") == (7, "file")
    assert agenda_days_of("year: 2022\nparties: x\n", "cycle", "kkr") == (10, "default")


@pytest.mark.parametrize(
    ("change", "da", "en"),
    [
        (
            CalendarChange("add", "aalborg", "byraad", day=date(2022, 4, 18)),
            "mandag den 18. april 2022 er ikke en arbejdsdag (Anden påskedag)",
            "Monday 18 April 2022 is not a working day",
        ),
        (
            CalendarChange("add", "aalborg", "byraad", day=date(2022, 4, 16)),
            "er ikke en arbejdsdag (lørdag)",
            "(Saturday)",
        ),
        (
            CalendarChange("add", "aalborg", "byraad", day=date(2023, 1, 30)),
            "ligger ikke i 2022",
            "is not in 2022",
        ),
        (
            CalendarChange(
                "move", "aalborg", "byraad", day=date(2022, 1, 31), to=date(2022, 2, 28)
            ),
            "organet har allerede et møde mandag den 28. februar 2022",
            "already has a meeting",
        ),
        (
            CalendarChange("delete", "aalborg", "byraad", day=date(2022, 3, 28)),
            "der er intet møde mandag den 28. marts 2022",
            "there is no meeting",
        ),
    ],
)
def test_refusals_say_why_in_both_languages(change: CalendarChange, da: str, en: str) -> None:
    with pytest.raises(CalendarChangeRefused) as caught:
        changed_text(TEXT, change)
    assert da in str(caught.value)
    assert en in caught.value.text("en")
