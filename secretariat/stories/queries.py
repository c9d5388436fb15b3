"""Read models of the story pages, with a bounded number of queries whatever the data size."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from secretariat.accounts.models import User
from secretariat.agreements.models import Agreement, AgreementParty
from secretariat.commitments.models import Commitment
from secretariat.events.models import Attendance, Event, Invitation
from secretariat.exchanges.models import PeerExchange
from secretariat.impact.models import ImpactReportStory
from secretariat.members.models import Member, MemberStatus
from secretariat.pagination import Page, clamp
from secretariat.permissions import is_staff
from secretariat.stories.models import EvidenceKind, Story, StoryEvidence, StoryMember, StoryStatus

#: The record class and the story_evidence column of each kind of evidence.
EVIDENCE_MODELS: dict[EvidenceKind, type] = {
    EvidenceKind.EXCHANGE: PeerExchange,
    EvidenceKind.COMMITMENT: Commitment,
    EvidenceKind.AGREEMENT: Agreement,
    EvidenceKind.EVENT: Event,
}
EVIDENCE_COLUMNS = {
    EvidenceKind.EXCHANGE: "exchange_id",
    EvidenceKind.COMMITMENT: "commitment_id",
    EvidenceKind.AGREEMENT: "agreement_id",
    EvidenceKind.EVENT: "event_id",
}


@dataclass
class StoryFilters:
    status: StoryStatus | None = None
    member_id: int | None = None
    search: str = ""

    @property
    def active(self) -> bool:
        return self.status is not None or self.member_id is not None or bool(self.search)


@dataclass
class StoryRow:
    story: Story
    approved: int
    #: For a focal point: whether the story waits for their member's approval.
    awaiting_you: bool = False
    #: For a focal point: when their member approved it, if it did.
    your_approval: StoryMember | None = None


def _like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching the text anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(stmt: Select, filters: StoryFilters) -> Select:
    if filters.status is not None:
        stmt = stmt.where(Story.status == filters.status)
    if filters.member_id is not None:
        stmt = stmt.where(
            Story.id.in_(
                select(StoryMember.story_id).where(StoryMember.member_id == filters.member_id)
            )
        )
    if filters.search:
        pattern = _like_pattern(filters.search)
        stmt = stmt.where(
            or_(
                Story.title.ilike(pattern, escape="\\"),
                Story.narrative.ilike(pattern, escape="\\"),
                Story.quote.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def _with_members(stmt: Select) -> Select:
    return stmt.options(
        selectinload(Story.members).options(
            joinedload(StoryMember.member), joinedload(StoryMember.approved_by)
        )
    )


def story_page(
    session: Session, actor: User, filters: StoryFilters, page: int = 1, per_page: int = 25
) -> Page:
    """One page of the stories the actor may see, with their members: three queries.

    Staff see every story, latest change first. A focal point sees the stories about its own
    member, those awaiting its approval first.
    """
    own = None if is_staff(actor) else actor.member_id
    if not is_staff(actor) and own is None:
        return Page(items=[], total=0, page=1, per_page=per_page)
    counted = select(func.count(Story.id))
    listed = select(Story)
    order: list = [Story.updated_at.desc(), Story.id.desc()]
    if own is not None:
        own_row = (StoryMember.story_id == Story.id) & (StoryMember.member_id == own)
        counted = counted.join(StoryMember, own_row)
        listed = listed.join(StoryMember, own_row)
        order.insert(0, case((StoryMember.approved_at.is_(None), 0), else_=1))
    total = session.scalar(_filtered(counted, filters)) or 0
    page = clamp(page, total, per_page)
    stories = session.scalars(
        _with_members(_filtered(listed, filters))
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    rows = []
    for story in stories:
        yours = next((m for m in story.members if m.member_id == own), None)
        rows.append(
            StoryRow(
                story=story,
                approved=sum(1 for m in story.members if m.approved_at is not None),
                awaiting_you=yours is not None and yours.approved_at is None,
                your_approval=yours if yours is not None and yours.approved_at else None,
            )
        )
    return Page(items=rows, total=total, page=page, per_page=per_page)


def awaiting_approval(session: Session, member_id: int) -> int:
    """How many stories wait for this member's approval."""
    return (
        session.scalar(
            select(func.count(StoryMember.id)).where(
                StoryMember.member_id == member_id, StoryMember.approved_at.is_(None)
            )
        )
        or 0
    )


def story_detail(session: Session, story_id: int) -> Story | None:
    """The story with its members, approvals and evidence records loaded."""
    return session.scalar(
        _with_members(select(Story))
        .where(Story.id == story_id)
        .options(
            joinedload(Story.created_by),
            joinedload(Story.published_by),
            selectinload(Story.evidence).options(
                joinedload(StoryEvidence.exchange).options(
                    joinedload(PeerExchange.from_member), joinedload(PeerExchange.to_member)
                ),
                joinedload(StoryEvidence.commitment).joinedload(Commitment.member),
                joinedload(StoryEvidence.agreement).selectinload(Agreement.parties),
                joinedload(StoryEvidence.event),
            ),
        )
    )


def report_uses(session: Session, story_id: int) -> int:
    """In how many impact reports the story is chosen."""
    return (
        session.scalar(
            select(func.count(ImpactReportStory.id)).where(ImpactReportStory.story_id == story_id)
        )
        or 0
    )


def published_stories(session: Session, member_ids: list[int]) -> list[Story]:
    """The published stories involving any of these members, latest first, members loaded."""
    if not member_ids:
        return []
    return list(
        session.scalars(
            _with_members(select(Story))
            .where(
                Story.status == StoryStatus.PUBLISHED,
                Story.id.in_(
                    select(StoryMember.story_id).where(StoryMember.member_id.in_(member_ids))
                ),
            )
            .order_by(Story.published_at.desc(), Story.id.desc())
        )
    )


