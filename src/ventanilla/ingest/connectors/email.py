"""E-mail: a support mailbox read over IMAP (IDLE where the server offers it), answered by SMTP.

Reading uses ``imapclient`` and ``fast-mail-parser`` (falling back to the standard library's
``email`` parser for what it refuses); sending uses ``smtplib`` and ``email``. The
cursor is ``"<UIDVALIDITY>:<last UID>"``: UIDs only grow inside one UIDVALIDITY, so a page is
the next ``page_size`` UIDs after the cursor. A first sync starts at the mail of the last
``first_sync_days`` days, and so does a changed UIDVALIDITY (the server rebuilt the mailbox);
``ingest`` drops the repeats by Message-ID. Messages
are fetched with ``BODY.PEEK[]``, so reading never marks them as seen.

A reply joins the customer's thread with ``In-Reply-To`` and ``References``; its Message-ID is
derived from the idempotency key, and a copy is filed in the Sent folder, where a retried send
finds it and does not send again.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from typing import Any

import httpx
from fast_mail_parser import ParseError, parse_email
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import SENT
from pydantic import ValidationError

from ventanilla.ingest.connectors.base import (
    AuthError,
    ConnectorError,
    FetchResult,
    OutgoingReply,
    SentReceipt,
    Skipped,
)
from ventanilla.ingest.connectors.mastodon import plain_text_from_html
from ventanilla.ingest.schema import MAX_TEXT_CHARS, IncomingAuthor, IncomingPost, PostKind

NETWORK = "email"
PAGE_SIZE = 50
FIRST_SYNC_DAYS = 7  # a first sync (or a rebuilt mailbox) reads the last week, not all history
IDLE_LIMIT = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
# compat32 leaves headers raw: the modern policy's header parser costs milliseconds a message.
_PARSER = BytesParser(policy=policy.compat32)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_BRACKETED = re.compile(r"<([^<>]*)>?")
# The headers normalisation reads (lower-cased); the fast path copies only these.
_WANTED = frozenset({"message-id", "in-reply-to", "references", "auto-submitted",
                     "content-language", "to", "cc", "date"})


# -- normalisation --------------------------------------------------------------------------


def _ids(value: Any) -> list[str]:
    """Message ids in a Message-ID / In-Reply-To / References header, without brackets."""
    if not value:
        return []
    text = str(value)
    found = [f.strip() for f in _BRACKETED.findall(text)] if "<" in text else []
    found = [f[:255] for f in found if f]
    if not found and text.strip():
        found = [text.strip()[:255]]  # a bare id, as some mailers write it
    return found


def _text(value: bytes | str, charset: str | None) -> str:
    if isinstance(value, str):
        return value
    for candidate in (charset, "utf-8", "windows-1252"):
        if candidate and candidate != "unknown-8bit":
            try:
                return value.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    return value.decode("latin-1")


def _header(message: Message, name: str) -> str:
    """A header decoded from RFC 2047 words (or stray 8-bit bytes), on one line."""
    value = message.get(name)
    if value is None:
        return ""
    raw = str(value) if not isinstance(value, Header) else value
    if isinstance(raw, str) and "=?" not in raw:
        return " ".join(raw.split())
    try:
        decoded = "".join(_text(part, charset) for part, charset in decode_header(raw))
    except (HeaderParseError, ValueError):
        decoded = str(raw)
    return " ".join(decoded.split())


def _decoded(part: Message) -> str:
    """A text part's content as ``str``, whatever its transfer encoding and charset."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _text(payload, part.get_content_charset())


def body_text(message: Message) -> str:
    """The message's readable text: the first plain part, else the first HTML part as text."""
    html: Message | None = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            return _decoded(part).replace("\r\n", "\n").strip()
        if kind == "text/html" and html is None:
            html = part
    if html is None:
        return ""
    return plain_text_from_html(_decoded(html))


