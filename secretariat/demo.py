"""The demo network: loaded through the same services as the user interface; idempotent."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts import services as accounts
from secretariat.accounts.models import Role
from secretariat.clock import network_today
from secretariat.db import get_db
from secretariat.demo_activity import load_activity
from secretariat.demo_agreements import load_agreements
from secretariat.demo_funding import load_funding
from secretariat.demo_participation import load_participation
from secretariat.demo_reporting import load_reporting
from secretariat.funding.models import Funder
from secretariat.members import transfer
from secretariat.members.models import Member
from secretariat.resources import resource_path
from secretariat.tabular import read_table
from secretariat.vocabularies.models import Vocabulary
from secretariat.vocabularies.services import ensure_terms

DEMO_PASSWORD = "demo-password"  # noqa: S105 - demo accounts only, printed by `make demo`
REGIONS = [
    "Africa",
    "East, Southeast Asia and Oceania",
    "Europe",
    "Latin America",
    "North America",
    "South and West Asia",
]
TIERS = ["Full", "Associate", "Observer"]
FUNDER = ("blue-horizon", "Blue Horizon Foundation")
#: (e-mail, name, role, member slug or None)
ACCOUNTS = [
    ("admin@demo.example", "Amina Diallo", Role.ADMIN, None),
    ("staff@demo.example", "Tomás Lindqvist", Role.STAFF, None),
    ("focal.a@demo.example", "Inês Carvalho", Role.FOCAL_POINT, "lisbon"),
    ("focal.b@demo.example", "Wanjiru Otieno", Role.FOCAL_POINT, "nairobi"),
    ("funder@demo.example", "Grace Whitfield", Role.FUNDER, None),
]


def load_demo(session: Session) -> dict[str, int]:
    """Create or complete the demo network; running it again changes nothing."""
    folder = resource_path("seeds") / "demo"
    ensure_terms(session, Vocabulary.REGION, REGIONS)
    ensure_terms(session, Vocabulary.TIER, TIERS)
    members_file = folder / "members.csv"
    contacts_file = folder / "contacts.csv"
    members = transfer.import_members(
        session, None, read_table(members_file.read_bytes(), members_file.name)
    )
    contacts = transfer.import_contacts(
        session, None, read_table(contacts_file.read_bytes(), contacts_file.name)
    )
    funder = session.scalar(select(Funder).where(Funder.slug == FUNDER[0]))
    if funder is None:
        funder = Funder(slug=FUNDER[0], name=FUNDER[1])
        session.add(funder)
        session.flush()
    users_created = 0
    for email, name, role, member_slug in ACCOUNTS:
        if accounts.get_user_by_email(session, email) is not None:
            continue
        member = (
            session.scalar(select(Member).where(Member.slug == member_slug))
            if member_slug
            else None
        )
        accounts.create_user(
            session,
            accounts.UserData(
                email=email,
                name=name,
                role=role,
                member=member,
                funder=funder if role is Role.FUNDER else None,
            ),
            password=DEMO_PASSWORD,
        )
        users_created += 1
    staff = accounts.get_user_by_email(session, "staff@demo.example")
    assert staff is not None
    activity = load_activity(session, staff)
    focal_point = accounts.get_user_by_email(session, "focal.a@demo.example")
    agreements = load_agreements(session, staff, focal_point, network_today())
    focal_points = [
        user
        for email in ("focal.a@demo.example", "focal.b@demo.example")
        if (user := accounts.get_user_by_email(session, email)) is not None
    ]
    reporting = load_reporting(session, staff, focal_points, network_today())
    participation = load_participation(session, staff, network_today())
    funding = load_funding(session, staff, funder, focal_points, network_today())
    return {
        **funding,
        **agreements,
        **reporting,
        **participation,
        "members_added": len(members.creates),
        "contacts_added": len(contacts.creates),
        "users_added": users_created,
        **activity,
    }


@click.group()
def seed() -> None:
    """Load demo data."""


@seed.command("demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo network (about 60 cities, contacts and one account per role)."""
    with get_db().transaction() as session:
        counts = load_demo(session)
    click.echo(
        "Demo data ready: {members_added} members, {contacts_added} contacts, "
        "{users_added} accounts, {groups_added} working groups, {events_added} events and "
        "{exchanges_added} peer exchanges, {partners_added} partners, {agreements_added} "
        "agreements and {follow_ups_added} follow-ups, {cycles_added} reporting cycles with "
        "{submissions_added} submissions and {commitments_added} commitments, "
        "{participation_years_added} years of participation scores, {programmes_added} funded "
        "programmes added.".format(
            **counts
        )
    )
    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for email, _name, role, member_slug in ACCOUNTS:
        suffix = f" of {member_slug}" if member_slug else ""
        click.echo(f"  {email:24} {role.value}{suffix}")
