"""The reminder pages through real requests: one's own delivery choices (signed in and through
the mailed link), and for admins the rules, the dry run, the outbox with its filters, pages and
retries, one message in plain text and in sandboxed HTML, the scheduler's state, and how many
queries the lists cost."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select, update

from secretariat.accounts.models import Role
from secretariat.clock import network_today
from secretariat.db import utcnow
from secretariat.followups.models import FollowUp
from secretariat.notifications import services
from secretariat.notifications.models import (
    Category,
    DeliveryMode,
    JobRun,
    Notification,
    NotificationPreference,
    NotificationStatus,
    ReminderRule,
    RuleKind,
    SchedulerHeartbeat,
)
from secretariat.notifications.render import preference_token
from secretariat.notifications.rules import KINDS
from tests.factories import CommitmentFactory, ContactFactory, MemberFactory, UserFactory
from tests.followups.factories import FollowUpFactory, field_error, section, text
from tests.notifications.conftest import LONG_AGO, at

S = NotificationStatus
ESCALATING = [Role.ADMIN, Role.STAFF]

# -- helpers --------------------------------------------------------------------------------


@pytest.fixture
def admin(db, auth):
    """An administrator, signed in."""
    user = UserFactory(admin=True, name="Ada Admin", email="ada@example.org")
    auth.login(user)
    return user


def follow_ups(day: date, count: int, owners: list | None = None, **fields) -> list[FollowUp]:
    """Follow-ups due on ``day``, made long ago (so that their reminders may be sent)."""
    owners = owners or [UserFactory()]
    made = []
    for n in range(count):
        values = {"owner": owners[n % len(owners)], "due_on": day, "created_at": LONG_AGO}
        values.update(fields)
        made.append(FollowUpFactory(**values))
    return made


def due_now_day(app) -> date:
    """The local day whose reminder hour passed most recently: the "due today" reminder of a
    follow-up due that day is due now (the dry run looks at the real clock)."""
    now = utcnow()
    today = network_today(now)
    fired = at(today, app.config["REMINDER_HOUR"], zone=app.config["TIMEZONE"])
    return today if fired <= now else today - timedelta(days=1)


def body(response) -> str:
    """The page's HTML as sent (entities not decoded): for escaping, tables and messages."""
    return response.get_data(as_text=True)


def follow(client, response) -> str:
    """The HTML of the page a redirect leads to, where its flashed messages are shown."""
    assert response.status_code == 302, body(response)[:1000]
    return body(client.get(response.headers["Location"]))


