"""`ventanilla crisis ...`: replay a CSV through crisis detection and score the alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ventanilla.crisis.replay import Labeller, ReplayReport, iso, replay

app = typer.Typer(help="Crisis early warning: replay posts and see which alerts would fire.")


@app.callback()
def crisis() -> None:
    """Crisis early warning: replay posts and see which alerts would fire."""


def default_labeller() -> Labeller:
    """The project's triage models (trained artefacts inside the package)."""
    try:
        from ventanilla.triage.model import load_triager
    except ImportError as error:  # triage not installed/trained in this checkout
        raise typer.BadParameter(f"triage models are not available ({error}); train them first") from error
    triager: Labeller = load_triager()
    return triager


@app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with created_at and text.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON object (the replay contract).")
    ] = False,
    speed: Annotated[
        float,
        typer.Option(help="Seconds of post time per wall second; 0 replays as fast as possible."),
    ] = 0.0,
    bursts: Annotated[
        Path | None,
        typer.Option(
            "--bursts",
            exists=True,
            dir_okay=False,
            help="Score against this bursts.csv instead of the bursts found in FILE.",
        ),
    ] = None,
) -> None:
    """Replay FILE in time order through triage and the crisis detectors.

    Labels come from triage (never from the file's label columns). Every alert is printed
    with its time, level, brand, topic and why; then each brand's five largest negative
    hours (from the file's `sentiment` column when present) with the lead time of the first
    warning, the hit rates and the false alarms per brand per week.
    """
    report = replay(file, default_labeller(), speed=speed, bursts_file=bursts)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    _print_report(report)


def _print_report(report: ReplayReport) -> None:
    for event in report.events:
        episode = event.episode
        typer.echo(
            f"{iso(event.time)}  {event.kind.value:<8} {episode.level.name:<7} "
            f"{episode.brand or '-'}  [{episode.topic}]  {episode.why}"
        )
    typer.echo("")
    typer.echo("bursts (peak hour, negative posts, first alert, lead minutes):")
    for outcome in report.score.outcomes:
        burst = outcome.burst
        first = iso(outcome.first_alert) if outcome.first_alert is not None else "none"
        mark = "hit " if outcome.hit else "miss"
        typer.echo(
            f"  {mark} {burst.brand} #{burst.rank}  {iso(burst.start)}  {burst.negative_posts:>4}"
            f"  {first}  {outcome.lead_minutes}"
        )
    summary = report.to_json()
    typer.echo("")
    typer.echo(
        f"posts {summary['posts']} (skipped {summary['skipped']}) in {summary['seconds']} s; "
        f"largest-burst hit rate {summary['largest_burst_hit_rate']:.0%}, "
        f"hit rate {summary['hit_rate']:.0%}, "
        f"false alarms {summary['false_alarms']} "
        f"({summary['false_alarms_per_brand_week']:.2f} per brand per week)"
    )
