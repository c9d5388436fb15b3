"""The exchange pages: forms, proposals and their answers, the network page, exports, scope."""

from __future__ import annotations

import csv
import html
import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import func, select

from secretariat.exchanges import queries
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.exchanges.services import network_today
from secretariat.members.models import MemberStatus
from secretariat.vocabularies.models import Vocabulary
from tests.factories import (
    MemberFactory,
    PeerExchangeFactory,
    TermFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.pages import without_tokens

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(PeerExchange))


def form(source, target, **overrides) -> dict[str, str]:
    data = {
        "from_member_id": str(source.id),
        "to_member_id": str(target.id),
        "exchange_type": "study_visit",
        "occurred_on": "2025-03-14",
        "group_id": "",
        "theme_id": "",
        "description": "A study visit to the tram depot.",
        "outcome": "",
        "evidence_url": "",
    }
    data.update(overrides)
    return data


def is_404(response) -> bool:
    return response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


@pytest.fixture
def proposal(db, world) -> PeerExchange:
    """Lisbon's focal point proposed that Lisbon advised Nairobi."""
    exchange = PeerExchangeFactory(
        from_member=world.lisbon,
        to_member=world.nairobi,
        exchange_type=ExchangeType.EXPERT_ADVICE,
        occurred_on=date(2025, 2, 1),
        description="Advice on bus rapid transit.",
        status=ExchangeStatus.PROPOSED,
        proposed_by_member_id=world.lisbon.id,
        created_by=world.lisbon_fp,
    )
    db.flush()
    return exchange


# -- staff record --------------------------------------------------------------------------------


def test_staff_records_an_exchange_through_the_form(db, client, auth, world):
    auth.login(world.staff)
    page = client.get(f"/exchanges/new?member={world.lisbon.id}")
    assert page.status_code == 200
    body = text(page)
    assert "<h1>Record an exchange</h1>" in body
    assert f'<option selected value="{world.lisbon.id}">Lisbon</option>' in body
    assert f'max="{network_today().isoformat()}"' in body

    group = WorkingGroupFactory(name="Transport")
    db.flush()
    response = client.post(
        "/exchanges/new",
        data=form(
            world.lisbon,
            world.nairobi,
            group_id=str(group.id),
            outcome="Nairobi adopted tram priority signals.",
            evidence_url="https://example.org/report",
        ),
    )
    assert response.status_code == 302
    exchange = db.scalars(select(PeerExchange)).one()
    assert response.headers["Location"].endswith(f"/exchanges/{exchange.id}")
    assert exchange.status is ExchangeStatus.CONFIRMED
    assert exchange.group_id == group.id

    detail = text(client.get(f"/exchanges/{exchange.id}"))
    assert "<h1>Lisbon → Nairobi</h1>" in detail
    assert "The exchange is recorded." in detail
    assert "Nairobi adopted tram priority signals." in detail
    assert 'href="https://example.org/report"' in detail
    assert "Confirmed" in detail and "Transport" in detail


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"to": "lisbon"}, "to_member_id", "A member cannot exchange with itself."),
        (
            {"occurred_on": "2999-01-01"},
            "occurred_on",
            "An exchange is recorded once it has happened; use a date no later than today.",
        ),
        ({"description": ""}, "description", "Describe what was exchanged."),
        ({"description": "   "}, "description", "Describe what was exchanged."),
        ({"exchange_type": ""}, "exchange_type", "Choose the type of exchange."),
        ({"occurred_on": "not a date"}, "occurred_on", "Not a valid date value."),
        (
            {"evidence_url": "javascript:alert(1)"},
            "evidence_url",
            "Enter a full web address starting with https:// or http://.",
        ),
    ],
)
def test_form_errors_show_next_to_the_field_and_write_nothing(
    db, client, auth, world, overrides, field, message
):
    auth.login(world.staff)
    target = getattr(world, overrides.pop("to", "nairobi"))
    response = client.post("/exchanges/new", data=form(world.lisbon, target, **overrides))
    assert response.status_code == 200
    body = text(response)
    assert 'class="error-summary"' in body
    assert f'<a href="#{field}">' in body
    assert f'<small id="{field}-error" class="field-error">{message}</small>' in body
    assert count(db) == 0


