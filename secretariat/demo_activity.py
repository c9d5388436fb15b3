"""The demo network's year of activity: groups, events, attendance and peer exchanges.

Loaded through the same services as the user interface, dated relative to today so that
there are always past and upcoming events; running it again changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.events import services as events
from secretariat.events.models import Audience, Event, EventType
from secretariat.exchanges import services as exchanges
from secretariat.exchanges.models import ExchangeType, PeerExchange
from secretariat.groups import services as groups
from secretariat.groups.models import GroupRole, WorkingGroup
from secretariat.members.models import Contact, Member
from secretariat.vocabularies.models import Vocabulary
from secretariat.vocabularies.services import ensure_terms

THEMES = ["Transport", "Air quality", "Circular economy", "Climate adaptation", "Energy"]
#: (slug, name, theme, lead members, members, observers)
GROUPS = [
    (
        "clean-transport",
        "Clean Transport",
        "Transport",
        ["bogota", "lisbon"],
        ["nairobi", "sao-paulo", "medellin", "jakarta", "pune", "krakow", "montreal", "seoul"],
        ["boston"],
    ),
    (
        "air-quality",
        "Air Quality",
        "Air quality",
        ["accra", "barcelona"],
        ["nairobi", "dakar", "chennai", "bangkok", "mexico-city", "kathmandu", "athens"],
        ["dubai"],
    ),
    (
        "circular-economy",
        "Circular Economy",
        "Circular economy",
        ["rotterdam"],
        ["kigali", "malmo", "montevideo", "yokohama", "surat", "toronto"],
        [],
    ),
]
#: (title, type, days from today, start hour, hours, zone, city, country, group, host, audience)
EVENTS = [
    (
        "Bus rapid transit: lessons from Bogotá",
        EventType.WEBINAR,
        -75,
        14,
        1.5,
        None,
        None,
        None,
        "clean-transport",
        "bogota",
        Audience.GROUP,
    ),
    (
        "Low-emission zones workshop",
        EventType.WORKSHOP,
        -40,
        9,
        6,
        "Europe/Madrid",
        "Barcelona",
        "ES",
        "air-quality",
        "barcelona",
        Audience.GROUP,
    ),
    (
        "Steering committee, second half-year",
        EventType.BOARD_MEETING,
        -12,
        15,
        2,
        None,
        None,
        None,
        None,
        None,
        Audience.CHOSEN,
    ),
    (
        "Circular procurement webinar",
        EventType.WEBINAR,
        9,
        13,
        1.5,
        None,
        None,
        None,
        "circular-economy",
        "rotterdam",
        Audience.GROUP,
    ),
    (
        "Study tour: e-mobility in Nairobi",
        EventType.STUDY_TOUR,
        45,
        9,
        56,
        "Africa/Nairobi",
        "Nairobi",
        "KE",
        "clean-transport",
        "nairobi",
        Audience.GROUP,
    ),
    (
        "Annual forum",
        EventType.ANNUAL_FORUM,
        120,
        9,
        32,
        "Europe/Lisbon",
        "Lisbon",
        "PT",
        None,
        "lisbon",
        Audience.ALL_ACTIVE,
    ),
]
#: (from, to, type, days ago, group slug, description, outcome)
EXCHANGES = [
    (
        "bogota",
        "medellin",
        ExchangeType.STUDY_VISIT,
        300,
        "clean-transport",
        "Study visit to TransMilenio's control centre.",
        "Medellín drafted a fleet plan.",
    ),
    (
        "bogota",
        "jakarta",
        ExchangeType.EXPERT_ADVICE,
        250,
        "clean-transport",
        "Advice on trunk-and-feeder bus networks.",
        None,
    ),
    (
        "bogota",
        "nairobi",
        ExchangeType.EXPERT_ADVICE,
        180,
        "clean-transport",
        "Bus rapid transit design review.",
        "Corridor 2 redesigned.",
    ),
    (
        "lisbon",
        "krakow",
        ExchangeType.PEER_REVIEW,
        160,
        "clean-transport",
        "Peer review of the mobility plan.",
        None,
    ),
    (
        "seoul",
        "bangkok",
        ExchangeType.POLICY_REPLICATION,
        140,
        None,
        "Replication of the transit smart-card integration.",
        "Pilot launched.",
    ),
    (
        "barcelona",
        "athens",
        ExchangeType.STUDY_VISIT,
        120,
        "air-quality",
        "Superblocks study visit.",
        "Athens plans two pilot blocks.",
    ),
    (
        "accra",
        "dakar",
        ExchangeType.STAFF_EXCHANGE,
        100,
        "air-quality",
        "Two-week secondment of the air-quality monitoring lead.",
        None,
    ),
    (
        "barcelona",
        "mexico-city",
        ExchangeType.EXPERT_ADVICE,
        90,
        "air-quality",
        "Advice on low-emission zone enforcement.",
        None,
    ),
    (
        "chennai",
        "kathmandu",
        ExchangeType.EXPERT_ADVICE,
        70,
        "air-quality",
        "Sensor network calibration.",
        "Kathmandu calibrated 40 sensors.",
    ),
    (
        "rotterdam",
        "kigali",
        ExchangeType.JOINT_PROJECT,
        200,
        "circular-economy",
        "Joint construction-waste marketplace.",
        None,
    ),
    (
        "rotterdam",
        "malmo",
        ExchangeType.PEER_REVIEW,
        60,
        "circular-economy",
        "Review of circular procurement criteria.",
        None,
    ),
    (
        "malmo",
        "montevideo",
        ExchangeType.EXPERT_ADVICE,
        30,
        "circular-economy",
        "Food-waste collection advice.",
        None,
    ),
    (
        "lisbon",
        "sao-paulo",
        ExchangeType.STUDY_VISIT,
        20,
        None,
        "Climate adaptation study visit on heat plans.",
        None,
    ),
    (
        "toronto",
        "montreal",
        ExchangeType.STAFF_EXCHANGE,
        15,
        None,
        "Exchange of energy-retrofit programme staff.",
        None,
    ),
]


def _member(session: Session, slug: str) -> Member:
    member = session.scalar(select(Member).where(Member.slug == slug))
    assert member is not None, slug
    return member


def load_activity(session: Session, staff: User) -> dict[str, int]:
    """Create the demo groups, events and exchanges that do not exist yet."""
    today = utcnow().date()
    themes = {t.label: t for t in ensure_terms(session, Vocabulary.THEME, THEMES)}
    counts = {"groups_added": 0, "events_added": 0, "exchanges_added": 0}
    started = today - timedelta(days=400)
    by_slug: dict[str, WorkingGroup] = {}
    for slug, name, theme, leads, members, observers in GROUPS:
        group = session.scalar(select(WorkingGroup).where(WorkingGroup.slug == slug))
        if group is None:
            group = groups.create_group(
                session,
                staff,
                groups.GroupData(
                    name=name,
                    slug=slug,
                    theme_id=themes[theme].id,
                    started_on=started,
                    staff_lead_id=staff.id,
                    description=f"The network's {theme.lower()} working group.",
                ),
            )
            for role, slugs in (
                (GroupRole.LEAD, leads),
                (GroupRole.MEMBER, members),
                (GroupRole.OBSERVER, observers),
            ):
                if slugs:
                    ids = [_member(session, s).id for s in slugs]
                    groups.add_members(session, staff, group, ids, role, started)
            counts["groups_added"] += 1
        by_slug[slug] = group
    network_zone = events.network_zone()
    for title, kind, days, hour, hours, zone, city, country, group_slug, host, audience in EVENTS:
        if session.scalar(select(Event.id).where(Event.title == title)) is not None:
            continue
        starts = datetime.combine(today + timedelta(days=days), time(hour))
        event = events.create_event(
            session,
            staff,
            events.EventData(
                title=title,
                event_type=kind,
                starts_local=starts,
                ends_local=starts + timedelta(hours=hours),
                timezone=zone,
                is_online=city is None,
                meeting_url="https://meet.demo.example/" + title.lower().replace(" ", "-")[:40]
                if city is None
                else None,
                city=city,
                country=country,
                host_member_id=_member(session, host).id if host else None,
                group_id=by_slug[group_slug].id if group_slug else None,
                description=f"{title}. Agenda and materials follow by e-mail.",
            ),
        )
        chosen = [_member(session, s).id for s in ("bogota", "lisbon", "accra", "rotterdam")]
        invitations = events.invite(
            session,
            staff,
            event,
            audience,
            group_id=event.group_id,
            member_ids=chosen if audience is Audience.CHOSEN else (),
        )
        if event.starts_at <= utcnow():
            _attend(session, staff, event, [i.member_id for i in invitations], network_zone)
        counts["events_added"] += 1
    for source, target, kind, days_ago, group_slug, description, outcome in EXCHANGES:
        from_member, to_member = _member(session, source), _member(session, target)
        occurred = today - timedelta(days=days_ago)
        exists = session.scalar(
            select(PeerExchange.id).where(
                PeerExchange.from_member_id == from_member.id,
                PeerExchange.to_member_id == to_member.id,
                PeerExchange.occurred_on == occurred,
            )
        )
        if exists is not None:
            continue
        group = by_slug.get(group_slug) if group_slug else None
        exchanges.record_exchange(
            session,
            staff,
            exchanges.ExchangeData(
                from_member_id=from_member.id,
                to_member_id=to_member.id,
                exchange_type=kind,
                occurred_on=occurred,
                description=description,
                group_id=group.id if group else None,
                theme_id=group.theme_id if group else themes["Climate adaptation"].id,
                outcome=outcome,
            ),
        )
        counts["exchanges_added"] += 1
    return counts


def _attend(
    session: Session, staff: User, event: Event, member_ids: list[int], zone: ZoneInfo
) -> None:
    """Two members in three attend, each with its first current contact."""
    day: date = event.starts_at.astimezone(zone).date()
    contacts = {}
    for contact in session.scalars(
        select(Contact)
        .where(Contact.member_id.in_(member_ids))
        .order_by(Contact.is_primary.desc(), Contact.name)
    ):
        if contact.is_current(day):
            contacts.setdefault(contact.member_id, contact.id)
    attending = {contacts[m] for i, m in enumerate(sorted(member_ids)) if i % 3 and m in contacts}
    events.record_attendance(
        session,
        staff,
        event,
        shown_contacts=set(contacts.values()),
        attended_contacts=attending,
        shown_members=set(),
        attended_members=set(),
    )
