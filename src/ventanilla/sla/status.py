"""Where a case stands against a promise: on track, at risk, breached, met or paused."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

DEFAULT_AT_RISK_RATIO = 0.75


class SlaState(enum.StrEnum):
    """The state of one promise. `code` is its small-integer form for numpy arrays."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"

    @property
    def code(self) -> int:
        """The state's integer code, as used by `recompute_many`."""
        return STATE_CODES[self]

    @classmethod
    def from_code(cls, code: int) -> SlaState:
        """The state for an integer code from `recompute_many`."""
        return STATES_BY_CODE[int(code)]


STATES_BY_CODE: tuple[SlaState, ...] = tuple(SlaState)
STATE_CODES: dict[SlaState, int] = {state: code for code, state in enumerate(STATES_BY_CODE)}


class TargetKind(enum.StrEnum):
    """The three promises a desk makes on each case."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Targets:
    """Business-time targets, in seconds, for one SLA policy; None means no promise."""

    first_response: float | None = None
    next_response: float | None = None
    resolution: float | None = None

    def __post_init__(self) -> None:
        for kind in TargetKind:
            seconds = getattr(self, kind.value)
            if seconds is not None and not seconds > 0:
                raise ValueError(f"{kind.value} target must be a positive number of seconds")

    @classmethod
    def from_hours(
        cls,
        first_response: float | None = None,
        next_response: float | None = None,
        resolution: float | None = None,
    ) -> Targets:
        """Targets given in business hours, e.g. `Targets.from_hours(24, 48, 72)`."""
        return cls(
            *(
                None if hours is None else hours * 3600.0
                for hours in (first_response, next_response, resolution)
            )
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Targets:
        """Targets from JSON-style data: `{"first_response": 3600, ...}` in seconds."""
        unknown = set(data) - {kind.value for kind in TargetKind}
        if unknown:
            raise ValueError(f"unknown targets: {', '.join(sorted(unknown))}")
        return cls(**{key: None if value is None else float(value) for key, value in data.items()})

    def to_dict(self) -> dict[str, float | None]:
        """The targets as JSON-ready data, in seconds."""
        return {kind.value: getattr(self, kind.value) for kind in TargetKind}

    def seconds_for(self, kind: TargetKind) -> float | None:
        """The target for one kind of promise, or None if the policy makes none."""
        value: float | None = getattr(self, TargetKind(kind).value)
        return value


def evaluate(
    target_seconds: float,
    elapsed_seconds: float,
    *,
    at_risk_ratio: float = DEFAULT_AT_RISK_RATIO,
    done: bool = False,
    paused: bool = False,
) -> SlaState:
    """The state of a promise after `elapsed_seconds` of business time.

    `done` means the promise was fulfilled (replied or resolved) at that elapsed
    time: met if within target, breached otherwise. A case over its target is
    breached even while paused. Otherwise it is at risk from `at_risk_ratio` of
    the target on (0.75: 45 minutes into a 1-hour promise).
    """
    _check_ratio(at_risk_ratio)
    if not target_seconds > 0:
        raise ValueError(f"target_seconds must be positive, got {target_seconds}")
    if elapsed_seconds > target_seconds:
        return SlaState.BREACHED
    if done:
        return SlaState.MET
    if paused:
        return SlaState.PAUSED
    if elapsed_seconds >= at_risk_ratio * target_seconds:
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


def evaluate_many(
    target_seconds: npt.NDArray[np.float64],
    elapsed_seconds: npt.NDArray[np.float64],
    *,
    at_risk_ratio: float = DEFAULT_AT_RISK_RATIO,
    paused: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.int8]:
    """`evaluate` for arrays of open promises; returns `SlaState` codes (int8)."""
    _check_ratio(at_risk_ratio)
    codes = np.full(target_seconds.shape, STATE_CODES[SlaState.ON_TRACK], dtype=np.int8)
    codes[elapsed_seconds >= at_risk_ratio * target_seconds] = STATE_CODES[SlaState.AT_RISK]
    if paused is not None:
        codes[paused] = STATE_CODES[SlaState.PAUSED]
    codes[elapsed_seconds > target_seconds] = STATE_CODES[SlaState.BREACHED]
    return codes


def _check_ratio(at_risk_ratio: float) -> None:
    if not 0 < at_risk_ratio <= 1:
        raise ValueError(f"at_risk_ratio must be in (0, 1], got {at_risk_ratio}")