def location(response) -> str:
    assert response.status_code == 302, body(response)[:1000]
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _words(fragment: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def rows(fragment: str) -> list[list[str]]:
    """The text of each body row's cells in an HTML fragment as sent (tags are removed before
    entities are decoded, so that "<olga@example.org>" survives)."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", fragment, flags=re.DOTALL):
        cells = re.findall(r"<t([dh])[^>]*>(.*?)</t[dh]>", row, flags=re.DOTALL)
        if cells and any(kind == "d" for kind, _cell in cells):
            found.append([_words(cell) for _kind, cell in cells])
    return found


def flashed(page: str) -> list[tuple[str, str]]:
    """The flashed messages of a page (HTML as sent): their kind and text."""
    found = re.findall(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', page, flags=re.DOTALL)
    return [(kind, _words(message)) for kind, message in found]


def messages(page: str) -> list[list[str]]:
    """The outbox table: subject, recipient, fell due, status, attempts, action."""
    return rows(section(page, "messages-title"))


def subjects(page: str) -> list[str]:
    return [row[0] for row in messages(page)]


def planned(page: str) -> dict[str, list[str]]:
    """The dry run's rows by their first cell: the rule and its offset."""
    return {row[0]: row for row in rows(page)}


def checked(page: str, category: str) -> list[str]:
    """The modes whose radio button of the category is checked on the preferences page."""
    return re.findall(rf'name="{category}" value="(\w+)" checked', page)


def radios(page: str, category: str) -> list[str]:
    return re.findall(rf'name="{category}" value="(\w+)"', page)


def choices(categories, **chosen: str) -> dict[str, str]:
    """The preferences form as a browser posts it: a mode for every category offered,
    "immediately" unless chosen otherwise."""
    data = {category.value: "immediately" for category in categories}
    data.update(chosen)
    return data


def saved(db, email: str) -> dict[str, str]:
    db.expire_all()
    return {
        pref.category.value: pref.mode.value
        for pref in db.scalars(
            select(NotificationPreference).where(NotificationPreference.email == email)
        )
    }


def preference_count(db) -> int:
    return db.scalar(select(func.count(NotificationPreference.id)))


def rule(db, kind: RuleKind, offset: int) -> ReminderRule:
    found = db.scalar(
        select(ReminderRule).where(ReminderRule.kind == kind, ReminderRule.offset_days == offset)
    )
    assert found is not None, (kind, offset)
    return found


def rule_rows(db) -> list[tuple]:
    db.expire_all()
    return db.execute(
        select(
            ReminderRule.id,
            ReminderRule.kind,
            ReminderRule.offset_days,
            ReminderRule.enabled,
            ReminderRule.updated_by_id,
        ).order_by(ReminderRule.id)
    ).all()


def outbox_rows(db) -> list[tuple]:
    db.expire_all()
    return db.execute(
        select(
            Notification.id,
            Notification.status,
            Notification.attempts,
            Notification.next_attempt_at,
            Notification.retried_by_id,
        ).order_by(Notification.id)
    ).all()


def notifications(db, run, **where) -> list[Notification]:
    """The outbox read again (requests changed it behind the test's session)."""
    db.expire_all()
    return run.notifications(**where)


def statuses_of(db, run, email: str) -> list[NotificationStatus]:
    """The statuses of a recipient's reminders, but for the ones skipped as too late."""
    return [
        n.status for n in notifications(db, run, recipient_email=email) if n.status != S.SKIPPED
    ]


def fail_delivery(app, run, now) -> None:
    """Deliver with the mail server unreachable, then again once the retry period is over:
    the queued messages fail for good."""
    smtp = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"
    try:
        first = run.deliver(now)
        assert (first.sent, first.failed) == (0, 0) and first.retrying > 0
        later = run.deliver(now + timedelta(hours=app.config["OUTBOX_RETRY_HOURS"], minutes=5))
        assert (later.sent, later.retrying, later.failed) == (0, 0, first.retrying)
    finally:
        app.config["SMTP_URL"] = smtp


@pytest.fixture
def scanned(db, run, base_day):
    """Three follow-ups due on base day, scanned that morning: for each, "due today" is
    queued and "due in 3 days" (three days late) is skipped."""
    olga = UserFactory(name="Olga Owner", email="olga@example.org")
    items = [
        *follow_ups(base_day, 1, [olga], title="Send the minutes"),
        *follow_ups(base_day, 1, [olga], title="Call the mayor"),
        *follow_ups(base_day, 1, [UserFactory(name="Pat Other")], title="Book the venue"),
    ]
    result = run.scan(at(base_day, 9))
    assert (result.queued, result.held, result.skipped_late) == (3, 0, 3)
    return items


def outbox(db) -> list[Notification]:
    db.expire_all()
    return list(db.scalars(select(Notification).order_by(Notification.id)))


def the(db, subject: str) -> Notification:
    (found,) = [n for n in outbox(db) if n.subject == subject]
    return found


# -- preferences, signed in -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.FOCAL_POINT])
def test_preferences_page_offers_the_categories_of_the_role(db, client, auth, role):
    user = UserFactory(role=role, focal_point=role is Role.FOCAL_POINT)
    auth.login(user)
    response = client.get("/notifications/preferences")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Your reminders</h1>" in page
    assert f"Reminders to {user.email}." in page
    offered = services.ROLE_CATEGORIES[role]
    for category in Category:
        if category in offered:
            assert checked(page, category.value) == ["immediately"], category
        else:
            assert radios(page, category.value) == [], category
    assert radios(page, "follow_ups") == ["immediately", "digest", "off"]
    if role in ESCALATING:
        # Escalations may go to the digest, never off.
        assert radios(page, "escalations") == ["immediately", "digest"]
        assert "Escalations cannot be turned off" in page
    else:
        assert "Escalations" not in page
    # Signed in: no warning about forwarding the link.
    assert "do not forward it" not in page


def test_preferences_are_saved(db, client, auth):
    auth.login(UserFactory(email="sofia@example.org"))
    data = choices(
        services.ROLE_CATEGORIES[Role.STAFF],
        follow_ups="digest",
        events="off",
        escalations="digest",
    )
    response = client.post("/notifications/preferences", data=data)
    assert location(response) == "/notifications/preferences"
    page = follow(client, response)
    assert ("success", "Done: Your choices are saved.") in flashed(page)
    assert checked(page, "follow_ups") == ["digest"]
    assert checked(page, "events") == ["off"]
    assert checked(page, "escalations") == ["digest"]
    assert checked(page, "fees") == ["immediately"]
    assert saved(db, "sofia@example.org") == data
    # Saving again updates the rows; it adds none.
    response = client.post("/notifications/preferences", data={**data, "events": "immediately"})
    assert response.status_code == 302
    assert saved(db, "sofia@example.org") == {**data, "events": "immediately"}
    assert preference_count(db) == len(data)


@pytest.mark.parametrize("role", ESCALATING)
def test_staff_cannot_turn_escalations_off(db, client, auth, role):
    user = UserFactory(role=role)
    auth.login(user)
    data = choices(services.ROLE_CATEGORIES[role], escalations="off", follow_ups="digest")
    response = client.post("/notifications/preferences", data=data)
    assert response.status_code == 422
    page = text(response)
    message = "Escalations to staff cannot be turned off; choose the weekly digest instead."
    assert field_error(page, "escalations") == message
    assert "Please correct the following" in page
    # Nothing is saved, not even the valid choice posted with it.
    assert preference_count(db) == 0
    # The form keeps what was posted.
    assert checked(page, "follow_ups") == ["digest"]


def test_the_escalation_error_links_to_a_field_of_the_form(db, client, auth):
    auth.login(UserFactory())
    data = choices(services.ROLE_CATEGORIES[Role.STAFF], escalations="off")
    page = body(client.post("/notifications/preferences", data=data))
    summary = page.split('class="error-summary"', 1)[1].split("</section>", 1)[0]
    (target,) = re.findall(r'href="#([\w-]+)"', summary)
    assert f'id="{target}"' in page


@pytest.mark.parametrize("posted", ["sometimes", ""])
def test_an_unknown_or_missing_mode_is_refused(db, client, auth, posted):
    auth.login(UserFactory(focal_point=True))
    data = choices(services.ROLE_CATEGORIES[Role.FOCAL_POINT], fees=posted, events="digest")
    response = client.post("/notifications/preferences", data=data)
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "fees") == "Choose how you want these messages."
    # The error summary links to a radio button of the field.
    assert 'href="#fees-immediately"' in page and 'id="fees-immediately"' in page
    assert preference_count(db) == 0


def test_a_category_not_offered_is_not_saved(db, client, auth):
    """Focal points are not offered escalations: posting a choice for them saves none."""
    user = UserFactory(focal_point=True)
    auth.login(user)
    assert Category.ESCALATIONS not in services.ROLE_CATEGORIES[Role.FOCAL_POINT]
    data = choices(services.ROLE_CATEGORIES[Role.FOCAL_POINT], escalations="off", fees="digest")
    response = client.post("/notifications/preferences", data=data)
    assert response.status_code in (302, 422)
    assert "escalations" not in saved(db, user.email)


def test_funders_have_no_preferences_page(db, client, auth):
    auth.login(UserFactory(funder_user=True))
    response = client.get("/notifications/preferences")
    assert response.status_code == 404
    assert "Page not found" in text(response)
    response = client.post("/notifications/preferences", data={"follow_ups": "off"})
    assert response.status_code == 404
    assert preference_count(db) == 0


@pytest.fixture
def held(db, run, base_day):
    """Sofia and Pat keep follow-ups for the weekly digest: their reminders of base day are
    held (two for Sofia, one for Pat)."""
    sofia = UserFactory(name="Sofia Staff", email="sofia@example.org")
    pat = UserFactory(name="Pat Staff", email="pat@example.org")
    for user in (sofia, pat):
        services.set_preferences(
            db,
            user.email,
            {Category.FOLLOW_UPS: DeliveryMode.DIGEST},
            services.ROLE_CATEGORIES[Role.STAFF],
        )
    follow_ups(base_day, 2, [sofia])
    follow_ups(base_day, 1, [pat])
    result = run.scan(at(base_day, 9))
    assert result.held == 3
    return sofia, pat


