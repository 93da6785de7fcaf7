"""Rolling 5-minute and 1-hour signals per brand, channel and reason."""

from __future__ import annotations

from ventanilla.crisis.signals import ANY, CrisisPost, SignalBoard

T0 = 1_424_649_600.0


def post(minute: float, *, negative: bool = True, **extra: object) -> CrisisPost:
    return CrisisPost(
        time=T0 + minute * 60,
        brand="Acme",
        negative=negative,
        complaint=negative,
        channel=str(extra.get("channel", "twitter")),
        reason=str(extra.get("reason", "late")),
        engagement=int(extra.get("engagement", 0)),  # type: ignore[call-overload]
        followers=extra.get("followers"),  # type: ignore[arg-type]
    )


def test_hour_and_five_minute_windows_roll() -> None:
    board = SignalBoard(high_reach_followers=1000)
    for minute in range(0, 60, 2):
        board.observe(post(minute, negative=minute % 4 == 0, followers=5000 if minute == 0 else 10))
    hour = board.window("Acme").one_hour()
    assert hour.posts == 30
    assert hour.negative == 15
    assert hour.negative_share == 0.5
    assert hour.high_reach == 1
    assert board.window("Acme").five_minutes().posts == 2  # minutes 55 and 58

    board.observe(post(125))  # two hours later: everything before has left the hour
    hour = board.window("Acme").one_hour()
    assert (hour.posts, hour.negative, hour.high_reach) == (1, 1, 0)


def test_drill_down_by_reason_and_channel() -> None:
    board = SignalBoard()
    board.observe(post(1, reason="late", channel="twitter"))
    board.observe(post(2, reason="billing", channel="facebook"))
    board.observe(post(3, reason="late", channel="facebook"))
    assert board.window("Acme", ANY, "late").one_hour().complaints == 2
    assert board.window("Acme", "facebook", ANY).one_hour().posts == 2
    assert board.window("Acme", "facebook", "late").one_hour().posts == 1
    assert board.top_reasons("Acme") == [("late", 2), ("billing", 1)]


def test_engagement_weighs_logarithmically() -> None:
    board = SignalBoard()
    board.observe(post(1, engagement=0))
    board.observe(post(2, engagement=1000))
    weighted = board.window("Acme").one_hour().weighted_volume
    assert 2.0 < weighted < 10.0


def test_posts_older_than_the_window_are_counted_as_late_not_added() -> None:
    board = SignalBoard()
    board.observe(post(120))
    board.observe(post(10))
    assert board.late_posts == 1
    assert board.window("Acme").one_hour().posts == 1


def test_memory_is_bounded_by_evicting_idle_streams() -> None:
    board = SignalBoard(max_streams=40)
    for i in range(200):
        board.observe(CrisisPost(time=T0 + i * 600, brand=f"b{i}", negative=True, complaint=True))
    assert len(board) <= 44
