"""The own-account page: name and password."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.accounts.helpers import assert_session_ended, sign_in, signed_in_client
from tests.conftest import PASSWORD
from tests.factories import UserFactory

NEW_PASSWORD = "another good passphrase"


@pytest.fixture
def user(db, auth):
    user = UserFactory(name="Old Name")
    db.flush()
    auth.login(user)
    return user


def change_password(client, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/account",
        data={
            "action": "password",
            "password-current_password": current,
            "password-password": new,
            "password-confirm": new if confirm is None else confirm,
        },
    )


def test_account_page_requires_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert location.query == "next=%2Faccount"


def test_account_page_shows_the_user(client, user):
    response = client.get("/account")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert user.email in text
    assert "Secretariat staff" in text
    assert 'value="Old Name"' in text


def test_change_name(client, db, user):
    response = client.post("/account", data={"action": "profile", "profile-name": "  New Name "})

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    db.refresh(user)
    assert user.name == "New Name"
    assert "Your name is saved." in client.get("/account").get_data(as_text=True)


def test_empty_name_is_refused(client, db, user):
    response = client.post("/account", data={"action": "profile", "profile-name": ""})

    assert response.status_code == 200
    assert 'id="profile-name-error"' in response.get_data(as_text=True)
    db.refresh(user)
    assert user.name == "Old Name"


def test_change_password_ends_other_sessions_but_keeps_this_one(app, client, db, user):
    other_device = signed_in_client(app, user)
    old_hash, old_token = user.password_hash, user.session_token

    response = change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    db.refresh(user)
    assert user.password_hash != old_hash
    assert user.session_token != old_token
    page = client.get("/account")
    assert page.status_code == 200
    assert "Your password is changed. Other devices are signed out." in page.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["_user_id"] == f"{user.id}:{user.session_token}"
    assert_session_ended(other_device)
    assert "not right" in sign_in(app.test_client(), user.email).get_data(as_text=True)
    signed_in_client(app, user, NEW_PASSWORD)


def test_change_password_with_wrong_current_password_fails(app, client, db, user):
    other_device = signed_in_client(app, user)
    old_hash, old_token = user.password_hash, user.session_token

    response = change_password(client, "not my password", NEW_PASSWORD)

    assert response.status_code == 200
    assert "The current password is not right." in response.get_data(as_text=True)
    db.refresh(user)
    assert user.password_hash == old_hash
    assert user.session_token == old_token
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 200
    signed_in_client(app, user, PASSWORD)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short", "short", "Use at least 10 characters."),
        (" " * 12, " " * 12, "The password cannot be only spaces."),
        (NEW_PASSWORD, NEW_PASSWORD + "?", "The two passwords are not the same."),
    ],
)
def test_change_password_refuses_bad_new_passwords(client, db, user, new, confirm, message):
    old_hash = user.password_hash

    response = change_password(client, PASSWORD, new, confirm)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.refresh(user)
    assert user.password_hash == old_hash