def test_form_and_rule_errors_show_together(db, client, auth, world):
    auth.login(world.staff)
    tomorrow = (network_today() + timedelta(days=1)).isoformat()
    response = client.post(
        "/exchanges/new",
        data=form(world.lisbon, world.lisbon, occurred_on=tomorrow, description=""),
    )
    body = text(response)
    for field in ("to_member_id", "occurred_on", "description"):
        assert f'id="{field}-error"' in body, field
    assert "A member cannot exchange with itself." in body
    assert count(db) == 0


def test_staff_edits_and_deletes(db, client, auth, world, proposal):
    auth.login(world.staff)
    page = text(client.get(f"/exchanges/{proposal.id}/edit"))
    assert "<h1>Edit the exchange</h1>" in page
    assert "Advice on bus rapid transit." in page
    response = client.post(
        f"/exchanges/{proposal.id}/edit",
        data=form(world.nairobi, world.lisbon, exchange_type="peer_review"),
    )
    assert response.status_code == 302
    db.refresh(proposal)
    assert (proposal.from_member_id, proposal.exchange_type) == (
        world.nairobi.id,
        ExchangeType.PEER_REVIEW,
    )
    assert proposal.status is ExchangeStatus.PROPOSED
    response = client.post(f"/exchanges/{proposal.id}/delete")
    assert response.status_code == 302
    assert count(db) == 0


# -- proposals and answers -----------------------------------------------------------------------


def test_focal_point_proposes_with_own_member_preselected(db, client, auth, world):
    MemberFactory(name="Lapsed Town", status=MemberStatus.LAPSED)
    db.flush()
    auth.login(world.lisbon_fp)
    page = text(client.get(f"/exchanges/new?member={world.nairobi.id}"))
    assert "<h1>Propose an exchange</h1>" in page
    assert f'<option selected value="{world.lisbon.id}">Lisbon</option>' in page
    assert f'<option selected value="{world.nairobi.id}">Nairobi</option>' in page
    assert "Lapsed Town" not in page  # the other side is chosen among active members

    response = client.post("/exchanges/new", data=form(world.nairobi, world.lisbon))
    assert response.status_code == 302
    exchange = db.scalars(select(PeerExchange)).one()
    assert exchange.status is ExchangeStatus.PROPOSED
    assert exchange.proposed_by_member_id == world.lisbon.id
    detail = text(client.get(response.headers["Location"]))
    assert "The exchange is proposed; it counts once the other member confirms it." in detail
    assert "Awaiting confirmation" in detail
    assert "/confirm" not in detail  # the proposing side cannot confirm


def test_focal_point_cannot_propose_between_two_other_members(db, client, auth, world):
    auth.login(world.porto_fp)
    response = client.post("/exchanges/new", data=form(world.lisbon, world.nairobi))
    assert response.status_code == 200
    assert "One side must be your member, Porto." in text(response)
    assert count(db) == 0


def test_focal_point_cannot_propose_with_an_inactive_member(db, client, auth, world):
    lapsed = MemberFactory(name="Lapsed Town", status=MemberStatus.LAPSED)
    db.flush()
    auth.login(world.lisbon_fp)
    response = client.post("/exchanges/new", data=form(world.lisbon, lapsed))
    assert response.status_code == 200
    assert 'id="to_member_id-error"' in text(response)
    assert count(db) == 0