def test_choosing_immediately_queues_the_held_reminders(db, client, auth, run, held):
    sofia, pat = held
    auth.login(sofia)
    before = utcnow() - timedelta(seconds=1)
    data = choices(services.ROLE_CATEGORIES[Role.STAFF], agreements="digest")
    assert client.post("/notifications/preferences", data=data).status_code == 302
    assert statuses_of(db, run, sofia.email) == [S.QUEUED, S.QUEUED]
    for notification in notifications(db, run, recipient_email=sofia.email, status=S.QUEUED):
        assert notification.next_attempt_at >= before
    # Someone else's stay held.
    assert statuses_of(db, run, pat.email) == [S.HELD]


def test_turning_a_category_off_cancels_the_held_reminders(db, client, auth, run, held):
    sofia, pat = held
    auth.login(sofia)
    data = choices(services.ROLE_CATEGORIES[Role.STAFF], follow_ups="off")
    assert client.post("/notifications/preferences", data=data).status_code == 302
    assert statuses_of(db, run, sofia.email) == [S.CANCELLED, S.CANCELLED]
    cancelled = notifications(db, run, recipient_email=sofia.email, status=S.CANCELLED)
    assert {n.reason for n in cancelled} == {"Turned off by the recipient."}
    assert statuses_of(db, run, pat.email) == [S.HELD]


def test_keeping_the_digest_keeps_the_reminders_held(db, client, auth, run, held):
    sofia, _pat = held
    auth.login(sofia)
    data = choices(services.ROLE_CATEGORIES[Role.STAFF], follow_ups="digest", fees="off")
    assert client.post("/notifications/preferences", data=data).status_code == 302
    assert statuses_of(db, run, sofia.email) == [S.HELD, S.HELD]


def test_a_refused_choice_leaves_the_held_reminders_alone(db, client, auth, run, held):
    sofia, _pat = held
    auth.login(sofia)
    data = choices(services.ROLE_CATEGORIES[Role.STAFF], follow_ups="off", escalations="off")
    assert client.post("/notifications/preferences", data=data).status_code == 422
    assert statuses_of(db, run, sofia.email) == [S.HELD, S.HELD]
    assert saved(db, sofia.email) == {"follow_ups": "digest"}


# -- preferences through the mailed link ----------------------------------------------------


def test_a_contact_chooses_through_the_link_without_signing_in(db, client):
    ContactFactory(name="Carla Contact", email="Carla@City.Example")
    path = f"/notifications/preferences/{preference_token('Carla@City.Example')}"
    response = client.get(path)
    assert response.status_code == 200
    page = text(response)
    assert "Reminders to carla@city.example." in page
    assert "anyone with that link can change these choices, so do not forward it." in page
    for category in Category:
        if category in services.CONTACT_CATEGORIES:
            assert checked(page, category.value) == ["immediately"], category
        else:
            assert radios(page, category.value) == [], category
    data = choices(services.CONTACT_CATEGORIES, events="off", reporting="digest")
    response = client.post(path, data=data)
    assert location(response) == path
    page = follow(client, response)
    assert ("success", "Done: Your choices are saved.") in flashed(page)
    assert checked(page, "events") == ["off"]
    assert checked(page, "reporting") == ["digest"]
    # Keyed by the lower-cased address.
    assert saved(db, "carla@city.example") == data
    assert preference_count(db) == len(services.CONTACT_CATEGORIES)


def test_a_contact_cannot_choose_what_is_not_sent_to_contacts(db, client):
    ContactFactory(email="carla@city.example")
    path = f"/notifications/preferences/{preference_token('carla@city.example')}"
    data = choices(services.CONTACT_CATEGORIES, follow_ups="off", escalations="digest")
    assert client.post(path, data=data).status_code == 302
    assert set(saved(db, "carla@city.example")) == {c.value for c in services.CONTACT_CATEGORIES}


def test_the_link_of_a_user_offers_the_categories_of_the_role(db, client):
    staff = UserFactory(email="sofia@example.org")
    path = f"/notifications/preferences/{preference_token(staff.email)}"
    page = text(client.get(path))
    assert radios(page, "escalations") == ["immediately", "digest"]
    assert radios(page, "follow_ups") == ["immediately", "digest", "off"]
    data = choices(services.ROLE_CATEGORIES[Role.STAFF], escalations="off")
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert field_error(text(response), "escalations").startswith(
        "Escalations to staff cannot be turned off"
    )
    assert preference_count(db) == 0


def test_the_link_of_a_funder_offers_nothing(db, client):
    funder = UserFactory(funder_user=True)
    page = text(client.get(f"/notifications/preferences/{preference_token(funder.email)}"))
    assert "No reminders are sent to your account." in page
    assert "Save my choices" not in page
    assert 'type="radio"' not in page


def test_choosing_through_the_link_queues_the_held_reminders(db, client, run, held):
    sofia, pat = held
    path = f"/notifications/preferences/{preference_token(sofia.email)}"
    response = client.post(path, data=choices(services.ROLE_CATEGORIES[Role.STAFF]))
    assert response.status_code == 302
    assert statuses_of(db, run, sofia.email) == [S.QUEUED, S.QUEUED]
    assert statuses_of(db, run, pat.email) == [S.HELD]


@pytest.mark.parametrize("kind", ["garbage", "tampered", "other-salt", "other-key"])
def test_a_bad_link_is_not_found(db, client, app, kind):
    ContactFactory(email="carla@city.example")
    good = preference_token("carla@city.example")
    mallory = preference_token("mallory@city.example")
    token = {
        "garbage": "0123456789abcdef",
        # Mallory's address with Carla's signature.
        "tampered": f"{mallory.split('.')[0]}.{good.split('.')[1]}",
        "other-salt": URLSafeSerializer(app.config["SECRET_KEY"], salt="password-reset").dumps(
            "carla@city.example"
        ),
        "other-key": URLSafeSerializer("another-key", salt="notification-preferences").dumps(
            "carla@city.example"
        ),
    }[kind]
    path = f"/notifications/preferences/{token}"
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in text(response)
    response = client.post(path, data=choices(services.CONTACT_CATEGORIES, events="off"))
    assert response.status_code == 404
    assert preference_count(db) == 0
    # The real link works.
    assert client.get(f"/notifications/preferences/{good}").status_code == 200


