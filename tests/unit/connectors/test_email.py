"""The e-mail connector against a real Dovecot (IMAP) and aiosmtpd (SMTP) on 127.0.0.1."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from imapclient import IMAPClient
from tests.connectors_sim.drain import drain_ids
from tests.connectors_sim.mailserver import (
    DOVECOT,
    MAIL_PASSWORD,
    MAIL_USER,
    Dovecot,
    SmtpServer,
    free_port,
)

from ventanilla.ingest.connectors.base import AuthError, ConnectorError, OutgoingReply
from ventanilla.ingest.connectors.email import EmailConnector, message_id_for, normalise
from ventanilla.ingest.schema import PostKind

# The test SMTP server allows AUTH without TLS on loopback; aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "connectors" / "email"


def eml(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def simple(n: int, sender: str = "cliente@correo.example") -> bytes:
    return (f"From: Cliente {n} <{sender}>\r\nTo: {MAIL_USER}\r\nSubject: Queja {n}\r\n"
            f"Date: Fri, 20 Nov 2026 10:{n % 60:02d}:00 +0000\r\n"
            f"Message-ID: <queja-{n}@correo.example>\r\n\r\nTexto {n}\r\n").encode()


# -- normalisation (no server) ---------------------------------------------------------------


def test_a_plain_utf8_mail_keeps_subject_sender_and_language() -> None:
    post = normalise(eml("plain_utf8.eml"))
    assert post.network == "email" and post.kind is PostKind.email
    assert post.external_id == "20261120091502.4411@correo.example"
    assert post.author.handle == "carmen.ruiz@correo.example"
    assert post.author.display_name == "Carmen Ruíz"
    assert post.text.startswith("Maleta perdida en el vuelo IB3120 — sin respuesta\n\nBuenos")
    assert "¿Cuándo la tendré?" in post.text
    assert post.language == "es-ES"
    assert post.created_at == datetime(2026, 11, 20, 8, 15, 2, tzinfo=UTC)
    assert post.thread_external_id == post.external_id and post.parent_external_id is None


def test_quoted_printable_latin1_decodes_to_clean_text() -> None:
    post = normalise(eml("quoted_printable_latin1.eml"))
    assert post.author.display_name == "José Peña"
    assert post.text == (
        "Reclamación nº 4471\n\nEl señor de la ventanilla me dijo que llamara mañana. "
        "Ya he llamado tres veces y sigo sin solución ¿qué hago?"
    )


def test_an_html_only_mail_becomes_plain_text_without_script_or_style() -> None:
    post = normalise(eml("html_only.eml"))
    assert post.text == (
        "Refund\n\nHello,\n\nMy refund for booking ZX81 is 3 weeks late & nobody answers.\n"
        "Please help."
    )


def test_a_reply_mail_points_at_its_parent_and_the_thread_root() -> None:
    post = normalise(eml("reply_in_thread.eml"))
    assert post.parent_external_id == "ventanilla.reply1@aerolinea.example"
    assert post.thread_external_id == "20261120091502.4411@correo.example"
    assert post.text.endswith("Gracias, ya me ha llegado.")


@pytest.mark.parametrize("name", ["plain_utf8.eml", "quoted_printable_latin1.eml",
                                  "html_only.eml", "reply_in_thread.eml"])
def test_the_standard_library_fallback_reads_mail_the_same_way(name: str) -> None:
    fast, slow = normalise(eml(name)), normalise(eml(name), parser="stdlib")
    assert fast.model_dump() == slow.model_dump()


def test_auto_replies_are_refused_so_they_are_never_answered() -> None:
    with pytest.raises(ValueError, match="Auto-Submitted"):
        normalise(eml("auto_reply.eml"))


# -- against real servers ------------------------------------------------------------------

@pytest.fixture
def imap() -> Iterator[Dovecot]:
    if DOVECOT is None:
        missing = "Dovecot is not installed: apt-get install -y dovecot-imapd"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(missing)  # CI installs it; a missing server there is a broken setup
        pytest.skip(missing)
    with Dovecot() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def deliver(imap: Dovecot, *messages: bytes, folder: str = "INBOX",
            received: datetime | None = None) -> None:
    with IMAPClient("127.0.0.1", port=imap.port, ssl=False) as client:
        client.login(MAIL_USER, MAIL_PASSWORD)
        for message in messages:
            client.append(folder, message, msg_time=received)


def connector(imap: Dovecot, smtp: SmtpServer | None = None, password: str = MAIL_PASSWORD,
              **settings: object) -> EmailConnector:
    return EmailConnector(
        {"imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none",
         "smtp_host": "127.0.0.1", "smtp_port": smtp.port if smtp else free_port(),
         "smtp_security": "none", "from_address": "atencion@aerolinea.example",
         "from_name": "Atención al cliente", "page_size": 2, **settings},
        {"username": MAIL_USER, "password": password},
    )


def drain(imap: Dovecot, cursor: str | None) -> tuple[list[str], str | None]:
    return drain_ids(lambda: connector(imap), cursor)


def test_first_sync_then_incremental_sync_returns_only_new_mail(imap: Dovecot) -> None:
    deliver(imap, simple(1), simple(2), simple(3))
    seen, cursor = drain(imap, None)
    assert seen == ["queja-1@correo.example", "queja-2@correo.example", "queja-3@correo.example"]
    deliver(imap, simple(4))
    page = connector(imap).fetch(cursor)
    assert [p.external_id for p in page.posts] == ["queja-4@correo.example"]
    assert connector(imap).fetch(page.cursor).posts == []


def test_a_restart_in_the_middle_of_the_mailbox_misses_and_doubles_nothing(
    imap: Dovecot,
) -> None:
    deliver(imap, *(simple(n) for n in range(1, 6)))
    first = connector(imap).fetch(None)
    assert first.more is True and len(first.posts) == 2
    deliver(imap, simple(6))  # arrives while we are part-way through
    rest, _ = drain(imap, first.cursor)
    seen = [p.external_id for p in first.posts] + rest
    assert seen == [f"queja-{n}@correo.example" for n in range(1, 7)]


def test_a_first_sync_reads_the_last_week_not_the_whole_history(imap: Dovecot) -> None:
    deliver(imap, simple(1), received=datetime.now(UTC) - timedelta(days=30))
    deliver(imap, simple(2))
    assert [p.external_id for p in connector(imap).fetch(None).posts] == [
        "queja-2@correo.example"
    ]


def test_our_own_copies_are_not_incoming(imap: Dovecot) -> None:
    deliver(imap, simple(1, sender="atencion@aerolinea.example"), simple(2))
    assert [p.external_id for p in connector(imap).fetch(None).posts] == [
        "queja-2@correo.example"
    ]


def test_a_changed_uidvalidity_reads_the_mailbox_again(imap: Dovecot) -> None:
    deliver(imap, simple(1))
    cursor = connector(imap).fetch(None).cursor or ""
    stale = f"{int(cursor.split(':')[0]) - 1}:99"
    assert [p.external_id for p in connector(imap).fetch(stale).posts] == [
        "queja-1@correo.example"
    ]


def test_reading_does_not_mark_mail_as_seen(imap: Dovecot) -> None:
    deliver(imap, simple(1))
    connector(imap).fetch(None)
    with IMAPClient("127.0.0.1", port=imap.port, ssl=False) as client:
        client.login(MAIL_USER, MAIL_PASSWORD)
        client.select_folder("INBOX")
        assert client.search(["UNSEEN"]) == [1]


def test_odd_encodings_arrive_clean_through_the_server(imap: Dovecot) -> None:
    deliver(imap, eml("quoted_printable_latin1.eml"), eml("html_only.eml"))
    posts = connector(imap, page_size=10).fetch(None).posts
    assert "señor" in posts[0].text and "alert" not in posts[1].text


def test_a_wrong_password_is_an_auth_error(imap: Dovecot) -> None:
    # One attempt only: Dovecot slows down repeated failures from one address by design.
    with pytest.raises(AuthError):
        connector(imap, password="wrong").fetch(None)


def test_an_unreachable_server_is_retryable_then_the_next_poll_succeeds(imap: Dovecot) -> None:
    deliver(imap, simple(1))
    with pytest.raises(ConnectorError) as caught:
        connector(imap, imap_port=free_port()).fetch(None)
    assert caught.value.retryable is True
    assert len(connector(imap).fetch(None).posts) == 1


def test_a_malformed_mail_is_skipped_with_a_reason_and_the_rest_kept(imap: Dovecot) -> None:
    no_sender = b"To: x@y.example\r\nSubject: sin remitente\r\nMessage-ID: <bad@x>\r\n\r\nhola\r\n"
    deliver(imap, simple(1), no_sender, eml("auto_reply.eml"), simple(2))
    result = connector(imap, page_size=10).fetch(None)
    assert [p.external_id for p in result.posts] == ["queja-1@correo.example",
                                                     "queja-2@correo.example"]
    reasons = sorted(s.reason for s in result.skipped)
    assert len(reasons) == 2
    assert "Auto-Submitted" in reasons[0] and "sender" in reasons[1]


def test_a_reply_is_sent_once_in_the_thread_and_the_answer_joins_it(
    imap: Dovecot, smtp: SmtpServer,
) -> None:
    deliver(imap, eml("plain_utf8.eml"))
    original = connector(imap).fetch(None).posts[0]
    reply = OutgoingReply(
        idempotency_key="case-9-reply-1",
        text="Hola Carmen: sentimos el retraso. Tu maleta sale hoy hacia tu domicilio.",
        in_reply_to_external_id=original.external_id,
        recipient_handle=original.author.handle,
        thread_external_id=original.thread_external_id,
    )
    receipt = connector(imap, smtp).send(reply)
    again = connector(imap, smtp).send(reply)  # a retry after a crash: found in Sent

    assert receipt == again
    assert receipt.external_id == message_id_for("case-9-reply-1", "aerolinea.example")
    assert len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert sent.rcpt_tos == ["carmen.ruiz@correo.example"]
    message = sent.message
    assert message["Message-ID"] == f"<{receipt.external_id}>"
    assert message["In-Reply-To"] == f"<{original.external_id}>"
    assert message["References"] == f"<{original.external_id}>"
    assert message["Subject"] == "Re: Maleta perdida en el vuelo IB3120 — sin respuesta"
    assert message.get_content().strip() == reply.text

    # The customer answers from her mail program, which threads on our Message-ID.
    answer = (
        f"From: Carmen Ruiz <carmen.ruiz@correo.example>\r\nTo: {MAIL_USER}\r\n"
        f"Subject: Re: Maleta\r\nDate: Sat, 21 Nov 2026 08:00:00 +0100\r\n"
        f"Message-ID: <answer-1@correo.example>\r\nIn-Reply-To: <{receipt.external_id}>\r\n"
        f"References: <{original.external_id}> <{receipt.external_id}>\r\n\r\n¡Gracias!\r\n"
    ).encode()
    deliver(imap, answer)
    posts = connector(imap, page_size=10).fetch(None).posts
    joined = next(p for p in posts if p.external_id == "answer-1@correo.example")
    assert joined.parent_external_id == receipt.external_id
    assert joined.thread_external_id == original.thread_external_id


def test_a_temporary_smtp_failure_is_retryable_then_the_retry_sends_once(
    imap: Dovecot, smtp: SmtpServer,
) -> None:
    smtp.recorder.fail_next.append("451 4.3.0 Try again later")
    reply = OutgoingReply("k-451", "Hola", None, recipient_handle="ana@correo.example")
    with pytest.raises(ConnectorError) as caught:
        connector(imap, smtp).send(reply)
    assert caught.value.retryable is True
    connector(imap, smtp).send(reply)
    assert len(smtp.messages) == 1
    assert smtp.messages[0].message["Subject"] == "Re:"


def test_a_wrong_smtp_password_is_an_auth_error(imap: Dovecot, smtp: SmtpServer) -> None:
    bad = EmailConnector(
        {"imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none",
         "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"},
        {"username": MAIL_USER, "password": MAIL_PASSWORD, "smtp_password": "wrong"},
    )
    with pytest.raises(AuthError):
        bad.send(OutgoingReply("k", "x", None, recipient_handle="ana@correo.example"))
    assert smtp.messages == []


def test_idle_wakes_up_when_mail_arrives(imap: Dovecot) -> None:
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(connector(imap).wait_for_mail(20)))
    started = time.monotonic()
    waiter.start()
    time.sleep(0.5)
    deliver(imap, simple(1))
    waiter.join(25)
    assert result == [True]
    assert time.monotonic() - started < 10


def test_test_logs_in_to_both_servers(imap: Dovecot, smtp: SmtpServer) -> None:
    assert connector(imap, smtp).test() == MAIL_USER


def test_clear_text_passwords_are_refused_for_remote_hosts() -> None:
    with pytest.raises(ConnectorError):
        EmailConnector({"imap_host": "mail.example.com", "imap_security": "none"},
                       {"username": "u", "password": "p"})
