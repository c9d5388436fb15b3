"""The application shell: configuration, error pages, mail transport, lists, packaging."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email import message_from_bytes
from pathlib import Path

import pytest

from secretariat import create_app
from secretariat.config import DEFAULT_SECRET_KEY, ConfigError
from secretariat.mail import SmtpSettings, send_mail
from secretariat.permissions import public
from secretariat.vocabularies import services as vocab
from secretariat.vocabularies.models import Term, Vocabulary
from tests.conftest import app_config
from tests.factories import MemberFactory, TermFactory, UserFactory


def test_production_refuses_the_default_secret_key(connection, tmp_path):
    config = app_config(connection, tmp_path, None, ENV="production", SECRET_KEY=DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigError, match="SECRETARIAT_SECRET_KEY"):
        create_app(config)


def test_production_starts_with_a_real_secret_key(connection, tmp_path):
    config = app_config(connection, tmp_path, None, ENV="production", SECRET_KEY="x" * 40)
    assert create_app(config).config["ENV"] == "production"


def test_unknown_time_zone_is_refused(connection, tmp_path):
    with pytest.raises(ConfigError, match="time zone"):
        create_app(app_config(connection, tmp_path, None, TIMEZONE="Mars/Olympus"))


def test_environment_variables_are_read(monkeypatch, tmp_path):
    from secretariat.config import load_config

    monkeypatch.setenv("SECRETARIAT_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("SECRETARIAT_BASE_URL", "https://network.example/")
    monkeypatch.setenv("SECRETARIAT_TIMEZONE", "Europe/Lisbon")
    monkeypatch.setenv("SECRETARIAT_SMTP_URL", "smtp://mail.example:2525")
    config = load_config()
    assert config["DATABASE_URL"] == "sqlite:///elsewhere.db"
    assert config["BASE_URL"] == "https://network.example"
    assert config["TIMEZONE"] == "Europe/Lisbon"
    assert config["SMTP_URL"] == "smtp://mail.example:2525"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


def test_friendly_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_friendly_500_page_and_nothing_committed(connection, tmp_path, db):
    app = create_app(app_config(connection, tmp_path, None, PROPAGATE_EXCEPTIONS=False))

    @public
    def explode():
        from secretariat.db import get_session

        get_session().add(Term(vocabulary=Vocabulary.TIER, label="Half-written", position=1))
        get_session().flush()
        raise RuntimeError("boom")

    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert db.query(Term).filter_by(label="Half-written").count() == 0


def test_undeclared_endpoint_is_refused(connection, tmp_path):
    app = create_app(app_config(connection, tmp_path, None))
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    assert app.test_client().get("/undeclared").status_code == 404


def test_mail_without_smtp_is_written_to_the_outbox(connection, tmp_path):
    app = create_app(app_config(connection, tmp_path, None))
    with app.app_context():
        send_mail("someone@example.org", "Hello São Paulo", "Olá, mundo — ✓")
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes())
    assert message["To"] == "someone@example.org"
    assert "São Paulo" in str(message["Subject"]) or "S=C3=A3o" in message["Subject"]
    assert "Olá, mundo" in message.get_payload(decode=True).decode()


def test_mail_goes_to_the_smtp_server(app, mailbox):
    send_mail("focal@city.example", "Reminder", "Body text")
    assert [m["Subject"] for m in mailbox.to("focal@city.example")] == ["Reminder"]


def test_smtp_url_parsing():
    plain = SmtpSettings.from_url("smtp://mail.example")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
        "mail.example", 25, False, False
    )
    tls = SmtpSettings.from_url("smtps://user%40x:p%40ss@mail.example")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (465, True, "user@x", "p@ss")
    start = SmtpSettings.from_url("smtp://u:p@mail.example:587?starttls=1")
    assert (start.port, start.starttls) == (587, True)
    with pytest.raises(ValueError):
        SmtpSettings.from_url("http://mail.example")


def test_lists_are_maintained_by_admin(client, auth, db):
    admin = UserFactory(admin=True)
    db.flush()
    auth.login(admin)
    response = client.post("/admin/lists/tier", data={"label": "  Full  "})
    assert response.status_code == 302
    term = db.query(Term).filter_by(vocabulary=Vocabulary.TIER, label="Full").one()
    duplicate = client.post("/admin/lists/tier", data={"label": "FULL"})
    assert "already in the list" in duplicate.get_data(as_text=True)
    assert db.query(Term).filter_by(vocabulary=Vocabulary.TIER).count() == 1
    response = client.post(
        f"/admin/lists/tier/{term.id}", data={"label": "Full member", "position": "3"}
    )
    assert response.status_code == 302
    db.refresh(term)
    assert (term.label, term.position, term.is_active) == ("Full member", 3, False)
    assert client.get("/admin/lists/colour").status_code == 404


def test_retired_term_stays_on_its_members(client, auth, db):
    region = TermFactory(label="Old region", is_active=False)
    member = MemberFactory(region=region)
    staff = UserFactory()
    db.flush()
    auth.login(staff)
    page = client.get(f"/members/{member.slug}/edit").get_data(as_text=True)
    assert "Old region" in page
    assert vocab.terms(db, Vocabulary.REGION, active_only=True) == []


@pytest.mark.slow
def test_wheel_contains_templates_static_migrations_and_seeds(tmp_path):
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(root)],
        check=True,
    )
    wheel = next(tmp_path.glob("secretariat-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "secretariat/_resources/templates/base.html",
        "secretariat/_resources/static/vendor/pico/pico.min.css",
        "secretariat/_resources/alembic.ini",
        "secretariat/_resources/seeds/demo/members.csv",
    ):
        assert expected in names
    assert any(n.startswith("secretariat/_resources/migrations/versions/") for n in names)
