"""Outgoing mail: through SMTP when SECRETARIAT_SMTP_URL is set, else as .eml files.

SMTP URLs: ``smtp://[user:password@]host[:port]`` (plain, upgraded with STARTTLS when
``?starttls=1``) or ``smtps://...`` (implicit TLS). Without a URL every message is written to
``instance/outbox/`` as an RFC 5322 ``.eml`` file that any mail client opens.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from secretariat.db import utcnow


class MailError(RuntimeError):
    """The message could not be handed over to the mail server.

    ``permanent``: the server refused it for good (5xx for the address or the message), so
    trying again will not help. ``connection``: the server could not be reached or refused
    the session, so every other message would fail the same way right now.
    """

    def __init__(self, message: str, *, permanent: bool = False, connection: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.connection = connection


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"}:
            raise ValueError(f"unsupported mail URL scheme {parts.scheme!r} (use smtp or smtps)")
        query = parse_qs(parts.query)
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
            starttls=query.get("starttls", ["0"])[0].lower() in {"1", "true", "yes"},
        )


def build_message(
    to: str, subject: str, body: str, html: str | None = None, headers: dict | None = None
) -> EmailMessage:
    """A plain-text message, with an HTML alternative when ``html`` is given."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="secretariat.local")
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    # After the content: setting it replaces every Content-* header.
    for name, value in (headers or {}).items():
        message[name] = value
    return message


def send_mail(to: str, subject: str, body: str) -> EmailMessage:
    """Send one plain-text message, or write it to the outbox folder when no SMTP is set."""
    message = build_message(to, subject, body)
    with Mailer() as mailer:
        mailer.send(message)
    return message


class Mailer:
    """Send several messages over one SMTP session (or write them as .eml files).

    The session is opened at the first message and reopened after a connection error.
    """

    def __init__(self) -> None:
        url = current_app.config.get("SMTP_URL")
        self.settings = SmtpSettings.from_url(url) if url else None
        self.folder = Path(current_app.config["OUTBOX_PATH"])
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        if self.settings is None:
            _write_eml(self.folder, message)
            return
        client = self._connect()
        try:
            refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            raise MailError(
                _refusal(exc.recipients), permanent=all(code >= 500 for code in codes)
            ) from exc
        except smtplib.SMTPSenderRefused as exc:
            self.close()
            raise MailError(
                f"sender refused: {exc.smtp_code} {exc.smtp_error!r}", connection=True
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise MailError(str(exc) or type(exc).__name__, connection=True) from exc
        except smtplib.SMTPException as exc:
            # About this message only (e.g. an address the server cannot take without
            # SMTPUTF8): trying again will not help, and the others may still go.
            raise MailError(str(exc) or type(exc).__name__, permanent=True) from exc
        if refused:
            raise MailError(_refusal(refused), permanent=True)

    def _connect(self) -> smtplib.SMTP:
        if self._client is not None:
            return self._client
        settings = self.settings
        assert settings is not None
        try:
            if settings.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=30, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=30)
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"cannot reach {settings.host}:{settings.port}: {exc or type(exc).__name__}",
                connection=True,
            ) from exc
        self._client = client
        return client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _refusal(recipients: dict) -> str:
    return "; ".join(
        f"{address}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        for address, (code, text) in recipients.items()
    )


def _write_eml(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    (folder / name).write_bytes(bytes(message))