def test_the_other_side_sees_the_proposal_at_the_top_and_confirms(
    db, client, auth, world, proposal
):
    PeerExchangeFactory(from_member=world.nairobi, to_member=world.porto)
    db.flush()
    auth.login(world.nairobi_fp)
    listing = text(client.get("/exchanges/"))
    awaiting = listing.split('id="awaiting-title"')[1].split("</section>")[0]
    assert "Lisbon" in awaiting and f"/exchanges/{proposal.id}/confirm" in awaiting
    detail = text(client.get(f"/exchanges/{proposal.id}"))
    assert "Lisbon proposed this exchange with your member." in detail

    response = client.post(f"/exchanges/{proposal.id}/confirm")
    assert response.status_code == 302
    db.refresh(proposal)
    assert proposal.status is ExchangeStatus.CONFIRMED
    assert proposal.decided_by_id == world.nairobi_fp.id
    listing = text(client.get("/exchanges/"))
    assert 'id="awaiting-title"' not in listing


def test_the_proposing_side_cannot_confirm_its_own_proposal(db, client, auth, world, proposal):
    auth.login(world.lisbon_fp)
    response = client.post(f"/exchanges/{proposal.id}/confirm", follow_redirects=True)
    assert "the other member or the secretariat confirms it" in text(response)
    db.refresh(proposal)
    assert proposal.status is ExchangeStatus.PROPOSED
    response = client.get(f"/exchanges/{proposal.id}/reject", follow_redirects=True)
    assert "<h1>Reject the proposed exchange</h1>" not in text(response)
    response = client.post(f"/exchanges/{proposal.id}/reject", data={"reason": "Oops"})
    assert response.status_code == 302
    db.refresh(proposal)
    assert proposal.status is ExchangeStatus.PROPOSED


def test_the_other_side_rejects_with_a_reason(db, client, auth, world, proposal):
    auth.login(world.nairobi_fp)
    page = client.get(f"/exchanges/{proposal.id}/reject")
    assert "<h1>Reject the proposed exchange</h1>" in text(page)
    response = client.post(f"/exchanges/{proposal.id}/reject", data={"reason": ""})
    assert response.status_code == 200
    assert 'class="error-summary"' in text(response)
    db.refresh(proposal)
    assert proposal.status is ExchangeStatus.PROPOSED
    response = client.post(
        f"/exchanges/{proposal.id}/reject", data={"reason": "We never received this advice."}
    )
    assert response.status_code == 302
    db.refresh(proposal)
    assert proposal.status is ExchangeStatus.REJECTED
    auth.logout()
    auth.login(world.lisbon_fp)
    detail = text(client.get(f"/exchanges/{proposal.id}"))
    assert "We never received this advice." in detail and "Rejected" in detail


def test_the_proposing_side_edits_its_open_proposal_only(db, client, auth, world, proposal):
    auth.login(world.lisbon_fp)
    response = client.post(
        f"/exchanges/{proposal.id}/edit",
        data=form(world.lisbon, world.nairobi, outcome="A new bus plan"),
    )
    assert response.status_code == 302
    db.refresh(proposal)
    assert proposal.outcome == "A new bus plan"
    proposal.status = ExchangeStatus.CONFIRMED
    db.flush()
    response = client.post(
        f"/exchanges/{proposal.id}/edit", data=form(world.lisbon, world.nairobi, outcome="Later")
    )
    assert response.status_code == 302
    db.refresh(proposal)
    assert proposal.outcome == "A new bus plan"


def test_staff_list_filters_and_counts_proposals(db, client, auth, world, proposal):
    PeerExchangeFactory(
        from_member=world.porto,
        to_member=world.lisbon,
        description="Porto hosted Lisbon",
        occurred_on=date(2024, 6, 1),
    )
    db.flush()
    auth.login(world.staff)
    body = text(client.get("/exchanges/"))
    assert "1 proposal awaits confirmation." in body
    assert "2 exchanges" in body
    filtered = text(client.get("/exchanges/?status=proposed"))
    assert "1 exchange" in filtered and f"/exchanges/{proposal.id}" in filtered
    by_year = text(client.get("/exchanges/?year=2024"))
    assert "1 exchange" in by_year and f'/exchanges/{proposal.id}"' not in by_year
    by_member = text(client.get(f"/exchanges/?member={world.porto.id}"))
    assert "1 exchange" in by_member


