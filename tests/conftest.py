"""Test fixtures: the schema is built by the migrations once; each test runs in a savepoint.

The suite runs on SQLite by default and on the database named by
SECRETARIAT_TEST_DATABASE_URL (e.g. PostgreSQL) when it is set.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from secretariat import create_app
from secretariat.cli import alembic_config, main
from secretariat.db import make_engine
from tests import factories

TEST_DATABASE_URL = os.environ.get("SECRETARIAT_TEST_DATABASE_URL")
PASSWORD = factories.PASSWORD


def reset_database(url: str) -> None:
    """Start from an empty database (PostgreSQL keeps its schema between runs)."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    reset_database(database_url)
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection per test inside a transaction that is rolled back at the end."""
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


# -- mail ------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """Messages received by the test SMTP server."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address.lower() in m["To"].lower()]

    def last_link(self, address: str, path: str) -> str:
        """The path of the last link to ``path`` mailed to ``address``."""
        messages = self.to(address)
        assert messages, f"no mail to {address}"
        body = messages[-1].get_payload(decode=True).decode()
        found = re.findall(r"https?://[^/\s]+(" + re.escape(path) + r"/[\w\-]+)", body)
        assert found, f"no {path} link in: {body}"
        return found[-1]


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self.mailbox.lock:
            self.mailbox.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    """A real SMTP server on localhost for the whole session."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, Mailbox]) -> Mailbox:
    _controller, box = smtp_server
    box.clear()
    return box


# -- application -----------------------------------------------------------------------------


def app_config(connection: Connection, tmp_path, smtp_port: int | None, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": connection.engine.url.render_as_string(hide_password=False),
        "DATABASE_BIND": connection,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "OUTBOX_PATH": str(tmp_path / "outbox"),
        "UPLOAD_PATH": str(tmp_path / "uploads"),
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}" if smtp_port else None,
        "BASE_URL": "http://localhost",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_COST": 1024,
        "PASSWORD_HASH_PARALLELISM": 1,
        "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    return config


class IsolatedClient(FlaskClient):
    """A test client whose every request gets a fresh application context.

    Tests keep an app context pushed (services need it); without this, Flask would reuse it
    for the requests, and ``g`` (with Flask-Login's cached user) would leak between them.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app_overrides() -> dict:
    """Settings a test module changes, e.g. ``{"TIMEZONE": "Pacific/Kiritimati"}``: override
    this fixture in the module (or parametrize it)."""
    return {}


@pytest.fixture
def app(connection: Connection, tmp_path, smtp_server, mailbox, app_overrides):
    controller, _box = smtp_server
    app = create_app(app_config(connection, tmp_path, controller.port, **app_overrides))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(app):
    """Run a `secretariat ...` command against the test app; returns the click result."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, args=list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def db(connection: Connection, app) -> Iterator[Session]:
    """A session for arranging data and checking results, on the test's connection."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    factories.bind(session)
    yield session
    factories.bind(None)
    session.close()


class Auth:
    """Sign in and out through the real sign-in form."""

    def __init__(self, client) -> None:
        self.client = client

    def login(self, user, password: str = PASSWORD):
        response = self.client.post(
            "/sign-in", data={"email": user.email, "password": password}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return self.client.post("/sign-out")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(connection: Connection):
    """Count the SQL statements run on the test connection inside a ``with`` block."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                counter.statements.append(statement)

        event.listen(connection, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(connection, "before_cursor_execute", before)

    return counting
