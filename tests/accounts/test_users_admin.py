"""The administration of users (admin only) and the `secretariat users` command."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from secretariat.accounts import services
from secretariat.accounts.models import LoginToken, Role, TokenPurpose, User
from tests.accounts.helpers import assert_session_ended, sign_in, signed_in_client
from tests.factories import ContactFactory, FunderFactory, MemberFactory, UserFactory


@pytest.fixture
def admin(db, auth):
    user = UserFactory(admin=True, name="Ana Admin")
    db.flush()
    auth.login(user)
    return user


def user_form(**values) -> dict[str, str]:
    data = {"email": "", "name": "", "role": "staff", "member": "", "funder": ""}
    data.update(values)
    return data


def user_by_email(db, email: str) -> User | None:
    db.expire_all()
    return db.scalar(select(User).where(User.email == email))


def user_count(db) -> int:
    return db.scalar(select(func.count()).select_from(User))


# The form's own checks (UserForm.validate_member/validate_funder) never run because the
# Optional() validator stops the chain on an empty value; the service then refuses instead.
MEMBER_REQUIRED = (
    "Choose the member this focal point works for.",
    "A focal point must belong to a member.",
)
FUNDER_REQUIRED = (
    "Choose the funder this user works for.",
    "A funder user must belong to a funder.",
)


def assert_field_error(response, field: str, messages: tuple[str, ...]) -> None:
    found = re.search(
        rf'<small id="{field}-error" class="field-error">([^<]*)</small>',
        response.get_data(as_text=True),
    )
    assert found, f"no error on {field}"
    assert found.group(1) in messages


def flashes(client) -> str:
    """The page the last redirect led to, as text (it shows the flashed messages)."""
    return client.get("/admin/users/").get_data(as_text=True)


# -- list -----------------------------------------------------------------------------------


def test_list_shows_every_user_with_their_state(client, db, admin):
    staff = UserFactory(name="Sam Staff")
    invited = UserFactory(name="Ivy Invited", password_hash=None)
    gone = UserFactory(name="Dan Gone", is_active=False)
    focal = UserFactory(focal_point=True, name="Fay Focal", member=MemberFactory(name="Lisbon"))
    funder = UserFactory(funder_user=True, name="Finn Funder", funder=FunderFactory(name="Acme"))
    db.flush()

    response = client.get("/admin/users/")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for user in (admin, staff, invited, gone, focal, funder):
        assert user.email in text
    assert "6 users" in text
    assert "Lisbon" in text and "Acme" in text
    assert "Invited" in text and "Deactivated" in text
    assert f"/admin/users/{invited.id}/invite" in text
    assert f"/admin/users/{gone.id}/reactivate" in text
    assert f"/admin/users/{staff.id}/deactivate" in text
    assert f"/admin/users/{admin.id}/deactivate" not in text


def test_list_filters_by_role(client, db, admin):
    staff = UserFactory()
    funder = UserFactory(funder_user=True)
    db.flush()

    text = client.get("/admin/users/?role=funder").get_data(as_text=True)

    assert funder.email in text
    assert staff.email not in text
    assert admin.email not in text
    # An unknown role is ignored.
    text = client.get("/admin/users/?role=superuser").get_data(as_text=True)
    assert funder.email in text and staff.email in text


def test_list_query_count_does_not_grow_with_users(client, db, admin, count_queries):
    UserFactory(focal_point=True)
    UserFactory(funder_user=True)
    db.flush()
    with count_queries() as few:
        assert client.get("/admin/users/").status_code == 200
    for _ in range(4):
        UserFactory(focal_point=True)
        UserFactory(funder_user=True)
    db.flush()
    with count_queries() as many:
        assert client.get("/admin/users/").status_code == 200

    assert many.count == few.count


# -- invite ---------------------------------------------------------------------------------


def test_invite_form_renders(client, admin):
    response = client.get("/admin/users/new?role=focal_point")
    assert response.status_code == 200
    assert "Send the invitation" in response.get_data(as_text=True)


def test_invite_staff_user(client, db, admin, mailbox):
    response = client.post(
        "/admin/users/new",
        data=user_form(email="Sam.Staff@Example.org", name=" Sam Staff ", role="staff"),
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users/"
    user = user_by_email(db, "sam.staff@example.org")
    assert user is not None
    assert user.name == "Sam Staff"
    assert user.role is Role.STAFF
    assert user.password_hash is None
    assert user.is_active
    assert user.member_id is None and user.funder_id is None
    [message] = mailbox.to("sam.staff@example.org")
    assert message["Subject"] == "You are invited to Secretariat"
    assert "Ana Admin invites you" in message.get_payload(decode=True).decode()
    assert mailbox.last_link("sam.staff@example.org", "/invitation")
    [token] = db.scalars(select(LoginToken).where(LoginToken.user_id == user.id)).all()
    assert token.purpose is TokenPurpose.INVITATION
    assert "Invitation sent to sam.staff@example.org." in flashes(client)


def test_invite_focal_point_requires_a_member(client, db, admin, mailbox):
    member = MemberFactory()
    db.flush()
    before = user_count(db)

    response = client.post(
        "/admin/users/new",
        data=user_form(email="fp@city.example", name="Focal", role="focal_point"),
    )

    assert response.status_code == 200
    assert_field_error(response, "member", MEMBER_REQUIRED)
    assert user_count(db) == before
    assert mailbox.messages == []

    response = client.post(
        "/admin/users/new",
        data=user_form(
            email="fp@city.example", name="Focal", role="focal_point", member=str(member.id)
        ),
    )

    assert response.status_code == 302
    user = user_by_email(db, "fp@city.example")
    assert user.role is Role.FOCAL_POINT
    assert user.member_id == member.id
    assert len(mailbox.to("fp@city.example")) == 1


def test_invite_funder_user_requires_a_funder(client, db, admin, mailbox):
    funder = FunderFactory()
    db.flush()
    before = user_count(db)

    response = client.post(
        "/admin/users/new", data=user_form(email="f@fund.example", name="F", role="funder")
    )

    assert response.status_code == 200
    assert_field_error(response, "funder", FUNDER_REQUIRED)
    assert user_count(db) == before
    assert mailbox.messages == []

    response = client.post(
        "/admin/users/new",
        data=user_form(email="f@fund.example", name="F", role="funder", funder=str(funder.id)),
    )

    assert response.status_code == 302
    user = user_by_email(db, "f@fund.example")
    assert user.role is Role.FUNDER
    assert user.funder_id == funder.id
    assert user.member_id is None


def test_invite_with_unknown_member_is_refused(client, db, admin, mailbox):
    before = user_count(db)

    response = client.post(
        "/admin/users/new",
        data=user_form(email="fp@city.example", name="Focal", role="focal_point", member="999"),
    )

    assert response.status_code == 200
    assert user_count(db) == before
    assert mailbox.messages == []


def test_invite_with_duplicate_email_is_refused(client, db, admin, mailbox):
    existing = UserFactory(email="taken@example.org")
    db.flush()
    before = user_count(db)

    response = client.post(
        "/admin/users/new", data=user_form(email="TAKEN@example.org", name="Other")
    )

    assert response.status_code == 200
    assert "A user with this e-mail address already exists." in response.get_data(as_text=True)
    assert user_count(db) == before
    assert mailbox.messages == []
    db.refresh(existing)
    assert existing.name != "Other"


def test_invite_is_not_recorded_when_the_mail_fails(app, client, db, admin):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"  # nothing listens there
    before = user_count(db)

    response = client.post(
        "/admin/users/new", data=user_form(email="lost@example.org", name="Lost")
    )

    assert response.status_code == 503
    assert user_count(db) == before


# -- edit -----------------------------------------------------------------------------------


def test_edit_form_shows_the_user(client, db, admin):
    user = UserFactory(focal_point=True)
    db.flush()

    response = client.get(f"/admin/users/{user.id}/edit")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert user.email in text
    assert f'<option selected value="{user.member_id}">' in text


def test_edit_role_signs_the_user_out(app, client, db, admin):
    user = UserFactory()
    db.flush()
    user_client = signed_in_client(app, user)
    old_token = user.session_token

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data=user_form(email=user.email, name="Promoted", role="admin"),
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users/"
    db.refresh(user)
    assert user.role is Role.ADMIN
    assert user.name == "Promoted"
    assert user.session_token != old_token  # new rights take effect at the next sign-in
    assert_session_ended(user_client)


def test_edit_name_only_keeps_the_user_signed_in(app, client, db, admin):
    user = UserFactory()
    db.flush()
    user_client = signed_in_client(app, user)

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data=user_form(email=user.email, name="Renamed", role="staff"),
    )

    assert response.status_code == 302
    db.refresh(user)
    assert user.name == "Renamed"
    assert user_client.get("/").status_code == 200


def test_edit_to_focal_point_requires_a_member(client, db, admin):
    user = UserFactory()
    db.flush()

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data=user_form(email=user.email, name=user.name, role="focal_point"),
    )

    assert response.status_code == 200
    assert_field_error(response, "member", MEMBER_REQUIRED)
    db.refresh(user)
    assert user.role is Role.STAFF


def test_edit_to_another_users_email_is_refused(client, db, admin):
    user = UserFactory()
    other = UserFactory()
    db.flush()
    email = user.email

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data=user_form(email=other.email.upper(), name=user.name, role="staff"),
    )

    assert response.status_code == 200
    assert "A user with this e-mail address already exists." in response.get_data(as_text=True)
    db.refresh(user)
    assert user.email == email


def test_edit_focal_point_keeps_the_link_to_their_contact(client, db, admin):
    contact = ContactFactory()
    user = UserFactory(focal_point=True, member=contact.member, contact=contact)
    db.flush()

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data=user_form(
            email=user.email, name="Renamed", role="focal_point", member=str(contact.member_id)
        ),
    )

    assert response.status_code == 302
    db.refresh(user)
    assert user.name == "Renamed"
    assert user.contact_id == contact.id


def test_admin_cannot_remove_their_own_admin_role(client, db, admin):
    response = client.post(
        f"/admin/users/{admin.id}/edit",
        data=user_form(email=admin.email, name=admin.name, role="staff"),
    )

    assert response.status_code == 200
    assert "You cannot remove your own administrator role." in response.get_data(as_text=True)
    db.refresh(admin)
    assert admin.role is Role.ADMIN


def test_admin_can_demote_and_deactivate_another_admin(client, db, admin):
    other = UserFactory(admin=True)
    third = UserFactory(admin=True)
    db.flush()

    response = client.post(
        f"/admin/users/{other.id}/edit",
        data=user_form(email=other.email, name=other.name, role="staff"),
    )
    assert response.status_code == 302
    response = client.post(f"/admin/users/{third.id}/deactivate")
    assert response.status_code == 302

    db.refresh(other)
    db.refresh(third)
    assert other.role is Role.STAFF
    assert not third.is_active


def test_last_active_admin_cannot_be_demoted_or_deactivated(db):
    # Through the web the actor is always another active admin, so the guard is checked on
    # the service: an inactive admin does not count as "another" one.
    only_admin = UserFactory(admin=True)
    UserFactory(admin=True, is_active=False)
    actor = UserFactory()
    db.flush()
    data = services.UserData(email=only_admin.email, name=only_admin.name, role=Role.STAFF)

    with pytest.raises(services.AccountError, match="at least one active administrator"):
        services.update_user(db, actor, only_admin, data)
    with pytest.raises(services.AccountError, match="at least one active administrator"):
        services.deactivate_user(db, actor, only_admin)

    db.refresh(only_admin)
    assert only_admin.role is Role.ADMIN
    assert only_admin.is_active


# -- deactivate, reactivate, resend ---------------------------------------------------------


def test_admin_cannot_deactivate_themselves(client, db, admin):
    response = client.post(f"/admin/users/{admin.id}/deactivate")

    assert response.status_code == 302
    assert "You cannot deactivate your own account." in flashes(client)
    db.refresh(admin)
    assert admin.is_active
    assert client.get("/").status_code == 200


def test_deactivating_a_user_ends_their_session_at_once(app, client, db, admin):
    user = UserFactory()
    db.flush()
    user_client = signed_in_client(app, user)
    assert user_client.get("/").status_code == 200

    response = client.post(f"/admin/users/{user.id}/deactivate")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users/"
    assert "is deactivated and signed out everywhere" in flashes(client)
    db.refresh(user)
    assert not user.is_active
    assert_session_ended(user_client)
    assert "deactivated" in sign_in(app.test_client(), user.email).get_data(as_text=True)


def test_reactivated_user_must_sign_in_again(app, client, db, admin):
    user = UserFactory()
    db.flush()
    user_client = signed_in_client(app, user)

    client.post(f"/admin/users/{user.id}/deactivate")
    client.post(f"/admin/users/{user.id}/reactivate")

    db.refresh(user)
    assert user.is_active
    assert_session_ended(user_client)  # the old session stays dead
    signed_in_client(app, user)


def test_user_deactivated_elsewhere_is_signed_out(app, db):
    # Whatever deactivates the account (another process, a script), the session is refused.
    user = UserFactory()
    db.flush()
    user_client = signed_in_client(app, user)
    user.is_active = False
    db.flush()

    assert_session_ended(user_client)


def test_deactivate_requires_post(client, db, admin):
    user = UserFactory()
    db.flush()

    assert client.get(f"/admin/users/{user.id}/deactivate").status_code == 405
    db.refresh(user)
    assert user.is_active


def test_reactivate_user(app, client, db, admin):
    user = UserFactory(
        is_active=False,
        failed_logins=8,
        login_blocked_until=datetime.now(UTC) + timedelta(minutes=10),
    )
    db.flush()

    response = client.post(f"/admin/users/{user.id}/reactivate")

    assert response.status_code == 302
    assert "can sign in again" in flashes(client)
    db.refresh(user)
    assert user.is_active
    assert user.failed_logins == 0
    assert user.login_blocked_until is None
    signed_in_client(app, user)


def test_resend_invitation_replaces_the_old_link(app, client, db, admin, mailbox):
    client.post("/admin/users/new", data=user_form(email="late@example.org", name="Late"))
    first = mailbox.last_link("late@example.org", "/invitation")
    user = user_by_email(db, "late@example.org")

    response = client.post(f"/admin/users/{user.id}/invite")

    assert response.status_code == 302
    assert "A new invitation was sent to late@example.org." in flashes(client)
    assert len(mailbox.to("late@example.org")) == 2
    second = mailbox.last_link("late@example.org", "/invitation")
    assert second != first
    guest = app.test_client()
    assert guest.get(first).status_code == 410
    password = "my own new password"
    response = guest.post(second, data={"password": password, "confirm": password})
    assert response.status_code == 302
    assert guest.get("/").status_code == 200


def test_resend_invitation_to_deactivated_user_is_refused(client, db, admin, mailbox):
    user = UserFactory(password_hash=None, is_active=False)
    db.flush()

    response = client.post(f"/admin/users/{user.id}/invite")

    assert response.status_code == 302
    assert "Reactivate the account before sending an invitation." in flashes(client)
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/users/999999/edit"),
        ("post", "/admin/users/999999/deactivate"),
        ("post", "/admin/users/999999/reactivate"),
        ("post", "/admin/users/999999/invite"),
    ],
)
def test_unknown_user_is_404(client, admin, method, path):
    assert getattr(client, method)(path).status_code == 404


# -- access ---------------------------------------------------------------------------------

ADMIN_ENDPOINTS = [
    ("get", "/admin/users/"),
    ("get", "/admin/users/?role=admin"),
    ("get", "/admin/users/new"),
    ("post", "/admin/users/new"),
    ("get", "/admin/users/{id}/edit"),
    ("post", "/admin/users/{id}/edit"),
    ("post", "/admin/users/{id}/deactivate"),
    ("post", "/admin/users/{id}/reactivate"),
    ("post", "/admin/users/{id}/invite"),
]


@pytest.mark.parametrize("trait", ["staff", "focal_point", "funder_user"])
@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_non_admins_get_404_on_user_administration(client, db, auth, mailbox, trait, method, path):
    actor = UserFactory(**({} if trait == "staff" else {trait: True}))
    target = UserFactory(password_hash=None, is_active=path.endswith("deactivate"))
    db.flush()
    auth.login(actor)
    before = user_count(db)
    data = user_form(email="intruder@example.org", name="Intruder", role="admin")

    response = getattr(client, method)(path.format(id=target.id), data=data)

    assert response.status_code == 404
    db.refresh(target)
    assert target.role is Role.STAFF
    assert target.is_active is path.endswith("deactivate")
    assert user_count(db) == before
    assert mailbox.messages == []


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_anonymous_visitors_are_sent_to_sign_in(client, db, method, path):
    target = UserFactory()
    db.flush()

    response = getattr(client, method)(path.format(id=target.id))

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


# -- command line ---------------------------------------------------------------------------


def test_cli_creates_a_user_who_can_sign_in(app, cli, db):
    result = cli(
        "users", "create", "--email", "X@Y.org", "--role", "staff", "--password", "long enough pass"
    )

    assert result.exit_code == 0, result.output
    assert "Created staff x@y.org." in result.output
    user = user_by_email(db, "x@y.org")
    assert user.role is Role.STAFF
    assert user.name == "X"
    assert user.password_hash is not None
    signed_in_client(app, user, "long enough pass")


def test_cli_prompts_for_the_password(app, cli, db):
    result = cli(
        "users",
        "create",
        "--email",
        "admin@y.org",
        "--role",
        "admin",
        "--name",
        "Root",
        input="long enough pass\nlong enough pass\n",
    )

    assert result.exit_code == 0, result.output
    user = user_by_email(db, "admin@y.org")
    assert user.role is Role.ADMIN
    assert user.name == "Root"
    signed_in_client(app, user, "long enough pass")


def test_cli_focal_point_without_member_fails(cli, db):
    before = user_count(db)

    result = cli(
        "users", "create", "--email", "fp@y.org", "--role", "focal_point", "--password", "x" * 12
    )

    assert result.exit_code == 1
    assert "A focal point must belong to a member." in result.output
    assert user_count(db) == before


def test_cli_unknown_member_slug_fails(cli, db):
    before = user_count(db)

    result = cli(
        "users",
        "create",
        "--email",
        "fp@y.org",
        "--role",
        "focal_point",
        "--member",
        "atlantis",
        "--password",
        "long enough pass",
    )

    assert result.exit_code == 1
    assert "No member has the slug 'atlantis'." in result.output
    assert user_count(db) == before


def test_cli_focal_point_with_member(cli, db):
    member = MemberFactory(slug="porto")
    db.flush()

    result = cli(
        "users",
        "create",
        "--email",
        "fp@y.org",
        "--role",
        "focal_point",
        "--member",
        "porto",
        "--password",
        "long enough pass",
    )

    assert result.exit_code == 0, result.output
    assert user_by_email(db, "fp@y.org").member_id == member.id


def test_cli_funder_user_needs_an_existing_funder(cli, db):
    funder = FunderFactory(slug="acme")
    db.flush()

    result = cli("users", "create", "--email", "f@y.org", "--role", "funder", "--invite")
    assert result.exit_code == 1
    assert "A funder user must belong to a funder." in result.output
    result = cli(
        "users", "create", "--email", "f@y.org", "--role", "funder", "--funder", "nope", "--invite"
    )
    assert result.exit_code == 1
    assert "No funder has the slug 'nope'" in result.output

    result = cli(
        "users", "create", "--email", "f@y.org", "--role", "funder", "--funder", "acme", "--invite"
    )

    assert result.exit_code == 0, result.output
    assert user_by_email(db, "f@y.org").funder_id == funder.id


def test_cli_refuses_weak_password_and_duplicate_email(cli, db):
    UserFactory(email="taken@y.org")
    db.flush()
    before = user_count(db)

    weak = cli("users", "create", "--email", "new@y.org", "--role", "staff", "--password", "short")
    duplicate = cli(
        "users", "create", "--email", "TAKEN@y.org", "--role", "staff", "--password", "x" * 12
    )

    assert weak.exit_code == 1
    assert "Use at least 10 characters." in weak.output
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    assert user_count(db) == before


def test_cli_invite_mails_an_invitation(cli, db, mailbox):
    result = cli("users", "create", "--email", "guest@y.org", "--role", "staff", "--invite")

    assert result.exit_code == 0, result.output
    assert "(invitation sent)" in result.output
    user = user_by_email(db, "guest@y.org")
    assert user.password_hash is None
    [message] = mailbox.to("guest@y.org")
    assert "You are invited to Secretariat." in message.get_payload(decode=True).decode()
    assert mailbox.last_link("guest@y.org", "/invitation")
