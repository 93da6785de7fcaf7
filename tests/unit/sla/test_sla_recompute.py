"""Recomputing many open promises at once agrees with the one-case clock."""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from ventanilla.sla.calendar import BusinessCalendar
from ventanilla.sla.clock import (
    Pause,
    add_business_seconds,
    business_seconds_between,
    due_at,
    elapsed_business_seconds,
    merged_pauses,
)
from ventanilla.sla.recompute import recompute_many, recompute_with_thresholds
from ventanilla.sla.status import SlaState, evaluate

MADRID = ZoneInfo("Europe/Madrid")
HOUR = 3600.0
SPLIT_SHIFT = ((time(9), time(14)), (time(16), time(19)))
# Split shifts on weekdays, Saturday mornings, Madrid holidays around Easter and
# the DST change of 29 March 2026, where the random cases below start.
DESK = BusinessCalendar(
    "Europe/Madrid",
    (SPLIT_SHIFT,) * 5 + (((time(10), time(13, 30)),), ()),
    frozenset({date(2026, 3, 19), date(2026, 4, 2), date(2026, 4, 3), date(2026, 5, 1)}),
)


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def test_friday_evening_post_due_monday_in_bulk() -> None:
    office = BusinessCalendar.office_hours("Europe/Madrid")
    posted = datetime(2026, 11, 20, 17, 30, tzinfo=MADRID)
    now = datetime(2026, 11, 23, 9, 15, tzinfo=MADRID)

    due, elapsed, codes = recompute_many(office, [epoch(posted)], [HOUR], [0.0], now)

    assert due[0] == epoch(datetime(2026, 11, 23, 9, 30, tzinfo=MADRID))
    assert elapsed[0] == 45 * 60
    assert SlaState.from_code(codes[0]) is SlaState.AT_RISK


def test_open_pause_in_bulk_has_no_due_time() -> None:
    office = BusinessCalendar.office_hours("Europe/Madrid")
    opened = datetime(2026, 11, 20, 10, tzinfo=MADRID)
    waiting_since = datetime(2026, 11, 20, 11, tzinfo=MADRID)
    now = datetime(2026, 11, 24, 12, tzinfo=MADRID)

    due, elapsed, codes = recompute_many(
        office,
        [epoch(opened), epoch(opened)],
        [4 * HOUR, 0.5 * HOUR],
        [0.0, 0.0],
        now,
        paused_since=[epoch(waiting_since), epoch(waiting_since)],
    )

    assert np.isnan(due[0])  # paused in time
    assert due[1] == epoch(datetime(2026, 11, 20, 10, 30, tzinfo=MADRID))  # paused too late
    assert elapsed.tolist() == [HOUR, HOUR]
    assert [SlaState.from_code(code) for code in codes] == [SlaState.PAUSED, SlaState.BREACHED]


def test_empty_input_and_bad_input() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)

    due, elapsed, codes = recompute_many(DESK, [], [], [], now)
    assert len(due) == len(elapsed) == len(codes) == 0

    with pytest.raises(ValueError, match="same length"):
        recompute_many(DESK, [0.0], [HOUR, HOUR], [0.0], now)
    with pytest.raises(ValueError, match="positive"):
        recompute_many(DESK, [0.0], [0.0], [0.0], now)
    with pytest.raises(ValueError, match="negative"):
        recompute_many(DESK, [0.0], [HOUR], [-1.0], now)
    with pytest.raises(ValueError, match="naive"):
        recompute_many(DESK, [0.0], [HOUR], [0.0], datetime(2026, 11, 20))


def random_case(rng: random.Random, now: datetime) -> tuple[datetime, float, list[Pause]]:
    """A case opened before `now`, with a target and some pauses, all before `now`."""
    start = now - timedelta(days=40 * rng.random() ** 3)
    target = rng.choice([15 * 60, HOUR, 4 * HOUR, 24 * HOUR, 72 * HOUR, rng.uniform(1, 90 * HOUR)])
    pauses: list[Pause] = []
    cursor = start - timedelta(hours=rng.uniform(0, 2))
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        begins = cursor + timedelta(hours=rng.uniform(0, 20))
        cursor = begins + timedelta(hours=rng.uniform(0, 20))
        if cursor < now:
            pauses.append((begins, cursor))
    if rng.random() < 0.25:
        begins = cursor + (now - cursor) * rng.random()
        if begins < now:
            pauses.append((begins, None))
    return start, target, pauses


