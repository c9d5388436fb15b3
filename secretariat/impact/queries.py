"""The figures of an impact report, computed in SQL from the records of the members covered.

The number of statements depends on the programme's configuration (one to three per
indicator it follows), never on the number of members or records.

``figures`` returns every number of the report together with the ids of the records behind
each one (``lists``), so the staff view can open the list a figure came from and a published
version keeps exactly the records it counted. ``records`` turns such a list into rows to show.
The number of statements does not depend on the number of members or records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from secretariat.agreements.forms import KIND_LABELS as AGREEMENT_KIND_LABELS
from secretariat.agreements.models import Agreement, AgreementParty, AgreementStatus
from secretariat.clock import network_zone
from secretariat.commitments.forms import STATUS_LABELS as COMMITMENT_STATUS_LABELS
from secretariat.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from secretariat.events.forms import TYPE_LABELS as EVENT_TYPE_LABELS
from secretariat.events.models import Attendance, Event
from secretariat.exchanges.forms import TYPE_LABELS as EXCHANGE_TYPE_LABELS
from secretariat.exchanges.models import ExchangeStatus, PeerExchange
from secretariat.funding.models import Grant, Programme
from secretariat.funding.services import covered_member_ids
from secretariat.impact.periods import Period
from secretariat.indicators.models import Aggregation, Direction, Indicator, Level, NetworkValue
from secretariat.indicators.queries import _latest_values, _medians, meets
from secretariat.members.models import Member, MemberKind
from secretariat.participation.forms import LEVEL_LABELS
from secretariat.participation.models import ParticipationScore, SchemeState, ScoringScheme
from secretariat.participation.queries import LEVELS
from secretariat.partners.models import Partner
from secretariat.reporting.forms import SUBMISSION_STATUS_LABELS
from secretariat.reporting.models import CycleMember, CycleState, ReportingCycle, Submission
from secretariat.reporting.services import REPORTED
from secretariat.vocabularies.models import Term

#: Population from which a city counts as large, and as medium-sized.
LARGE_CITY = 500_000
MEDIUM_CITY = 100_000

#: Agreements not (yet) signed, whatever date was typed as their signature.
UNSIGNED = (AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING)

#: Size bands, in the order reports show them.
SIZES = ("large", "medium", "small", "rural", "regional", "unknown")


def size_labels() -> dict[str, str]:
    return {
        "large": _("Large cities (%(n)s+)", n=f"{LARGE_CITY:,}"),
        "medium": _("Medium-sized cities"),
        "small": _("Small cities (under %(n)s)", n=f"{MEDIUM_CITY:,}"),
        "rural": _("Rural areas"),
        "regional": _("States and regions"),
        "unknown": _("Population not recorded"),
    }


def _size_column():  # type: ignore[no-untyped-def]
    return case(
        (Member.kind == MemberKind.REGION_OR_STATE, literal("regional")),
        (Member.kind == MemberKind.RURAL_AREA, literal("rural")),
        (Member.population.is_(None), literal("unknown")),
        (Member.population >= LARGE_CITY, literal("large")),
        (Member.population >= MEDIUM_CITY, literal("medium")),
        else_=literal("small"),
    )


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants the period's first day starts and its last day ends, days being those of
    the network's zone."""
    zone = network_zone()
    first = datetime.combine(start, time(), zone).astimezone(UTC)
    return first, datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)


def _share(part: int, whole: int) -> str | None:
    """A share as a decimal string with four places (None when there is no whole)."""
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


def _number(value: object) -> str | None:
    if value is None:
        return None
    return format(Decimal(str(value)).quantize(Decimal("0.0001")).normalize(), "f")


@dataclass
class Scope:
    """What a report looks at: the members covered and the period."""

    member_ids: list[int]
    period: Period


def scope_of(session: Session, programme: Programme, period: Period) -> Scope:
    """The members the programme covers, over the part of the period the programme runs."""
    return Scope(covered_member_ids(session, programme), within(period, programme))


def within(period: Period, programme: Programme) -> Period:
    """The period, cut to the programme's own dates (a programme starting in September
    reports nothing from before it began)."""
    return Period(
        period.label,
        max(period.start, programme.starts_on),
        min(period.end, programme.ends_on),
    )


# --- the figures ----------------------------------------------------------------------------


