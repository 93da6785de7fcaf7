"""Plain outgoing e-mail through the configured SMTP server (VENTANILLA_SMTP_*), stdlib only."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage

from ventanilla.config import get_settings


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server."""


def mail_configured() -> bool:
    """True when VENTANILLA_SMTP_HOST is set."""
    return bool(get_settings().smtp_host)


def send_mail(*, to: str, subject: str, body: str) -> None:
    """Send a text e-mail with the same SMTP settings as every other e-mail the product sends
    (``smtp_ssl``: TLS from the start; ``smtp_starttls``: upgrade). Raises MailError on failure."""
    settings = get_settings()
    if not settings.smtp_host:
        raise MailError("VENTANILLA_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        smtp: smtplib.SMTP
        if settings.smtp_ssl:
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
        try:
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message, settings.smtp_from, [to])
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"could not send e-mail to {to}: {exc!r}") from exc
