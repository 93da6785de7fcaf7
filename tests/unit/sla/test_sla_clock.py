"""The SLA clock for one case, on fixed dates (no reliance on the real clock)."""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ventanilla.sla.calendar import BusinessCalendar
from ventanilla.sla.clock import (
    add_business_seconds,
    business_seconds_between,
    closed_pause_seconds,
    due_at,
    elapsed_business_seconds,
)

MADRID = ZoneInfo("Europe/Madrid")
HOUR = 3600.0
OFFICE = BusinessCalendar.office_hours("Europe/Madrid")


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MADRID)


def test_friday_evening_post_is_due_monday_morning() -> None:
    posted = madrid(2026, 11, 20, 17, 30)  # Friday

    due = add_business_seconds(OFFICE, posted, 1 * HOUR)

    assert due == madrid(2026, 11, 23, 9, 30)  # Monday
    assert due.tzinfo is UTC
    assert business_seconds_between(OFFICE, posted, due) == 1 * HOUR


def test_due_time_at_closing_stays_on_the_same_day() -> None:
    assert add_business_seconds(OFFICE, madrid(2026, 11, 20, 17), HOUR) == madrid(2026, 11, 20, 18)


def test_post_outside_hours_starts_counting_at_opening() -> None:
    saturday = madrid(2026, 11, 21, 11)

    assert add_business_seconds(OFFICE, saturday, 30 * 60) == madrid(2026, 11, 23, 9, 30)
    assert business_seconds_between(OFFICE, saturday, madrid(2026, 11, 23, 9)) == 0


def test_holiday_is_skipped() -> None:
    calendar = BusinessCalendar.office_hours("Europe/Madrid", holidays=[date(2026, 12, 8)])
    posted = madrid(2026, 12, 7, 17)  # Monday; Tuesday 8 is a holiday

    assert add_business_seconds(calendar, posted, 2 * HOUR) == madrid(2026, 12, 9, 10)
    assert business_seconds_between(calendar, posted, madrid(2026, 12, 9, 10)) == 2 * HOUR


def test_office_hours_across_the_spring_dst_weekend() -> None:
    posted = madrid(2026, 3, 27, 17)  # Friday, CET (UTC+1)

    due = add_business_seconds(OFFICE, posted, 2 * HOUR)

    assert due == madrid(2026, 3, 30, 10)  # Monday, CEST (UTC+2)
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_office_hours_across_the_autumn_dst_weekend() -> None:
    posted = madrid(2026, 10, 23, 17)  # Friday, CEST

    assert add_business_seconds(OFFICE, posted, 2 * HOUR) == datetime(2026, 10, 26, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("saturday_noon", "hours_to_sunday_noon"),
    [(madrid(2026, 3, 28, 12), 23), (madrid(2026, 10, 24, 12), 25)],
)
def test_a_24_7_desk_counts_the_real_length_of_dst_days(
    saturday_noon: datetime, hours_to_sunday_noon: int
) -> None:
    desk = BusinessCalendar.always_open("Europe/Madrid")
    sunday_noon = saturday_noon + timedelta(days=1)  # same wall time, next day

    assert business_seconds_between(desk, saturday_noon, sunday_noon) == hours_to_sunday_noon * HOUR


def test_night_desk_on_the_night_clocks_go_forward() -> None:
    # Open Sundays 01:00-04:00; on 29 March 2026 02:00-03:00 does not exist.
    night = ((time(1), time(4)),)
    desk = BusinessCalendar("Europe/Madrid", ((),) * 6 + (night,))

    assert (
        business_seconds_between(desk, madrid(2026, 3, 29, 0), madrid(2026, 3, 29, 5)) == 2 * HOUR
    )
    assert add_business_seconds(desk, madrid(2026, 3, 29, 0), 1.5 * HOUR) == madrid(
        2026, 3, 29, 3, 30
    )


def test_a_24_7_desk_equals_the_wall_clock() -> None:
    rng = random.Random(7)
    for zone in ("UTC", "Europe/Madrid", "America/New_York"):
        desk = BusinessCalendar.always_open(zone)
        for _ in range(200):
            start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 3.2e7))
            seconds = rng.uniform(0, 20 * 86_400)
            end = start + timedelta(seconds=seconds)

            assert business_seconds_between(desk, start, end) == (end - start).total_seconds()
            assert add_business_seconds(desk, start, seconds) == end