def _members(session: Session, ids: list[int]) -> dict[str, Any]:
    size = _size_column().label("size")
    rows = session.execute(
        select(Term.label, Term.position, size, func.count(Member.id))
        .select_from(Member)
        .outerjoin(Term, Term.id == Member.region_id)
        .where(Member.id.in_(ids))
        .group_by(Term.label, Term.position, size)
    ).all()
    regions: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    order: dict[str | None, tuple] = {}
    by_size: dict[str, int] = defaultdict(int)
    for label, position, band, count in rows:
        regions[label][band] += count
        order[label] = (label is None, position or 0, label or "")
        by_size[band] += count
    return {
        "total": len(ids),
        "by_region": [
            {"region": label, "sizes": dict(regions[label]), "total": sum(regions[label].values())}
            for label in sorted(regions, key=lambda r: order[r])
        ],
        "by_size": {band: by_size[band] for band in SIZES if by_size.get(band)},
    }


def _events(session: Session, scope: Scope) -> tuple[dict[str, Any], list[int]]:
    first, after = utc_bounds(scope.period.start, scope.period.end)
    attended_in_period = (
        Attendance.member_id.in_(scope.member_ids),
        Attendance.attended.is_(True),
        Event.cancelled_at.is_(None),
        Event.starts_at >= first,
        Event.starts_at < after,
    )
    per_event = (
        select(Attendance.event_id, func.count(Attendance.id).label("people"))
        .join(Event, Event.id == Attendance.event_id)
        .where(*attended_in_period)
        .group_by(Attendance.event_id)
        .subquery()
    )
    event_ids = sorted(session.scalars(select(per_event.c.event_id)))
    people = session.scalar(select(func.coalesce(func.sum(per_event.c.people), 0))) or 0
    members = session.scalar(
        select(func.count(distinct(Attendance.member_id)))
        .join(Event, Event.id == Attendance.event_id)
        .where(*attended_in_period)
    )
    return (
        {
            "held": len(event_ids),
            "attendances": int(people),
            "members_attending": members or 0,
            "members_attending_share": _share(members or 0, len(scope.member_ids)),
        },
        event_ids,
    )


def _exchanges(session: Session, scope: Scope) -> tuple[dict[str, Any], list[int], list[int]]:
    origin, other = aliased(Member), aliased(Member)
    rows = session.execute(
        select(
            PeerExchange.id,
            and_(
                origin.region_id.is_not(None),
                other.region_id.is_not(None),
                origin.region_id != other.region_id,
            ).label("cross"),
        )
        .join(origin, origin.id == PeerExchange.from_member_id)
        .join(other, other.id == PeerExchange.to_member_id)
        .where(
            PeerExchange.status == ExchangeStatus.CONFIRMED,
            PeerExchange.occurred_on.between(scope.period.start, scope.period.end),
            or_(
                PeerExchange.from_member_id.in_(scope.member_ids),
                PeerExchange.to_member_id.in_(scope.member_ids),
            ),
        )
        .order_by(PeerExchange.id)
    ).all()
    ids = [row.id for row in rows]
    cross = [row.id for row in rows if row.cross]
    return (
        {
            "total": len(ids),
            "cross_region": len(cross),
            "cross_region_share": _share(len(cross), len(ids)),
        },
        ids,
        cross,
    )


def _agreements(session: Session, scope: Scope) -> tuple[dict[str, Any], list[int], list[int]]:
    signed = (
        select(AgreementParty.agreement_id)
        .distinct()
        .join(Agreement, Agreement.id == AgreementParty.agreement_id)
        .where(
            AgreementParty.member_id.in_(scope.member_ids),
            Agreement.signed_on.between(scope.period.start, scope.period.end),
            Agreement.status.not_in(UNSIGNED),
        )
    )
    ids = sorted(session.scalars(signed))
    partner_ids = sorted(
        session.scalars(
            select(AgreementParty.partner_id)
            .distinct()
            .where(AgreementParty.agreement_id.in_(signed), AgreementParty.partner_id.is_not(None))
        )
    )
    members = session.scalar(
        select(func.count(distinct(AgreementParty.member_id))).where(
            AgreementParty.agreement_id.in_(signed),
            AgreementParty.member_id.in_(scope.member_ids),
        )
    )
    return (
        {"signed": len(ids), "partners": len(partner_ids), "members": members or 0},
        ids,
        partner_ids,
    )