# -- scope -------------------------------------------------------------------------------------


def test_focal_point_gets_404_on_another_members_exchange(db, client, auth, world, proposal):
    auth.login(world.porto_fp)
    before = count(db)
    for method, path in [
        ("GET", f"/exchanges/{proposal.id}"),
        ("GET", f"/exchanges/{proposal.id}/edit"),
        ("POST", f"/exchanges/{proposal.id}/edit"),
        ("POST", f"/exchanges/{proposal.id}/confirm"),
        ("GET", f"/exchanges/{proposal.id}/reject"),
        ("POST", f"/exchanges/{proposal.id}/reject"),
        ("POST", f"/exchanges/{proposal.id}/delete"),
    ]:
        data = form(world.porto, world.nairobi) if path.endswith("edit") else {"reason": "x"}
        response = client.open(path, method=method, data=data)
        assert is_404(response), (method, path, response.status_code)
    assert count(db) == before
    db.refresh(proposal)
    assert proposal.status is ExchangeStatus.PROPOSED
    assert proposal.from_member_id == world.lisbon.id


def test_out_of_scope_is_the_same_404_as_a_missing_exchange(client, auth, world, proposal):
    auth.login(world.porto_fp)
    client.get("/")  # shows, and so clears, the message flashed at sign-in
    refused, missing = client.get(f"/exchanges/{proposal.id}"), client.get("/exchanges/999999")
    assert without_tokens(refused.get_data()) == without_tokens(missing.get_data())
    assert "Nairobi" not in text(refused)


def test_focal_point_lists_only_exchanges_of_its_member(db, client, auth, world, proposal):
    PeerExchangeFactory(from_member=world.porto, to_member=world.nairobi, description="Hidden")
    db.flush()
    auth.login(world.lisbon_fp)
    body = text(client.get(f"/exchanges/?member={world.porto.id}"))
    assert "1 exchange" in body
    assert f"/exchanges/{proposal.id}" in body
    assert 'id="member"' not in body  # no member filter for focal points


@pytest.mark.parametrize("path", ["/network", "/network/edges.csv", "/network/graph.graphml"])
def test_focal_points_and_funders_cannot_see_the_network(db, client, auth, world, path):
    auth.login(world.lisbon_fp)
    assert is_404(client.get(path))
    auth.logout()
    auth.login(UserFactory(funder_user=True))
    assert is_404(client.get(path))


def test_funders_see_no_exchange(client, auth, db, world, proposal):
    auth.login(UserFactory(funder_user=True))
    for path in ("/exchanges/", "/exchanges/new", f"/exchanges/{proposal.id}"):
        assert is_404(client.get(path)), path


