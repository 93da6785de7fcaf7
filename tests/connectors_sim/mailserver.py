"""Real local mail servers for the e-mail connector's tests.

IMAP: Debian's Dovecot (package ``dovecot-imapd``), started in the foreground on a free
127.0.0.1 port with a throw-away configuration, mail store and password file in a temp dir.
SMTP: ``aiosmtpd``'s controller, recording every message it accepts (AUTH PLAIN/LOGIN over
plain text, which only a loopback test server may allow).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.conftest import free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists()
                                      else None)
MAIL_USER, MAIL_PASSWORD = "atencion@aerolinea.example", "correo-secreto"


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Dovecot:
    """A private Dovecot IMAP server for one test (``with Dovecot() as imap:``)."""

    def __init__(self) -> None:
        if DOVECOT is None:
            raise RuntimeError("dovecot is not installed (Debian package dovecot-imapd)")
        self.dir = Path(tempfile.mkdtemp(prefix="ventanilla-dovecot-"))
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def _config(self) -> Path:
        if os.geteuid() == 0:
            # Root may not own mail; Dovecot's own system users (from the package) do.
            mail_user, login_user = pwd.getpwnam("dovecot"), "dovenull"
            internal_user = "dovecot"
        else:
            mail_user = pwd.getpwuid(os.geteuid())
            login_user = internal_user = mail_user.pw_name
        for sub in ("run", "mail", "state"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "users").write_text(f"{MAIL_USER}:{{PLAIN}}{MAIL_PASSWORD}::::::\n")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(self.dir / "mail", mail_user.pw_uid, mail_user.pw_gid)
        conf = self.dir / "dovecot.conf"
        conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {mail_user.pw_uid}
mail_location = maildir:{self.dir}/mail/%u
mail_uid = {mail_user.pw_uid}
mail_gid = {mail_user.pw_gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/users
}}
userdb {{
  driver = static
  args = home={self.dir}/mail/%u
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
        return conf

    def start(self) -> Dovecot:
        """Start Dovecot in the foreground and wait until it listens."""
        conf = self._config()
        self._process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            _wait_for_port(self.port)
        except RuntimeError as exc:
            log = self.dir / "dovecot.log"
            text = log.read_text() if log.exists() else ""
            self.stop()
            raise RuntimeError(f"dovecot did not start: {text}") from exc
        return self

    def stop(self) -> None:
        """Stop Dovecot and remove its directory."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Recorded:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the modern e-mail policy."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Recorder:
    messages: list[Recorded] = field(default_factory=list)
    # Answers served instead of accepting the next messages, e.g. "451 4.3.0 try later".
    fail_next: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fail_next:
            return self.fail_next.pop(0)
        content = envelope.original_content or b""
        self.messages.append(Recorded(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free 127.0.0.1 port, requiring AUTH with the test account."""

    def __init__(self, *, require_auth: bool = True) -> None:
        self.recorder = _Recorder()
        self.port = free_port()
        self._controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port,
            authenticator=self._authenticate, auth_required=require_auth,
            auth_require_tls=False,
        )

    @staticmethod
    def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == MAIL_USER
              and auth_data.password.decode() == MAIL_PASSWORD)
        return AuthResult(success=ok, handled=False)

    @property
    def messages(self) -> list[Recorded]:
        """Messages accepted so far."""
        return self.recorder.messages

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