def _commitments(session: Session, scope: Scope) -> tuple[dict[str, Any], list[int], list[int]]:
    first, after = utc_bounds(scope.period.start, scope.period.end)
    achieved_in_period = (
        select(CommitmentUpdate.id)
        .where(
            CommitmentUpdate.commitment_id == Commitment.id,
            CommitmentUpdate.status == CommitmentStatus.ACHIEVED,
            CommitmentUpdate.created_at >= first,
            CommitmentUpdate.created_at < after,
        )
        .exists()
    )
    rows = session.execute(
        select(Commitment.id, Commitment.status, achieved_in_period.label("achieved"))
        .where(Commitment.member_id.in_(scope.member_ids))
        .order_by(Commitment.id)
    ).all()
    achieved = [r.id for r in rows if r.status is CommitmentStatus.ACHIEVED and r.achieved]
    ongoing = [
        r.id for r in rows if r.status in (CommitmentStatus.IN_PROGRESS, CommitmentStatus.OFF_TRACK)
    ]
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.status.value] += 1
    return (
        {
            "achieved": len(achieved),
            "in_progress": len(ongoing),
            "off_track": counts[CommitmentStatus.OFF_TRACK.value],
            "planned": counts[CommitmentStatus.PLANNED.value],
            "achieved_to_date": counts[CommitmentStatus.ACHIEVED.value],
            "total": len(rows),
        },
        achieved,
        ongoing,
    )


def _indicator_values(session: Session, scope: Scope, programme: Programme) -> list[dict]:
    """Each programme indicator's value for the period over the members covered."""
    periods = [scope.period.label]
    results = []
    for link in programme.indicators:
        indicator: Indicator = link.indicator
        reporting = expected = 0
        value: Decimal | None = None
        if indicator.level is Level.NETWORK:
            nv = session.scalar(
                select(NetworkValue.number_value).where(
                    NetworkValue.indicator_id == indicator.id, NetworkValue.period.in_(periods)
                )
            )
            value = nv
        else:
            reporting, value = _member_aggregate(session, indicator, scope)
            expected = len(scope.member_ids)
        target = link.target
        progress = None
        if value is not None and target:
            progress = _progress(indicator, Decimal(value), Decimal(target))
        results.append(
            {
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "direction": indicator.direction.value,
                "level": indicator.level.value,
                "aggregation": indicator.aggregation.value,
                "value": _number(value),
                "target": _number(target),
                "reporting": reporting,
                "expected": expected,
                "on_target": meets(indicator, value, target),
                "progress_pct": progress,
            }
        )
    return results


def _progress(indicator: Indicator, value: Decimal, target: Decimal) -> str | None:
    """How far the value has come towards the target, in per cent (100 means reached): the
    value's share of the target, or for a lower-is-better indicator the target's share of
    the value."""
    if indicator.direction is Direction.LOWER_IS_BETTER:
        if not value:
            return None
        share = target / value * 100
    else:
        share = value / target * 100
    return format(share.quantize(Decimal("0.1")).normalize(), "f")


def _member_aggregate(
    session: Session, indicator: Indicator, scope: Scope
) -> tuple[int, Decimal | None]:
    """How many covered members reported a value for the period, and their aggregate."""
    latest = _latest_values(indicator.id)
    values = (
        select(latest)
        .where(latest.c.period == scope.period.label, latest.c.member_id.in_(scope.member_ids))
        .subquery()
    )
    aggregation = indicator.aggregation
    measure: Any
    if aggregation is Aggregation.SUM:
        measure = func.sum(values.c.number)
    elif aggregation is Aggregation.MEAN:
        measure = func.avg(values.c.number)
    elif aggregation is Aggregation.COUNT_YES:
        measure = func.count(case((values.c.boolean.is_(True), 1)))
    else:
        measure = literal(None)
    row = session.execute(select(func.count(values.c.member_id), measure)).one()
    reporting, value = row[0] or 0, row[1]
    if not reporting:
        return 0, None
    if aggregation is Aggregation.MEDIAN:
        value = _medians(session, values).get(scope.period.label)
    return reporting, (Decimal(str(value)) if value is not None else None)


