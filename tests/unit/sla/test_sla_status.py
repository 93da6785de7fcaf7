"""Where a promise stands: on track, at risk, breached, met or paused."""

import numpy as np
import pytest

from ventanilla.sla.status import SlaState, TargetKind, Targets, evaluate, evaluate_many

HOUR = 3600.0


@pytest.mark.parametrize(
    ("elapsed", "state"),
    [
        (0, SlaState.ON_TRACK),
        (2699, SlaState.ON_TRACK),
        (2700, SlaState.AT_RISK),  # 75 % of one hour
        (3600, SlaState.AT_RISK),  # due now, not yet late
        (3601, SlaState.BREACHED),
    ],
)
def test_open_promise_states(elapsed: float, state: SlaState) -> None:
    assert evaluate(HOUR, elapsed) is state


def test_at_risk_ratio_is_a_setting() -> None:
    assert evaluate(HOUR, 1800, at_risk_ratio=0.5) is SlaState.AT_RISK
    with pytest.raises(ValueError, match="at_risk_ratio"):
        evaluate(HOUR, 1800, at_risk_ratio=1.5)


def test_done_promises_are_met_or_breached() -> None:
    assert evaluate(HOUR, 3600, done=True) is SlaState.MET
    assert evaluate(HOUR, 3000, done=True) is SlaState.MET
    assert evaluate(HOUR, 3700, done=True) is SlaState.BREACHED


def test_paused_promise_unless_already_breached() -> None:
    assert evaluate(HOUR, 3000, paused=True) is SlaState.PAUSED
    assert evaluate(HOUR, 3700, paused=True) is SlaState.BREACHED


def test_target_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        evaluate(0, 10)


def test_evaluate_many_matches_evaluate() -> None:
    rng = np.random.default_rng(3)
    targets = rng.uniform(60, 10 * HOUR, 1000)
    elapsed = targets * rng.uniform(0, 1.5, 1000)
    paused = rng.random(1000) < 0.2

    codes = evaluate_many(targets, elapsed, paused=paused)

    expected = [
        evaluate(target, spent, paused=bool(waiting)).code
        for target, spent, waiting in zip(targets, elapsed, paused, strict=True)
    ]
    assert codes.tolist() == expected
    assert {SlaState.from_code(code) for code in codes} == {
        SlaState.ON_TRACK,
        SlaState.AT_RISK,
        SlaState.BREACHED,
        SlaState.PAUSED,
    }


def test_targets_per_kind_of_promise() -> None:
    targets = Targets.from_hours(first_response=24, next_response=48, resolution=72)

    assert targets.seconds_for(TargetKind.FIRST_RESPONSE) == 24 * HOUR
    assert targets.seconds_for(TargetKind.RESOLUTION) == 72 * HOUR
    assert Targets.from_dict(targets.to_dict()) == targets
    assert Targets(first_response=HOUR).seconds_for(TargetKind.NEXT_RESPONSE) is None
    with pytest.raises(ValueError, match="resolution"):
        Targets(resolution=-1)
    with pytest.raises(ValueError, match="unknown targets"):
        Targets.from_dict({"first_reply": 60})
