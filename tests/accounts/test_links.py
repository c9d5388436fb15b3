"""E-mailed links: magic sign-in links, password resets and invitations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from secretariat.accounts import services
from secretariat.accounts.models import LoginToken, TokenPurpose, User
from tests.accounts.helpers import (
    assert_session_ended,
    assert_signed_out,
    session_user_id,
    sign_in,
    signed_in_client,
)
from tests.factories import MemberFactory, UserFactory

NEW_PASSWORD = "a brand new passphrase"
EXPIRED = "This link has expired or has already been used."


def assert_signed_in_as(client, user) -> None:
    assert session_user_id(client) == f"{user.id}:{user.session_token}"
    assert client.get("/").status_code == 200


def tokens(db, user, purpose: TokenPurpose) -> list[LoginToken]:
    db.expire_all()
    return list(
        db.scalars(
            select(LoginToken)
            .where(LoginToken.user_id == user.id, LoginToken.purpose == purpose)
            .order_by(LoginToken.id)
        )
    )


def request_magic_link(client, email: str):
    return client.post("/sign-in/email", data={"email": email})


def expire_tokens(db, user) -> None:
    db.execute(
        update(LoginToken)
        .where(LoginToken.user_id == user.id)
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )


# -- magic links ----------------------------------------------------------------------------


def test_magic_link_is_mailed_and_a_get_does_not_consume_it(client, db, mailbox):
    user = UserFactory()
    db.flush()

    response = request_magic_link(client, user.email)

    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)
    [message] = mailbox.to(user.email)
    assert message["Subject"] == "Your sign-in link"
    assert message["To"] == user.email
    assert "expires in 15 minutes" in message.get_payload(decode=True).decode()
    link = mailbox.last_link(user.email, "/sign-in/link")
    [token] = tokens(db, user, TokenPurpose.MAGIC_LINK)
    assert token.token_hash not in link  # only the hash is stored
    assert token.expires_at - token.created_at == timedelta(minutes=15)

    for _ in range(2):  # a mail scanner, then the person
        page = client.get(link)
        assert page.status_code == 200
        assert f"Sign in as {user.email}" in page.get_data(as_text=True)
    assert tokens(db, user, TokenPurpose.MAGIC_LINK)[0].used_at is None
    assert session_user_id(client) is None

    response = client.post(link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert_signed_in_as(client, user)
    assert tokens(db, user, TokenPurpose.MAGIC_LINK)[0].used_at is not None
    db.refresh(user)
    assert user.last_login_at is not None


def test_magic_link_cannot_be_replayed(app, client, db, mailbox):
    user = UserFactory()
    db.flush()
    request_magic_link(client, user.email)
    link = mailbox.last_link(user.email, "/sign-in/link")
    assert client.post(link).status_code == 302

    attacker = app.test_client()
    response = attacker.post(link)

    assert response.status_code == 410
    assert EXPIRED in response.get_data(as_text=True)
    assert_signed_out(attacker)
    assert client.get(link).status_code == 410


def test_expired_magic_link_is_refused(client, db, mailbox):
    user = UserFactory()
    db.flush()
    request_magic_link(client, user.email)
    link = mailbox.last_link(user.email, "/sign-in/link")
    expire_tokens(db, user)

    assert client.get(link).status_code == 410
    response = client.post(link)

    assert response.status_code == 410
    assert EXPIRED in response.get_data(as_text=True)
    assert_signed_out(client)


def test_unknown_magic_link_is_refused(client, db):
    assert client.get("/sign-in/link/not-a-real-token").status_code == 410
    assert client.post("/sign-in/link/not-a-real-token").status_code == 410
    assert_signed_out(client)


def test_new_magic_link_invalidates_the_older_one(client, db, mailbox):
    user = UserFactory()
    db.flush()
    request_magic_link(client, user.email)
    first = mailbox.last_link(user.email, "/sign-in/link")
    request_magic_link(client, user.email)
    second = mailbox.last_link(user.email, "/sign-in/link")
    assert first != second
    assert len(mailbox.to(user.email)) == 2

    assert client.get(first).status_code == 410
    assert client.post(first).status_code == 410
    assert_signed_out(client)
    assert client.post(second).status_code == 302
    assert_signed_in_as(client, user)


def test_only_one_of_two_concurrent_uses_of_a_link_wins(db, monkeypatch):
    user = UserFactory()
    db.flush()
    raw = services.issue_token(db, user, TokenPurpose.MAGIC_LINK)
    # Both requests looked the token up before either marked it used.
    found = services.find_token(db, raw, TokenPurpose.MAGIC_LINK)
    assert found is not None
    assert services.consume_token(db, raw, TokenPurpose.MAGIC_LINK) == user
    monkeypatch.setattr(services, "find_token", lambda *args, **kwargs: found)

    with pytest.raises(services.AccountError, match="expired or has already been used"):
        services.consume_token(db, raw, TokenPurpose.MAGIC_LINK)


def test_password_sign_in_invalidates_outstanding_magic_links(app, client, db, mailbox):
    user = UserFactory()
    db.flush()
    request_magic_link(client, user.email)
    link = mailbox.last_link(user.email, "/sign-in/link")

    signed_in_client(app, user)

    assert client.post(link).status_code == 410
    assert_signed_out(client)


def test_unknown_email_gets_the_same_page_and_no_mail(client, db, mailbox):
    user = UserFactory()
    db.flush()

    known = request_magic_link(client, user.email)
    mailbox.clear()
    unknown = request_magic_link(client, "nobody@example.org")

    assert unknown.status_code == known.status_code == 200
    unknown_text = unknown.get_data(as_text=True)
    assert "Check your e-mail" in unknown_text
    assert unknown_text.replace("nobody@example.org", "EMAIL") == known.get_data(
        as_text=True
    ).replace(user.email, "EMAIL")
    assert mailbox.messages == []


def test_invalid_email_address_shows_the_form_again(client, mailbox):
    response = request_magic_link(client, "not an address")

    assert response.status_code == 200
    assert "Check your e-mail" not in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_deactivated_user_gets_no_link_and_old_links_stop_working(client, db, mailbox):
    user = UserFactory()
    db.flush()
    request_magic_link(client, user.email)
    link = mailbox.last_link(user.email, "/sign-in/link")
    mailbox.clear()
    user.is_active = False
    db.flush()

    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410
    assert_signed_out(client)
    response = request_magic_link(client, user.email)
    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_magic_link_works_while_password_sign_in_is_throttled(client, db, mailbox):
    user = UserFactory(
        failed_logins=6, login_blocked_until=datetime.now(UTC) + timedelta(minutes=10)
    )
    db.flush()
    assert "Too many failed attempts" in sign_in(client, user.email).get_data(as_text=True)
    request_magic_link(client, user.email)
    link = mailbox.last_link(user.email, "/sign-in/link")

    response = client.post(link)

    assert response.status_code == 302
    assert_signed_in_as(client, user)
    db.refresh(user)
    assert user.failed_logins == 0
    assert user.login_blocked_until is None


def test_magic_link_sign_in_clears_the_session(client, db, mailbox):
    user = UserFactory()
    db.flush()
    request_magic_link(client, user.email)
    link = mailbox.last_link(user.email, "/sign-in/link")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"

    client.post(link)

    with client.session_transaction() as session:
        assert "planted" not in session


# -- password reset -------------------------------------------------------------------------


def test_password_reset_flow(app, client, db, mailbox):
    user = UserFactory()
    db.flush()
    other_device = signed_in_client(app, user)
    # Then someone hammers the password form: the reset also lifts the throttle.
    user.failed_logins = 9
    user.login_blocked_until = datetime.now(UTC) + timedelta(minutes=10)
    db.flush()
    old_hash = user.password_hash

    response = client.post("/password/forgot", data={"email": user.email.upper()})

    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)
    [message] = mailbox.to(user.email)
    assert message["Subject"] == "Reset your password"
    link = mailbox.last_link(user.email, "/password/reset")
    page = client.get(link)
    assert page.status_code == 200
    assert "Choose a new password" in page.get_data(as_text=True)

    weak = client.post(link, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 200
    assert "Use at least 10 characters." in weak.get_data(as_text=True)
    mismatch = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert mismatch.status_code == 200
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    assert tokens(db, user, TokenPurpose.PASSWORD_RESET)[0].used_at is None
    db.refresh(user)
    assert user.password_hash == old_hash
    assert session_user_id(client) is None

    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    db.refresh(user)
    assert user.password_hash != old_hash
    assert user.failed_logins == 0
    assert user.login_blocked_until is None
    assert_signed_in_as(client, user)
    assert_session_ended(other_device)  # the reset ends every other session

    # Single use.
    assert client.get(link).status_code == 410
    attacker = app.test_client()
    replay = attacker.post(
        link, data={"password": "attacker password", "confirm": "attacker password"}
    )
    assert replay.status_code == 410
    assert_signed_out(attacker)

    # The new password works, the old one does not.
    assert "not right" in sign_in(app.test_client(), user.email).get_data(as_text=True)
    signed_in_client(app, user, NEW_PASSWORD)


def test_password_reset_for_unknown_email_sends_nothing(client, db, mailbox):
    response = client.post("/password/forgot", data={"email": "nobody@example.org"})

    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_password_reset_for_deactivated_user_sends_nothing(client, db, mailbox):
    user = UserFactory(is_active=False)
    db.flush()

    response = client.post("/password/forgot", data={"email": user.email})

    assert response.status_code == 200
    assert mailbox.messages == []


def test_expired_password_reset_link_is_refused(client, db, mailbox):
    user = UserFactory()
    db.flush()
    old_hash = user.password_hash
    client.post("/password/forgot", data={"email": user.email})
    link = mailbox.last_link(user.email, "/password/reset")
    expire_tokens(db, user)

    assert client.get(link).status_code == 410
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 410
    db.refresh(user)
    assert user.password_hash == old_hash
    assert_signed_out(client)


def test_a_magic_link_is_not_a_password_reset_link(client, db, mailbox):
    user = UserFactory()
    db.flush()
    request_magic_link(client, user.email)
    raw = mailbox.last_link(user.email, "/sign-in/link").rsplit("/", 1)[1]

    assert client.get(f"/password/reset/{raw}").status_code == 410
    assert client.get(f"/invitation/{raw}").status_code == 410


# -- invitations ----------------------------------------------------------------------------


def test_invitation_flow(app, client, db, auth, mailbox):
    admin = UserFactory(admin=True, name="Ana Admin")
    member = MemberFactory(name="Porto")
    db.flush()
    auth.login(admin)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "New.Person@City.example",
            "name": "New Person",
            "role": "focal_point",
            "member": str(member.id),
            "funder": "",
        },
    )
    assert response.status_code == 302
    invited = db.scalar(select(User).where(User.email == "new.person@city.example"))
    assert invited.password_hash is None

    [message] = mailbox.to("new.person@city.example")
    body = message.get_payload(decode=True).decode()
    assert "Ana Admin invites you" in body
    assert "Porto" in body
    assert "expires in 7 days" in body
    link = mailbox.last_link("new.person@city.example", "/invitation")

    guest = app.test_client()
    page = guest.get(link)
    assert page.status_code == 200
    assert "Welcome, New Person" in page.get_data(as_text=True)
    weak = guest.post(link, data={"password": "2short", "confirm": "2short"})
    assert "Use at least 10 characters." in weak.get_data(as_text=True)
    mismatch = guest.post(link, data={"password": NEW_PASSWORD, "confirm": "something else"})
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    db.refresh(invited)
    assert invited.password_hash is None
    assert guest.get(link).status_code == 200  # still usable

    response = guest.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    db.refresh(invited)
    assert invited.password_hash is not None
    assert invited.last_login_at is not None
    assert_signed_in_as(guest, invited)
    assert guest.get(link).status_code == 410
    assert (
        app.test_client()
        .post(link, data={"password": "attacker password", "confirm": "attacker password"})
        .status_code
        == 410
    )
    signed_in_client(app, invited, NEW_PASSWORD)


def test_expired_invitation_is_refused(client, db, mailbox):
    user = UserFactory(password_hash=None)
    db.flush()
    services.send_invitation(db, user, invited_by=None)
    link = mailbox.last_link(user.email, "/invitation")
    [token] = tokens(db, user, TokenPurpose.INVITATION)
    assert token.expires_at - token.created_at == timedelta(days=7)
    expire_tokens(db, user)

    assert client.get(link).status_code == 410
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    db.refresh(user)
    assert user.password_hash is None


def test_setting_a_password_invalidates_other_password_links(app, client, db, mailbox):
    user = UserFactory(password_hash=None)
    db.flush()
    services.send_invitation(db, user, invited_by=None)
    invitation = mailbox.last_link(user.email, "/invitation")
    # The invited person uses "forgot password" instead of the invitation.
    client.post("/password/forgot", data={"email": user.email})
    reset = mailbox.last_link(user.email, "/password/reset")
    assert (
        client.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 302
    )

    # Whoever else holds the invitation mail must not be able to replace that password.
    assert app.test_client().get(invitation).status_code == 410
