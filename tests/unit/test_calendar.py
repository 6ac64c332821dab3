"""Danish working days and office hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from workflow.calendar import (
    add_working_days,
    holiday_name,
    is_working_day,
    local_to_utc,
    next_office_moment,
    office_slot,
    to_local,
    working_days_between,
)

NINE, FOUR = time(9), time(16)


def test_danish_holidays_in_danish_including_the_optional_days() -> None:
    assert holiday_name(date(2022, 5, 13)) == "Store bededag"
    assert holiday_name(date(2024, 4, 26)) is None  # abolished from 2024
    assert not is_working_day(date(2022, 6, 5))  # Grundlovsdag (a Sunday that year anyway)
    assert not is_working_day(date(2023, 6, 5))  # Grundlovsdag on a Monday
    assert not is_working_day(date(2022, 12, 24)) and not is_working_day(date(2025, 12, 31))
    assert not is_working_day(date(2022, 4, 18))  # 2. påskedag
    assert is_working_day(date(2022, 4, 19))


def test_working_days_skip_weekends_and_holidays() -> None:
    assert add_working_days(date(2022, 4, 13), 1) == date(2022, 4, 19)  # over Easter
    assert add_working_days(date(2022, 5, 20), -7) == date(2022, 5, 10)  # over Store bededag
    assert add_working_days(date(2022, 5, 20), 0) == date(2022, 5, 20)
    assert working_days_between(date(2022, 5, 10), date(2022, 5, 20)) == 7


def test_office_slot_moves_to_the_next_working_day_in_local_time() -> None:
    slot = office_slot(date(2022, 4, 2), NINE)  # a Saturday
    assert to_local(slot).date() == date(2022, 4, 4) and to_local(slot).hour == 9
    assert slot.tzinfo is not None and slot.utcoffset() is not None


def test_office_hours_across_daylight_saving_time() -> None:
    winter = office_slot(date(2022, 3, 25), NINE)
    summer = office_slot(date(2022, 3, 28), NINE)
    assert winter.astimezone(UTC).hour == 8 and summer.astimezone(UTC).hour == 7


def test_a_mail_planned_at_night_waits_for_the_next_opening() -> None:
    night = local_to_utc(date(2022, 5, 12), time(23, 30))  # Thursday night, Store bededag next
    assert to_local(next_office_moment(night, NINE, FOUR)) == datetime(
        2022, 5, 16, 9, tzinfo=to_local(night).tzinfo
    )
    inside = local_to_utc(date(2022, 5, 16), time(10, 15))
    assert next_office_moment(inside, NINE, FOUR) == inside
    early = local_to_utc(date(2022, 5, 16), time(6, 0))
    assert to_local(next_office_moment(early, NINE, FOUR)).hour == 9
