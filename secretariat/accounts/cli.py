"""Commands for users and funders."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from secretariat.accounts import services
from secretariat.accounts.models import Role
from secretariat.db import get_db
from secretariat.funding.models import Funder
from secretariat.mail import MailError
from secretariat.members.models import Member


@click.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None, help="Display name (default: the e-mail's local part).")
@click.option("--member", "member_slug", default=None, help="Member slug (focal points).")
@click.option("--funder", "funder_slug", default=None, help="Funder slug (funder users).")
@click.option("--invite", is_flag=True, help="E-mail an invitation instead of setting a password.")
@click.option(
    "--password", default=None, help="Password; prompted for when neither it nor --invite is given."
)
@with_appcontext
def create_user(
    email: str,
    role: str,
    name: str | None,
    member_slug: str | None,
    funder_slug: str | None,
    invite: bool,
    password: str | None,
) -> None:
    """Create a user with a password, or invite them by e-mail."""
    if not invite and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_db().transaction() as session:
        member = funder = None
        if member_slug:
            member = session.scalar(select(Member).where(Member.slug == member_slug))
            if member is None:
                _fail(f"No member has the slug {member_slug!r}.")
        if funder_slug:
            funder = session.scalar(select(Funder).where(Funder.slug == funder_slug))
            if funder is None:
                _fail(
                    f"No funder has the slug {funder_slug!r}; "
                    "create it with `secretariat funders create`."
                )
        data = services.UserData(
            email=email,
            name=name or email.split("@")[0],
            role=Role(role),
            member=member,
            funder=funder,
        )
        try:
            if invite:
                user = services.invite_user(session, data, invited_by=None)
            else:
                user = services.create_user(session, data, password=password)
        except services.AccountError as exc:
            _fail(exc.message)
        except MailError as exc:
            _fail(f"The invitation could not be sent: {exc}")
        click.echo(
            f"Created {user.role.value} {user.email}" + (" (invitation sent)." if invite else ".")
        )


@click.group()
def funders() -> None:
    """Manage funder organisations."""


@funders.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@with_appcontext
def create_funder(slug: str, name: str) -> None:
    """Add a funder organisation (its users are created with `users create --funder`)."""
    with get_db().transaction() as session:
        if session.scalar(select(Funder).where(Funder.slug == slug)) is not None:
            _fail(f"A funder with the slug {slug!r} already exists.")
        session.add(Funder(slug=slug, name=name))
    click.echo(f"Created funder {name} ({slug}).")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)
