"""SLA alerts out of the database: in the app, by e-mail (SMTP) and to a workspace's webhook.

Each delivery happens once: a worker locks the alert row (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite writers queue), sends, and stamps `delivered_*_at` in the same
transaction. A failed send rolls back and is tried again on the next pass; a stamped alert is
never sent again.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from ventanilla.accounts.models import User, Workspace
from ventanilla.cases.models import Case
from ventanilla.config import Settings, get_settings
from ventanilla.db import session_factory, utcnow
from ventanilla.sla.models import SlaAlert, SlaAlertRecipient

log = logging.getLogger(__name__)

# Alerts older than this are not sent any more (a channel configured later does not flood).
DELIVERY_WINDOW = timedelta(hours=24)

TARGET_NAMES = {"first_response": "first response", "next_response": "next response", "resolution": "resolution"}


@dataclass(slots=True)
class DeliveryReport:
    """How many alerts went out on each channel in one pass, and how many failed."""

    emails: int = 0
    webhooks: int = 0
    failures: list[str] = field(default_factory=list)


def alert_text(session: Session, alert: SlaAlert) -> str:
    """One line a person understands: which case, which promise, when it is due, who it went to."""
    settings = get_settings()
    workspace = session.get(Workspace, alert.workspace_id)
    zone = ZoneInfo(workspace.timezone if workspace else "UTC")
    subject = session.scalar(select(Case.subject).where(Case.id == alert.case_id)) or ""
    what = TARGET_NAMES.get(alert.target, alert.target)
    due = alert.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if alert.due_at else "?"
    if alert.kind == "breached":
        line = f"SLA breached: case #{alert.case_id}, {what} was due {due}"
    else:
        line = f"SLA at risk: case #{alert.case_id}, {what} due {due}"
    if alert.escalated_to:
        names = list(session.scalars(select(User.name).where(User.id.in_(alert.escalated_to)).order_by(User.name)))
        line += f"; escalated to {', '.join(names)}"
    link = f"{settings.base_url.rstrip('/')}/cases/{alert.case_id}"
    return f"{line}. \u201c{subject[:120]}\u201d {link}"


def _recipient_emails(session: Session, alert_id: int) -> list[str]:
    return list(session.scalars(select(User.email).join(SlaAlertRecipient, SlaAlertRecipient.user_id == User.id)
                                .where(SlaAlertRecipient.alert_id == alert_id, User.is_active.is_(True))
                                .order_by(User.email)))


def send_email(settings: Settings, recipients: list[str], subject: str, body: str) -> None:
    """Send one plain-text e-mail through the configured SMTP server (stdlib smtplib)."""
    assert settings.smtp_host
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def post_webhook(url: str, text: str, timeout: float = 10.0) -> None:
    """POST `{"text": ...}` (what Slack and Mattermost incoming webhooks take)."""
    request = urllib.request.Request(url, data=json.dumps({"text": text}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status >= 300:
            raise OSError(f"webhook answered {response.status}")


def _pending(session: Session, column: str, since: datetime) -> list[int]:
    return list(session.scalars(select(SlaAlert.id).where(getattr(SlaAlert, column).is_(None),
                                                          SlaAlert.created_at >= since).order_by(SlaAlert.id)))


def _claim(session: Session, alert_id: int, column: str) -> SlaAlert | None:
    """Lock one undelivered alert for this transaction; None if delivered or held by another worker."""
    statement = select(SlaAlert).where(SlaAlert.id == alert_id, getattr(SlaAlert, column).is_(None))
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return session.scalar(statement)


def deliver_pending_alerts(engine: Engine | None = None, *, now: datetime | None = None) -> DeliveryReport:
    """Send every recent alert not yet sent by e-mail and to the workspace webhook, once each."""
    settings = get_settings()
    now = now or utcnow()
    since = now - DELIVERY_WINDOW
    factory = session_factory(engine)
    report = DeliveryReport()
    with factory() as session:
        email_ids = _pending(session, "delivered_email_at", since) if settings.smtp_host else []
        webhook_ids = _pending(session, "delivered_webhook_at", since)
    for alert_id in email_ids:
        with factory() as session:
            try:
                alert = _claim(session, alert_id, "delivered_email_at")
                if alert is None:
                    continue
                emails = _recipient_emails(session, alert_id)
                if not emails:
                    continue
                text = alert_text(session, alert)
                send_email(settings, emails, f"[ventanilla] {text.split('. ')[0]}", text)
                session.execute(update(SlaAlert).where(SlaAlert.id == alert_id).values(delivered_email_at=now))
                session.commit()
                report.emails += 1
            except (OSError, smtplib.SMTPException) as exc:
                session.rollback()
                log.warning("SLA alert %s: e-mail not sent (%s); will retry", alert_id, exc)
                report.failures.append(f"email:{alert_id}")
    for alert_id in webhook_ids:
        with factory() as session:
            try:
                alert = _claim(session, alert_id, "delivered_webhook_at")
                if alert is None:
                    continue
                workspace = session.get(Workspace, alert.workspace_id)
                url = (workspace.settings or {}).get("sla_webhook_url") if workspace else None
                if not url:
                    continue
                post_webhook(str(url), alert_text(session, alert))
                session.execute(update(SlaAlert).where(SlaAlert.id == alert_id).values(delivered_webhook_at=now))
                session.commit()
                report.webhooks += 1
            except OSError as exc:
                session.rollback()
                log.warning("SLA alert %s: webhook not delivered (%s); will retry", alert_id, exc)
                report.failures.append(f"webhook:{alert_id}")
    return report


@dataclass(slots=True)
class InAppAlert:
    """An alert in a user's list."""

    id: int
    case_id: int
    target: str
    kind: str
    due_at: datetime | None
    created_at: datetime
    read_at: datetime | None
    escalated_to: list[int] | None


def alerts_for(session: Session, *, user_id: int, workspace_id: int, unread_only: bool = False,
               limit: int = 100) -> list[InAppAlert]:
    """The user's SLA alerts, newest first."""
    statement = (select(SlaAlert, SlaAlertRecipient.read_at)
                 .join(SlaAlertRecipient, SlaAlertRecipient.alert_id == SlaAlert.id)
                 .where(SlaAlertRecipient.user_id == user_id, SlaAlert.workspace_id == workspace_id)
                 .order_by(SlaAlert.created_at.desc(), SlaAlert.id.desc()).limit(limit))
    if unread_only:
        statement = statement.where(SlaAlertRecipient.read_at.is_(None))
    return [InAppAlert(a.id, a.case_id, a.target, a.kind, a.due_at, a.created_at, read_at, a.escalated_to)
            for a, read_at in session.execute(statement).all()]


def mark_read(session: Session, *, user_id: int, alert_id: int) -> bool:
    """Mark one of the user's alerts read; False if it is not theirs."""
    result = session.execute(update(SlaAlertRecipient).where(
        SlaAlertRecipient.alert_id == alert_id, SlaAlertRecipient.user_id == user_id,
        SlaAlertRecipient.read_at.is_(None)).values(read_at=utcnow()))
    return bool(result.rowcount)  # type: ignore[attr-defined]
