"""Read models of the exchange pages and the relationship graph, set-based.

Definitions used by the network page and its exports (all count *confirmed* exchanges only;
proposals and rejected ones never count):

- nodes: the members whose status is active or suspended, plus any other member (applicant,
  lapsed, exited) that takes part in an exchange matching the filters;
- degree of a member: the number of exchanges it takes part in, in either direction
  (given = it shared or hosted, received = it learned);
- isolated member: a node of degree 0;
- edge: an ordered pair (from, to) with the number of exchanges between them;
- share of cross-region exchanges: among the exchanges whose two members both have a network
  region, the fraction whose regions differ (exchanges with a member lacking a region are left
  out of both numerator and denominator, and reported separately);
- exchanges per year: by calendar year of ``occurred_on``, under every filter but the year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased, joinedload

from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.groups.models import GroupStatus, WorkingGroup
from secretariat.members.models import Member, MemberStatus
from secretariat.pagination import Page, clamp
from secretariat.vocabularies.models import Term

#: Members drawn on the graph even when they have no exchange.
NODE_STATUSES = (MemberStatus.ACTIVE, MemberStatus.SUSPENDED)
#: How many of the best-connected members the figures list.
TOP_CONNECTORS = 10


@dataclass
class ExchangeFilters:
    status: ExchangeStatus | None = None
    exchange_type: ExchangeType | None = None
    year: int | None = None
    group_id: int | None = None
    #: Exchanges involving this member, in either direction.
    member_id: int | None = None

    def clauses(self, *, with_year: bool = True) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.status is not None:
            conditions.append(PeerExchange.status == self.status)
        if self.exchange_type is not None:
            conditions.append(PeerExchange.exchange_type == self.exchange_type)
        if self.year is not None and with_year:
            # A date range rather than extract(): portable and it uses the index.
            conditions.append(PeerExchange.occurred_on >= date(self.year, 1, 1))
            conditions.append(PeerExchange.occurred_on < date(self.year + 1, 1, 1))
        if self.group_id is not None:
            conditions.append(in_group(self.group_id))
        if self.member_id is not None:
            conditions.append(involving(self.member_id))
        return conditions

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)


def involving(member_id: int) -> ColumnElement[bool]:
    return or_(PeerExchange.from_member_id == member_id, PeerExchange.to_member_id == member_id)


def in_group(group_id: int) -> ColumnElement[bool]:
    """Exchanges of a working group: recorded in the group, or on the group's theme."""
    group_theme = select(WorkingGroup.theme_id).where(WorkingGroup.id == group_id)
    return or_(
        PeerExchange.group_id == group_id,
        and_(
            PeerExchange.theme_id.is_not(None),
            PeerExchange.theme_id == group_theme.scalar_subquery(),
        ),
    )


def _with_names(stmt: Select) -> Select:
    return stmt.options(
        joinedload(PeerExchange.from_member),
        joinedload(PeerExchange.to_member),
        joinedload(PeerExchange.group),
        joinedload(PeerExchange.theme),
    )


def _newest_first(stmt: Select) -> Select:
    return stmt.order_by(PeerExchange.occurred_on.desc(), PeerExchange.id.desc())


# -- lists -------------------------------------------------------------------------------------


@dataclass
class ExchangePage(Page):
    items: list[PeerExchange]  # type: ignore[assignment]


def exchange_page(
    session: Session, filters: ExchangeFilters, page: int, per_page: int
) -> ExchangePage:
    """One page of the exchange list, newest first: two queries whatever the data size."""
    conditions = filters.clauses()
    total = session.scalar(select(func.count(PeerExchange.id)).where(*conditions)) or 0
    page = clamp(page, total, per_page)
    stmt = _newest_first(_with_names(select(PeerExchange).where(*conditions)))
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return ExchangePage(items=items, total=total, page=page, per_page=per_page)


def awaiting_answer(session: Session, member_id: int, limit: int = 50) -> list[PeerExchange]:
    """Proposals involving the member that the other side made: the member's answer is due."""
    stmt = _with_names(
        select(PeerExchange).where(
            PeerExchange.status == ExchangeStatus.PROPOSED,
            involving(member_id),
            or_(
                PeerExchange.proposed_by_member_id.is_(None),
                PeerExchange.proposed_by_member_id != member_id,
            ),
        )
    ).order_by(PeerExchange.created_at, PeerExchange.id)
    return list(session.scalars(stmt.limit(limit)))


def proposal_count(session: Session) -> int:
    """How many proposals wait for a decision, network-wide."""
    return (
        session.scalar(
            select(func.count(PeerExchange.id)).where(
                PeerExchange.status == ExchangeStatus.PROPOSED
            )
        )
        or 0
    )


def exchange_detail(session: Session, exchange_id: int) -> PeerExchange | None:
    return session.scalar(
        _with_names(select(PeerExchange).where(PeerExchange.id == exchange_id)).options(
            joinedload(PeerExchange.created_by), joinedload(PeerExchange.decided_by)
        )
    )


