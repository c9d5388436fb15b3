"""Helpers shared by the account tests."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import PASSWORD


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/sign-in", data={"email": email, "password": password, **extra})


def signed_in_client(app, user, password: str = PASSWORD):
    """A second browser, signed in as the user."""
    other = app.test_client()
    assert sign_in(other, user.email, password).status_code == 302
    return other


def session_user_id(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def assert_session_ended(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def assert_signed_out(client) -> None:
    assert session_user_id(client) is None
    assert_session_ended(client)
