"""The demo network's partners, agreements and follow-ups.

Loaded through the same services as the user interface, dated relative to today, so that
there is always a renewal to prepare, an agreement past its expiry and follow-ups overdue,
due soon and later; running it again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.agreements import services as agreements
from secretariat.agreements.models import Agreement, AgreementKind, AgreementStatus, PartyKind
from secretariat.agreements.services import AgreementData, ObligationData, PartyRef
from secretariat.events.models import Event
from secretariat.followups import services as followups
from secretariat.followups.models import FollowUp, Priority, Recurrence
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member
from secretariat.partners import services as partners
from secretariat.partners.models import Partner, PartnerKind

S = AgreementStatus

#: (name, kind, country, website, [(contact name, e-mail, role)])
PARTNERS = [
    (
        "Resilient Cities Development Bank",
        PartnerKind.DEVELOPMENT_BANK,
        "LU",
        "https://rcdb.demo.example",
        [("Helena Brandt", "h.brandt@rcdb.demo.example", "Head of urban lending")],
    ),
    (
        "VoltMove Mobility",
        PartnerKind.COMPANY,
        "NL",
        "https://voltmove.demo.example",
        [("Joost de Vries", "joost@voltmove.demo.example", "Public sector partnerships")],
    ),
    (
        "Institute for Urban Air Research",
        PartnerKind.UNIVERSITY,
        "PT",
        "https://iuar.demo.example",
        [
            ("Prof. Rita Almeida", "r.almeida@iuar.demo.example", "Principal investigator"),
            ("Dr. Kwame Mensah", "k.mensah@iuar.demo.example", "Data manager"),
        ],
    ),
    (
        "Green Commons Foundation",
        PartnerKind.FOUNDATION,
        "US",
        "https://greencommons.demo.example",
        [("Maya Chen", "maya.chen@greencommons.demo.example", "Programme officer")],
    ),
    (
        "National Urban Development Agency of Kenya",
        PartnerKind.GOVERNMENT_AGENCY,
        "KE",
        None,
        [("Peter Kamau", "p.kamau@nuda.demo.example", "Director, international cooperation")],
    ),
    (
        "UN Cities Programme",
        PartnerKind.INTERNATIONAL_ORGANISATION,
        None,
        "https://uncities.demo.example",
        [],
    ),
]


def _member_ids(session: Session, slugs: list[str]) -> list[int]:
    found = dict(
        session.execute(select(Member.slug, Member.id).where(Member.slug.in_(slugs))).all()
    )
    return [found[slug] for slug in slugs if slug in found]


def _partner(session: Session, name: str) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.name == name))
    assert partner is not None, name
    return partner


def _agreement(
    session: Session,
    staff: User,
    title: str,
    kind: AgreementKind,
    status: AgreementStatus,
    parties: list[PartyRef],
    summary: str,
    *,
    signed_on: date | None = None,
    expires_on: date | None = None,
    notice: int | None = 90,
    group: WorkingGroup | None = None,
) -> Agreement | None:
    """Enter the agreement unless an agreement of that title exists; None if it did."""
    if session.scalar(select(Agreement.id).where(Agreement.title == title)) is not None:
        return None
    return agreements.create_agreement(
        session,
        staff,
        AgreementData(
            kind=kind,
            title=title,
            owner_id=staff.id,
            parties=parties,
            summary=summary,
            group_id=group.id if group else None,
            signed_on=signed_on,
            expires_on=expires_on,
            renewal_notice_days=notice,
            status=status,
        ),
    )


def load_agreements(
    session: Session, staff: User, focal_point: User | None, today: date
) -> dict[str, int]:
    """Create the demo partners, agreements and follow-ups that do not exist yet."""
    counts = {"partners_added": 0, "agreements_added": 0, "follow_ups_added": 0}
    for name, kind, country, website, contacts in PARTNERS:
        if session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
            continue
        partner = partners.create_partner(
            session,
            staff,
            partners.PartnerData(name=name, kind=kind, country=country, website=website),
        )
        for contact_name, email, role in contacts:
            partners.add_contact(
                session, staff, partner, partners.PartnerContactData(contact_name, email, role)
            )
        counts["partners_added"] += 1

    secretariat = PartyRef(PartyKind.SECRETARIAT)

    def members(*slugs: str) -> list[PartyRef]:
        return [PartyRef(PartyKind.MEMBER, i) for i in _member_ids(session, list(slugs))]

    def partner(name: str) -> PartyRef:
        return PartyRef(PartyKind.PARTNER, _partner(session, name).id)

    groups = {g.slug: g for g in session.scalars(select(WorkingGroup))}
    cohort = _agreement(
        session,
        staff,
        "Urban resilience cohort MoU",
        AgreementKind.MOU,
        S.ACTIVE,
        [
            secretariat,
            partner("Resilient Cities Development Bank"),
            *members("nairobi", "lisbon", "accra", "dakar", "kigali", "bogota", "pune", "athens"),
        ],
        "Eight cities prepare resilience investment plans with the bank's technical "
        "assistance; the secretariat runs the peer-learning programme.",
        signed_on=today - timedelta(days=700),
        expires_on=today + timedelta(days=45),
        notice=120,
    )
    if cohort is not None:
        counts["agreements_added"] += 1
        nairobi = next(p for p in cohort.parties if p.member and p.member.slug == "nairobi")
        bank = next(p for p in cohort.parties if p.partner_id is not None)
        agreements.add_obligation(
            session,
            staff,
            cohort,
            ObligationData(
                description="Submit the resilience investment plan for review",
                party_id=nairobi.id,
                due_on=today + timedelta(days=20),
                priority=Priority.HIGH,
            ),
        )
        agreements.add_obligation(
            session,
            staff,
            cohort,
            ObligationData(
                description="Publish the technical-assistance call for the second cohort",
                party_id=bank.id,
                due_on=today - timedelta(days=5),
            ),
        )
    for title, kind, status, parties, summary, signed, expires, notice in [
        (
            "E-mobility pilot: letter of intent",
            AgreementKind.LETTER_OF_INTENT,
            S.NEGOTIATING,
            [partner("VoltMove Mobility"), *members("rotterdam", "bogota")],
            "Shared e-scooter and e-bus pilots with open data on trips and charging.",
            None,
            None,
            None,
        ),
        (
            "Air quality sensor data-sharing agreement",
            AgreementKind.DATA_SHARING,
            S.ACTIVE,
            [secretariat, partner("Institute for Urban Air Research"), *members("lisbon")],
            "Lisbon's low-cost sensor network feeds the institute's open air-quality model.",
            today - timedelta(days=200),
            today + timedelta(days=530),
            60,
        ),
        (
            "Circular cities grant",
            AgreementKind.GRANT,
            S.ACTIVE,
            [secretariat, partner("Green Commons Foundation")],
            "Two-year grant for the circular economy working group's city pilots.",
            today - timedelta(days=740),
            today + timedelta(days=30),
            90,
        ),
        (
            "National urban agency MoU",
            AgreementKind.MOU,
            S.DRAFT,
            [
                secretariat,
                partner("National Urban Development Agency of Kenya"),
                *members("nairobi"),
            ],
            "Bring Kenyan secondary cities into the network through the national agency.",
            None,
            None,
            90,
        ),
    ]:
        created = _agreement(
            session,
            staff,
            title,
            kind,
            status,
            parties,
            summary,
            signed_on=signed,
            expires_on=expires,
            notice=notice,
        )
        if created is None:
            continue
        counts["agreements_added"] += 1
        if title == "Circular cities grant":
            # It ended ten days ago: shown as expired on every page before the daily check runs.
            data = agreements.renewal_data(created)
            data.signed_on = created.signed_on
            data.effective_from = created.effective_from
            data.expires_on = today - timedelta(days=10)
            agreements.update_agreement(session, staff, created, data)
            renewal = agreements.create_agreement(
                session,
                staff,
                AgreementData(
                    kind=AgreementKind.GRANT,
                    title="Circular cities grant, second phase",
                    owner_id=staff.id,
                    parties=data.parties,
                    summary="Follow-on grant covering six more pilot cities.",
                    renewal_notice_days=90,
                ),
                renews=created,
            )
            agreements.change_status(session, staff, renewal, S.NEGOTIATING)
            counts["agreements_added"] += 1
        if title == "National urban agency MoU":
            agreements.change_status(session, staff, created, S.NEGOTIATING)
            agreements.change_status(
                session,
                staff,
                created,
                S.TERMINATED,
                on=today - timedelta(days=3),
                reason="The agency chose to work through the national municipal association.",
            )

    counts["follow_ups_added"] += _follow_ups(session, staff, focal_point, today, groups)
    return counts


def _follow_ups(
    session: Session,
    staff: User,
    focal_point: User | None,
    today: date,
    groups: dict[str, WorkingGroup],
) -> int:
    added = 0
    past_events = list(
        session.scalars(
            select(Event)
            .where(Event.ends_at < _utc_midnight(today))
            .order_by(Event.starts_at.desc())
        )
    )
    lisbon = _member_ids(session, ["lisbon"])
    wanted: list[followups.FollowUpData] = []
    if past_events:
        event = past_events[0]
        day = followups.event_day(event)
        wanted += [
            followups.FollowUpData(
                title="Share the slides and recording with all participants",
                owner_id=staff.id,
                due_on=max(day + timedelta(days=3), today - timedelta(days=2)),
                event_id=event.id,
                priority=Priority.HIGH,
            ),
            followups.FollowUpData(
                title="Send Lisbon's case study for the newsletter",
                owner_id=focal_point.id if focal_point else staff.id,
                member_id=lisbon[0] if lisbon else None,
                due_on=today + timedelta(days=5),
                event_id=event.id,
            ),
        ]
    group = groups.get("clean-transport") or next(iter(groups.values()), None)
    wanted += [
        followups.FollowUpData(
            title="Collect the working groups' news for the monthly bulletin",
            description="Ask each group lead for three lines and a photo.",
            owner_id=staff.id,
            due_on=today + timedelta(days=12),
            recurrence=Recurrence.MONTHLY,
        ),
        followups.FollowUpData(
            title="Agree the group's work plan for next year",
            owner_id=staff.id,
            due_on=today + timedelta(days=40),
            group_id=group.id if group else None,
            priority=Priority.LOW,
        ),
    ]
    for data in wanted:
        if session.scalar(select(FollowUp.id).where(FollowUp.title == data.title)) is not None:
            continue
        followups.create_follow_up(session, staff, data)
        added += 1
    return added


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