def test_the_preferences_page_escapes_the_address(db, client):
    email = '"<script>alert(1)</script>"@example.org'
    page = body(client.get(f"/notifications/preferences/{preference_token(email)}"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- rules ----------------------------------------------------------------------------------


def test_the_migration_seeds_the_default_rules(db):
    seeded = db.scalars(select(ReminderRule)).all()
    assert len(seeded) == 15
    assert {r.kind for r in seeded} == set(RuleKind)
    for item in seeded:
        assert item.enabled
        assert KINDS[item.kind].lowest <= item.offset_days <= KINDS[item.kind].highest


def test_the_rules_page_lists_the_rules(db, client, admin):
    response = client.get("/admin/reminders")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Reminder rules</h1>" in page
    for item in db.scalars(select(ReminderRule)):
        assert re.search(rf'id="offset_days-{item.id}"[^>]*value="{item.offset_days}"', page)
        assert re.search(rf'id="enabled-{item.id}" name="enabled" checked', page)
    assert page.count('name="offset_days"') == 16  # the 15 rules, and a new one
    assert "Follow-up due (to its owner)" in page
    assert "Late members after the grace period (to staff)" in page
    assert "Reminders go out at 08:00 in the network’s time zone (UTC)" in page


def test_an_admin_changes_and_switches_off_a_rule(db, client, admin):
    target = rule(db, RuleKind.FOLLOW_UP_DUE, 7)
    others = [r for r in rule_rows(db) if r.id != target.id]
    response = client.post(f"/admin/reminders/{target.id}", data={"offset_days": " 10 "})
    assert location(response) == "/admin/reminders"
    db.expire_all()
    changed = db.get(ReminderRule, target.id)
    assert (changed.offset_days, changed.enabled, changed.updated_by_id) == (10, False, admin.id)
    assert [r for r in rule_rows(db) if r.id != target.id] == others
    # And on again; keeping its own offset is no clash.
    response = client.post(
        f"/admin/reminders/{target.id}", data={"offset_days": "10", "enabled": "on"}
    )
    assert location(response) == "/admin/reminders"
    db.expire_all()
    assert db.get(ReminderRule, target.id).enabled is True


def test_the_rules_page_shows_the_change(db, client, admin):
    target = rule(db, RuleKind.FOLLOW_UP_DUE, 7)
    page = follow(client, client.post(f"/admin/reminders/{target.id}", data={"offset_days": "9"}))
    assert ("success", "Done: The reminder rule is saved.") in flashed(page)
    assert re.search(rf'id="offset_days-{target.id}"[^>]*value="9"', page)
    assert not re.search(rf'id="enabled-{target.id}" name="enabled" checked', page)
    assert "Ada Admin" in page


@pytest.mark.parametrize(
    ("kind", "offset", "posted", "message"),
    [
        (RuleKind.FOLLOW_UP_DUE, 7, "abc", "Enter a whole number of days."),
        (RuleKind.FOLLOW_UP_DUE, 7, "", "Enter a whole number of days."),
        (RuleKind.FOLLOW_UP_DUE, 7, "2.5", "Enter a whole number of days."),
        (
            RuleKind.FOLLOW_UP_DUE,
            7,
            "61",
            "Use a number of days from -60 to 60 for this kind of reminder.",
        ),
        (
            RuleKind.FOLLOW_UP_DUE,
            7,
            "-61",
            "Use a number of days from -60 to 60 for this kind of reminder.",
        ),
        (
            RuleKind.COMMITMENT_STALE,
            180,
            "10",
            "Use a number of days from 30 to 366 for this kind of reminder.",
        ),
        (RuleKind.FOLLOW_UP_DUE, 7, "0", "There is already a rule of this kind with this offset."),
    ],
)
def test_an_invalid_offset_is_refused_and_nothing_changes(
    db, client, admin, kind, offset, posted, message
):
    target = rule(db, kind, offset)
    before = rule_rows(db)
    response = client.post(
        f"/admin/reminders/{target.id}", data={"offset_days": posted, "enabled": "on"}
    )
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, f"offset_days-{target.id}") == message
    assert f'href="#offset_days-{target.id}"' in page
    # What was posted is shown again, to correct it.
    assert re.search(rf'id="offset_days-{target.id}"[^>]*value="{re.escape(posted)}"', page)
    assert rule_rows(db) == before


def test_an_unknown_rule_is_not_found(db, client, admin):
    before = rule_rows(db)
    response = client.post("/admin/reminders/999999", data={"offset_days": "1", "enabled": "on"})
    assert response.status_code == 404
    assert "Page not found" in text(response)
    assert rule_rows(db) == before


def test_an_admin_adds_a_rule(db, client, admin):
    response = client.post(
        "/admin/reminders/new", data={"kind": "follow_up_due", "offset_days": "14"}
    )
    assert location(response) == "/admin/reminders"
    added = rule(db, RuleKind.FOLLOW_UP_DUE, 14)
    assert (added.enabled, added.updated_by_id) == (True, admin.id)
    assert db.scalar(select(func.count(ReminderRule.id))) == 16


def test_the_rules_page_shows_the_added_rule(db, client, admin):
    response = client.post(
        "/admin/reminders/new", data={"kind": "event_start", "offset_days": "-7"}
    )
    page = follow(client, response)
    assert ("success", "Done: The reminder rule is added.") in flashed(page)
    added = rule(db, RuleKind.EVENT_START, -7)
    assert re.search(rf'id="offset_days-{added.id}"[^>]*value="-7"', page)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "", "offset_days": "3"}, "kind", "Choose what the reminder is about."),
        ({"kind": "birthday", "offset_days": "3"}, "kind", "Choose what the reminder is about."),
        (
            {"kind": "follow_up_due", "offset_days": "soon"},
            "offset_days",
            "Enter a whole number of days.",
        ),
        (
            {"kind": "event_start", "offset_days": "2"},
            "offset_days",
            "Use a number of days from -30 to 0 for this kind of reminder.",
        ),
        (
            {"kind": "follow_up_due", "offset_days": "-3"},
            "offset_days",
            "There is already a rule of this kind with this offset.",
        ),
        (
            {"kind": "fee_renewal", "offset_days": "-30"},
            "offset_days",
            "There is already a rule of this kind with this offset.",
        ),
    ],
)
def test_an_invalid_new_rule_is_refused(db, client, admin, data, field, message):
    before = rule_rows(db)
    response = client.post("/admin/reminders/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, f"{field}-new") == message
    assert rule_rows(db) == before
    # What was posted is shown again.
    if data["kind"] in RuleKind._value2member_map_:
        assert f'<option value="{data["kind"]}" selected>' in page
    assert re.search(rf'id="offset_days-new"[^>]*value="{data["offset_days"]}"', page)


def test_the_rules_page_escapes_what_was_posted(db, client, admin):
    response = client.post(
        "/admin/reminders/new",
        data={"kind": "follow_up_due", "offset_days": '"><script>alert(1)</script>'},
    )
    assert response.status_code == 422
    page = body(response)
    assert "<script>alert(1)</script>" not in page
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- dry run --------------------------------------------------------------------------------


def test_the_dry_run_lists_what_a_scan_would_do(db, client, app, admin, run):
    olga = UserFactory(name="Olga Owner", email="olga@example.org")
    (item,) = follow_ups(due_now_day(app), 1, [olga], title="Send the minutes")
    response = client.get("/admin/reminders/dry-run")
    assert response.status_code == 200
    page = body(response)
    assert "<h1>Dry run</h1>" in page
    found = planned(page)
    # "Due today", due now, would be sent; "due in 3 days", three days ago, is too late.
    today = found["Follow-up due (to its owner) (+0)"]
    assert today[1] == f"follow up #{item.id}"
    assert today[3] == "Olga Owner <olga@example.org>"
    assert today[4] == "Would be sent"
    assert found["Follow-up due (to its owner) (-3)"][4] == (
        "Would be skipped and logged: past the maximum lateness"
    )
    assert len(found) == 2
    assert f'href="/follow-ups/{item.id}"' in page
    assert "0 reminders due now are already queued or sent and not listed." in page
    # The dry run writes nothing.
    assert db.scalar(select(func.count(Notification.id))) == 0
    # Once scanned, they are not listed any more.
    run.scan(utcnow())
    assert db.scalar(select(func.count(Notification.id))) == 2
    page = text(client.get("/admin/reminders/dry-run"))
    assert "Would be sent" not in page
    assert "2 reminders due now are already queued or sent and not listed." in page
    assert "Nothing is due that has not been queued already." in page


@pytest.mark.parametrize(
    ("mode", "action"),
    [
        ("digest", "Would be held for the weekly digest"),
        ("off", "Not sent: the recipient turned these off"),
        ("immediately", "Would be sent"),
    ],
)
def test_the_dry_run_follows_the_recipients_choice(db, client, app, admin, mode, action):
    olga = UserFactory(email="olga@example.org")
    services.set_preferences(
        db, olga.email, {Category.FOLLOW_UPS: DeliveryMode(mode)}, [Category.FOLLOW_UPS]
    )
    follow_ups(due_now_day(app), 1, [olga])
    found = planned(body(client.get("/admin/reminders/dry-run")))
    assert found["Follow-up due (to its owner) (+0)"][4] == action


def test_the_dry_run_names_reminders_with_nobody_to_send_to(db, client, app, admin):
    follow_ups(due_now_day(app), 1, [UserFactory(is_active=False)])
    today = planned(body(client.get("/admin/reminders/dry-run")))[
        "Follow-up due (to its owner) (+0)"
    ]
    assert today[3] == "—"
    assert today[4] == "Nobody to send it to (no current contact with an e-mail address)"


def test_a_disabled_rule_is_left_out_of_the_dry_run(db, client, app, admin):
    follow_ups(due_now_day(app), 1)
    rule(db, RuleKind.FOLLOW_UP_DUE, 0).enabled = False
    rule(db, RuleKind.FOLLOW_UP_DUE, -3).enabled = False
    db.flush()
    page = text(client.get("/admin/reminders/dry-run"))
    assert "Nothing is due that has not been queued already." in page
    assert "Follow-up due" not in page


def test_the_dry_run_escapes_user_content(db, client, app, admin):
    owner = UserFactory(name="<script>alert(1)</script>")
    follow_ups(due_now_day(app), 1, [owner])
    page = body(client.get("/admin/reminders/dry-run"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;" in page


# -- the outbox -----------------------------------------------------------------------------


def test_the_outbox_lists_the_messages(db, client, admin, scanned):
    response = client.get("/admin/outbox")
    assert response.status_code == 200
    page = body(response)
    assert "<h1>Outbox</h1>" in page
    assert "6 messages" in page
    assert sorted(subjects(page)) == [
        "Due in 3 days: Book the venue",
        "Due in 3 days: Call the mayor",
        "Due in 3 days: Send the minutes",
        "Due today: Book the venue",
        "Due today: Call the mayor",
        "Due today: Send the minutes",
    ]
    by_subject = {row[0]: row for row in messages(page)}
    minutes = by_subject["Due today: Send the minutes"]
    assert minutes[1] == "Olga Owner <olga@example.org>"
    assert (minutes[3], minutes[4], minutes[5]) == ("Queued", "0", "")
    assert by_subject["Due in 3 days: Book the venue"][3] == "Skipped (too late)"
    # The counts, each a link to its filter.
    assert ">Queued: 3</a>" in page and ">Skipped (too late): 3</a>" in page
    assert 'href="/admin/outbox?status=queued"' in page
    assert 'href="/admin/outbox?status=skipped"' in page
    assert "Sent:" not in page
    # Each subject links to its message; nothing failed, so there is nothing to retry.
    for notification in outbox(db):
        assert f'href="/admin/outbox/{notification.id}"' in page
    assert "Send all failed messages again" not in page
    assert "/retry" not in page
    # Not filtered: nothing to clear.
    assert ">Clear</a>" not in page


def test_an_empty_outbox(db, client, admin):
    page = body(client.get("/admin/outbox"))
    assert "0 messages" in page
    assert messages(page) == []
    assert 'class="pagination"' not in page


MINUTES, MAYOR, VENUE = "Send the minutes", "Call the mayor", "Book the venue"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=skipped", {f"Due in 3 days: {t}" for t in (MINUTES, MAYOR, VENUE)}),
        ("status=queued&q=minutes", {f"Due today: {MINUTES}"}),
        (
            "q=OLGA%40Example",
            {f"Due {d}: {t}" for d in ("today", "in 3 days") for t in (MINUTES, MAYOR)},
        ),
        ("q=pat+other", {f"Due today: {VENUE}", f"Due in 3 days: {VENUE}"}),
        ("q=+MAYOR+", {f"Due today: {MAYOR}", f"Due in 3 days: {MAYOR}"}),
        ("category=follow_ups&status=queued", {f"Due today: {t}" for t in (MINUTES, MAYOR, VENUE)}),
        ("category=events", set()),
        ("status=failed", set()),
        ("q=nobody+at+all", set()),
    ],
)
def test_the_outbox_filters(db, client, admin, scanned, query, expected):
    response = client.get(f"/admin/outbox?{query}")
    assert response.status_code == 200
    page = body(response)
    assert sorted(subjects(page)) == sorted(expected)
    assert f"{len(expected)} message" in page
    # The form shows the filters in use, and a way to clear them.
    values = parse_qs(query)
    if "status" in values:
        assert f'<option value="{values["status"][0]}" selected>' in page
    if "category" in values:
        assert f'<option value="{values["category"][0]}" selected>' in page
    if "q" in values:
        assert f'name="q" value="{values["q"][0].strip()}"' in page
    assert '<a href="/admin/outbox">Clear</a>' in page


def test_unknown_filters_are_ignored(db, client, admin, scanned):
    page = body(client.get("/admin/outbox?status=lost&category=gossip&page=abc"))
    assert len(subjects(page)) == 6
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert " selected>" not in form


def test_the_outbox_search_takes_the_text_literally(db, client, admin, run, base_day):
    follow_ups(base_day, 1, [UserFactory(email="olga_owner@example.org")], title="One")
    follow_ups(base_day, 1, [UserFactory(email="olga.owner@example.org")], title="Two")
    run.scan(at(base_day, 9))
    page = body(client.get("/admin/outbox?q=olga_owner"))
    assert sorted(subjects(page)) == ["Due in 3 days: One", "Due today: One"]
    assert subjects(body(client.get("/admin/outbox?q=%25"))) == []


def test_the_outbox_pages(db, client, app, admin, run, base_day):
    per_page = app.config["MEMBERS_PER_PAGE"]
    follow_ups(base_day, per_page + 5, [UserFactory(email="olga@example.org")])
    run.scan(at(base_day, 9))
    total = 2 * (per_page + 5)
    pages = -(-total // per_page)
    assert pages >= 3
    first = body(client.get("/admin/outbox"))
    assert len(subjects(first)) == per_page
    assert f"Page 1 of {pages}" in first
    assert f"{total} messages" in first
    assert 'href="/admin/outbox?page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    seen: list[int] = []
    for number in range(1, pages + 1):
        page = body(client.get(f"/admin/outbox?page={number}"))
        ids = re.findall(r'<td><a href="/admin/outbox/(\d+)">', section(page, "messages-title"))
        seen.extend(int(i) for i in ids)
    # Every message once, newest first.
    assert seen == sorted((n.id for n in outbox(db)), reverse=True)
    # Beyond the last page: the last page.
    last = body(client.get("/admin/outbox?page=999"))
    assert f"Page {pages} of {pages}" in last
    assert 'rel="next"' not in last
    assert f'href="/admin/outbox?page={pages - 1}" rel="prev"' in last


def test_the_pages_keep_the_filters(db, client, app, admin, run, base_day):
    per_page = app.config["MEMBERS_PER_PAGE"]
    follow_ups(base_day, per_page + 3, [UserFactory(email="olga@example.org")])
    run.scan(at(base_day, 9))
    page = body(client.get("/admin/outbox?status=queued&q=olga"))
    assert len(subjects(page)) == per_page
    assert "Page 1 of 2" in page
    link = html.unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))
    assert parse_qs(urlsplit(link).query) == {"status": ["queued"], "q": ["olga"], "page": ["2"]}
    second = body(client.get(link))
    assert len(subjects(second)) == 3
    assert {row[3] for row in messages(second)} == {"Queued"}