def test_waiting_for_the_customer_stops_the_clock() -> None:
    opened = madrid(2026, 11, 20, 10)  # Friday
    asked_for_order_number = madrid(2026, 11, 20, 11)
    customer_answered = madrid(2026, 11, 20, 15)
    pauses = [(asked_for_order_number, customer_answered)]

    assert elapsed_business_seconds(OFFICE, opened, madrid(2026, 11, 20, 16), pauses) == 2 * HOUR
    assert due_at(OFFICE, opened, 4 * HOUR, pauses) == madrid(2026, 11, 20, 18)
    assert due_at(OFFICE, opened, 4 * HOUR) == madrid(2026, 11, 20, 14)


def test_an_open_pause_freezes_elapsed_time_and_leaves_no_due_time() -> None:
    opened = madrid(2026, 11, 20, 10)
    pauses = [(madrid(2026, 11, 20, 11), None)]

    for now in (madrid(2026, 11, 20, 12), madrid(2026, 11, 25, 12)):
        assert elapsed_business_seconds(OFFICE, opened, now, pauses) == HOUR
    assert due_at(OFFICE, opened, 4 * HOUR, pauses) is None


def test_a_pause_after_the_due_time_does_not_move_it() -> None:
    opened = madrid(2026, 11, 20, 10)
    late_pauses = [(madrid(2026, 11, 20, 16), None)]

    assert due_at(OFFICE, opened, 4 * HOUR, late_pauses) == madrid(2026, 11, 20, 14)


def test_overlapping_and_early_pauses_count_once() -> None:
    opened = madrid(2026, 11, 20, 10)
    pauses = [
        (madrid(2026, 11, 20, 9), madrid(2026, 11, 20, 10, 30)),  # began before the case
        (madrid(2026, 11, 20, 12), madrid(2026, 11, 20, 13)),
        (madrid(2026, 11, 20, 12, 30), madrid(2026, 11, 20, 13, 30)),
    ]

    assert elapsed_business_seconds(OFFICE, opened, madrid(2026, 11, 20, 14), pauses) == 2 * HOUR


def test_a_pause_ending_before_it_starts_is_refused() -> None:
    backwards = [(madrid(2026, 11, 20, 12), madrid(2026, 11, 20, 11))]

    with pytest.raises(ValueError, match="before it starts"):
        elapsed_business_seconds(
            OFFICE, madrid(2026, 11, 20, 10), madrid(2026, 11, 20, 13), backwards
        )


def test_zero_target_is_due_at_once_and_negative_is_refused() -> None:
    saturday = madrid(2026, 11, 21, 11)

    assert add_business_seconds(OFFICE, saturday, 0) == saturday
    with pytest.raises(ValueError, match="negative"):
        add_business_seconds(OFFICE, saturday, -1)


def test_end_before_start_counts_nothing() -> None:
    assert business_seconds_between(OFFICE, madrid(2026, 11, 20, 12), madrid(2026, 11, 20, 11)) == 0


def test_other_time_zones_in_give_utc_out() -> None:
    new_york = ZoneInfo("America/New_York")

    due = add_business_seconds(OFFICE, datetime(2026, 11, 20, 5, tzinfo=new_york), HOUR)

    assert due == madrid(2026, 11, 20, 12)
    assert due.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 20, 10)
    aware = madrid(2026, 11, 20, 10)

    with pytest.raises(ValueError, match="naive"):
        business_seconds_between(OFFICE, naive, aware)
    with pytest.raises(ValueError, match="naive"):
        business_seconds_between(OFFICE, aware, naive)
    with pytest.raises(ValueError, match="naive"):
        add_business_seconds(OFFICE, naive, HOUR)
    with pytest.raises(ValueError, match="naive"):
        elapsed_business_seconds(OFFICE, aware, naive)
    with pytest.raises(ValueError, match="naive"):
        elapsed_business_seconds(OFFICE, aware, aware, [(naive, None)])
    with pytest.raises(ValueError, match="naive"):
        due_at(OFFICE, naive, HOUR)


def test_a_closed_pause_adds_its_business_time_unless_the_promise_was_already_due() -> None:
    due = madrid(2026, 11, 20, 14)
    asked, answered = madrid(2026, 11, 20, 11), madrid(2026, 11, 23, 10)  # Friday to Monday

    assert closed_pause_seconds(OFFICE, asked, answered, due) == 8 * HOUR
    assert closed_pause_seconds(OFFICE, madrid(2026, 11, 20, 15), answered, due) == 0
    with pytest.raises(ValueError, match="before it starts"):
        closed_pause_seconds(OFFICE, answered, asked, due)
