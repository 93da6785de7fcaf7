"""When a listener's lease counts as held, and how a holder names its process."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta

import pytest

from ventanilla.ingest.listener_lease import HEARTBEAT_SECONDS, STALE_BEATS, Holder, command_name, is_held
from ventanilla.ingest.listener_models import ChannelListenerState

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_a_lease_is_held_while_the_heartbeat_is_fresh_and_free_once_it_is_stale() -> None:
    stale_after = timedelta(seconds=STALE_BEATS * HEARTBEAT_SECONDS)
    assert not is_held(None, now=NOW)
    assert not is_held(ChannelListenerState(channel_id=1), now=NOW)  # never taken
    fresh = ChannelListenerState(channel_id=1, holder="a", heartbeat_at=NOW - stale_after)
    assert is_held(fresh, now=NOW)
    assert not is_held(ChannelListenerState(channel_id=1, holder="a", heartbeat_at=NOW - stale_after
                                            - timedelta(seconds=1)), now=NOW)
    assert not is_held(ChannelListenerState(channel_id=1, holder=None, heartbeat_at=NOW), now=NOW)  # released
    assert is_held(ChannelListenerState(channel_id=1, holder="a", heartbeat_at=NOW - timedelta(seconds=5)),
                   now=NOW, heartbeat_seconds=2)
    assert not is_held(ChannelListenerState(channel_id=1, holder="a", heartbeat_at=NOW - timedelta(seconds=7)),
                       now=NOW, heartbeat_seconds=2)


def test_each_holder_has_its_own_token_and_says_where_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/ventanilla", "channels", "listen", "-w", "demo"])
    assert command_name() == "ventanilla channels listen"
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/ventanilla", "--verbose", "clock"])
    assert command_name() == "ventanilla clock"
    first, second = Holder.here(), Holder.here("ventanilla serve")
    assert first.token != second.token and first.pid == second.pid == os.getpid()
    assert first.process == "ventanilla clock" and second.process == "ventanilla serve"
    assert len(Holder.here("x" * 500).process) == 128