def exchanges_for_member(
    session: Session, member_id: int
) -> tuple[list[PeerExchange], list[PeerExchange]]:
    """The exchanges a member gave and received, of every status, newest first (one query)."""
    rows = session.scalars(
        _newest_first(_with_names(select(PeerExchange).where(involving(member_id))))
    ).all()
    given = [e for e in rows if e.from_member_id == member_id]
    received = [e for e in rows if e.to_member_id == member_id]
    return given, received


def exchanges_for_group(
    session: Session, group: WorkingGroup, limit: int = 20
) -> tuple[list[PeerExchange], int]:
    """The newest confirmed exchanges in the group or on its theme, and how many in all."""
    conditions = [PeerExchange.status == ExchangeStatus.CONFIRMED, in_group(group.id)]
    total = session.scalar(select(func.count(PeerExchange.id)).where(*conditions)) or 0
    items = session.scalars(
        _newest_first(_with_names(select(PeerExchange).where(*conditions))).limit(limit)
    ).all()
    return list(items), total


# -- the relationship graph --------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    slug: str
    country: str
    region_id: int | None
    region: str | None
    #: Exchanges in which the member shared or hosted.
    given: int
    #: Exchanges in which the member learned.
    received: int

    @property
    def degree(self) -> int:
        return self.given + self.received


@dataclass(frozen=True)
class Edge:
    source: int
    target: int
    count: int
    first_on: date
    last_on: date


@dataclass
class Graph:
    #: Ordered by region (list position, then label; no region last), then name.
    nodes: list[Node]
    #: One per ordered pair of members, with the number of exchanges between them.
    edges: list[Edge]


def _counted(filters: ExchangeFilters, *, with_year: bool = True) -> list[ColumnElement[bool]]:
    """The filters' conditions, on confirmed exchanges only (status filter ignored)."""
    network = ExchangeFilters(
        exchange_type=filters.exchange_type,
        year=filters.year,
        group_id=filters.group_id,
        member_id=filters.member_id,
    )
    return [
        PeerExchange.status == ExchangeStatus.CONFIRMED,
        *network.clauses(with_year=with_year),
    ]


def network_graph(session: Session, filters: ExchangeFilters) -> Graph:
    """Nodes with their degrees and the aggregated edges: two queries whatever the size."""
    conditions = _counted(filters)
    one, zero = literal(1, Integer), literal(0, Integer)
    ends = union_all(
        select(
            PeerExchange.from_member_id.label("member_id"),
            one.label("given"),
            zero.label("received"),
        ).where(*conditions),
        select(
            PeerExchange.to_member_id.label("member_id"),
            zero.label("given"),
            one.label("received"),
        ).where(*conditions),
    ).subquery()
    degrees = (
        select(
            ends.c.member_id,
            func.sum(ends.c.given).label("given"),
            func.sum(ends.c.received).label("received"),
        )
        .group_by(ends.c.member_id)
        .subquery()
    )
    region = aliased(Term)
    node_rows = session.execute(
        select(
            Member.id,
            Member.name,
            Member.slug,
            Member.country,
            Member.region_id,
            region.label,
            func.coalesce(degrees.c.given, 0),
            func.coalesce(degrees.c.received, 0),
        )
        .outerjoin(region, Member.region_id == region.id)
        .outerjoin(degrees, degrees.c.member_id == Member.id)
        .where(or_(Member.status.in_(NODE_STATUSES), degrees.c.member_id.is_not(None)))
        .order_by(region.position.nulls_last(), region.label, Member.search_name, Member.id)
    ).all()
    nodes = [
        Node(
            id=row[0],
            name=row[1],
            slug=row[2],
            country=row[3],
            region_id=row[4],
            region=row[5],
            given=int(row[6]),
            received=int(row[7]),
        )
        for row in node_rows
    ]
    edge_rows = session.execute(
        select(
            PeerExchange.from_member_id,
            PeerExchange.to_member_id,
            func.count(PeerExchange.id),
            func.min(PeerExchange.occurred_on),
            func.max(PeerExchange.occurred_on),
        )
        .where(*conditions)
        .group_by(PeerExchange.from_member_id, PeerExchange.to_member_id)
        .order_by(PeerExchange.from_member_id, PeerExchange.to_member_id)
    ).all()
    edges = [
        Edge(source=row[0], target=row[1], count=row[2], first_on=row[3], last_on=row[4])
        for row in edge_rows
    ]
    return Graph(nodes=nodes, edges=edges)