def test_anonymous_is_sent_to_sign_in(client, world, proposal):
    for path in ("/exchanges/", f"/exchanges/{proposal.id}", "/network", "/network/edges.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]


# -- the network page and its exports ------------------------------------------------------------


@pytest.fixture
def graph_data(db, world):
    """Lisbon -> Nairobi twice (2024, 2025), Nairobi -> Porto once; a proposal that never counts."""
    group = WorkingGroupFactory(name="Transport")
    PeerExchangeFactory(
        from_member=world.lisbon, to_member=world.nairobi, occurred_on=date(2024, 4, 4), group=group
    )
    PeerExchangeFactory(
        from_member=world.lisbon,
        to_member=world.nairobi,
        occurred_on=date(2025, 5, 5),
        exchange_type=ExchangeType.PEER_REVIEW,
    )
    PeerExchangeFactory(
        from_member=world.nairobi, to_member=world.porto, occurred_on=date(2025, 6, 6)
    )
    PeerExchangeFactory(
        from_member=world.porto,
        to_member=world.lisbon,
        occurred_on=date(2025, 7, 7),
        status=ExchangeStatus.PROPOSED,
    )
    lonely = MemberFactory(name="Lonely Town", region=world.europe)
    db.flush()
    return {"group": group, "lonely": lonely}


def test_network_page(db, client, auth, world, graph_data):
    auth.login(world.staff)
    response = client.get("/network")
    assert response.status_code == 200
    body = text(response)
    assert body.count("<h1>") == 1
    assert '<svg xmlns="http://www.w3.org/2000/svg" viewBox=' in body
    # Every member is a linked node with its tooltip.
    assert (
        '<a href="/members/lisbon"><title>Lisbon — Europe — 2 exchanges (2 given, 0 received)'
        in body
    )
    assert 'class="isolated"><title>Lonely Town — Europe — 0 exchanges' in body
    edges = body.split('<g class="edges"')[1].split("</g>")[0]
    assert edges.count("<path ") == 2  # two pairs: Lisbon->Nairobi, Nairobi->Porto
    assert "Lisbon → Nairobi: 2 exchanges" in edges
    # The figures, the legend and the tables.
    assert '<span class="figure">3</span>confirmed exchanges' in body
    assert "members with at least one exchange, of 4" in body
    assert '<span class="figure">1</span>members with none (isolated)' in body
    assert '<span class="figure">100%</span>cross-region exchanges' in body
    assert 'Europe <span class="muted">(3 members)</span>' in body
    assert 'Africa <span class="muted">(1 member)</span>' in body
    connectors = body.split('id="connectors-title"')[1].split("</table>")[0]
    assert connectors.index("Lisbon") < connectors.index("Porto")
    assert "Nairobi" in connectors
    assert "Lonely Town" in body.split('id="isolated-title"')[1]
    assert '<a href="/network?year=2024">2024</a>' in body
    assert "/network/edges.csv" in body and "/network/graph.graphml" in body


def test_network_filters(db, client, auth, world, graph_data):
    auth.login(world.staff)
    response = client.get("/network?year=2025&type=peer_review")
    assert '<span class="figure">1</span>confirmed exchanges' in text(response)
    assert "/network/edges.csv?year=2025&amp;type=peer_review" in response.get_data(as_text=True)
    group = text(client.get(f"/network?group={graph_data['group'].id}"))
    assert '<span class="figure">1</span>confirmed exchanges' in group
    # Unknown values are ignored rather than refused.
    assert client.get("/network?year=abc&group=x&type=nope").status_code == 200


def test_edges_csv(db, client, auth, world, graph_data):
    auth.login(world.staff)
    response = client.get("/network/edges.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["from_member"], r["to_member"], r["occurred_on"]) for r in rows] == [
        ("Lisbon", "Nairobi", "2024-04-04"),
        ("Lisbon", "Nairobi", "2025-05-05"),
        ("Nairobi", "Porto", "2025-06-06"),
    ]
    assert rows[0]["working_group"] == "Transport"
    assert rows[0]["type"] == "study_visit"
    assert [r["cross_region"] for r in rows] == ["yes", "yes", "yes"]
    assert rows[0]["from_region"] == "Europe" and rows[0]["to_slug"] == "nairobi"

    filtered = client.get("/network/edges.csv?year=2025&type=peer_review").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(filtered.lstrip("\ufeff"))))) == 1


def test_graphml(db, client, auth, world, graph_data):
    auth.login(world.staff)
    response = client.get("/network/graph.graphml")
    assert response.status_code == 200
    assert response.mimetype == "application/graphml+xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own output
    assert root.tag == f"{GRAPHML}graphml"
    keys = {(k.get("for"), k.get("attr.name")): k.get("id") for k in root.iter(f"{GRAPHML}key")}
    for name in ("name", "region", "country", "degree"):
        assert ("node", name) in keys
    for name in ("type", "date"):
        assert ("edge", name) in keys
    graph = root.find(f"{GRAPHML}graph")
    assert graph.get("edgedefault") == "directed"

    def data(element) -> dict[str, str]:
        names = {v: k[1] for k, v in keys.items()}
        return {names[d.get("key")]: d.text for d in element.findall(f"{GRAPHML}data")}

    nodes = {n.get("id"): data(n) for n in graph.findall(f"{GRAPHML}node")}
    assert {n["name"] for n in nodes.values()} == {"Lisbon", "Nairobi", "Porto", "Lonely Town"}
    lisbon = nodes[f"m{world.lisbon.id}"]
    assert (lisbon["region"], lisbon["country"], lisbon["degree"]) == ("Europe", "PT", "2")
    assert nodes[f"m{graph_data['lonely'].id}"]["degree"] == "0"
    edges = [(e.get("source"), e.get("target"), data(e)) for e in graph.findall(f"{GRAPHML}edge")]
    assert len(edges) == 3  # one edge per exchange
    assert all(source in nodes and target in nodes for source, target, _ in edges)
    assert edges[0][2] == {"type": "study_visit", "date": "2024-04-04", "group": "Transport"}


