"""`ventanilla replies ...`: lint a reply, evaluate the linter, retrain it, print a draft."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ventanilla.replies.draft_context import DraftContext, DraftContextError
from ventanilla.replies.drafts import draft as make_draft
from ventanilla.replies.labelled_set import SHIPPED_SET, LabelledSetError
from ventanilla.replies.lint import lint as lint_reply
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.templating import TemplateError

app = typer.Typer(
    name="replies",
    help="Reply drafts and the tone linter (Spanish and English).",
    no_args_is_help=True,
)
MAX_INPUT_BYTES = 5_000_000
CONTEXT_CHARS = 30


class Lang(StrEnum):
    es = "es"
    en = "en"


class Reason(StrEnum):
    late = "late"
    cancelled = "cancelled"
    lost_damaged = "lost_damaged"
    customer_service = "customer_service"
    booking_web_app = "booking_web_app"
    billing = "billing"
    quality = "quality"
    staff = "staff"
    waiting = "waiting"
    safety = "safety"
    other = "other"
    lost = "lost"
    damaged = "damaged"


class Intent(StrEnum):
    wants_fix = "wants_fix"
    wants_heard = "wants_heard"
    question = "question"
    praise = "praise"
    spam = "spam"


class Stage(StrEnum):
    first_public = "first_public"
    private_followup = "private_followup"
    resolution = "resolution"
    satisfaction_check = "satisfaction_check"
    fixed_notice = "fixed_notice"


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=2)


def _read_text(text: str | None) -> str:
    if text is not None:
        return text
    if sys.stdin is None or sys.stdin.isatty():
        raise _usage_error("give the reply as an argument or on standard input")
    raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1) if hasattr(sys.stdin, "buffer") else None
    # Undecodable bytes become U+FFFD rather than an error: the reply is still linted.
    data = sys.stdin.read(MAX_INPUT_BYTES + 1) if raw is None else raw.decode("utf-8", "replace")
    if len(data) > MAX_INPUT_BYTES:
        raise _usage_error(f"the reply is longer than {MAX_INPUT_BYTES} bytes")
    if not data.strip():
        raise _usage_error("the reply is empty")
    return data.rstrip("\n")


def _show_span(text: str, finding: Finding) -> str:
    start = max(0, finding.start - CONTEXT_CHARS)
    end = min(len(text), finding.end + CONTEXT_CHARS)
    before = ("…" if start else "") + text[start : finding.start]
    span = text[finding.start : finding.end]
    if len(span) > 160:
        span = span[:77] + " … " + span[-77:]
    after = text[finding.end : end] + ("…" if end < len(text) else "")
    clean = [" ".join(part.split("\n")) for part in (before, span, after)]
    return f"{escape(clean[0])}[reverse]⟦{escape(clean[1])}⟧[/reverse]{escape(clean[2])}"


@app.command("lint")
def lint_command(
    text: Annotated[str | None, typer.Argument(help="The reply; read from stdin when omitted.")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="The CUSTOMER's language.")] = Lang.es,
    public: Annotated[bool, typer.Option("--public/--private", help="Who can read it.")] = True,
    network: Annotated[str | None, typer.Option(help="x, facebook, instagram, ...")] = None,
    follow_up: Annotated[
        bool, typer.Option("--follow-up", help="Not the first reply of the case.")
    ] = False,
    not_complaint: Annotated[
        bool, typer.Option("--not-complaint", help="Answers praise or a question.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON findings.")] = False,
) -> None:
    """Check a reply's tone; prints findings (exit code 0 even when there are some)."""
    reply = _read_text(text)
    findings = lint_reply(
        reply,
        customer_lang=lang.value,
        public=public,
        network=network,
        first_reply=not follow_up,
        is_complaint=not not_complaint,
    )
    if as_json:
        payload = {
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity,
                    "start": f.start,
                    "end": f.end,
                    "suggestion": f.suggestion,
                }
                for f in findings
            ]
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    console = Console(highlight=False, soft_wrap=True)
    if not findings:
        console.print("No findings: the reply follows the playbook.")
        return
    colours = {"high": "bold red", "medium": "yellow", "low": "cyan"}
    for finding in findings:
        colour = colours[finding.severity]
        console.print(
            f"[{colour}]{finding.severity.upper():6}[/{colour}] {finding.rule} "
            f"({finding.start}-{finding.end}): {escape(finding.message)}"
        )
        console.print(f"  {_show_span(reply, finding)}")
        console.print(f"  → {escape(finding.suggestion)}")