@dataclass
class Figures:
    #: Members drawn on the graph.
    members: int
    #: Members with at least one exchange.
    connected: int
    isolated: list[Node]
    #: The best-connected members, by degree then name (degree 0 never listed).
    top_connectors: list[Node]
    #: Confirmed exchanges matching the filters.
    exchanges: int
    #: Of these, the exchanges whose two members both have a region.
    with_regions: int
    #: Of those, the exchanges between members of different regions.
    cross_region: int
    #: (year, number of exchanges) for every year from the first to the last, gaps as 0.
    per_year: list[tuple[int, int]] = field(default_factory=list)

    @property
    def cross_region_share(self) -> Fraction | None:
        """Cross-region exchanges / exchanges with both regions known; None when none."""
        if not self.with_regions:
            return None
        return Fraction(self.cross_region, self.with_regions)

    @property
    def without_regions(self) -> int:
        return self.exchanges - self.with_regions

    @property
    def busiest_year_count(self) -> int:
        return max((count for _year, count in self.per_year), default=0)


def network_figures(
    session: Session, filters: ExchangeFilters, graph: Graph | None = None
) -> Figures:
    """The figures beside the graph; two queries beyond the graph's own."""
    if graph is None:
        graph = network_graph(session, filters)
    conditions = _counted(filters)
    source, target = aliased(Member), aliased(Member)
    both_known = and_(source.region_id.is_not(None), target.region_id.is_not(None))
    differ = and_(both_known, source.region_id != target.region_id)
    total, with_regions, cross = session.execute(
        select(
            func.count(PeerExchange.id),
            func.coalesce(func.sum(case((both_known, 1), else_=0)), 0),
            func.coalesce(func.sum(case((differ, 1), else_=0)), 0),
        )
        .join(source, source.id == PeerExchange.from_member_id)
        .join(target, target.id == PeerExchange.to_member_id)
        .where(*conditions)
    ).one()
    year = cast(extract("year", PeerExchange.occurred_on), Integer).label("year")
    counts = dict(
        session.execute(
            select(year, func.count(PeerExchange.id))
            .where(*_counted(filters, with_year=False))
            .group_by(year)
            .order_by(year)
        ).all()
    )
    per_year = (
        [(y, counts.get(y, 0)) for y in range(min(counts), max(counts) + 1)] if counts else []
    )
    connected = [n for n in graph.nodes if n.degree]
    top = sorted(connected, key=lambda n: (-n.degree, n.name.casefold(), n.id))[:TOP_CONNECTORS]
    return Figures(
        members=len(graph.nodes),
        connected=len(connected),
        isolated=[n for n in graph.nodes if not n.degree],
        top_connectors=top,
        exchanges=int(total),
        with_regions=int(with_regions),
        cross_region=int(cross),
        per_year=per_year,
    )


def exchange_years(
    session: Session, *, member_id: int | None = None, confirmed_only: bool = True
) -> list[int]:
    """The years in which exchanges happened, newest first (for the year filters)."""
    year = cast(extract("year", PeerExchange.occurred_on), Integer)
    stmt = select(year).group_by(year).order_by(year.desc())
    if confirmed_only:
        stmt = stmt.where(PeerExchange.status == ExchangeStatus.CONFIRMED)
    if member_id is not None:
        stmt = stmt.where(involving(member_id))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class ExchangeRow:
    """One confirmed exchange as the exports write it."""

    id: int
    source: int
    target: int
    exchange_type: ExchangeType
    occurred_on: date
    group: str | None
    theme: str | None


def exchange_rows(session: Session, filters: ExchangeFilters) -> list[ExchangeRow]:
    """Every confirmed exchange matching the filters, oldest first (one query)."""
    theme = aliased(Term)
    rows = session.execute(
        select(
            PeerExchange.id,
            PeerExchange.from_member_id,
            PeerExchange.to_member_id,
            PeerExchange.exchange_type,
            PeerExchange.occurred_on,
            WorkingGroup.name,
            theme.label,
        )
        .outerjoin(WorkingGroup, WorkingGroup.id == PeerExchange.group_id)
        .outerjoin(theme, theme.id == PeerExchange.theme_id)
        .where(*_counted(filters))
        .order_by(PeerExchange.occurred_on, PeerExchange.id)
    ).all()
    return [ExchangeRow(*row) for row in rows]


def member_choices(
    session: Session, *, active_only: bool = False, including: tuple[int | None, ...] = ()
) -> list[tuple[int, str, MemberStatus]]:
    """(id, name, status) of the members by name, for the forms and filters.

    ``active_only`` keeps the active members and those listed in ``including``.
    """
    stmt = select(Member.id, Member.name, Member.status).order_by(Member.search_name, Member.id)
    if active_only:
        wanted = [i for i in including if i is not None]
        stmt = stmt.where(or_(Member.status == MemberStatus.ACTIVE, Member.id.in_(wanted)))
    return [(row[0], row[1], row[2]) for row in session.execute(stmt)]


def group_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of the working groups, active first, by name."""
    rows = session.execute(
        select(WorkingGroup.id, WorkingGroup.name, WorkingGroup.status).order_by(
            case((WorkingGroup.status == GroupStatus.ACTIVE, 0), else_=1), WorkingGroup.name
        )
    )
    return [(row[0], row[1]) for row in rows]