def _participation(session: Session, scope: Scope) -> tuple[dict[str, Any], list[int]]:
    scheme = session.scalar(select(ScoringScheme).where(ScoringScheme.year == scope.period.year))
    if scheme is None:
        return {"year": scope.period.year, "computed": False}, []
    rows = session.execute(
        select(ParticipationScore.level, func.count(ParticipationScore.id))
        .where(
            ParticipationScore.scheme_id == scheme.id,
            ParticipationScore.member_id.in_(scope.member_ids),
        )
        .group_by(ParticipationScore.level)
    ).all()
    counts = {level: count for level, count in rows}
    scored = sum(count for level, count in counts.items() if level is not None)
    score_ids = sorted(
        session.scalars(
            select(ParticipationScore.id).where(
                ParticipationScore.scheme_id == scheme.id,
                ParticipationScore.member_id.in_(scope.member_ids),
            )
        )
    )
    return (
        {
            "year": scheme.year,
            "computed": True,
            "final": scheme.state is SchemeState.FINAL,
            "levels": [
                {
                    "level": level.value,
                    "label": str(LEVEL_LABELS[level]),
                    "count": counts.get(level, 0),
                }
                for level in LEVELS
            ],
            "scored": scored,
            "not_scored": len(scope.member_ids) - scored,
        },
        score_ids,
    )


def _completeness(session: Session, scope: Scope) -> tuple[dict[str, Any], list[int]]:
    """The reporting rate: of the covered members asked in the period's cycles, how many
    submitted (late submissions count; drafts and returned reports do not)."""
    cycles = list(
        session.execute(
            select(ReportingCycle.id, ReportingCycle.name)
            .where(
                ReportingCycle.period.in_(scope.period.reporting_periods()),
                # A cycle still being prepared has asked nobody yet.
                ReportingCycle.state != CycleState.DRAFT,
            )
            .order_by(ReportingCycle.opens_on, ReportingCycle.id)
        )
    )
    cycle_ids = [c.id for c in cycles]
    asked = session.execute(
        select(CycleMember.id, Submission.status)
        .outerjoin(
            Submission,
            and_(
                Submission.cycle_id == CycleMember.cycle_id,
                Submission.member_id == CycleMember.member_id,
            ),
        )
        .where(CycleMember.cycle_id.in_(cycle_ids), CycleMember.member_id.in_(scope.member_ids))
        .order_by(CycleMember.id)
    ).all()
    submitted = sum(1 for row in asked if row.status in REPORTED)
    return (
        {
            "cycles": [c.name for c in cycles],
            "asked": len(asked),
            "submitted": submitted,
            "rate": _share(submitted, len(asked)),
        },
        [row.id for row in asked],
    )


def figures(session: Session, programme: Programme, scope: Scope) -> dict[str, Any]:
    """Every figure of the report, and the ids of the records behind them."""
    members = _members(session, scope.member_ids)
    events, event_ids = _events(session, scope)
    exchanges, exchange_ids, cross_ids = _exchanges(session, scope)
    agreements, agreement_ids, partner_ids = _agreements(session, scope)
    commitments, achieved_ids, ongoing_ids = _commitments(session, scope)
    participation, score_ids = _participation(session, scope)
    completeness, asked_ids = _completeness(session, scope)
    return {
        "members": members,
        "events": events,
        "exchanges": exchanges,
        "agreements": agreements,
        "commitments": commitments,
        "indicators": _indicator_values(session, scope, programme),
        "participation": participation,
        "completeness": completeness,
        "lists": {
            "members": list(scope.member_ids),
            "events": event_ids,
            "exchanges": exchange_ids,
            "exchanges_cross_region": cross_ids,
            "agreements": agreement_ids,
            "partners": partner_ids,
            "commitments_achieved": achieved_ids,
            "commitments_in_progress": ongoing_ids,
            "participation": score_ids,
            "reporting": asked_ids,
        },
    }


# --- the records behind a figure ------------------------------------------------------------


def list_titles() -> dict[str, str]:
    return {
        "members": _("Members covered"),
        "events": _("Events attended by members covered"),
        "exchanges": _("Peer exchanges"),
        "exchanges_cross_region": _("Peer exchanges across regions"),
        "agreements": _("Agreements signed"),
        "partners": _("Partners in agreements signed"),
        "commitments_achieved": _("Commitments achieved in the period"),
        "commitments_in_progress": _("Commitments in progress"),
        "participation": _("Participation levels"),
        "reporting": _("Reporting in the period"),
    }


#: The lists the data appendix shows, in order.
APPENDIX = ("members", "events", "exchanges", "agreements", "commitments_achieved",
            "commitments_in_progress")  # fmt: skip


