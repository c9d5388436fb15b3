"""Password sign-in, throttling, sessions, remember-me, `next` redirects and CSRF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from secretariat import create_app
from tests.accounts.helpers import assert_signed_out, session_user_id, sign_in, signed_in_client
from tests.conftest import PASSWORD, app_config
from tests.factories import UserFactory

INVALID = "The e-mail address or password is not right."


def set_cookie_header(response, name: str) -> dict[str, str | bool]:
    """The attributes of the Set-Cookie header of ``name`` (lower-cased keys)."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            value, *attributes = header.split("; ")
            parsed: dict[str, str | bool] = {"value": value.partition("=")[2]}
            for attribute in attributes:
                key, sep, val = attribute.partition("=")
                parsed[key.lower()] = val if sep else True
            return parsed
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}")


# -- password sign-in -----------------------------------------------------------------------


def test_sign_in_page_renders(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    assert 'name="password"' in response.get_data(as_text=True)


def test_sign_in_success_redirects_home_and_records_it(client, db):
    user = UserFactory(failed_logins=2)
    db.flush()

    response = sign_in(client, user.email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert session_user_id(client) == f"{user.id}:{user.session_token}"
    home = client.get("/")
    assert home.status_code == 200
    assert f"Welcome, {user.name}." in home.get_data(as_text=True)
    db.refresh(user)
    assert user.last_login_at is not None
    assert user.failed_logins == 0


def test_wrong_password_and_unknown_email_look_the_same(client, db):
    user = UserFactory()
    db.flush()

    wrong = sign_in(client, user.email, "not the password at all")
    unknown = sign_in(client, "nobody@example.org", "not the password at all")

    assert wrong.status_code == unknown.status_code == 200
    wrong_text = wrong.get_data(as_text=True).replace(user.email, "EMAIL")
    unknown_text = unknown.get_data(as_text=True).replace("nobody@example.org", "EMAIL")
    assert INVALID in wrong_text
    assert wrong_text == unknown_text
    assert_signed_out(client)
    db.refresh(user)
    assert user.failed_logins == 1


def test_deactivated_user_cannot_sign_in(client, db):
    user = UserFactory(is_active=False)
    db.flush()

    response = sign_in(client, user.email)

    assert response.status_code == 200
    assert "This account has been deactivated" in response.get_data(as_text=True)
    assert_signed_out(client)
    db.refresh(user)
    assert user.last_login_at is None


def test_invited_user_without_password_cannot_sign_in(client, db):
    user = UserFactory(password_hash=None)
    db.flush()

    response = sign_in(client, user.email, "")
    assert response.status_code == 200
    response = sign_in(client, user.email, "anything at all")
    assert INVALID in response.get_data(as_text=True)
    assert_signed_out(client)


def test_email_is_case_insensitive(client, db):
    user = UserFactory(email="mixed.case@example.org")
    db.flush()

    response = sign_in(client, "  Mixed.CASE@Example.ORG ")

    assert response.status_code == 302
    assert session_user_id(client) == f"{user.id}:{user.session_token}"


# -- throttling -----------------------------------------------------------------------------


def test_five_failures_throttle_the_account(client, db):
    user = UserFactory()
    db.flush()
    for _ in range(4):
        assert INVALID in sign_in(client, user.email, "wrong password").get_data(as_text=True)
    db.refresh(user)
    assert user.failed_logins == 4
    assert user.login_blocked_until is None

    before = datetime.now(UTC)
    sign_in(client, user.email, "wrong password")
    after = datetime.now(UTC)

    db.refresh(user)
    assert user.failed_logins == 5
    assert before + timedelta(seconds=30) <= user.login_blocked_until
    assert user.login_blocked_until <= after + timedelta(seconds=30)

    # The right password is refused while throttled, and that attempt is not counted.
    response = sign_in(client, user.email)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Too many failed attempts. Try again in 1 minute(s)" in text
    assert_signed_out(client)
    db.refresh(user)
    assert user.failed_logins == 5


def test_throttle_delay_doubles_after_each_further_failure(client, db):
    user = UserFactory(
        failed_logins=5, login_blocked_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    db.flush()

    before = datetime.now(UTC)
    sign_in(client, user.email, "wrong password")

    db.refresh(user)
    assert user.failed_logins == 6
    delay = (user.login_blocked_until - before).total_seconds()
    assert 59 <= delay <= 61


@pytest.mark.parametrize("max_delay", [15 * 60, 120])
def test_throttle_delay_is_capped(app, client, db, max_delay):
    app.config["LOGIN_MAX_DELAY_SECONDS"] = max_delay
    user = UserFactory(failed_logins=40)
    db.flush()

    before = datetime.now(UTC)
    sign_in(client, user.email, "wrong password")

    db.refresh(user)
    delay = (user.login_blocked_until - before).total_seconds()
    assert max_delay - 1 <= delay <= max_delay + 1
    text = sign_in(client, user.email).get_data(as_text=True)
    assert f"Try again in {max_delay // 60} minute(s)" in text


def test_successful_sign_in_after_the_wait_resets_the_counter(client, db):
    user = UserFactory(
        failed_logins=7, login_blocked_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    db.flush()

    response = sign_in(client, user.email)

    assert response.status_code == 302
    db.refresh(user)
    assert user.failed_logins == 0
    assert user.login_blocked_until is None
    # The next failure starts from scratch: no delay.
    client.post("/sign-out")
    sign_in(client, user.email, "wrong password")
    db.refresh(user)
    assert user.failed_logins == 1
    assert user.login_blocked_until is None


# -- sessions -------------------------------------------------------------------------------


def test_session_is_cleared_at_sign_in(client, db):
    user = UserFactory()
    db.flush()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"

    sign_in(client, user.email)

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}:{user.session_token}"


def test_sign_out_requires_post(client, db, auth):
    user = UserFactory()
    db.flush()
    auth.login(user)

    assert client.get("/sign-out").status_code == 405
    assert client.get("/").status_code == 200


def test_sign_out_rotates_the_session_token(app, client, db, auth):
    user = UserFactory()
    db.flush()
    old_token = user.session_token
    auth.login(user)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/").status_code == 200

    response = client.post("/sign-out")

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert_signed_out(client)
    response = copy.get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"
    db.refresh(user)
    assert user.session_token != old_token


def test_sign_out_when_anonymous_redirects_to_sign_in(client):
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def test_remember_me_cookie_attributes(client, db):
    user = UserFactory()
    db.flush()

    response = sign_in(client, user.email, remember="y")

    assert response.status_code == 302
    cookie = set_cookie_header(response, "remember_token")
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert "secure" not in cookie  # plain-HTTP test configuration
    expires = parsedate_to_datetime(str(cookie["expires"]))
    expected = datetime.now(UTC) + timedelta(days=30)
    assert abs((expires - expected).total_seconds()) < 120
    session_cookie = set_cookie_header(response, "session")
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"


def test_no_remember_me_cookie_without_the_box_ticked(client, db):
    user = UserFactory()
    db.flush()

    response = sign_in(client, user.email)

    assert response.status_code == 302
    assert not any(h.startswith("remember_token=") for h in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("remember_token") is None


def test_remember_me_cookie_keeps_signed_in_until_sign_out_elsewhere(app, client, db):
    user = UserFactory()
    db.flush()
    sign_in(client, user.email, remember="y")
    client.delete_cookie("session")
    assert client.get("/").status_code == 200  # restored from the remember-me cookie

    elsewhere = signed_in_client(app, user)
    elsewhere.post("/sign-out")  # rotates the session token: every cookie stops working

    client.delete_cookie("session")
    assert_signed_out(client)


def test_remember_me_cookie_is_secure_when_configured(connection, tmp_path, smtp_server, db):
    controller, _mailbox = smtp_server
    secure_app = create_app(
        app_config(connection, tmp_path, controller.port, REMEMBER_COOKIE_SECURE=True)
    )
    user = UserFactory()
    db.flush()

    response = sign_in(secure_app.test_client(), user.email, remember="y")

    assert response.status_code == 302
    cookie = set_cookie_header(response, "remember_token")
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


# -- next redirects -------------------------------------------------------------------------


def test_anonymous_request_for_a_protected_page_goes_to_sign_in_with_next(client, db):
    user = UserFactory()
    db.flush()

    response = client.get("/members/?q=porto")

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query) == {"next": ["/members/?q=porto"]}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/members/?q=porto"' in page

    response = sign_in(client, user.email, next="/members/?q=porto")
    assert response.status_code == 302
    assert response.headers["Location"] == "/members/?q=porto"


def test_next_to_a_local_path_is_followed(client, db):
    user = UserFactory()
    db.flush()

    response = client.post(
        "/sign-in?next=/members/", data={"email": user.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/members/"


UNSAFE_NEXT = [
    "//evil.example",
    "/\\evil.example",
    "https://evil.example",
    "http://evil.example/x",
    "javascript:alert(1)",
    "///evil.example",
    "/\t/evil.example",
]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_next_to_another_site_is_refused(client, db, target):
    user = UserFactory()
    db.flush()

    response = sign_in(client, user.email, next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # An already signed-in visitor of /sign-in is sent home too.
    response = client.get("/sign-in", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_signed_in_visitor_of_sign_in_page_follows_a_safe_next(client, db, auth):
    user = UserFactory()
    db.flush()
    auth.login(user)

    response = client.get("/sign-in?next=/account")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


# -- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(connection, tmp_path, smtp_server, db):
    controller, _mailbox = smtp_server
    csrf_app = create_app(app_config(connection, tmp_path, controller.port, WTF_CSRF_ENABLED=True))
    return csrf_app.test_client()


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def test_sign_in_without_csrf_token_is_refused(csrf_client, db):
    user = UserFactory()
    db.flush()

    response = sign_in(csrf_client, user.email)

    assert response.status_code == 400
    assert session_user_id(csrf_client) is None
    db.refresh(user)
    assert user.last_login_at is None


def test_sign_out_without_csrf_token_is_refused(csrf_client, db):
    user = UserFactory()
    db.flush()
    token = csrf_token(csrf_client.get("/sign-in").get_data(as_text=True))
    response = sign_in(csrf_client, user.email, csrf_token=token)
    assert response.status_code == 302
    old_token = user.session_token

    response = csrf_client.post("/sign-out")

    assert response.status_code == 400
    assert csrf_client.get("/").status_code == 200  # still signed in
    db.refresh(user)
    assert user.session_token == old_token

    token = csrf_token(csrf_client.get("/").get_data(as_text=True))
    response = csrf_client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert session_user_id(csrf_client) is None
