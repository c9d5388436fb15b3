"""Read models of the exchanges and the graph, on a small hand-built network with known answers.

The network (confirmed exchanges only count)::

    regions: Europe (listed first), Africa; Nowhere has no region
    e1  Lisbon -> Accra    2024-05-01  study visit    in group Transport
    e2  Lisbon -> Bamako   2025-02-10  expert advice  on Transport's theme (no group)
    e3  Accra  -> Bamako   2025-06-01  peer review
    e4  Lisbon -> Madrid   2025-07-01  study visit
    e5  Madrid -> Lisbon   2023-01-15  expert advice
    e6  Lisbon -> Accra    2025-09-09  study visit
    e7  Exited -> Nowhere  2022-03-03  joint project  (Exited City has left the network)
    proposed  Madrid -> Paris   2025-03-03  (does not count)
    rejected  Paris  -> Accra   2025-04-04  (does not count)

Paris is suspended and has no confirmed exchange: the one isolated member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import factory
import pytest
from sqlalchemy import select

from secretariat.exchanges import queries
from secretariat.exchanges.graph import LABEL_ALL_LIMIT, NO_REGION_COLOUR, PALETTE, layout
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.exchanges.queries import Edge, ExchangeFilters, Graph, Node
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member, MemberStatus
from tests.factories import (
    MemberFactory,
    PeerExchangeFactory,
    TermFactory,
    UserFactory,
    WorkingGroupFactory,
)

T = ExchangeType


@dataclass
class Network:
    members: dict[str, Member]
    exchanges: dict[str, PeerExchange]
    transport: WorkingGroup
    themeless: WorkingGroup


@pytest.fixture
def network(db) -> Network:
    europe = TermFactory(label="Europe", position=1)
    africa = TermFactory(label="Africa", position=2)
    m = {
        "lisbon": MemberFactory(name="Lisbon", region=europe),
        "madrid": MemberFactory(name="Madrid", region=europe),
        "paris": MemberFactory(name="Paris", region=europe, status=MemberStatus.SUSPENDED),
        "exited": MemberFactory(name="Exited City", region=europe, status=MemberStatus.EXITED),
        "gone": MemberFactory(name="Gone Town", region=europe, status=MemberStatus.LAPSED),
        "accra": MemberFactory(name="Accra", region=africa, country="GH"),
        "bamako": MemberFactory(name="Bamako", region=africa, country="ML"),
        "nowhere": MemberFactory(name="Nowhere", region=None),
    }
    transport = WorkingGroupFactory(name="Transport")
    themeless = WorkingGroupFactory(name="Themeless", theme=None)

    def add(source, target, on, kind, status=ExchangeStatus.CONFIRMED, **extra):
        return PeerExchangeFactory(
            from_member=m[source],
            to_member=m[target],
            occurred_on=date.fromisoformat(on),
            exchange_type=kind,
            status=status,
            **extra,
        )

    e = {
        "e1": add("lisbon", "accra", "2024-05-01", T.STUDY_VISIT, group=transport),
        "e2": add("lisbon", "bamako", "2025-02-10", T.EXPERT_ADVICE, theme=transport.theme),
        "e3": add("accra", "bamako", "2025-06-01", T.PEER_REVIEW),
        "e4": add("lisbon", "madrid", "2025-07-01", T.STUDY_VISIT),
        "e5": add("madrid", "lisbon", "2023-01-15", T.EXPERT_ADVICE),
        "e6": add("lisbon", "accra", "2025-09-09", T.STUDY_VISIT),
        "e7": add("exited", "nowhere", "2022-03-03", T.JOINT_PROJECT),
        "proposed": add(
            "madrid",
            "paris",
            "2025-03-03",
            T.STUDY_VISIT,
            status=ExchangeStatus.PROPOSED,
            proposed_by_member_id=m["madrid"].id,
        ),
        "rejected": add(
            "paris",
            "accra",
            "2025-04-04",
            T.STUDY_VISIT,
            status=ExchangeStatus.REJECTED,
            proposed_by_member_id=m["paris"].id,
            group=transport,
        ),
    }
    return Network(members=m, exchanges=e, transport=transport, themeless=themeless)


def degrees(graph: Graph) -> dict[str, tuple[int, int]]:
    return {n.name: (n.given, n.received) for n in graph.nodes}


def names(nodes: list[Node]) -> list[str]:
    return [n.name for n in nodes]


# -- the graph and its figures -----------------------------------------------------------------


def test_nodes_are_the_active_and_suspended_members_plus_those_on_an_edge(db, network):
    graph = queries.network_graph(db, ExchangeFilters())
    # By region (Europe first, by list position), then name; no region last.
    assert names(graph.nodes) == [
        "Exited City",
        "Lisbon",
        "Madrid",
        "Paris",
        "Accra",
        "Bamako",
        "Nowhere",
    ]
    assert degrees(graph) == {
        "Exited City": (1, 0),
        "Lisbon": (4, 1),
        "Madrid": (1, 1),
        "Paris": (0, 0),
        "Accra": (1, 2),
        "Bamako": (0, 2),
        "Nowhere": (0, 1),
    }
    assert {n.name: n.degree for n in graph.nodes}["Lisbon"] == 5


def test_edges_are_aggregated_per_ordered_pair(db, network):
    m = network.members
    graph = queries.network_graph(db, ExchangeFilters())
    edges = {(e.source, e.target): e for e in graph.edges}
    assert len(edges) == 6
    lisbon_accra = edges[(m["lisbon"].id, m["accra"].id)]
    assert (lisbon_accra.count, lisbon_accra.first_on, lisbon_accra.last_on) == (
        2,
        date(2024, 5, 1),
        date(2025, 9, 9),
    )
    # Both directions between Lisbon and Madrid are separate edges.
    assert edges[(m["lisbon"].id, m["madrid"].id)].count == 1
    assert edges[(m["madrid"].id, m["lisbon"].id)].count == 1
    # Neither the proposal nor the rejected one is an edge.
    assert (m["madrid"].id, m["paris"].id) not in edges
    assert (m["paris"].id, m["accra"].id) not in edges


def test_figures(db, network):
    figures = queries.network_figures(db, ExchangeFilters())
    assert figures.members == 7
    assert figures.connected == 6
    assert names(figures.isolated) == ["Paris"]
    assert names(figures.top_connectors) == [
        "Lisbon",  # 5
        "Accra",  # 3
        "Bamako",  # 2, before Madrid by name
        "Madrid",  # 2
        "Exited City",  # 1
        "Nowhere",  # 1
    ]
    assert [n.degree for n in figures.top_connectors] == [5, 3, 2, 2, 1, 1]
    assert figures.exchanges == 7
    # e7 involves Nowhere, which has no region: left out of the share.
    assert (figures.with_regions, figures.without_regions) == (6, 1)
    # Cross-region: e1, e2 and e6 (Europe -> Africa); same region: e3, e4, e5.
    assert figures.cross_region == 3
    assert figures.cross_region_share == Fraction(1, 2)
    assert figures.per_year == [(2022, 1), (2023, 1), (2024, 1), (2025, 4)]


def test_figures_by_year(db, network):
    filters = ExchangeFilters(year=2025)
    graph = queries.network_graph(db, filters)
    figures = queries.network_figures(db, filters, graph)
    # Exited City takes part in no 2025 exchange, so it is no longer drawn.
    assert "Exited City" not in names(graph.nodes)
    assert degrees(graph)["Lisbon"] == (3, 0)
    assert degrees(graph)["Accra"] == (1, 1)
    assert names(figures.isolated) == ["Paris", "Nowhere"]
    assert (figures.exchanges, figures.cross_region, figures.with_regions) == (4, 2, 4)
    assert figures.cross_region_share == Fraction(1, 2)
    # Exchanges per year ignore the year filter (they show every year).
    assert figures.per_year == [(2022, 1), (2023, 1), (2024, 1), (2025, 4)]


def test_figures_by_type(db, network):
    filters = ExchangeFilters(exchange_type=T.STUDY_VISIT)
    figures = queries.network_figures(db, filters)
    assert names(figures.top_connectors) == ["Lisbon", "Accra", "Madrid"]
    assert [n.degree for n in figures.top_connectors] == [3, 2, 1]
    assert figures.cross_region_share == Fraction(2, 3)
    assert figures.per_year == [(2024, 1), (2025, 2)]


def test_per_year_fills_the_gaps(db, network):
    figures = queries.network_figures(db, ExchangeFilters(exchange_type=T.EXPERT_ADVICE))
    assert figures.per_year == [(2023, 1), (2024, 0), (2025, 1)]


def test_figures_by_group_include_the_groups_theme(db, network):
    figures = queries.network_figures(db, ExchangeFilters(group_id=network.transport.id))
    # e1 in the group, e2 on its theme; the rejected exchange in the group does not count.
    assert figures.exchanges == 2
    assert [(n.name, n.degree) for n in figures.top_connectors] == [
        ("Lisbon", 2),
        ("Accra", 1),
        ("Bamako", 1),
    ]
    assert figures.cross_region_share == Fraction(1)
    assert figures.per_year == [(2024, 1), (2025, 1)]


def test_a_group_without_theme_matches_only_its_own_exchanges(db, network):
    figures = queries.network_figures(db, ExchangeFilters(group_id=network.themeless.id))
    assert figures.exchanges == 0
    assert figures.cross_region_share is None
    assert figures.per_year == []
    assert figures.top_connectors == []
    assert figures.connected == 0


def test_an_empty_network(db):
    figures = queries.network_figures(db, ExchangeFilters())
    assert (figures.members, figures.exchanges, figures.per_year) == (0, 0, [])
    assert figures.cross_region_share is None
    assert layout(queries.network_graph(db, ExchangeFilters())).is_empty


def test_exchange_years(db, network):
    assert queries.exchange_years(db) == [2025, 2024, 2023, 2022]
    paris = network.members["paris"].id
    assert queries.exchange_years(db, member_id=paris) == []
    assert queries.exchange_years(db, member_id=paris, confirmed_only=False) == [2025]


def test_exchange_rows_for_the_exports(db, network):
    rows = queries.exchange_rows(db, ExchangeFilters(group_id=network.transport.id))
    e = network.exchanges
    assert [r.id for r in rows] == [e["e1"].id, e["e2"].id]
    assert (rows[0].group, rows[0].theme) == ("Transport", None)
    assert (rows[1].group, rows[1].theme) == (None, network.transport.theme.label)


# -- lists -------------------------------------------------------------------------------------


def test_exchanges_for_member_split_given_and_received_with_every_status(db, network):
    m, e = network.members, network.exchanges
    given, received = queries.exchanges_for_member(db, m["lisbon"].id)
    assert given == [e["e6"], e["e4"], e["e2"], e["e1"]]
    assert received == [e["e5"]]
    given, received = queries.exchanges_for_member(db, m["paris"].id)
    assert (given, received) == ([e["rejected"]], [e["proposed"]])


def test_exchanges_for_group(db, network):
    e = network.exchanges
    assert queries.exchanges_for_group(db, network.transport) == ([e["e2"], e["e1"]], 2)
    assert queries.exchanges_for_group(db, network.transport, limit=1) == ([e["e2"]], 2)
    assert queries.exchanges_for_group(db, network.themeless) == ([], 0)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (ExchangeFilters(status=ExchangeStatus.PROPOSED), ["proposed"]),
        (ExchangeFilters(status=ExchangeStatus.REJECTED), ["rejected"]),
        (
            ExchangeFilters(year=2025),
            ["e6", "e4", "e3", "rejected", "proposed", "e2"],
        ),
        (ExchangeFilters(exchange_type=T.PEER_REVIEW), ["e3"]),
        (
            ExchangeFilters(year=2025, exchange_type=T.STUDY_VISIT),
            ["e6", "e4", "rejected", "proposed"],
        ),
    ],
)
def test_exchange_page_filters(db, network, filters, expected):
    page = queries.exchange_page(db, filters, 1, 25)
    assert page.items == [network.exchanges[key] for key in expected]
    assert page.total == len(expected)


def test_exchange_page_by_member_and_group(db, network):
    e = network.exchanges
    paris = ExchangeFilters(member_id=network.members["paris"].id)
    assert queries.exchange_page(db, paris, 1, 25).items == [e["rejected"], e["proposed"]]
    group = ExchangeFilters(group_id=network.transport.id)
    assert queries.exchange_page(db, group, 1, 25).items == [e["rejected"], e["e2"], e["e1"]]


def test_exchange_page_paginates(db, network):
    page = queries.exchange_page(db, ExchangeFilters(), 2, 4)
    assert (page.total, page.pages, page.page, len(page.items)) == (9, 3, 2, 4)
    assert queries.exchange_page(db, ExchangeFilters(), 99, 4).page == 3


def test_awaiting_answer_lists_the_other_sides_proposals(db, network):
    m, e = network.members, network.exchanges
    assert queries.awaiting_answer(db, m["paris"].id) == [e["proposed"]]
    assert queries.awaiting_answer(db, m["madrid"].id) == []
    assert queries.proposal_count(db) == 1


# -- the drawing -------------------------------------------------------------------------------


def test_layout_of_the_small_network(db, network):
    graph = queries.network_graph(db, ExchangeFilters())
    drawing = layout(graph)
    assert drawing.labels_all
    assert [n.label for n in drawing.nodes] == names(graph.nodes)
    assert [(r.label, r.colour, r.members) for r in drawing.regions] == [
        ("Europe", PALETTE[0], 4),
        ("Africa", PALETTE[1], 2),
        (None, NO_REGION_COLOUR, 1),
    ]
    assert len(drawing.edges) == 6
    # The first member sits at the top of the circle; the busiest is the biggest.
    first = drawing.nodes[0]
    assert first.x < 0.5 * drawing.radius and first.y < -0.9 * drawing.radius
    biggest = max(drawing.nodes, key=lambda n: n.r)
    assert biggest.node.name == "Lisbon"
    # Lisbon -> Accra (two exchanges) is drawn wider than a single exchange.
    widths = {(e.source.node.name, e.target.node.name): e.width for e in drawing.edges}
    assert widths[("Lisbon", "Accra")] > widths[("Lisbon", "Madrid")]


def test_layout_of_a_large_network_labels_only_the_top_connectors():
    regions = [(i, f"Region {i}") for i in range(10)]
    nodes = [
        Node(
            id=i,
            name=f"City {i:04d}",
            slug=f"city-{i}",
            country="PT",
            region_id=regions[i % 10][0],
            region=regions[i % 10][1],
            given=i % 7,
            received=i % 5,
        )
        for i in range(1000)
    ]
    nodes.sort(key=lambda n: (n.region_id, n.name))
    day = date(2025, 1, 1)
    edges = [
        Edge(source=i, target=(i + step) % 1000, count=1 + i % 3, first_on=day, last_on=day)
        for step in (1, 250, 500)
        for i in range(1000)
    ]
    top = {0, 1, 2}
    drawing = layout(Graph(nodes=nodes, edges=edges), top)
    assert len(nodes) > LABEL_ALL_LIMIT and not drawing.labels_all
    assert {n.node.id for n in drawing.nodes if n.label} == top
    assert len(drawing.edges) == 3000
    # Ten regions cycle through the eight colours of the palette.
    assert [r.colour for r in drawing.regions][8:] == list(PALETTE[:2])
    assert 0 < drawing.edge_opacity < 0.55


# -- bounded queries ---------------------------------------------------------------------------


def add_exchanges(db, number: int) -> None:
    """``number`` members over three regions and ``number`` confirmed exchanges among them."""
    regions = [TermFactory(label=f"Zone {i} {number}") for i in range(3)]
    members = MemberFactory.create_batch(number, region=factory.Iterator(regions))
    PeerExchangeFactory.create_batch(
        number,
        from_member=factory.Iterator(members),
        to_member=factory.Iterator(members[1:] + members[:1]),
        exchange_type=factory.Iterator(list(T)),
        status=factory.Iterator([ExchangeStatus.CONFIRMED, ExchangeStatus.PROPOSED]),
        group=None,
    )
    db.flush()


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


@pytest.fixture
def staff(db, auth):
    user = UserFactory()
    auth.login(user)
    return user


@pytest.mark.parametrize(
    "url",
    [
        "/network",
        "/network?year=2026&type=study_visit",
        "/network/edges.csv",
        "/network/graph.graphml",
        "/exchanges/",
        "/exchanges/?page=2&status=confirmed",
    ],
)
def test_pages_issue_the_same_queries_at_10_and_200_rows(db, client, staff, count_queries, url):
    add_exchanges(db, 10)
    small = statements(count_queries, client, url)
    add_exchanges(db, 190)
    large = statements(count_queries, client, url)
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= 10


def test_the_focal_point_list_issues_the_same_queries(db, client, auth, count_queries):
    add_exchanges(db, 10)
    member = db.scalars(select(Member).order_by(Member.id)).first()
    user = UserFactory(focal_point=True, member=member)
    db.flush()
    auth.login(user)
    small = statements(count_queries, client, "/exchanges/")
    PeerExchangeFactory.create_batch(
        190,
        from_member=factory.Iterator(MemberFactory.create_batch(5)),
        to_member=member,
        status=ExchangeStatus.PROPOSED,
        proposed_by_member_id=factory.SelfAttribute("from_member.id"),
    )
    db.flush()
    large = statements(count_queries, client, "/exchanges/")
    assert len(small) == len(large), "\n\n".join(large)