def test_the_outbox_escapes_user_content(db, client, admin, run, base_day):
    follow_ups(
        base_day, 1, [UserFactory(name="<b>Bold</b> Owner")], title="<script>alert('x')</script>"
    )
    run.scan(at(base_day, 9))
    page = body(client.get("/admin/outbox?q=%3Cscript%3E"))
    assert "<script>alert" not in page
    assert "<b>Bold</b>" not in page
    assert "Due today: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt; Owner" in page
    assert 'name="q" value="&lt;script&gt;"' in page
    assert sorted(subjects(page)) == [
        "Due in 3 days: <script>alert('x')</script>",
        "Due today: <script>alert('x')</script>",
    ]
    for notification in outbox(db):
        page = body(client.get(f"/admin/outbox/{notification.id}"))
        assert "<script>alert" not in page
        assert "<b>Bold</b>" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


# -- the scheduler panel --------------------------------------------------------------------


def scheduler_panel(client) -> str:
    return section(body(client.get("/admin/outbox")), "scheduler-title")


def test_the_outbox_warns_when_the_scheduler_never_ran(db, client, admin):
    panel = scheduler_panel(client)
    assert "The scheduler is not running." in panel
    assert "It has never run against this database." in panel
    assert "<table>" not in panel  # no job has run


def test_the_outbox_warns_when_the_heartbeat_is_old(db, client, app, admin):
    beat = app.config["SCHEDULER_HEARTBEAT_SECONDS"]
    now = utcnow()
    db.add(
        SchedulerHeartbeat(
            id=1,
            runner="worker-1:4242",
            started_at=now - timedelta(days=1),
            beat_at=now - timedelta(seconds=4 * beat),
        )
    )
    db.flush()
    panel = _words(scheduler_panel(client))
    assert "The scheduler is not running." in panel
    assert "Last sign of life:" in panel and "from worker-1:4242." in panel