def test_bulk_agrees_with_the_scalar_clock_on_random_cases() -> None:
    rng = random.Random(20260329)
    # After the DST change and the Easter holidays, which the older cases span.
    now = datetime(2026, 4, 10, 12, tzinfo=UTC)
    cases = [random_case(rng, now) for _ in range(2000)]

    starts, targets, paused_seconds, paused_since = [], [], [], []
    for start, target, pauses in cases:
        closed = [(b, e) for b, e in pauses if e is not None]
        starts.append(epoch(start))
        targets.append(target)
        paused_seconds.append(
            sum(
                business_seconds_between(DESK, max(b, start), e)
                for b, e in merged_pauses(closed, until=now)
            )
        )
        open_pause = [b for b, e in pauses if e is None]
        paused_since.append(epoch(open_pause[0]) if open_pause else np.nan)

    due, elapsed, codes = recompute_many(
        DESK,
        np.array(starts),
        np.array(targets),
        np.array(paused_seconds),
        now,
        paused_since=np.array(paused_since),
    )

    compared_due_times = 0
    for i, (start, target, pauses) in enumerate(cases):
        spent = elapsed_business_seconds(DESK, start, now, pauses)
        waiting = any(e is None for _, e in pauses)
        assert elapsed[i] == pytest.approx(spent, abs=1e-3), i
        assert SlaState.from_code(codes[i]) is evaluate(target, spent, paused=waiting), i

        if not np.isnan(due[i]):
            # What the bulk path promises for any pauses...
            expected = add_business_seconds(DESK, start, target + paused_seconds[i])
            assert due[i] == pytest.approx(epoch(expected), abs=1e-3), i
        scalar_due = due_at(DESK, start, target, pauses)
        if all(b < (scalar_due or now) for b, _ in pauses):
            # ...is the true due time when no pause began after it.
            assert (scalar_due is None) == bool(np.isnan(due[i])), i
            if scalar_due is not None:
                assert due[i] == pytest.approx(epoch(scalar_due), abs=1e-3), i
                compared_due_times += 1

    assert compared_due_times > 1000
    states = {SlaState.from_code(code) for code in codes}
    assert states == {SlaState.ON_TRACK, SlaState.AT_RISK, SlaState.BREACHED, SlaState.PAUSED}


def test_bulk_on_a_24_7_desk_is_wall_clock_arithmetic() -> None:
    desk = BusinessCalendar.always_open("Europe/Madrid")
    rng = np.random.default_rng(11)
    now = datetime(2026, 10, 30, tzinfo=UTC)  # a week after the autumn DST change
    starts = epoch(now) - rng.uniform(0, 20 * 86_400, 500)
    targets = rng.uniform(60, 10 * 86_400, 500)
    paused = rng.uniform(0, 86_400, 500)

    due, elapsed, _ = recompute_many(desk, starts, targets, paused, now)

    np.testing.assert_allclose(due, starts + targets + paused, atol=1e-6)
    np.testing.assert_allclose(elapsed, np.maximum(epoch(now) - starts - paused, 0), atol=1e-6)


def test_the_at_risk_moment_comes_with_the_due_time_in_one_pass() -> None:
    rng = random.Random(75)
    now = datetime(2026, 4, 10, 12, tzinfo=UTC)
    cases = [random_case(rng, now) for _ in range(1500)]
    starts = np.array([epoch(start) for start, _, _ in cases])
    targets = np.array([target for _, target, _ in cases])
    paused = np.array([rng.uniform(0, 4 * HOUR) for _ in cases])
    since = np.array([next((epoch(b) for b, e in pauses if e is None), np.nan) for _, _, pauses in cases])

    due, elapsed, codes, risk = recompute_with_thresholds(DESK, starts, targets, paused, now, paused_since=since,
                                                          at_risk_ratio=0.8)
    plain_due, plain_elapsed, plain_codes = recompute_many(DESK, starts, targets, paused, now, paused_since=since,
                                                           at_risk_ratio=0.8)
    np.testing.assert_array_equal(due, plain_due)
    np.testing.assert_array_equal(elapsed, plain_elapsed)
    np.testing.assert_array_equal(codes, plain_codes)
    # The moment 80 % of the target has run: the due time of a promise of 80 % of it.
    risk_due, _, _ = recompute_many(DESK, starts, 0.8 * targets, paused, now, paused_since=since)
    running = np.isnan(since)
    assert running.sum() > 300 and (~running).sum() > 30
    np.testing.assert_allclose(risk[running], risk_due[running], atol=1e-6)
    assert np.isnan(risk[~running]).all()  # waiting on the customer: no threshold to wait for
    on_track = codes == SlaState.ON_TRACK.code
    assert on_track.sum() > 20 and (risk[on_track] > epoch(now)).all()
    at_risk = codes == SlaState.AT_RISK.code
    assert at_risk.sum() > 20 and (risk[at_risk] <= epoch(now)).all() and (due[at_risk] >= epoch(now)).all()