@dataclass
class Record:
    """One row of a figure's list: what it is (for a link on staff pages) and its cells."""

    kind: str
    id: int
    cells: list[Any]


def _fmt_day(day: date | None) -> str:
    return day.isoformat() if day else ""


def records(session: Session, key: str, ids: list[int]) -> tuple[list[str], list[Record]]:
    """The column headings and rows of one of a report's lists, in one statement."""
    if key not in list_titles():
        raise KeyError(key)
    if not ids:
        return _headings(key), []
    return _headings(key), _ROWS[key](session, ids)


def _headings(key: str) -> list[str]:
    return {
        "members": [_("Member"), _("Country"), _("Region"), _("Size")],
        "events": [
            _("Date"),
            _("Event"),
            _("Type"),
            _("Members attending (all)"),
            _("People attending (all)"),
        ],
        "exchanges": [_("Date"), _("From"), _("To"), _("Type"), _("Across regions")],
        "exchanges_cross_region": [_("Date"), _("From"), _("To"), _("Type"), _("Across regions")],
        "agreements": [_("Signed"), _("Agreement"), _("Kind"), _("Parties")],
        "partners": [_("Partner"), _("Country")],
        "commitments_achieved": [_("Member"), _("Commitment"), _("Status"), _("Target date")],
        "commitments_in_progress": [_("Member"), _("Commitment"), _("Status"), _("Target date")],
        "participation": [_("Member"), _("Level"), _("Score")],
        "reporting": [_("Cycle"), _("Member"), _("Status")],
    }[key]


def _member_rows(session: Session, ids: list[int]) -> list[Record]:
    labels = size_labels()
    rows = session.execute(
        select(Member.id, Member.name, Member.country, Term.label, _size_column())
        .outerjoin(Term, Term.id == Member.region_id)
        .where(Member.id.in_(ids))
        .order_by(Member.search_name, Member.id)
    ).all()
    return [
        Record("member", r[0], [r[1], r[2], r[3] or _("No region"), labels[r[4]]]) for r in rows
    ]


def _event_rows(session: Session, ids: list[int]) -> list[Record]:
    # The members counted are all attendees of the event among every member; the figure's
    # own count (members covered) is in the summary.
    rows = session.execute(
        select(
            Event.id,
            Event.starts_at,
            Event.title,
            Event.event_type,
            func.count(distinct(Attendance.member_id)),
            func.count(Attendance.id),
        )
        .outerjoin(Attendance, and_(Attendance.event_id == Event.id, Attendance.attended.is_(True)))
        .where(Event.id.in_(ids))
        .group_by(Event.id, Event.starts_at, Event.title, Event.event_type)
        .order_by(Event.starts_at, Event.id)
    ).all()
    zone = network_zone()
    return [
        Record(
            "event",
            r[0],
            [
                r[1].astimezone(zone).date().isoformat(),
                r[2],
                str(EVENT_TYPE_LABELS.get(r[3], r[3])),
                r[4],
                r[5],
            ],
        )
        for r in rows
    ]


def _exchange_rows(session: Session, ids: list[int]) -> list[Record]:
    origin, other = aliased(Member), aliased(Member)
    rows = session.execute(
        select(
            PeerExchange.id,
            PeerExchange.occurred_on,
            origin.name,
            other.name,
            PeerExchange.exchange_type,
            and_(
                origin.region_id.is_not(None),
                other.region_id.is_not(None),
                origin.region_id != other.region_id,
            ),
        )
        .join(origin, origin.id == PeerExchange.from_member_id)
        .join(other, other.id == PeerExchange.to_member_id)
        .where(PeerExchange.id.in_(ids))
        .order_by(PeerExchange.occurred_on, PeerExchange.id)
    ).all()
    return [
        Record(
            "exchange",
            r[0],
            [
                _fmt_day(r[1]),
                r[2],
                r[3],
                str(EXCHANGE_TYPE_LABELS.get(r[4], r[4])),
                _("Yes") if r[5] else _("No"),
            ],
        )
        for r in rows
    ]