def test_the_outbox_shows_a_running_scheduler_and_its_jobs(db, client, admin, scanned):
    now = utcnow()
    db.add_all(
        [
            SchedulerHeartbeat(id=1, runner="worker-1:4242", started_at=now, beat_at=now),
            JobRun(
                name="scan_reminders",
                last_started_at=now,
                last_finished_at=now,
                last_ok=True,
                last_result="3 queued, 0 held for digests, 3 too late",
            ),
            JobRun(
                name="deliver_outbox",
                last_started_at=now,
                last_ok=False,
                last_error="<b>connection refused</b>",
            ),
            JobRun(name="weekly_digest", last_started_at=now),
        ]
    )
    db.flush()
    panel = scheduler_panel(client)
    assert "The scheduler is not running." not in panel
    assert "Running on worker-1:4242 since" in panel
    assert [(job[0], job[2]) for job in rows(panel)] == [
        ("deliver_outbox", "Error: <b>connection refused</b>"),
        ("scan_reminders", "3 queued, 0 held for digests, 3 too late"),
        ("weekly_digest", "running"),
    ]
    assert "&lt;b&gt;connection refused&lt;/b&gt;" in panel
    # Mail goes to the test's SMTP server; the queued messages fall due on base day only.
    assert "No SMTP server is configured" not in panel
    assert "The oldest message waiting" not in panel


