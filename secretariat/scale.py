"""A large, valid network for measuring speed: `secretariat seed scale`.

Deterministic from the seed (dates are relative to today, like the demo's). The big tables
(members, contacts, status history, peer exchanges) are checked with the services' own
validators and then written in bulk through the ORM session, as are partners, agreements
(valid by construction) and follow-ups; groups, events, invitations,
registrations and attendance go through the services themselves, which are quick enough for
their volume. Nothing is committed here: the caller owns the transaction.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import click
from dateutil.relativedelta import relativedelta
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from secretariat.accounts import services as accounts
from secretariat.accounts.models import Role, User
from secretariat.agreements.models import Agreement, AgreementKind, AgreementParty, AgreementStatus
from secretariat.commitments.models import Commitment, CommitmentStatus
from secretariat.db import get_db, utcnow
from secretariat.demo import REGIONS, TIERS
from secretariat.demo_activity import THEMES
from secretariat.events import services as events
from secretariat.events.models import Audience, EventType, Response
from secretariat.exchanges import services as exchanges
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.followups.models import FollowUp, FollowUpStatus, Priority, Recurrence
from secretariat.groups import services as groups
from secretariat.groups.models import GroupMembership, GroupRole, WorkingGroup
from secretariat.indicators.models import Aggregation, Direction, Indicator, Level, ValueType
from secretariat.members import services as members
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.partners.models import Partner, PartnerKind
from secretariat.reporting.models import Audience as CycleAudience
from secretariat.reporting.models import (
    CycleIndicator,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    ValueSource,
)
from secretariat.vocabularies.models import Term, Vocabulary
from secretariat.vocabularies.services import ensure_terms

#: The account the generated history is recorded as (created without a password).
STAFF_EMAIL = "staff@scale.example"
BATCH = 500

#: Countries and IANA zones of each demo region, for plausible members and event venues.
REGION_PLACES: dict[str, tuple[list[str], list[str]]] = {
    "Africa": (
        ["KE", "GH", "NG", "ZA", "SN", "RW", "ET", "MA", "CM"],
        ["Africa/Nairobi", "Africa/Accra", "Africa/Lagos", "Africa/Johannesburg"],
    ),
    "East, Southeast Asia and Oceania": (
        ["JP", "KR", "ID", "TH", "VN", "PH", "AU", "NZ"],
        ["Asia/Tokyo", "Asia/Jakarta", "Asia/Bangkok", "Australia/Sydney"],
    ),
    "Europe": (
        ["PT", "ES", "NL", "PL", "SE", "GB", "GR", "IE", "CH"],
        ["Europe/Lisbon", "Europe/Madrid", "Europe/Amsterdam", "Europe/Warsaw"],
    ),
    "Latin America": (
        ["BR", "CO", "MX", "AR", "UY", "EC", "CR"],
        ["America/Sao_Paulo", "America/Bogota", "America/Mexico_City"],
    ),
    "North America": (["US", "CA"], ["America/New_York", "America/Toronto", "America/Chicago"]),
    "South and West Asia": (
        ["IN", "NP", "LK", "AE", "JO", "TR", "GE", "LB"],
        ["Asia/Kolkata", "Asia/Kathmandu", "Asia/Dubai", "Europe/Istanbul"],
    ),
}
# Some with accents, so that search folding ("sao" finds "São") is exercised at scale.
NAME_STARTS = [
    "Alb", "Amber", "Ash", "Bel", "Bran", "Cal", "Cedar", "Dor", "East", "Elm", "Fair",
    "Glen", "Gran", "Har", "Iron", "Kings", "Lake", "Mar", "Mill", "Nor", "Oak", "Port",
    "Red", "Ros", "San", "Sil", "Stone", "Sun", "Val", "West", "Wil", "York", "São ",
    "Új", "Évre", "Çam", "Łęk", "Ñan", "Øst", "Île-",
]  # fmt: skip
NAME_ENDS = [
    "a", "ana", "bridge", "burg", "by", "dale", "field", "ford", "gate", "haven", "holm",
    "ia", "ino", "ka", "mar", "mont", "mouth", "ora", "polis", "port", "ridge", "stad",
    "ton", "vale", "ville", "wick", "wood", "ya",
]  # fmt: skip
FIRST_NAMES = [
    "Ana", "Amina", "Carlos", "Chen", "Daniel", "Fatima", "Grace", "Hiro", "Inês", "Jonas",
    "Kwame", "Laila", "Lucía", "Marta", "Mei", "Nadia", "Omar", "Priya", "Rafael", "Sara",
    "Tomás", "Wanjiru", "Yusuf", "Zofia",
]  # fmt: skip
LAST_NAMES = [
    "Ahmed", "Banda", "Costa", "Dubois", "Eriksen", "Fernandes", "García", "Haddad", "Ito",
    "Kowalski", "Li", "Mensah", "Novak", "Okafor", "Patel", "Quispe", "Rossi", "Silva",
    "Tanaka", "Umarov", "Van Dijk", "Wang", "Yilmaz", "Zhou",
]  # fmt: skip
LANGUAGES = ["en", "fr", "es", "pt", "ar", "sw", "ja", "ko", "id", "pl", "tr", "hi"]
GROUP_KINDS = ["Network", "Lab", "Forum", "Task Force", "Alliance", "Circle"]
STATUS_WEIGHTS = {
    MemberStatus.ACTIVE: 80,
    MemberStatus.APPLICANT: 6,
    MemberStatus.SUSPENDED: 5,
    MemberStatus.LAPSED: 5,
    MemberStatus.EXITED: 4,
}
KIND_WEIGHTS = {
    MemberKind.CITY: 70,
    MemberKind.METROPOLITAN_AUTHORITY: 10,
    MemberKind.REGION_OR_STATE: 10,
    MemberKind.RURAL_AREA: 5,
    MemberKind.OTHER: 5,
}
TIER_FEES = {"Full": Decimal("2500.00"), "Associate": Decimal("1000.00"), "Observer": None}
OTHER_ROLES = [
    ContactRole.LEADER,
    ContactRole.TECHNICAL_LEAD,
    ContactRole.NATIONAL_REPRESENTATIVE,
    ContactRole.OTHER,
]
EXCHANGE_TEXTS = {
    ExchangeType.STUDY_VISIT: "Study visit to the {theme} programme.",
    ExchangeType.EXPERT_ADVICE: "Expert advice on {theme} planning.",
    ExchangeType.PEER_REVIEW: "Peer review of the {theme} strategy.",
    ExchangeType.STAFF_EXCHANGE: "Staff exchange between the {theme} teams.",
    ExchangeType.POLICY_REPLICATION: "Replication of a {theme} policy.",
    ExchangeType.JOINT_PROJECT: "Joint {theme} project.",
}


class ScaleRefused(Exception):
    """The database already holds members and --force was not given."""


@dataclass
class _Member:
    id: int
    name: str
    slug: str
    region: str
    country: str
    status: MemberStatus


def _weighted(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _staff(session: Session) -> User:
    user = accounts.get_user_by_email(session, STAFF_EMAIL)
    if user is None:
        user = accounts.create_user(
            session, accounts.UserData(email=STAFF_EMAIL, name="Scale Staff", role=Role.STAFF)
        )
    return user


def _bulk(session: Session, model: type, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])


def _member_names(rng: random.Random, count: int, taken: set[str]) -> list[tuple[str, str]]:
    """Unique (name, slug) pairs; slugs avoid those taken and the reserved ones."""
    combos = [a + (b.capitalize() if a[-1] in " -" else b) for a in NAME_STARTS for b in NAME_ENDS]
    rng.shuffle(combos)
    result = []
    round_ = 1
    while len(result) < count:
        for combo in combos:
            name = combo if round_ == 1 else f"{combo} {round_}"
            slug = members.slugify(name)
            if slug in taken or slug in members.RESERVED_SLUGS:
                continue
            taken.add(slug)
            result.append((name, slug))
            if len(result) == count:
                break
        round_ += 1
    return result


def _create_members(
    session: Session, rng: random.Random, staff: User, count: int, today: date
) -> list[_Member]:
    regions = {t.label: t for t in ensure_terms(session, Vocabulary.REGION, REGIONS)}
    tiers = {t.label: t for t in ensure_terms(session, Vocabulary.TIER, TIERS)}
    taken = set(session.scalars(select(Member.slug)))
    rows, statuses, places = [], [], []
    for name, slug in _member_names(rng, count, taken):
        region = rng.choice(REGIONS)
        country = rng.choice(REGION_PLACES[region][0])
        tier = rng.choices(TIERS, weights=[60, 30, 10])[0]
        status = _weighted(rng, STATUS_WEIGHTS)
        fee = TIER_FEES[tier]
        data = members.MemberData(
            name=name,
            slug=slug,
            kind=_weighted(rng, KIND_WEIGHTS),
            country=country,
            region_id=regions[region].id,
            population=rng.randint(20_000, 15_000_000),
            joined_on=None
            if status is MemberStatus.APPLICANT
            else today - timedelta(days=rng.randint(200, 15 * 365)),
            tier_id=tiers[tier].id,
            annual_fee=fee,
            fee_currency="EUR" if fee is not None else None,
            next_election_on=today + timedelta(days=rng.randint(30, 5 * 365))
            if rng.random() < 0.6
            else None,
            website=f"https://www.{slug}.scale.example" if rng.random() < 0.8 else None,
        )
        errors = members.validate_member(session, data, None)
        if errors:
            raise members.ValidationFailed(errors)
        row = {field: getattr(data, field) for field in members.MemberData.field_names()}
        row.update(search_name=members.fold(data.name), status=status)
        rows.append(row)
        statuses.append(status)
        places.append((region, country))
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        ids.extend(
            session.scalars(
                insert(Member).returning(Member.id, sort_by_parameter_order=True),
                rows[start : start + BATCH],
            )
        )
    _bulk(
        session,
        MemberStatusChange,
        [
            {
                "member_id": member_id,
                "from_status": None,
                "to_status": status,
                "reason": "Member record created by the scale generator.",
                "changed_by_id": staff.id,
                "changed_at": utcnow(),
            }
            for member_id, status in zip(ids, statuses, strict=True)
        ],
    )
    return [
        _Member(member_id, row["name"], row["slug"], region, country, row["status"])
        for member_id, row, (region, country) in zip(ids, rows, places, strict=True)
    ]


def _create_contacts(
    session: Session, rng: random.Random, member_list: list[_Member], today: date
) -> int:
    """2-4 people per member: one primary focal point, sometimes a former one, others."""
    rows = []
    for member in member_list:
        count = rng.randint(2, 4)
        firsts = rng.sample(FIRST_NAMES, count)
        lasts = rng.sample(LAST_NAMES, count)
        former = count > 2 and rng.random() < 0.3
        for i in range(count):
            name = f"{firsts[i]} {lasts[i]}"
            local = members.slugify(name).replace("-", ".")
            started = today - timedelta(days=rng.randint(30, 8 * 365))
            if i == 0:
                role, primary, ended = ContactRole.FOCAL_POINT, True, None
            elif former and i == count - 1:
                # The focal point before the present one: left, kept in the history.
                role, primary = ContactRole.FOCAL_POINT, False
                ended = started + timedelta(days=rng.randint(1, (today - started).days))
            else:
                role, primary, ended = rng.choice(OTHER_ROLES), False, None
            data = members.ContactData(
                name=name,
                role=role,
                email=f"{local}@{member.slug}.scale.example",
                phone=f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                job_title=role.value.replace("_", " ").capitalize(),
                is_primary=primary,
                active_from=started,
                active_to=ended,
                language=rng.choice(LANGUAGES),
            )
            errors = members.validate_contact(data, today)
            if errors:
                raise members.ValidationFailed(errors)
            row = {field: getattr(data, field) for field in members.ContactData.field_names()}
            row["member_id"] = member.id
            rows.append(row)
    _bulk(session, Contact, rows)
    return len(rows)


def _create_groups(
    session: Session,
    rng: random.Random,
    staff: User,
    member_list: list[_Member],
    today: date,
) -> tuple[list[WorkingGroup], int]:
    """Working groups with leads, members and observers; some role changes and departures."""
    themes = ensure_terms(session, Vocabulary.THEME, THEMES)
    joinable = [m.id for m in member_list if m.status in groups.JOINABLE_STATUSES]
    taken_names = {n.casefold() for n in session.scalars(select(WorkingGroup.name))}
    taken_slugs = set(session.scalars(select(WorkingGroup.slug)))
    count = max(3, min(40, len(member_list) // 40))
    created: list[WorkingGroup] = []
    number = 0
    while len(created) < count:
        theme = themes[number % len(themes)]
        kind = GROUP_KINDS[(number // len(themes)) % len(GROUP_KINDS)]
        cycle = number // (len(themes) * len(GROUP_KINDS))
        name = f"{theme.label} {kind}" + (f" {cycle + 1}" if cycle else "")
        number += 1
        slug = members.slugify(name)
        if name.casefold() in taken_names or slug in taken_slugs:
            continue
        started = today - timedelta(days=rng.randint(400, 1500))
        group = groups.create_group(
            session,
            staff,
            groups.GroupData(
                name=name,
                slug=slug,
                theme_id=theme.id,
                started_on=started,
                staff_lead_id=staff.id,
                description=f"The network's {theme.label.lower()} {kind.lower()}.",
            ),
        )
        size = min(len(joinable), rng.randint(8, max(10, len(member_list) // 15)))
        chosen = rng.sample(joinable, size)
        leads, observers = chosen[: rng.randint(1, 2)], chosen[-max(1, size // 10) :]
        others = [m for m in chosen if m not in leads and m not in observers]
        span = (today - started).days
        for role, ids in (
            (GroupRole.LEAD, leads),
            (GroupRole.MEMBER, others),
            (GroupRole.OBSERVER, observers),
        ):
            # Members arrive in a few cohorts, on different days.
            cohorts = defaultdict(list)
            for member_id in ids:
                cohorts[rng.randint(0, 2)].append(member_id)
            for cohort in sorted(cohorts):
                joined = started + timedelta(days=cohort * span // 4)
                groups.add_members(session, staff, group, cohorts[cohort], role, joined)
        created.append(group)
    memberships = list(
        session.scalars(
            select(GroupMembership)
            .where(GroupMembership.group_id.in_([g.id for g in created]))
            .order_by(GroupMembership.id)
        )
    )
    for membership in memberships:
        days_in = (today - membership.joined_on).days
        if days_in < 2:
            continue
        on = membership.joined_on + timedelta(days=rng.randint(1, days_in - 1))
        draw = rng.random()
        if draw < 0.08 and membership.role is GroupRole.OBSERVER:
            groups.change_role(session, staff, membership, GroupRole.MEMBER, on)
        elif draw < 0.05:
            groups.remove_member(session, staff, membership, on)
    total = session.scalar(
        select(func.count())
        .select_from(GroupMembership)
        .where(GroupMembership.group_id.in_([g.id for g in created]))
    )
    return created, total or 0


def _create_events(
    session: Session,
    rng: random.Random,
    staff: User,
    member_list: list[_Member],
    group_list: list[WorkingGroup],
    count: int,
    today: date,
) -> dict[str, int]:
    """Events over two years, invitations, registrations for the upcoming ones, attendance."""
    counts = {"events": 0, "invitations": 0, "registrations": 0, "attendances": 0}
    by_id = {m.id: m for m in member_list}
    active = [m.id for m in member_list if m.status is MemberStatus.ACTIVE]
    contacts_of: dict[int, list[Contact]] = defaultdict(list)
    for contact in session.scalars(
        select(Contact)
        .where(Contact.member_id.in_(list(by_id)))
        .order_by(Contact.is_primary.desc(), Contact.id)
    ):
        contacts_of[contact.member_id].append(contact)
    now = utcnow()
    for number in range(count):
        # The first event is a large past forum: the event page with the most invitations.
        days = -rng.randint(20, 60) if number == 0 else rng.randint(-730, 180)
        draw = rng.random()
        if number == 0 or draw < 0.08:
            audience, group = Audience.ALL_ACTIVE, None
            kind = rng.choice([EventType.ANNUAL_FORUM, EventType.BOARD_MEETING])
        elif draw < 0.8 and group_list:
            audience, group = Audience.GROUP, rng.choice(group_list)
            kind = rng.choice([EventType.WEBINAR, EventType.WORKSHOP, EventType.STUDY_TOUR])
        else:
            audience, group = Audience.CHOSEN, None
            kind = rng.choice([EventType.WORKSHOP, EventType.PEER_EXCHANGE_VISIT, EventType.OTHER])
        online = kind is EventType.WEBINAR or rng.random() < 0.3
        host = by_id[rng.choice(active)] if active and rng.random() < 0.7 else None
        if host is None and not online:
            online = True
        hours = 1.5 if online else rng.choice([3, 6, 8, 30])
        start_day = today + timedelta(days=days)
        starts = datetime.combine(start_day, time(rng.randint(8, 15)))
        label = group.name if group else kind.value.replace("_", " ").capitalize()
        zone = None if online or host is None else rng.choice(REGION_PLACES[host.region][1])
        event = events.create_event(
            session,
            staff,
            events.EventData(
                title=f"{label}: session {number + 1}",
                event_type=kind,
                starts_local=starts,
                ends_local=starts + timedelta(hours=hours),
                timezone=zone,
                is_online=online,
                meeting_url=f"https://meet.scale.example/event-{number + 1}" if online else None,
                city=None if online else host.name,
                country=None if online else host.country,
                host_member_id=host.id if host else None,
                group_id=group.id if group else None,
                description=f"{label}. Agenda and materials follow by e-mail.",
            ),
        )
        counts["events"] += 1
        chosen = rng.sample(active, min(len(active), rng.randint(5, 30)))
        try:
            invitations = events.invite(
                session,
                staff,
                event,
                audience,
                group_id=group.id if group else None,
                member_ids=chosen if audience is Audience.CHOSEN else (),
            )
        except members.ValidationFailed:
            continue  # an empty audience (a group whose members all left): no invitations
        counts["invitations"] += len(invitations)
        invited = sorted(i.member_id for i in invitations)
        day = start_day
        if event.starts_at <= now:
            shown, attended = set(), set()
            for member_id in invited:
                people = [c for c in contacts_of[member_id] if c.is_current(day)]
                shown.update(c.id for c in people)
                if people and rng.random() < 0.6:
                    attended.update(c.id for c in people[: rng.randint(1, 2)])
            if shown:
                change = events.record_attendance(
                    session,
                    staff,
                    event,
                    shown_contacts=shown,
                    attended_contacts=attended,
                    shown_members=set(),
                    attended_members=set(),
                )
                counts["attendances"] += change.added
        else:
            for member_id in invited:
                people = [c for c in contacts_of[member_id] if c.is_current(day)]
                if people and rng.random() < 0.4:
                    response = Response.REGISTERED if rng.random() < 0.85 else Response.DECLINED
                    events.respond(session, staff, event, people[0], response)
                    counts["registrations"] += 1
            if rng.random() < 0.03:
                events.cancel_event(session, staff, event)
    return counts


def _create_exchanges(
    session: Session,
    rng: random.Random,
    staff: User,
    member_list: list[_Member],
    count: int,
    today: date,
) -> int:
    """Confirmed exchanges; a few hubs give most of them, as in real networks."""
    if len(member_list) < 2:
        return 0
    themes = ensure_terms(session, Vocabulary.THEME, THEMES)
    theme_by_id = {t.id: t for t in themes}
    groups_of: dict[int, list[WorkingGroup]] = defaultdict(list)
    for membership in session.scalars(
        select(GroupMembership)
        .where(GroupMembership.left_on.is_(None))
        .order_by(GroupMembership.id)
    ):
        groups_of[membership.member_id].append(membership.group)
    weights = [
        # Heavy-tailed but capped: hubs with tens of exchanges, not a quarter of them all.
        min(rng.paretovariate(1.5), 50) * (1 if m.status is MemberStatus.ACTIVE else 0.2)
        for m in member_list
    ]
    cumulative = list(itertools.accumulate(weights))
    by_region: dict[str, list[_Member]] = defaultdict(list)
    for member in member_list:
        by_region[member.region].append(member)
    decided_at = utcnow()
    rows = []
    for number in range(count):
        source = rng.choices(member_list, cum_weights=cumulative)[0]
        peers = by_region[source.region]
        pool = peers if len(peers) > 1 and rng.random() < 0.5 else member_list
        target = source
        while target.id == source.id:
            target = rng.choice(pool)
        kind = rng.choice(list(ExchangeType))
        shared = groups_of.get(source.id)
        group = rng.choice(shared) if shared and rng.random() < 0.6 else None
        theme = theme_by_id[group.theme_id] if group and group.theme_id else rng.choice(themes)
        data = exchanges.ExchangeData(
            from_member_id=source.id,
            to_member_id=target.id,
            exchange_type=kind,
            occurred_on=today - timedelta(days=rng.randint(0, 5 * 365)),
            description=EXCHANGE_TEXTS[kind].format(theme=theme.label.lower()),
            group_id=group.id if group else None,
            theme_id=theme.id,
            outcome="An action plan was adopted." if rng.random() < 0.3 else None,
            evidence_url=f"https://evidence.scale.example/{number + 1}"
            if rng.random() < 0.2
            else None,
        )
        errors = exchanges.validate_exchange(session, data, today)
        if errors:
            raise members.ValidationFailed(errors)
        row = {field: getattr(data, field) for field in exchanges.ExchangeData.field_names()}
        row.update(
            status=ExchangeStatus.CONFIRMED,
            created_by_id=staff.id,
            decided_by_id=staff.id,
            decided_at=decided_at,
        )
        rows.append(row)
    _bulk(session, PeerExchange, rows)
    return len(rows)


PARTNER_WORDS = ["Urban", "Green", "Civic", "Metro", "Open", "Blue", "Future", "Common"]
PARTNER_NOUNS = ["Bank", "Foundation", "Institute", "Agency", "Labs", "Alliance", "Fund"]


def _create_agreements(
    session: Session,
    rng: random.Random,
    staff: User,
    member_list: list[_Member],
    count: int,
    today: date,
) -> dict[str, int]:
    """Partners and agreements (a few cohort MoUs with tens of members), with obligations."""
    if not count:
        return {"partners": 0, "agreements": 0}
    partner_count = max(5, count // 10)
    names = [f"{w} {n}" for w in PARTNER_WORDS for n in PARTNER_NOUNS]
    partner_rows = [
        {
            "name": f"{names[i % len(names)]} {i // len(names) + 1}",
            "search_name": members.fold(f"{names[i % len(names)]} {i // len(names) + 1}"),
            "kind": rng.choice(list(PartnerKind)),
            "country": rng.choice(REGION_PLACES[rng.choice(list(REGION_PLACES))][0]),
        }
        for i in range(partner_count)
    ]
    _bulk(session, Partner, partner_rows)
    partner_ids = list(session.scalars(select(Partner.id).order_by(Partner.id)))
    statuses = {
        AgreementStatus.ACTIVE: 6,
        AgreementStatus.SIGNED: 1,
        AgreementStatus.NEGOTIATING: 2,
        AgreementStatus.DRAFT: 1,
        AgreementStatus.EXPIRED: 2,
        AgreementStatus.TERMINATED: 1,
    }
    created = []
    for number in range(count):
        status = _weighted(rng, statuses)
        signed = (
            today - timedelta(days=rng.randint(30, 1500))
            if status not in (AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING)
            else None
        )
        expires = signed + timedelta(days=rng.choice((365, 730, 1095))) if signed else None
        if status is AgreementStatus.EXPIRED and expires and expires >= today:
            expires = today - timedelta(days=rng.randint(1, 200))
            signed = min(signed, expires)
        if status is AgreementStatus.ACTIVE and expires and expires < today:
            expires = today + timedelta(days=rng.randint(0, 700))
        cohort = rng.random() < 0.05
        chosen = rng.sample(
            member_list, min(len(member_list), rng.randint(20, 60) if cohort else rng.randint(1, 3))
        )
        agreement = Agreement(
            kind=rng.choice(list(AgreementKind)),
            title=f"Agreement {number + 1}: {'cohort ' if cohort else ''}cooperation",
            status=status,
            owner_id=staff.id,
            created_by_id=staff.id,
            signed_on=signed,
            effective_from=signed,
            expires_on=expires,
            renewal_notice_days=rng.choice((None, 60, 90, 180)),
            terminated_on=today if status is AgreementStatus.TERMINATED else None,
            termination_reason="Ended by mutual consent."
            if status is AgreementStatus.TERMINATED
            else None,
            parties=[
                AgreementParty(is_secretariat=True, position=0),
                AgreementParty(partner_id=rng.choice(partner_ids), position=1),
                *(AgreementParty(member_id=m.id, position=i + 2) for i, m in enumerate(chosen)),
            ],
        )
        created.append(agreement)
    session.add_all(created)
    session.flush()
    return {"partners": partner_count, "agreements": len(created)}


def _create_follow_ups(
    session: Session,
    rng: random.Random,
    member_list: list[_Member],
    count: int,
    today: date,
) -> int:
    """Follow-ups owned by a handful of staff, some overdue, some done, some per member."""
    if not count:
        return 0
    owners = [_staff(session)]
    for number in range(1, 6):
        email = f"staff{number}@scale.example"
        owners.append(
            accounts.get_user_by_email(session, email)
            or accounts.create_user(
                session,
                accounts.UserData(email=email, name=f"Scale Staff {number}", role=Role.STAFF),
            )
        )
    rows = []
    for number in range(count):
        due = today + timedelta(days=rng.randint(-120, 120))
        status = _weighted(
            rng,
            {
                FollowUpStatus.OPEN: 5,
                FollowUpStatus.IN_PROGRESS: 2,
                FollowUpStatus.DONE: 4,
                FollowUpStatus.CANCELLED: 1,
            },
        )
        closed = status in (FollowUpStatus.DONE, FollowUpStatus.CANCELLED)
        rows.append(
            {
                "title": f"Follow-up {number + 1}: send the notes and next steps",
                "owner_id": rng.choice(owners).id,
                "member_id": rng.choice(member_list).id if rng.random() < 0.6 else None,
                "due_on": due,
                "series_start": due,
                "priority": rng.choice(list(Priority)),
                "status": status,
                "recurrence": Recurrence.NONE,
                "completed_on": min(due, today) if closed else None,
                "completion_note": "Cancelled: no longer needed."
                if status is FollowUpStatus.CANCELLED
                else None,
            }
        )
    _bulk(session, FollowUp, rows)
    return len(rows)


#: Indicators of the scale network's reporting cycles: (code, type, aggregation, low, high).
SCALE_INDICATORS = [
    (f"K{n:02d}", kind, aggregation, low, high)
    for n, (kind, aggregation, low, high) in enumerate(
        [
            (ValueType.NUMBER, Aggregation.SUM, 0, 50_000),
            (ValueType.NUMBER, Aggregation.MEAN, 0, 30),
            (ValueType.PERCENTAGE, Aggregation.MEDIAN, 0, 100),
            (ValueType.YES_NO, Aggregation.COUNT_YES, None, None),
            (ValueType.PERCENTAGE, Aggregation.MEAN, 0, 100),
        ]
        * 3,
        start=1,
    )
]


def _create_reporting(
    session: Session,
    rng: random.Random,
    staff: User,
    member_list: list[_Member],
    cycles: int,
    today: date,
) -> dict[str, int]:
    """Yearly cycles asking every active member for 15 indicators; the latest one is open."""
    if not cycles:
        return {"cycles": 0, "submissions": 0, "values": 0}
    indicator_ids = []
    for code, kind, aggregation, low, high in SCALE_INDICATORS:
        indicator = Indicator(
            code=f"SCALE-{code}",
            name=f"Scale indicator {code}",
            unit="units" if kind is ValueType.NUMBER else None,
            value_type=kind,
            direction=Direction.HIGHER_IS_BETTER,
            level=Level.MEMBER,
            aggregation=aggregation,
            min_value=None if low is None else Decimal(low),
            max_value=None if high is None else Decimal(high),
        )
        session.add(indicator)
        session.flush()
        indicator_ids.append((indicator.id, kind, high))
    active = [m for m in member_list if m.status is MemberStatus.ACTIVE]
    submissions = values = 0
    for number in range(cycles):
        year = today.year - cycles + number
        is_open = number == cycles - 1
        opens = date(year + 1, 2, 1) if not is_open else today - timedelta(days=20)
        due = opens + timedelta(days=60)
        cycle = ReportingCycle(
            name=f"Scale report {year}",
            period=str(year),
            opens_on=opens,
            due_on=due,
            state=CycleState.OPEN if is_open else CycleState.CLOSED,
            audience=CycleAudience.ALL_ACTIVE,
            created_by_id=staff.id,
            opened_at=datetime.combine(opens, time(8), tzinfo=UTC),
        )
        session.add(cycle)
        session.flush()
        _bulk(
            session,
            CycleIndicator,
            [
                {"cycle_id": cycle.id, "indicator_id": i, "position": p, "is_required": True}
                for p, (i, _kind, _high) in enumerate(indicator_ids, start=1)
            ],
        )
        _bulk(session, CycleMember, [{"cycle_id": cycle.id, "member_id": m.id} for m in active])
        rows = []
        for member in active:
            if rng.random() < (0.4 if is_open else 0.12):
                continue
            moment = datetime.combine(
                opens + timedelta(days=rng.randint(1, 75)), time(10), tzinfo=UTC
            )
            late = moment.date() > due
            status = rng.choice(
                [SubmissionStatus.SUBMITTED, SubmissionStatus.DRAFT]
                if is_open
                else [SubmissionStatus.VERIFIED]
            )
            submitted = status is not SubmissionStatus.DRAFT
            rows.append(
                {
                    "cycle_id": cycle.id,
                    "member_id": member.id,
                    "status": status,
                    "first_submitted_at": moment if submitted else None,
                    "submitted_at": moment if submitted else None,
                    "is_late": late if submitted else None,
                }
            )
        _bulk(session, Submission, rows)
        submissions += len(rows)
        ids = session.scalars(select(Submission.id).where(Submission.cycle_id == cycle.id))
        value_rows = []
        for submission_id in ids:
            for indicator_id, kind, high in indicator_ids:
                row = {
                    "submission_id": submission_id,
                    "indicator_id": indicator_id,
                    "source": ValueSource.ENTERED,
                }
                if kind is ValueType.YES_NO:
                    row["bool_value"] = rng.random() < 0.6
                else:
                    row["number_value"] = Decimal(rng.randint(0, int(high) * 10)) / 10
                value_rows.append(row)
        _bulk(session, SubmissionValue, value_rows)
        values += len(value_rows)
    return {"cycles": cycles, "submissions": submissions, "values": values}


def _create_commitments(
    session: Session, rng: random.Random, member_list: list[_Member], count: int, today: date
) -> int:
    """Commitments spread over the members, some with evidence under a freshness rule."""
    if not count:
        return 0
    categories = list(
        session.scalars(select(Term.id).where(Term.vocabulary == Vocabulary.COMMITMENT_CATEGORY))
    )
    rows = []
    for number in range(count):
        freshness = rng.choice([None, None, 24, 60])
        evidence_on = today - timedelta(days=rng.randint(30, 2500)) if freshness else None
        stale_on = None
        if freshness is not None:
            stale_on = evidence_on + relativedelta(months=freshness) if evidence_on else today
        touched = datetime.combine(today - timedelta(days=rng.randint(0, 500)), time(9), tzinfo=UTC)
        rows.append(
            {
                "member_id": rng.choice(member_list).id,
                "title": f"Commitment {number + 1}: halve emissions from municipal buildings",
                "category_id": rng.choice(categories),
                "status": rng.choice(list(CommitmentStatus)),
                "percent_complete": rng.choice([None, 10, 40, 70]),
                "freshness_months": freshness,
                "evidence_on": evidence_on,
                "evidence_url": "https://example.org/evidence" if evidence_on else None,
                "evidence_stale_on": stale_on,
                "created_at": touched,
                "last_update_at": touched if rng.random() < 0.7 else None,
            }
        )
    _bulk(session, Commitment, rows)
    return len(rows)


def generate(
    session: Session,
    *,
    members_count: int,
    exchanges_count: int,
    events_count: int,
    agreements_count: int = 0,
    follow_ups_count: int = 0,
    cycles_count: int = 0,
    commitments_count: int = 0,
    seed: int = 1,
    force: bool = False,
) -> dict[str, int]:
    """Add a network of the given size; refuse a database that has members unless forced."""
    existing = session.scalar(select(func.count()).select_from(Member)) or 0
    if existing and not force:
        raise ScaleRefused(existing)
    rng = random.Random(seed)
    # Exchange dates are the network's local days; event days are close enough either way.
    today = exchanges.network_today()
    staff = _staff(session)
    member_list = _create_members(session, rng, staff, members_count, today)
    contacts = _create_contacts(session, rng, member_list, today)
    group_list, memberships = _create_groups(session, rng, staff, member_list, today)
    event_counts = _create_events(session, rng, staff, member_list, group_list, events_count, today)
    exchange_count = _create_exchanges(session, rng, staff, member_list, exchanges_count, today)
    agreement_counts = _create_agreements(session, rng, staff, member_list, agreements_count, today)
    follow_up_count = _create_follow_ups(session, rng, member_list, follow_ups_count, today)
    reporting_counts = _create_reporting(session, rng, staff, member_list, cycles_count, today)
    commitment_count = _create_commitments(session, rng, member_list, commitments_count, today)
    session.flush()
    return {
        "members": len(member_list),
        "contacts": contacts,
        "groups": len(group_list),
        "memberships": memberships,
        **event_counts,
        "exchanges": exchange_count,
        **agreement_counts,
        "follow_ups": follow_up_count,
        **reporting_counts,
        "commitments": commitment_count,
    }


@click.command("scale")
@click.option("--members", "members_count", type=click.IntRange(min=1), required=True)
@click.option("--exchanges", "exchanges_count", type=click.IntRange(min=0), default=0)
@click.option("--events", "events_count", type=click.IntRange(min=0), default=0)
@click.option("--agreements", "agreements_count", type=click.IntRange(min=0), default=0)
@click.option("--follow-ups", "follow_ups_count", type=click.IntRange(min=0), default=0)
@click.option(
    "--cycles",
    "cycles_count",
    type=click.IntRange(min=0, max=20),
    default=0,
    help="Yearly reporting cycles of 15 indicators; the latest is open.",
)
@click.option("--commitments", "commitments_count", type=click.IntRange(min=0), default=0)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--force", is_flag=True, help="Add to a database that already has members.")
@with_appcontext
def seed_scale(
    members_count: int,
    exchanges_count: int,
    events_count: int,
    agreements_count: int,
    follow_ups_count: int,
    cycles_count: int,
    commitments_count: int,
    seed: int,
    force: bool,
) -> None:
    """Generate a large network (for the benchmark), the same for the same seed."""
    try:
        with get_db().transaction() as session:
            counts = generate(
                session,
                members_count=members_count,
                exchanges_count=exchanges_count,
                events_count=events_count,
                agreements_count=agreements_count,
                follow_ups_count=follow_ups_count,
                cycles_count=cycles_count,
                commitments_count=commitments_count,
                seed=seed,
                force=force,
            )
    except ScaleRefused as refused:
        raise click.ClickException(
            f"The database already has {refused.args[0]} members; "
            "use --force to add the scale data anyway."
        ) from None
    click.echo(
        "Scale data added (seed {seed}): {members} members, {contacts} contacts, {groups} "
        "working groups with {memberships} memberships, {events} events with {invitations} "
        "invitations, {registrations} registrations and {attendances} attendance records, "
        "{exchanges} confirmed peer exchanges, {partners} partners, {agreements} agreements, "
        "{follow_ups} follow-ups, {cycles} reporting cycles with {submissions} submissions "
        "holding {values} values, and {commitments} commitments.".format(seed=seed, **counts)
    )
    click.echo(f"Recorded as {STAFF_EMAIL} (staff, no password: sign in with an e-mailed link).")