def _agreement_rows(session: Session, ids: list[int]) -> list[Record]:
    party_name = func.coalesce(Member.name, Partner.name, literal(_("The secretariat")))
    rows = session.execute(
        select(Agreement.id, Agreement.signed_on, Agreement.title, Agreement.kind, party_name)
        .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .outerjoin(Member, Member.id == AgreementParty.member_id)
        .outerjoin(Partner, Partner.id == AgreementParty.partner_id)
        .where(Agreement.id.in_(ids))
        .order_by(Agreement.signed_on, Agreement.id, AgreementParty.position, AgreementParty.id)
    ).all()
    grouped: dict[int, Record] = {}
    for agreement_id, signed_on, title, kind, party in rows:
        record = grouped.get(agreement_id)
        if record is None:
            cells = [_fmt_day(signed_on), title, str(AGREEMENT_KIND_LABELS.get(kind, kind)), ""]
            record = grouped[agreement_id] = Record("agreement", agreement_id, cells)
        record.cells[3] = f"{record.cells[3]}, {party}" if record.cells[3] else party
    return list(grouped.values())


def _partner_rows(session: Session, ids: list[int]) -> list[Record]:
    rows = session.execute(
        select(Partner.id, Partner.name, Partner.country)
        .where(Partner.id.in_(ids))
        .order_by(Partner.search_name, Partner.id)
    ).all()
    return [Record("partner", r[0], [r[1], r[2] or ""]) for r in rows]


def _commitment_rows(session: Session, ids: list[int]) -> list[Record]:
    rows = session.execute(
        select(
            Commitment.id, Member.name, Commitment.title, Commitment.status, Commitment.target_on
        )
        .join(Member, Member.id == Commitment.member_id)
        .where(Commitment.id.in_(ids))
        .order_by(Member.search_name, Commitment.title, Commitment.id)
    ).all()
    return [
        Record(
            "commitment",
            r[0],
            [r[1], r[2], str(COMMITMENT_STATUS_LABELS.get(r[3], r[3])), _fmt_day(r[4])],
        )
        for r in rows
    ]


def _score_rows(session: Session, ids: list[int]) -> list[Record]:
    rows = session.execute(
        select(
            ParticipationScore.member_id,
            Member.name,
            ParticipationScore.level,
            ParticipationScore.total,
        )  # fmt: skip
        .join(Member, Member.id == ParticipationScore.member_id)
        .where(ParticipationScore.id.in_(ids))
        .order_by(Member.search_name, Member.id)
    ).all()
    return [
        Record("member", r[0], [r[1], str(LEVEL_LABELS[r[2]]), _number(r[3]) or ""]) for r in rows
    ]


def _reporting_rows(session: Session, ids: list[int]) -> list[Record]:
    rows = session.execute(
        select(CycleMember.member_id, ReportingCycle.name, Member.name, Submission.status)
        .join(ReportingCycle, ReportingCycle.id == CycleMember.cycle_id)
        .join(Member, Member.id == CycleMember.member_id)
        .outerjoin(
            Submission,
            and_(
                Submission.cycle_id == CycleMember.cycle_id,
                Submission.member_id == CycleMember.member_id,
            ),
        )
        .where(CycleMember.id.in_(ids))
        .order_by(ReportingCycle.opens_on, Member.search_name, CycleMember.id)
    ).all()
    return [
        Record(
            "member",
            r[0],
            [
                r[1],
                r[2],
                str(SUBMISSION_STATUS_LABELS.get(r[3], r[3])) if r[3] else _("Not started"),
            ],
        )
        for r in rows
    ]


_ROWS = {
    "members": _member_rows,
    "events": _event_rows,
    "exchanges": _exchange_rows,
    "exchanges_cross_region": _exchange_rows,
    "agreements": _agreement_rows,
    "partners": _partner_rows,
    "commitments_achieved": _commitment_rows,
    "commitments_in_progress": _commitment_rows,
    "participation": _score_rows,
    "reporting": _reporting_rows,
}


def summary(session: Session, programme: Programme, start: date, end: date) -> dict[str, Any]:
    """Aggregated figures of a programme between two days (counts only, no member's name)."""
    scope = Scope(covered_member_ids(session, programme), Period("", start, end))
    members = _members(session, scope.member_ids)
    return {
        "start": start,
        "end": end,
        "members": members,
        "events": _events(session, scope)[0],
        "exchanges": _exchanges(session, scope)[0],
        "agreements": _agreements(session, scope)[0],
        "commitments": _commitments(session, scope)[0],
    }


def funded_programme_ids(session: Session, funder_id: int) -> list[int]:
    """The programmes a funder has (or had) a grant for."""
    return sorted(
        set(session.scalars(select(Grant.programme_id).where(Grant.funder_id == funder_id)))
    )
