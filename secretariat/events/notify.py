"""E-mail the focal points of newly invited members."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.db import utcnow
from secretariat.events.models import Event, Invitation
from secretariat.events.services import event_zone, network_zone
from secretariat.mail import send_mail
from secretariat.members.models import Contact, ContactRole, Member


def focal_point_addresses(session: Session, member_ids: list[int]) -> dict[int, list[str]]:
    """The e-mail addresses of each member's current focal points, primary first."""
    today = utcnow().date()
    found: dict[int, list[str]] = {}
    contacts = session.scalars(
        select(Contact)
        .where(
            Contact.member_id.in_(member_ids),
            Contact.email.is_not(None),
            (Contact.role == ContactRole.FOCAL_POINT) | Contact.is_primary,
        )
        .order_by(Contact.is_primary.desc(), Contact.name)
    )
    for contact in contacts:
        if contact.is_current(today) and contact.email:
            found.setdefault(contact.member_id, []).append(contact.email)
    return found


def when_text(event: Event) -> str:
    """The event's time in the network's zone, and in its own zone when that differs."""
    shown = format_datetime(event.starts_at, "full", rebase=True)
    zone = event_zone(event)
    if zone.key != network_zone().key:
        local = event.starts_at.astimezone(zone)
        shown += " " + _(
            "(%(time)s local time, %(zone)s)", time=local.strftime("%H:%M"), zone=zone.key
        )
    return shown


def notify_invited(
    session: Session, event: Event, invitations: list[Invitation]
) -> tuple[int, list[str]]:
    """Send one message per newly invited member; return how many went and who had nobody."""
    member_ids = [i.member_id for i in invitations]
    addresses = focal_point_addresses(session, member_ids)
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    link = current_app.config["BASE_URL"] + url_for("events.detail", event_id=event.id)
    subject = _("Invitation: %(title)s", title=event.title)
    sent = 0
    without = []
    for member_id in member_ids:
        to = addresses.get(member_id)
        member = members[member_id]
        if not to:
            without.append(member.name)
            continue
        body = render_template(
            "mail/event_invitation.txt",
            event=event,
            member=member,
            when=when_text(event),
            link=link,
            network_name=current_app.config["NETWORK_NAME"],
        )
        send_mail(", ".join(to), subject, body)
        sent += 1
    return sent, sorted(without)