def test_the_outbox_says_when_mail_is_written_to_files(db, client, app, admin):
    smtp = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = None
    try:
        panel = scheduler_panel(client)
    finally:
        app.config["SMTP_URL"] = smtp
    assert "No SMTP server is configured" in panel


def test_the_outbox_shows_the_oldest_message_waiting(db, client, app, admin, run):
    follow_ups(due_now_day(app), 1)
    run.scan(utcnow())
    assert "The oldest message waiting for delivery has been due since" in scheduler_panel(client)


# -- one message ----------------------------------------------------------------------------


def test_a_message_in_plain_text(db, client, admin, scanned):
    notification = the(db, "Due today: Send the minutes")
    response = client.get(f"/admin/outbox/{notification.id}")
    assert response.status_code == 200
    page = body(response)
    words = _words(page)
    assert "<h1>Due today: Send the minutes</h1>" in page
    assert "Olga Owner <olga@example.org>" in words
    assert "Follow-ups assigned to you · Follow-up due (to its owner) (+0 days)" in words
    assert "Status Queued" in words
    plain = re.search(r'<pre class="mail-text">(.*?)</pre>', page, flags=re.DOTALL).group(1)
    assert html.unescape(plain) == notification.body_text
    assert "Hello Olga Owner," in notification.body_text
    assert "Send the minutes" in notification.body_text
    assert f'href="/admin/outbox/{notification.id}/html"' in page
    assert f'href="{notification.link}"' in page
    assert notification.link.endswith(f"/follow-ups/{scanned[0].id}")
    # Not failed: no retry button.
    assert f"/admin/outbox/{notification.id}/retry" not in page


def test_a_skipped_message_says_why(db, client, admin, scanned):
    notification = the(db, "Due in 3 days: Send the minutes")
    words = _words(body(client.get(f"/admin/outbox/{notification.id}")))
    assert (
        "Skipped (too late) — Fell due 73 hours before the scan: later than the maximum "
        "lateness." in words
    )


def test_the_html_of_a_message_is_sandboxed(db, client, admin, scanned):
    notification = the(db, "Due today: Send the minutes")
    response = client.get(f"/admin/outbox/{notification.id}/html")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = [p.strip() for p in response.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert not [p for p in policy if p.startswith("script-src")]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert body(response) == notification.body_html
    assert '<p style="font-size:18px;font-weight:600;margin:16px 0 4px">Send the minutes</p>' in (
        body(response)
    )


def test_the_html_of_a_message_escapes_the_follow_up_title(db, client, admin, run, base_day):
    follow_ups(base_day, 1, title="<script>alert(1)</script>")
    run.scan(at(base_day, 9))
    for notification in outbox(db):
        page = body(client.get(f"/admin/outbox/{notification.id}/html"))
        assert "<script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_html_of_a_message_escapes_the_commitment_title(db, client, admin, run, base_day):
    member = MemberFactory()
    ContactFactory(member=member, email="focal@city.example")
    CommitmentFactory(
        member=member,
        title="<img src=x onerror=alert(1)>",
        created_at=at(base_day - timedelta(days=180), 7),
    )
    run.scan(at(base_day, 9))
    (notification,) = notifications(db, run, subject_kind="commitment")
    page = body(client.get(f"/admin/outbox/{notification.id}/html"))
    assert "<img src=x" not in page


@pytest.mark.parametrize("suffix", ["", "/html"])
def test_an_unknown_message_is_not_found(db, client, admin, suffix):
    response = client.get(f"/admin/outbox/999999{suffix}")
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_a_digest_lists_the_reminders_it_carries(db, client, admin, run, held, base_day):
    sofia, _pat = held
    monday = base_day + timedelta(days=7 - base_day.weekday())
    assert run.digest(at(monday, 9)).digests == 2
    (digest,) = notifications(db, run, recipient_email=sofia.email, subject_kind="digest")
    carried = notifications(db, run, digest_id=digest.id)
    assert len(carried) == 2
    page = body(client.get(f"/admin/outbox/{digest.id}"))
    assert "Reminders in this digest" in page
    for item in carried:
        assert f'<a href="/admin/outbox/{item.id}">{html.escape(item.subject)}</a>' in page
    item_page = body(client.get(f"/admin/outbox/{carried[0].id}"))
    assert "Sent in a digest" in item_page
    assert f'href="/admin/outbox/{digest.id}">Sent in this digest' in item_page


# -- failures and retries -------------------------------------------------------------------


@pytest.fixture
def failed(db, app, run, scanned, base_day):
    """The three queued messages, failed for good: the mail server stayed unreachable."""
    fail_delivery(app, run, at(base_day, 9))
    found = notifications(db, run, status=S.FAILED)
    assert len(found) == 3
    return found


def test_a_message_retrying_after_an_error_says_when(
    db, client, app, admin, run, scanned, base_day
):
    smtp = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"
    try:
        assert run.deliver(at(base_day, 9)).retrying == 3
    finally:
        app.config["SMTP_URL"] = smtp
    queued = notifications(db, run, status=S.QUEUED)
    assert len(queued) == 3 and all(n.last_error for n in queued)
    page = body(client.get("/admin/outbox?status=queued"))
    assert [row[3].startswith("Queued retry at") for row in messages(page)] == [True] * 3
    assert [row[4] for row in messages(page)] == ["1"] * 3
    words = _words(body(client.get(f"/admin/outbox/{queued[0].id}")))
    assert "Last error cannot reach 127.0.0.1:1" in words
    assert "Next attempt" in words


def test_the_outbox_offers_to_retry_failed_messages(db, client, admin, failed):
    page = body(client.get("/admin/outbox"))
    assert ">Failed: 3</a>" in page
    assert "Send all failed messages again" in page
    assert 'action="/admin/outbox/retry-failed"' in page
    for notification in failed:
        assert f'action="/admin/outbox/{notification.id}/retry"' in page
    # Each retry button comes back to the list as it was.
    assert page.count('name="back" value="/admin/outbox?"') == 3
    filtered = body(client.get("/admin/outbox?status=failed&page=1"))
    assert filtered.count('name="back" value="/admin/outbox?status=failed&amp;page=1"') == 3
    assert {row[3] for row in messages(filtered)} == {"Failed"}
    words = _words(body(client.get(f"/admin/outbox/{failed[0].id}")))
    assert "Failed — Still failing after 24 hours of retries." in words
    assert "Last error cannot reach 127.0.0.1:1" in words
    assert f'action="/admin/outbox/{failed[0].id}/retry"' in body(
        client.get(f"/admin/outbox/{failed[0].id}")
    )


def test_an_admin_retries_one_failed_message(db, client, admin, failed, mailbox, run):
    first, *others = failed
    before = utcnow() - timedelta(seconds=1)
    response = client.post(f"/admin/outbox/{first.id}/retry")
    assert location(response) == f"/admin/outbox/{first.id}"
    page = follow(client, response)
    assert (
        "success",
        "Done: The message is queued again; the next delivery pass sends it.",
    ) in flashed(page)
    db.expire_all()
    retried = db.get(Notification, first.id)
    assert retried.status is S.QUEUED
    assert (retried.attempts, retried.first_attempt_at) == (0, None)
    assert retried.retried_by_id == admin.id
    assert retried.next_attempt_at >= before
    assert [db.get(Notification, n.id).status for n in others] == [S.FAILED, S.FAILED]
    # The next delivery pass sends it.
    assert run.deliver(utcnow()).sent == 1
    assert len(mailbox.to("olga@example.org")) == 1
    assert notifications(db, run, id=first.id)[0].status is S.SENT


def test_a_retry_goes_back_to_the_filtered_list(db, client, admin, failed):
    response = client.post(
        f"/admin/outbox/{failed[0].id}/retry", data={"back": "/admin/outbox?status=failed&page=1"}
    )
    assert location(response) == "/admin/outbox?status=failed&page=1"
    page = follow(client, response)
    assert flashed(page)[0][0] == "success"
    assert len(subjects(page)) == 2


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/admin/outbox",
        "//evil.example/admin/outbox",
        "/admin/outbox//evil.example",
        "/admin/outbox\\@evil.example",
        "/admin/users/",
    ],
)
def test_a_retry_never_goes_back_elsewhere(db, client, admin, failed, back):
    response = client.post(f"/admin/outbox/{failed[0].id}/retry", data={"back": back})
    assert location(response) == f"/admin/outbox/{failed[0].id}"
    assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")