@app.command("evaluate")
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="Labelled CSV (columns as the shipped set).")],
    split: Annotated[
        str | None, typer.Option(help="Only rows of this split, e.g. test (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    show_errors: Annotated[
        bool, typer.Option("--errors", help="Also list the replies the linter got wrong.")
    ] = False,
) -> None:
    """Per-rule precision and recall of the linter on a labelled CSV (medium/high count)."""
    from ventanilla.replies.evaluation import evaluate

    try:
        result = evaluate(file, split=split)
    except LabelledSetError as error:
        raise _usage_error(str(error)) from error
    if as_json:
        shown = result if show_errors else {k: v for k, v in result.items() if k != "errors"}
        typer.echo(json.dumps(shown, ensure_ascii=False))
        return
    table = Table(title=f"{result['replies']} replies, split: {result['split']}")
    for column in ("rule", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    rules = result["rules"]
    assert isinstance(rules, dict)
    for rule, figures in rules.items():
        table.add_row(
            rule,
            f"{figures['precision']:.3f}",
            f"{figures['recall']:.3f}",
            f"{figures['f1']:.3f}",
            str(figures["support"]),
        )
    overall = result["overall"]
    assert isinstance(overall, dict)
    table.add_row(
        "overall (micro)",
        f"{overall['precision']:.3f}",
        f"{overall['recall']:.3f}",
        "",
        str(overall["support"]),
    )
    console = Console(highlight=False)
    console.print(table)
    console.print(
        f"good replies with a medium/high finding: {overall['good_replies_flagged']} of "
        f"{overall['good_replies']}"
    )
    errors = result["errors"]
    if show_errors and isinstance(errors, list):
        for wrong in errors:
            console.print(
                f"{wrong['id']}: missed {', '.join(wrong['missed']) or '-'}; "
                f"extra {', '.join(wrong['extra']) or '-'} | {escape(str(wrong['text']))}"
            )


@app.command("train")
def train_command(
    csv: Annotated[Path, typer.Option(help="Labelled CSV; trains on split=train.")] = SHIPPED_SET,
    out: Annotated[Path | None, typer.Option(help="Model file (default: the shipped one).")] = None,
) -> None:
    """Retrain the rudeness classifier from the labelled set's train split."""
    from ventanilla.replies.lint import train_rudeness_model

    try:
        summary = train_rudeness_model(csv, out)
    except (LabelledSetError, ValueError) as error:
        raise _usage_error(str(error)) from error
    typer.echo(json.dumps(summary, ensure_ascii=False))


@app.command("draft")
def draft_command(
    lang: Annotated[Lang, typer.Option("--lang", help="The customer's language.")],
    reason: Annotated[Reason, typer.Option(help="Complaint reason code.")] = Reason.other,
    intent: Annotated[Intent, typer.Option(help="What the customer wants.")] = Intent.wants_fix,
    stage: Annotated[Stage, typer.Option(help="Playbook stage.")] = Stage.first_public,
    public: Annotated[bool, typer.Option("--public/--private")] = True,
    network: Annotated[str | None, typer.Option(help="x, facebook, ...")] = None,
    handle: Annotated[str | None, typer.Option(help="Customer's @handle.")] = None,
    name: Annotated[str | None, typer.Option(help="Customer's first name.")] = None,
    agent: Annotated[str, typer.Option(help="Agent's first name (signature).")] = "Ana",
    brand: Annotated[str, typer.Option(help="Company name.")] = "Ventanilla",
    promise_hours: Annotated[int, typer.Option(help="Promised answer time, hours.")] = 24,
    channel: Annotated[str | None, typer.Option(help="Private channel, e.g. DM.")] = None,
    survey_url: Annotated[str | None, typer.Option(help="Satisfaction survey link.")] = None,
    goodwill: Annotated[str | None, typer.Option(help="The 'something more' offered.")] = None,
    improvement: Annotated[str | None, typer.Option(help="What changed (fixed_notice).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the playbook draft for a case."""
    try:
        ctx = DraftContext(
            customer_lang=lang.value,
            reason=reason.value,
            intent=intent.value,
            stage=stage.value,
            public=public,
            network=network,
            customer_handle=handle,
            customer_name=name,
            agent_name=agent,
            brand=brand,
            promise_hours=promise_hours,
            private_channel=channel,
            survey_url=survey_url,
            goodwill_offer=goodwill,
            improvement_note=improvement,
        )
        result = make_draft(ctx)
    except (DraftContextError, TemplateError) as error:
        raise _usage_error(str(error)) from error
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "text": result.text,
                    "template": result.template,
                    "compact": result.compact,
                    "length": result.length,
                    "limit": result.limit,
                    "fits": result.fits,
                    "note": result.note,
                },
                ensure_ascii=False,
            )
        )
        return
    typer.echo(result.text or result.note)