def member_choices(session: Session) -> list[tuple[int, str, MemberStatus]]:
    """(id, name, status) of every member by name, for the form and the filter."""
    rows = session.execute(
        select(Member.id, Member.name, Member.status).order_by(Member.search_name, Member.id)
    )
    return [(row[0], row[1], row[2]) for row in rows]


# -- evidence ---------------------------------------------------------------------------------


def related_to(kind: EvidenceKind, member_ids: Collection[int]) -> ColumnElement[bool]:
    """The condition for a record of this kind to be about one of the members.

    An exchange involving one of them, a commitment of one, an agreement with one as a party,
    an event hosted by one or attended by one.
    """
    ids = list(member_ids)
    if kind is EvidenceKind.EXCHANGE:
        return or_(PeerExchange.from_member_id.in_(ids), PeerExchange.to_member_id.in_(ids))
    if kind is EvidenceKind.COMMITMENT:
        return Commitment.member_id.in_(ids)
    if kind is EvidenceKind.AGREEMENT:
        return Agreement.id.in_(
            select(AgreementParty.agreement_id).where(AgreementParty.member_id.in_(ids))
        )
    return or_(
        Event.host_member_id.in_(ids),
        Event.id.in_(
            select(Attendance.event_id).where(
                Attendance.member_id.in_(ids), Attendance.attended.is_(True)
            )
        ),
    )


def existing_records(session: Session, kind: EvidenceKind, ids: Iterable[int]) -> dict[int, str]:
    """Id -> title of the records of this kind among the ids (those that exist)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    model = EVIDENCE_MODELS[kind]
    if kind is EvidenceKind.EXCHANGE:
        source, target = Member.__table__.alias("source"), Member.__table__.alias("target")
        rows = session.execute(
            select(PeerExchange.id, source.c.name, target.c.name)
            .join(source, source.c.id == PeerExchange.from_member_id)
            .join(target, target.c.id == PeerExchange.to_member_id)
            .where(PeerExchange.id.in_(wanted))
        )
        return {row[0]: f"{row[1]} → {row[2]}" for row in rows}
    rows = session.execute(select(model.id, model.title).where(model.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


def related_ids(
    session: Session, kind: EvidenceKind, ids: Iterable[int], member_ids: Collection[int]
) -> set[int]:
    """The ids, among those given, of records of this kind about one of the members."""
    wanted = sorted(set(ids))
    if not wanted or not member_ids:
        return set()
    model = EVIDENCE_MODELS[kind]
    return set(
        session.scalars(select(model.id).where(model.id.in_(wanted), related_to(kind, member_ids)))
    )


@dataclass
class EvidenceChoices:
    """The records that can be linked to a story about some members, by kind."""

    exchanges: list[PeerExchange] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def evidence_choices(
    session: Session, member_ids: Collection[int], keep: Iterable[StoryEvidence] = ()
) -> EvidenceChoices:
    """The records about these members (and those already linked, ``keep``): four queries."""
    linked: dict[EvidenceKind, list[int]] = {kind: [] for kind in EvidenceKind}
    for item in keep:
        linked[item.kind].append(getattr(item, EVIDENCE_COLUMNS[item.kind]))
    ids = list(member_ids)

    def wanted(kind: EvidenceKind) -> ColumnElement[bool]:
        model = EVIDENCE_MODELS[kind]
        condition = related_to(kind, ids) if ids else model.id.in_([])
        return or_(condition, model.id.in_(linked[kind]))

    return EvidenceChoices(
        exchanges=list(
            session.scalars(
                select(PeerExchange)
                .where(wanted(EvidenceKind.EXCHANGE))
                .options(joinedload(PeerExchange.from_member), joinedload(PeerExchange.to_member))
                .order_by(PeerExchange.occurred_on.desc(), PeerExchange.id.desc())
            )
        ),
        commitments=list(
            session.scalars(
                select(Commitment)
                .join(Member, Member.id == Commitment.member_id)
                .where(wanted(EvidenceKind.COMMITMENT))
                .options(joinedload(Commitment.member))
                .order_by(Member.search_name, Commitment.title, Commitment.id)
            )
        ),
        agreements=list(
            session.scalars(
                select(Agreement)
                .where(wanted(EvidenceKind.AGREEMENT))
                .order_by(Agreement.title, Agreement.id)
            )
        ),
        events=list(
            session.scalars(
                select(Event)
                .where(wanted(EvidenceKind.EVENT))
                .order_by(Event.starts_at.desc(), Event.id.desc())
            )
        ),
    )


def openable_evidence(session: Session, actor: User, story: Story) -> list[StoryEvidence]:
    """The story's evidence whose record pages the actor may open (one query at most).

    Staff open every record; a focal point the exchanges, commitments and agreements of its
    own member and the events its member is invited to, as those pages allow.
    """
    if is_staff(actor):
        return list(story.evidence)
    own = actor.member_id
    event_ids = [e.event_id for e in story.evidence if e.event_id is not None]
    invited: set[int] = set()
    if event_ids and own is not None:
        invited = set(
            session.scalars(
                select(Invitation.event_id).where(
                    Invitation.member_id == own, Invitation.event_id.in_(event_ids)
                )
            )
        )
    openable = []
    for item in story.evidence:
        if item.exchange is not None:
            ok = item.exchange.involves(own)
        elif item.commitment is not None:
            ok = item.commitment.member_id == own
        elif item.agreement is not None:
            ok = any(p.member_id == own for p in item.agreement.parties)
        else:
            ok = item.event_id in invited
        if ok:
            openable.append(item)
    return openable