def test_only_a_failed_message_is_retried(db, client, admin, scanned):
    queued = the(db, "Due today: Send the minutes")
    before = outbox_rows(db)
    response = client.post(f"/admin/outbox/{queued.id}/retry")
    assert location(response) == f"/admin/outbox/{queued.id}"
    page = follow(client, response)
    assert ("error", "Error: Only a failed message can be sent again.") in flashed(page)
    assert [kind for kind, _message in flashed(page) if kind != "success"] == ["error"]
    assert outbox_rows(db) == before


def test_retrying_an_unknown_message_is_not_found(db, client, admin, failed):
    before = outbox_rows(db)
    response = client.post("/admin/outbox/999999/retry")
    assert response.status_code == 404
    assert outbox_rows(db) == before


def test_an_admin_retries_every_failed_message(db, client, admin, failed, run):
    skipped = [n.id for n in outbox(db) if n.status is S.SKIPPED]
    response = client.post("/admin/outbox/retry-failed")
    assert location(response) == "/admin/outbox?status=failed"
    page = follow(client, response)
    assert ("success", "Done: 3 failed messages are queued again.") in flashed(page)
    assert subjects(page) == []
    statuses = {n.id: n for n in notifications(db, run)}
    assert {statuses[n.id].status for n in failed} == {S.QUEUED}
    assert {statuses[n.id].retried_by_id for n in failed} == {admin.id}
    assert {statuses[i].status for i in skipped} == {S.SKIPPED}
    # Nothing is left to retry.
    page = follow(client, client.post("/admin/outbox/retry-failed"))
    assert ("info", "Note: There is no failed message to send again.") in flashed(page)


def test_retrying_with_nothing_failed_changes_nothing(db, client, admin, scanned):
    before = outbox_rows(db)
    page = follow(client, client.post("/admin/outbox/retry-failed"))
    assert ("info", "Note: There is no failed message to send again.") in flashed(page)
    assert outbox_rows(db) == before


# -- query counts ---------------------------------------------------------------------------


def populate(app, db, run, base_day, owners, count: int) -> None:
    """``count`` follow-ups due on base day, scanned, their "due today" reminders failed; and
    ``count`` follow-ups due now, for the dry run."""
    follow_ups(base_day, count, owners, title="Scaled follow-up")
    follow_ups(due_now_day(app), count, owners, title="Due now")
    run.scan(at(base_day, 9))
    db.execute(
        update(Notification)
        .where(Notification.status == S.QUEUED)
        .values(status=S.FAILED, attempts=5, last_error="550 no", reason="Refused for good.")
    )
    db.flush()


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


@pytest.mark.parametrize(
    ("url", "limit"),
    [
        ("/admin/outbox", 8),
        ("/admin/outbox?status=failed&category=follow_ups&q=scaled&page=2", 8),
        # A query or two for each kind of rule.
        ("/admin/reminders/dry-run", 20),
    ],
)
def test_pages_run_the_same_queries_for_10_and_200_items(
    db, client, app, admin, run, base_day, count_queries, url, limit
):
    owners = [UserFactory(), UserFactory(), UserFactory(focal_point=True)]
    populate(app, db, run, base_day, owners, 10)
    small = statements(count_queries, client, url)
    populate(app, db, run, base_day, [*owners, UserFactory(), UserFactory()], 190)
    assert db.scalar(select(func.count(Notification.id))) == 400
    large = statements(count_queries, client, url)
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= limit
    # The pages really list the items.
    page = body(client.get(url))
    if "dry-run" in url:
        assert page.count("Would be sent") == 200
    elif "outbox" in url:
        assert len(subjects(page)) == app.config["MEMBERS_PER_PAGE"]
        assert "Send all failed messages again" in page


def test_the_rules_page_runs_the_same_queries_for_10_and_200_rules(
    db, client, admin, count_queries
):
    def add(offsets) -> None:
        for offset in offsets:
            db.add(
                ReminderRule(
                    kind=RuleKind.AGREEMENT_EXPIRING, offset_days=offset, updated_by=UserFactory()
                )
            )
        db.flush()

    add(range(-20, -10))
    small = statements(count_queries, client, "/admin/reminders")
    add(range(-366, -176))  # clear of the default -90 and -30
    assert db.scalar(select(func.count(ReminderRule.id))) == 215
    large = statements(count_queries, client, "/admin/reminders")
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= 4
    assert body(client.get("/admin/reminders")).count('name="offset_days"') == 216