def test_graphml_drops_characters_xml_cannot_hold(db, client, auth, world):
    odd = MemberFactory(name="Odd\x01 City", region=world.europe)
    PeerExchangeFactory(from_member=odd, to_member=world.lisbon)
    db.flush()
    auth.login(world.staff)
    body = client.get("/network/graph.graphml").get_data()
    root = ET.fromstring(body)  # noqa: S314 - our own output
    assert "Odd City" in [d.text for d in root.iter(f"{GRAPHML}data")]


# -- the partials for the member and group pages -------------------------------------------------


def render_as(app, user, template: str, **context) -> str:
    with app.test_request_context():
        login_user(user)
        return html.unescape(render_template(template, **context))


def test_member_partial_shows_given_and_received(app, db, world, proposal):
    PeerExchangeFactory(
        from_member=world.porto, to_member=world.lisbon, exchange_type=ExchangeType.STAFF_EXCHANGE
    )
    db.flush()
    given, received = queries.exchanges_for_member(db, world.lisbon.id)
    body = render_as(
        app,
        world.lisbon_fp,
        "exchanges/_member_exchanges.html",
        member=world.lisbon,
        exchanges_given=given,
        exchanges_received=received,
    )
    given_part, received_part = body.split("Received: Lisbon learned")
    assert "Given: Lisbon shared or hosted" in given_part
    assert "Nairobi" in given_part and "Awaiting confirmation" in given_part
    assert "Porto" in received_part and "Staff exchange" in received_part
    assert f'href="/exchanges/new?member={world.lisbon.id}"' in body
    assert "Propose an exchange" in body


def test_group_partial_lists_confirmed_exchanges(app, db, world):
    group = WorkingGroupFactory(name="Air")
    PeerExchangeFactory(from_member=world.lisbon, to_member=world.porto, group=group)
    PeerExchangeFactory(from_member=world.nairobi, to_member=world.porto, theme=group.theme)
    PeerExchangeFactory(
        from_member=world.lisbon,
        to_member=world.nairobi,
        group=group,
        status=ExchangeStatus.PROPOSED,
    )
    db.flush()
    items, total = queries.exchanges_for_group(db, group)
    body = render_as(
        app,
        world.staff,
        "exchanges/_group_exchanges.html",
        group=group,
        group_exchanges=items,
        group_exchange_count=total,
    )
    assert "2 confirmed exchanges in this group or on its theme." in body
    assert f'href="/network?group={group.id}"' in body
    assert body.count("<tr>") == 3  # header and two rows
    # A focal point of Porto sees both, but links only its own member's exchanges' details.
    as_focal = render_as(
        app,
        world.porto_fp,
        "exchanges/_group_exchanges.html",
        group=group,
        group_exchanges=items,
        group_exchange_count=total,
    )
    assert "/network" not in as_focal
    assert as_focal.count('href="/exchanges/') == 3  # two details and the propose button


def test_theme_terms_offered_in_the_form(db, client, auth, world):
    TermFactory(vocabulary=Vocabulary.THEME, label="Air quality")
    db.flush()
    auth.login(world.staff)
    assert "Air quality" in text(client.get("/exchanges/new"))