def _sender(message: Message) -> tuple[str, str | None]:
    # Parse the raw header first: a decoded name may hold commas or quotes.
    for name, address in getaddresses([str(message.get("From", ""))]):
        if "@" in address:
            if "=?" in name:
                name = "".join(_text(p, c) for p, c in decode_header(name))
            return address.lower(), (" ".join(name.split()) or None)
    raise ValueError("no sender address in From")


@dataclass(slots=True)
class _Mail:
    """What normalisation needs from a message, whichever parser read it."""

    headers: dict[str, str]  # lower-cased name -> first value, decoded
    sender: str
    sender_name: str | None
    subject: str
    body: str
    sent_at: datetime | None


def _read_fast(raw: bytes) -> _Mail:
    """Read with fast-mail-parser (Rust): charsets, encodings and RFC 2047 words decoded."""
    mail = parse_email(raw, mode="lazy")  # lazy: attachments are never decoded
    headers: dict[str, str] = {}
    for key, values in mail.headers.items():
        lowered = key.lower()
        if lowered in _WANTED and values:
            headers[lowered] = values[0]
    sender = mail.from_
    if sender is None or "@" not in sender.address:
        raise ValueError("no sender address in From")
    if mail.text_plain:
        body = mail.text_plain[0].replace("\r\n", "\n").strip()
    elif mail.text_html:
        body = plain_text_from_html(mail.text_html[0])
    else:
        body = ""
    name = " ".join((sender.display_name or "").split()) or None
    return _Mail(headers, sender.address.lower(), name, " ".join(mail.subject.split()), body,
                 mail.date_parsed)


def _read_stdlib(raw: bytes) -> _Mail:
    """Read with the standard library: slower, but takes what the fast parser refuses."""
    message = _PARSER.parsebytes(raw)
    headers = {name.lower(): _header(message, name) for name in reversed(message.keys())}
    address, name = _sender(message)
    try:
        sent_at = parsedate_to_datetime(headers["date"]) if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        sent_at = None
    return _Mail(headers, address, name, headers.get("subject", ""), body_text(message),
                 sent_at)


def normalise(
    raw: bytes, *, internal_date: datetime | None = None, fallback_id: str | None = None,
    parser: str = "fast",
) -> IncomingPost:
    """Normalise one RFC 5322 message (its bytes as the IMAP server holds them).

    Kind ``email``. Parent: the first In-Reply-To id; thread: the first References id (the
    conversation's root), else the parent, else the message itself. Text: the subject, a blank
    line, and the body decoded from any transfer encoding and charset (HTML-only mail made
    plain). Auto-replies and bounces (``Auto-Submitted``) are refused so we never answer them.
    ``parser="stdlib"`` skips the fast parser (it is also the fallback when that one fails).
    """
    if parser == "stdlib":
        mail = _read_stdlib(raw)
    else:
        try:
            mail = _read_fast(raw)
        except (ParseError, ValueError):
            mail = _read_stdlib(raw)  # its own ValueError, if any, is the skip reason
    return _post(mail, len(raw), internal_date, fallback_id)


def _post(mail: _Mail, size: int, internal_date: datetime | None,
          fallback_id: str | None) -> IncomingPost:
    headers = mail.headers
    auto = headers.get("auto-submitted", "no").strip().lower()
    if auto and auto != "no":
        raise ValueError(f"automatic message (Auto-Submitted: {auto})")
    own = _ids(headers.get("message-id"))
    external_id = own[0] if own else fallback_id
    if not external_id:
        raise ValueError("no Message-ID")
    parents = _ids(headers.get("in-reply-to"))
    references = _ids(headers.get("references"))
    parent = parents[0] if parents else (references[-1] if references else None)
    text = f"{mail.subject}\n\n{mail.body}" if mail.subject and mail.body else (
        mail.subject or mail.body)
    language = headers.get("content-language", "").split(",")[0].strip()[:8] or None
    sent_at = mail.sent_at or internal_date
    if sent_at is None:
        raise ValueError("no Date header and no INTERNALDATE")
    return IncomingPost(
        network=NETWORK,
        external_id=external_id,
        author=IncomingAuthor(handle=mail.sender[:255],
                              display_name=mail.sender_name[:255] if mail.sender_name else None),
        text=text[:MAX_TEXT_CHARS],
        kind=PostKind.email,
        created_at=sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC),
        language=language,
        parent_external_id=parent,
        thread_external_id=references[0] if references else (parent or external_id),
        raw={"message_id": external_id, "subject": mail.subject, "from": mail.sender,
             "to": headers.get("to", ""), "cc": headers.get("cc", ""),
             "date": headers.get("date", ""), "size": size},
    )


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID (without brackets) of the reply sent under ``idempotency_key``."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"ventanilla.{digest}@{domain}"


