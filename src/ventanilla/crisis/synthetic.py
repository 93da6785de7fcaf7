"""Synthetic labelled post streams with known bursts, for tests, demos and benchmarks.

Each brand has a daily rhythm (quiet nights, busy afternoons) and Poisson arrivals; a burst
multiplies the brand's negative rate with a triangular ramp up to its peak hour and back,
and its posts talk about the burst's topic.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ventanilla.crisis.signals import CrisisPost

HOUR = 3600.0

_CALM_NEGATIVE = (
    "my bag is still missing after two days",
    "the app keeps crashing when I try to check in",
    "waited forty minutes on the phone with customer service",
    "seat was broken and nobody cared",
    "llevo una hora esperando en el mostrador",
    "el wifi del avión no funciona nunca",
    "they charged my card twice for the same ticket",
    "rude staff at the gate again",
)
_CALM_OTHER = (
    "great crew today, thanks",
    "any news about the new routes to Lisbon?",
    "gracias por la ayuda con mi reserva",
    "landed on time, nice flight",
    "what is the baggage allowance for infants?",
)


@dataclass(frozen=True, slots=True)
class SyntheticBurst:
    """A burst of negative posts: `factor` × the usual negative rate at `peak_hour`."""

    brand: str
    peak_hour: int
    factor: float
    topic: str
    ramp_hours: int = 2


def diurnal(hour_index: int, amplitude: float = 0.75) -> float:
    """Relative activity at an epoch hour: 1 - amplitude at night, 1 + amplitude at 15:00 UTC."""
    return 1.0 + amplitude * math.sin((hour_index % 24 - 9) / 24 * 2 * math.pi)


def stream(
    *,
    brands: Sequence[str],
    start_hour: int,
    hours: int,
    posts_per_hour: float,
    negative_share: float = 0.35,
    bursts: Sequence[SyntheticBurst] = (),
    seed: int = 7,
    daily_amplitude: float = 0.75,
) -> Iterator[CrisisPost]:
    """Labelled posts in time order, hour by hour (memory stays at one hour of posts)."""
    rng = np.random.default_rng(seed)
    for hour in range(start_hour, start_hour + hours):
        batch: list[CrisisPost] = []
        for brand in brands:
            rate = posts_per_hour * diurnal(hour, daily_amplitude)
            negative_rate = rate * negative_share
            extra = 0.0
            topic = ""
            for burst in bursts:
                distance = abs(hour - burst.peak_hour)
                if burst.brand == brand and distance <= burst.ramp_hours:
                    weight = 1.0 - distance / (burst.ramp_hours + 1)
                    extra += negative_rate * (burst.factor - 1.0) * weight
                    topic = burst.topic
            calm_negative = int(rng.poisson(negative_rate))
            burst_negative = int(rng.poisson(extra)) if extra > 0 else 0
            other = int(rng.poisson(rate * (1.0 - negative_share)))
            total = calm_negative + burst_negative + other
            times = hour * HOUR + np.sort(rng.random(total)) * HOUR
            kinds = rng.permutation(np.array([0] * calm_negative + [1] * burst_negative + [2] * other, dtype=np.int8))
            picks = rng.integers(0, 1 << 30, size=total)
            engagement = rng.geometric(0.5, size=total) - 1
            for t, kind, pick, eng in zip(
                times.tolist(), kinds.tolist(), picks.tolist(), engagement.tolist(), strict=True
            ):
                if kind == 2:
                    text = _CALM_OTHER[pick % len(_CALM_OTHER)]
                elif kind == 1:
                    text = f"{topic} again, {_CALM_NEGATIVE[pick % len(_CALM_NEGATIVE)]}"
                else:
                    text = _CALM_NEGATIVE[pick % len(_CALM_NEGATIVE)]
                negative = kind != 2
                batch.append(
                    CrisisPost(
                        time=t,
                        brand=brand,
                        negative=negative,
                        complaint=negative,
                        channel="twitter",
                        reason="late" if kind == 1 else ("other" if negative else "none"),
                        engagement=int(eng),
                        followers=50_000 if pick % 97 == 0 else 300,
                        text=text,
                    )
                )
        batch.sort(key=lambda p: p.time)
        yield from batch
