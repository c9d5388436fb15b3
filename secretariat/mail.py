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
    """The message could not be handed over to the mail server."""


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


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="secretariat.local")
    message.set_content(body)
    return message


def send_mail(to: str, subject: str, body: str) -> EmailMessage:
    """Send one plain-text message, or write it to the outbox folder when no SMTP is set."""
    message = build_message(to, subject, body)
    url = current_app.config.get("SMTP_URL")
    if url:
        _send_smtp(SmtpSettings.from_url(url), message)
    else:
        _write_eml(Path(current_app.config["OUTBOX_PATH"]), message)
    return message


def _send_smtp(settings: SmtpSettings, message: EmailMessage) -> None:
    try:
        if settings.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=30, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=30)
        with client:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(str(exc)) from exc


def _write_eml(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    (folder / name).write_bytes(bytes(message))