# -- the connector ------------------------------------------------------------------------


def _load_cursor(cursor: str | None) -> tuple[int | None, int]:
    if not cursor:
        return None, 0
    try:
        validity, last = cursor.split(":", 1)
        return int(validity), int(last)
    except ValueError as exc:
        raise ConnectorError(f"unreadable e-mail cursor {cursor!r}", retryable=False) from exc


class EmailConnector:
    """One support mailbox: IMAP in, SMTP out.

    settings: ``imap_host``, ``imap_port`` (993), ``imap_security`` (``ssl``, ``starttls`` or
    ``none``), ``mailbox`` (INBOX), ``smtp_host``, ``smtp_port`` (465), ``smtp_security``
    (``ssl``, ``starttls`` or ``none``), ``from_address``, ``from_name``, ``sent_folder``
    (default: the server's ``\\Sent`` special-use folder, else ``Sent``; empty string: file
    no copies), ``first_sync_days`` (7: how far back a first sync reads), ``page_size``.
    ``none`` is refused for anything but a loopback host. credentials: ``username``,
    ``password`` (and ``smtp_username``/``smtp_password`` when they differ).
    ``base_url``/``http`` are unused.
    """

    network = NETWORK

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        base_url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.imap_host = str(settings.get("imap_host") or "")
        self.imap_port = int(settings.get("imap_port") or 993)
        self.imap_security = str(settings.get("imap_security") or "ssl")
        self.mailbox = str(settings.get("mailbox") or "INBOX")
        self.smtp_host = str(settings.get("smtp_host") or self.imap_host)
        self.smtp_port = int(settings.get("smtp_port") or 465)
        self.smtp_security = str(settings.get("smtp_security") or "ssl")
        folder = settings.get("sent_folder")
        self.sent_folder: str | None = None if folder is None else str(folder)
        self.page_size = int(settings.get("page_size") or PAGE_SIZE)
        self.first_sync_days = int(settings.get("first_sync_days", FIRST_SYNC_DAYS))
        self.timeout = float(settings.get("timeout") or 30)
        self.username = str(credentials.get("username") or "")
        self.password = str(credentials.get("password") or "")
        self.smtp_username = str(credentials.get("smtp_username") or self.username)
        self.smtp_password = str(credentials.get("smtp_password") or self.password)
        self.from_address = str(settings.get("from_address") or self.username)
        self.from_name = str(settings.get("from_name") or "")
        if not self.imap_host or not self.username:
            raise ConnectorError("e-mail channel needs imap_host and username", retryable=False)
        for host, security in ((self.imap_host, self.imap_security),
                               (self.smtp_host, self.smtp_security)):
            if security == "none" and host not in _LOOPBACK:
                raise ConnectorError(f"refusing to send a password in clear text to {host}",
                                     retryable=False)

    # -- IMAP -----------------------------------------------------------------------------

    @contextmanager
    def _imap(self) -> Iterator[IMAPClient]:
        """A logged-in IMAP connection; errors become the scheduler's error classes."""
        client: IMAPClient | None = None
        try:
            context = ssl.create_default_context()
            client = IMAPClient(self.imap_host, port=self.imap_port,
                                ssl=self.imap_security == "ssl", ssl_context=context,
                                timeout=self.timeout)
            if self.imap_security == "starttls":
                client.starttls(context)
            client.login(self.username, self.password)
            yield client
        except LoginError as exc:
            raise AuthError(f"IMAP login refused for {self.username}: {exc}") from exc
        except (TimeoutError, OSError) as exc:
            raise ConnectorError(f"IMAP server unreachable: {exc!r}", retryable=True) from exc
        except IMAPClientError as exc:
            raise ConnectorError(f"IMAP error: {exc}", retryable=True) from exc
        finally:
            if client is not None:
                with suppress(OSError, IMAPClientError):
                    client.logout()

    def fetch(self, cursor: str | None) -> FetchResult:
        """The next ``page_size`` messages after the cursor's UID, oldest first."""
        validity_seen, last_uid = _load_cursor(cursor)
        posts: list[IncomingPost] = []
        skipped: list[Skipped] = []
        with self._imap() as client:
            selected = client.select_folder(self.mailbox, readonly=True)
            validity = int(selected[b"UIDVALIDITY"])
            if validity_seen != validity:
                # First sync, or the mailbox was rebuilt and old UIDs mean nothing now.
                last_uid = self._start_uid(client, selected)
            # "n:*" always matches the newest message, even below n: filter again.
            uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
            batch = uids[: self.page_size]
            fetched = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"]) if batch else {}
        for uid in batch:
            data = fetched.get(uid, {})
            raw = data.get(b"BODY[]")
            if not isinstance(raw, bytes):
                skipped.append(Skipped({"uid": uid}, "message vanished before it was read"))
                continue
            internal = data.get(b"INTERNALDATE")
            try:
                post = normalise(
                    raw,
                    internal_date=internal if isinstance(internal, datetime) else None,
                    fallback_id=f"imap.{validity}.{uid}@{self.imap_host}",
                )
            except (ValueError, TypeError, KeyError, IndexError, ValidationError) as exc:
                skipped.append(Skipped({"uid": uid, "head": raw[:2000].decode("utf-8", "replace")},
                                       f"unusable e-mail: {exc}"))
                continue
            if post.author.handle == self.from_address.lower():
                continue  # our own copy (a Bcc to the support address): not incoming
            post.raw["uid"] = uid
            posts.append(post)
        cursor_out = f"{validity}:{batch[-1] if batch else last_uid}"
        return FetchResult(posts, cursor_out, len(uids) > len(batch), skipped)

    def _start_uid(self, client: IMAPClient, selected: Mapping[bytes, Any]) -> int:
        """The UID just before the first message of the last ``first_sync_days`` days."""
        since = datetime.now(UTC).date() - timedelta(days=self.first_sync_days)
        recent = client.search(["SINCE", since])
        if recent:
            return int(min(recent)) - 1
        uid_next = selected.get(b"UIDNEXT")
        if uid_next is not None:
            return int(uid_next) - 1
        return max(client.search(["ALL"]), default=0)

    def wait_for_mail(self, timeout: float = IDLE_LIMIT) -> bool:
        """Block until the mailbox reports new mail (IMAP IDLE) or ``timeout`` passes.

        True when something arrived (fetch now). Without IDLE support it returns False at
        once, and the scheduler keeps polling on its interval.
        """
        with self._imap() as client:
            if b"IDLE" not in client.capabilities():
                return False
            client.select_folder(self.mailbox, readonly=True)
            client.idle()
            try:
                responses = client.idle_check(timeout=min(timeout, IDLE_LIMIT))
            finally:
                client.idle_done()
        return any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)

    # -- SMTP -----------------------------------------------------------------------------

    def _smtp(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(self.smtp_host, self.smtp_port, timeout=self.timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout)
            if self.smtp_security == "starttls":
                smtp.starttls(context=context)
        if self.smtp_username:
            smtp.login(self.smtp_username, self.smtp_password)
        return smtp

    def _deliver(self, message: EmailMessage, recipient: str) -> None:
        try:
            smtp = self._smtp()
            try:
                smtp.send_message(message, self.from_address, [recipient])
            finally:
                with suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(f"SMTP login refused for {self.smtp_username}: {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(f"SMTP refused the recipient: {exc.recipients}",
                                 retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise ConnectorError(f"SMTP error {exc.smtp_code}: {exc.smtp_error!r}",
                                 retryable=exc.smtp_code < 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectorError(f"SMTP server unreachable: {exc!r}", retryable=True) from exc

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Send ``reply`` to ``recipient_handle`` in the parent's thread, once per key."""
        recipient = reply.recipient_handle
        if not recipient or "@" not in recipient:
            raise ConnectorError("an e-mail reply needs the recipient's address",
                                 retryable=False)
        domain = self.from_address.rpartition("@")[2] or "ventanilla.invalid"
        message_id = message_id_for(reply.idempotency_key, domain)
        with self._imap() as client:
            sent_folder = self._sent_folder(client)
            if self._filed(client, sent_folder, message_id):
                return SentReceipt(external_id=message_id)
            subject, references = self._parent_headers(client, reply)
            message = self._compose(reply, recipient, message_id, subject, references)
            self._deliver(message, recipient)
            if sent_folder:
                client.append(sent_folder, message.as_bytes(), flags=[b"\\Seen"])
        return SentReceipt(external_id=message_id)

    def _sent_folder(self, client: IMAPClient) -> str | None:
        """Where copies of replies go (and where a retried send looks for its first try)."""
        if self.sent_folder is not None:
            return self.sent_folder if self.sent_folder and client.folder_exists(
                self.sent_folder) else None
        special = client.find_special_folder(SENT)
        if special:
            return str(special)
        return "Sent" if client.folder_exists("Sent") else None

    @staticmethod
    def _filed(client: IMAPClient, folder: str | None, message_id: str) -> bool:
        if not folder:
            return False
        client.select_folder(folder, readonly=True)
        return bool(client.search(["HEADER", "Message-ID", f"<{message_id}>"]))

    def _parent_headers(self, client: IMAPClient, reply: OutgoingReply) -> tuple[str, list[str]]:
        """The parent's subject and the References chain the reply must carry."""
        parent = reply.in_reply_to_external_id
        chain = [i for i in (reply.thread_external_id, parent) if i]
        subject = ""
        if parent:
            client.select_folder(self.mailbox, readonly=True)
            found = client.search(["HEADER", "Message-ID", f"<{parent}>"])
            if found:
                head = client.fetch(found[:1], ["BODY.PEEK[HEADER]"])[found[0]][b"BODY[HEADER]"]
                original = _PARSER.parsebytes(head)
                subject = _header(original, "Subject")
                chain = [*_ids(original.get("References")), parent]
        return subject, list(dict.fromkeys(chain))

    def _compose(self, reply: OutgoingReply, recipient: str, message_id: str, subject: str,
                 references: list[str]) -> EmailMessage:
        message = EmailMessage()
        sender = Address(self.from_name, addr_spec=self.from_address) if self.from_name \
            else self.from_address
        message["From"] = sender
        message["To"] = recipient
        if not subject:
            subject = "Re:"
        elif not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = f"<{message_id}>"
        if reply.in_reply_to_external_id:
            message["In-Reply-To"] = f"<{reply.in_reply_to_external_id}>"
        if references:
            message["References"] = " ".join(f"<{r}>" for r in references)
        message["Auto-Submitted"] = "no"
        message.set_content(reply.text)
        return message

    def test(self) -> str:
        """Log in to IMAP (and select the mailbox) and to SMTP; return the IMAP user name."""
        with self._imap() as client:
            client.select_folder(self.mailbox, readonly=True)
        if self.smtp_host:
            try:
                self._smtp().quit()
            except smtplib.SMTPAuthenticationError as exc:
                raise AuthError(f"SMTP login refused for {self.smtp_username}") from exc
            except (smtplib.SMTPException, OSError) as exc:
                raise ConnectorError(f"SMTP server unreachable: {exc!r}", retryable=True) from exc
        return self.username

