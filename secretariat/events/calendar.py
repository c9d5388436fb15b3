"""Personal iCalendar (RFC 5545) feeds of upcoming events at a secret, revocable address."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, url_for
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.events.models import CalendarFeed, Event, Invitation
from secretariat.events.services import event_zone
from secretariat.members.services import country_name
from secretariat.permissions import Permission, ensure_permission, has_permission, is_staff

#: Events that ended this long ago stay in the feed, so calendars do not drop them at once.
KEEP_PAST = timedelta(days=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(session: Session, user: User) -> str:
    """Make (or replace) the user's feed; return the secret, shown once, never stored."""
    ensure_permission(user, Permission.USE_CALENDAR_FEED)
    token = secrets.token_urlsafe(32)
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        session.add(feed)
    feed.token_hash = _hash(token)
    feed.created_at = utcnow()
    session.flush()
    return token


def revoke_feed(session: Session, user: User) -> bool:
    """Stop the user's feed; its address answers 404 from now on."""
    result = session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    session.flush()
    return bool(result.rowcount)


def feed_of(session: Session, user: User) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a feed address belongs to, if they may still have a feed."""
    if not token or len(token) > 100:
        return None
    user = session.scalar(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == _hash(token))
    )
    if user is None or not user.is_active or not has_permission(user, Permission.USE_CALENDAR_FEED):
        return None
    return user


def feed_events(session: Session, user: User) -> list[Event]:
    """The user's upcoming events (and those of the last 30 days), cancelled ones included."""
    stmt = select(Event).where(Event.ends_at >= utcnow() - KEEP_PAST).order_by(Event.starts_at)
    if not is_staff(user):
        stmt = stmt.where(
            Event.id.in_(select(Invitation.event_id).where(Invitation.member_id == user.member_id))
        )
    return list(session.scalars(stmt))


def _uid_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "secretariat.local"


def _location(event: Event) -> str:
    place = ", ".join(p for p in (event.venue, event.city, country_name(event.country)) if p)
    if event.is_online:
        return f"{place} + online" if place else "Online"
    return place


def build_calendar(events: list[Event], name: str, *, include_links: bool) -> bytes:
    """An RFC 5545 calendar: one VEVENT per event, times in the event's zone with VTIMEZONE."""
    calendar = Calendar()
    calendar.add("prodid", "-//Secretariat//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    now = utcnow()
    domain = _uid_domain()
    base = current_app.config["BASE_URL"]
    for event in events:
        zone = event_zone(event)
        item = CalendarEvent()
        item.add("uid", f"event-{event.id}@{domain}")
        item.add("dtstamp", now)
        item.add("dtstart", event.starts_at.astimezone(zone))
        item.add("dtend", event.ends_at.astimezone(zone))
        item.add("summary", event.title)
        item.add("created", event.created_at)
        item.add("last-modified", event.updated_at)
        item.add("sequence", event.sequence)
        item.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
        location = _location(event)
        if location:
            item.add("location", location)
        page = base + url_for("events.detail", event_id=event.id)
        item.add("url", page)
        description = [event.description or ""]
        if include_links and event.meeting_url:
            description.append(f"Join: {event.meeting_url}")
        description.append(page)
        item.add("description", "\n\n".join(p for p in description if p))
        calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical()
