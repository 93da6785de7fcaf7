"""`ventanilla triage ...`: train, evaluate and classify (a Typer sub-app named ``app``)."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="Triage models: train, evaluate, classify.", no_args_is_help=True)
console = Console()


def _read_corrections(path: Path) -> list[tuple[str, str, str]]:
    """Corrections CSV with columns text,label,value."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        return [(r["text"], r["label"], r["value"]) for r in csv.DictReader(fh)
                if r.get("text") and r.get("label") and r.get("value")]


@app.command()
def train(
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Shared data folder."),
    out: Path | None = typer.Option(None, "--out", help="Artefact folder."),
    with_corrections: Path | None = typer.Option(
        None, "--with-corrections", help="CSV of agents' corrections (text,label,value)."),
    no_cv: bool = typer.Option(False, "--no-cv", help="Skip cross-validation (faster)."),
) -> None:
    """Train every triage head reproducibly and print the cross-validation figures."""
    from ventanilla.triage.training import train as run_training

    corrections = _read_corrections(with_corrections) if with_corrections else []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("training", total=None)
        result = run_training(data_dir, out, corrections,
                              progress=lambda msg: progress.update(task, description=msg),
                              cross_validate=not no_cv)
    table = Table(title=f"Cross-validation ({result['version']})")
    for col in ("set", "macro-F1", "accuracy", "n"):
        table.add_column(col)
    cv = result["cv"]
    assert isinstance(cv, dict)
    for head in cv.values():
        for name, rep in head.items():
            table.add_row(name, f"{rep['macro_f1']:.3f}", f"{rep['accuracy']:.3f}", str(rep["n"]))
    console.print(table)


@app.command()
def evaluate(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Labelled CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Per-class P/R/F1, macro-F1, accuracy, confusion and throughput on a labelled CSV."""
    from ventanilla.triage.evaluation import evaluate as run_evaluation

    result = run_evaluation(file)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    tasks = result["tasks"]
    assert isinstance(tasks, dict)
    for name, rep in tasks.items():
        table = Table(title=f"{name}: macro-F1 {rep['macro_f1']:.3f} · accuracy "
                            f"{rep['accuracy']:.3f} · n {rep['n']}")
        for col in ("class", "precision", "recall", "F1", "support"):
            table.add_column(col, justify="right" if col != "class" else "left")
        for cls, m in rep["per_class"].items():
            table.add_row(cls, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                          str(m["support"]))
        console.print(table)
        conf = Table(title=f"{name}: confusion (rows gold, columns predicted)")
        conf.add_column("")
        for cls in rep["labels"]:
            conf.add_column(cls[:10], justify="right")
        for cls, row in zip(rep["labels"], rep["confusion"], strict=True):
            conf.add_row(cls[:18], *[str(v) for v in row])
        console.print(conf)
    console.print(f"rows {result['rows']} · skipped {result['skipped_rows']} · "
                  f"{result['posts_per_second']:.0f} posts/s · model {result['model_version']}")


@app.command()
def classify(
    text: str = typer.Argument(..., help="The post to triage."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Triage one text and show every label with its confidence and evidence."""
    from ventanilla.triage.model import load_triager

    result = load_triager().predict([text])[0]
    data = dataclasses.asdict(result)
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"triage ({result.model_version})")
    for col in ("label", "value", "confidence", "evidence"):
        table.add_column(col)
    for name in ("language", "complaint", "sentiment", "reason", "offensive", "intent"):
        label = getattr(result, name)
        if label is None:
            table.add_row(name, "-", "", "")
            continue
        table.add_row(name, label.value, f"{label.confidence:.2f}", ", ".join(label.evidence))
    console.print(table)
    for cue in result.urgency:
        console.print(f"urgency {cue.kind}: {cue.text!r} [{cue.start}:{cue.end}]")
