"""Reminder messages: subject, plain text and HTML, in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale, UnknownLocaleError
from flask import current_app, render_template, url_for
from flask_babel import force_locale, get_babel
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import TemplateNotFound

from secretariat.notifications.rules import Due, Recipient


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    link: str | None
    language: str


def language_for(recipient_language: str | None) -> str:
    """The recipient's language when the messages are translated into it, else the network's.

    A language without translations would give English sentences with dates in that language:
    the whole message stays in the network's language instead.
    """
    default = current_app.config["DEFAULT_LOCALE"]
    if not recipient_language:
        return default
    try:
        wanted = Locale.parse(recipient_language)
    except (UnknownLocaleError, ValueError):
        return default
    available = current_app.extensions.get("secretariat.mail_languages")
    if available is None:
        available = {str(locale) for locale in get_babel().instance.list_translations()}
        current_app.extensions["secretariat.mail_languages"] = available
    for candidate in (str(wanted), wanted.language):
        if candidate in available:
            return candidate
    return default


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notification-preferences")


def preference_token(email: str) -> str:
    """A link token that lets the holder of ``email`` choose what they receive."""
    return _serializer().dumps(email.lower())


def email_from_token(token: str) -> str | None:
    try:
        email = _serializer().loads(token)
    except BadSignature:
        return None
    return email if isinstance(email, str) else None


def preferences_link(email: str) -> str:
    return url_for(
        "notifications.contact_preferences", token=preference_token(email), _external=True
    )


def _render(template: str, language: str, **context: object) -> tuple[str, str, str]:
    """Subject, text and HTML of a message.

    The sentences shared by both parts (``<kind>.lines.txt``) are rendered once as plain text
    and handed to both: the text part shows them as they are, the HTML part escapes them like
    any other value (a ``.txt`` template included from HTML would not be escaped).
    """
    with force_locale(language):
        try:
            context["lines"] = render_template(
                f"notifications/mail/{template}.lines.txt", **context
            ).strip()
        except TemplateNotFound:
            context["lines"] = ""
        subject = render_template(f"notifications/mail/{template}.subject.txt", **context)
        text = render_template(f"notifications/mail/{template}.txt", **context)
        html = render_template(f"notifications/mail/{template}.html", **context)
    return " ".join(subject.split()), text, html


def render_due(due: Due, recipient: Recipient, today: date) -> Rendered:
    """The message of one reminder; ``today`` is the network's day it is written on, so that
    "due in 3 days" is still true when a scan comes late."""
    language = language_for(recipient.language)
    link = url_for(due.endpoint, _external=True, **due.endpoint_values) if due.endpoint else None
    subject, text, html = _render(
        due.template,
        language,
        recipient=recipient,
        link=link,
        preferences_link=preferences_link(recipient.email),
        rule=due.rule,
        due_at=due.due_at,
        today=today,
        **due.context,
    )
    return Rendered(subject, text, html, link, language)


def render_digest(email: str, name: str | None, language: str, items: list) -> Rendered:
    """One message listing held reminders (``items`` are Notification rows)."""
    language = language_for(language)
    subject, text, html = _render(
        "digest",
        language,
        name=name,
        items=items,
        preferences_link=preferences_link(email),
    )
    return Rendered(subject, text, html, None, language)
