"""The scan: which reminders fall due, when, for whom, and that each is queued exactly once."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from secretariat.agreements.models import AgreementStatus
from secretariat.commitments.models import CommitmentStatus
from secretariat.events.models import Registration, Response
from secretariat.followups.models import FollowUpStatus
from secretariat.members.models import ContactRole, MemberStatus
from secretariat.notifications import services
from secretariat.notifications.models import (
    Category,
    DeliveryMode,
    Notification,
    NotificationStatus,
    ReminderRule,
    RuleKind,
)
from secretariat.reporting.models import CycleState, SubmissionStatus
from tests.factories import (
    CommitmentFactory,
    ContactFactory,
    EventFactory,
    IndicatorFactory,
    MemberFactory,
    UserFactory,
)
from tests.followups.factories import AgreementFactory, FollowUpFactory
from tests.notifications.conftest import LONG_AGO, at, text_of
from tests.reporting.conftest import hand_submission, past_cycle

S = NotificationStatus


def only_rules(db, *wanted: tuple[RuleKind, int]) -> None:
    """Switch off every rule except the listed (kind, offset) pairs."""
    for rule in db.scalars(select(ReminderRule)):
        rule.enabled = (rule.kind, rule.offset_days) in wanted
    db.flush()


def subjects(mailbox, address: str) -> list[str]:
    return sorted(str(m["Subject"]) for m in mailbox.to(address))


# --- follow-ups -----------------------------------------------------------------------------


def test_each_follow_up_reminder_once_across_repeated_scans_and_a_new_app(
    app, db, run, mailbox, base_day
):
    owner = UserFactory(email="olga@example.org", name="Olga")
    FollowUpFactory(owner=owner, due_on=base_day, created_at=LONG_AGO, title="Minutes")
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0), (RuleKind.FOLLOW_UP_DUE, 1))

    # Before 08:00 on the due day nothing is due.
    run.cycle(at(base_day, 7, 59))
    assert mailbox.to("olga@example.org") == []
    for minute in (0, 15, 30, 45):
        run.cycle(at(base_day, 8, minute))
    assert subjects(mailbox, "olga@example.org") == ["Due today: Minutes"]

    # The same database seen by a freshly started process (a restart) adds nothing.
    from secretariat import create_app
    from secretariat.notifications.jobs import deliver_outbox, scan_reminders

    restarted = create_app(dict(app.config))
    scan_reminders(restarted, at(base_day, 10))
    deliver_outbox(restarted, at(base_day, 10))
    assert subjects(mailbox, "olga@example.org") == ["Due today: Minutes"]

    # The next day, the overdue reminder, once.
    for hour in (8, 9, 12):
        run.cycle(at(base_day + timedelta(days=1), hour))
    assert subjects(mailbox, "olga@example.org") == [
        "Due today: Minutes",
        "Overdue by 1 day: Minutes",
    ]
    assert len(run.notifications()) == 2


def test_no_reminder_for_a_follow_up_done_or_made_after_the_reminder_fell_due(
    db, run, mailbox, base_day
):
    owner = UserFactory(email="olga@example.org")
    FollowUpFactory(owner=owner, due_on=base_day, created_at=LONG_AGO, status=FollowUpStatus.DONE)
    # Made at 09:00 on a day whose "3 days before" reminder fell due two days earlier.
    FollowUpFactory(
        owner=owner, due_on=base_day + timedelta(days=1), created_at=at(base_day, 9), title="New"
    )
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, -3), (RuleKind.FOLLOW_UP_DUE, 0))
    run.cycle(at(base_day, 10))
    assert mailbox.to("olga@example.org") == []
    # Its own "due today" comes the next morning.
    run.cycle(at(base_day + timedelta(days=1), 8))
    assert subjects(mailbox, "olga@example.org") == ["Due today: New"]


def test_a_moved_due_day_is_a_new_occurrence(db, run, mailbox, base_day):
    owner = UserFactory(email="olga@example.org")
    item = FollowUpFactory(owner=owner, due_on=base_day, created_at=LONG_AGO, title="Budget")
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0))
    run.cycle(at(base_day, 9))
    item.due_on = base_day + timedelta(days=7)
    db.flush()
    run.cycle(at(base_day + timedelta(days=7), 9))
    assert subjects(mailbox, "olga@example.org") == ["Due today: Budget", "Due today: Budget"]


def test_inactive_owner_gets_nothing(db, run, mailbox, base_day):
    owner = UserFactory(email="gone@example.org", is_active=False)
    FollowUpFactory(owner=owner, due_on=base_day, created_at=LONG_AGO)
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0))
    run.cycle(at(base_day, 9))
    assert mailbox.to("gone@example.org") == []
    assert run.notifications() == []


def test_catch_up_after_two_days_down_sends_each_once_and_logs_the_too_late(
    db, run, mailbox, base_day, caplog
):
    owner = UserFactory(email="olga@example.org")
    two_days_ago = base_day - timedelta(days=2)
    FollowUpFactory(owner=owner, due_on=two_days_ago, created_at=LONG_AGO, title="X")
    FollowUpFactory(
        owner=owner, due_on=base_day - timedelta(days=1), created_at=LONG_AGO, title="Y"
    )
    FollowUpFactory(owner=owner, due_on=base_day, created_at=LONG_AGO, title="Z")
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0), (RuleKind.FOLLOW_UP_DUE, 1))

    run.cycle(at(two_days_ago, 7))  # the last scan before the outage: nothing due yet
    assert mailbox.to("olga@example.org") == []

    # Back 49 hours later. X's "due today" (08:00 two days ago) is past the 36-hour maximum.
    with caplog.at_level(logging.WARNING, logger="secretariat.notifications.services"):
        scanned, delivered = run.cycle(at(base_day, 9))
    assert (scanned.queued, scanned.skipped_late, delivered.sent) == (4, 1, 4)
    # Each says what is true when it is sent: X's "overdue by 1 day" now reads 2 days, and
    # Y's "due today" and "overdue by 1 day" both read overdue by 1 day.
    assert subjects(mailbox, "olga@example.org") == [
        "Due today: Z",
        "Overdue by 1 day: Y",
        "Overdue by 1 day: Y",
        "Overdue by 2 days: X",
    ]
    skipped = run.notifications(status=S.SKIPPED)
    assert [n.subject for n in skipped] == ["Due today: X"]
    assert "maximum lateness" in skipped[0].reason
    assert any(
        "too late" in r.getMessage() and "|follow_up:" in r.getMessage() for r in caplog.records
    )

    # Later scans neither send nor log them again.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="secretariat.notifications.services"):
        run.cycle(at(base_day, 9, 15))
        run.cycle(at(base_day, 12))
    assert len(mailbox.to("olga@example.org")) == 4
    assert not [r for r in caplog.records if "too late" in r.getMessage()]


@pytest.mark.parametrize(
    ("zone", "day", "hour", "due_utc"),
    [
        # Clocks go forward at 01:00 UTC: 08:00 is then 07:00 UTC.
        ("Europe/Lisbon", date(2027, 3, 28), 8, datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),
        # Clocks go back at 01:00 UTC: 08:00 is then 08:00 UTC.
        ("Europe/Lisbon", date(2027, 10, 31), 8, datetime(2027, 10, 31, 8, 0, tzinfo=UTC)),
        # 01:30 does not exist that day: read before the change (PEP 495), 02:30 on the clocks.
        ("Europe/Lisbon", date(2027, 3, 28), 1, datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        # New York springs forward at 02:00 local; 08:00 EDT is 12:00 UTC.
        ("America/New_York", date(2027, 3, 14), 8, datetime(2027, 3, 14, 12, 0, tzinfo=UTC)),
    ],
)
def test_a_deadline_on_a_daylight_saving_change(app, db, run, mailbox, zone, day, hour, due_utc):
    app.config["TIMEZONE"] = zone
    app.config["REMINDER_HOUR"] = hour
    owner = UserFactory(email="olga@example.org")
    FollowUpFactory(owner=owner, due_on=day, created_at=LONG_AGO, title="Switch")
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0))
    run.cycle(due_utc - timedelta(seconds=1))
    assert mailbox.to("olga@example.org") == []
    run.cycle(due_utc)
    assert subjects(mailbox, "olga@example.org") == ["Due today: Switch"]
    (notification,) = run.notifications()
    assert notification.due_at == due_utc
    run.cycle(due_utc + timedelta(hours=23))
    assert len(mailbox.to("olga@example.org")) == 1


def _portuguese_catalog(folder) -> str:
    """A compiled catalog translating one reminder subject into Portuguese."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="pt")
    catalog.add("Due today: %(title)s", "Prazo hoje: %(title)s")
    target = folder / "pt" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as out:
        write_mo(out, catalog)
    return str(folder)


def test_the_reminder_is_in_the_recipients_language_when_translated(
    app, db, mailbox, base_day, tmp_path
):
    from secretariat import create_app
    from secretariat.notifications.jobs import deliver_outbox, scan_reminders

    translated = create_app(
        dict(app.config, BABEL_TRANSLATION_DIRECTORIES=_portuguese_catalog(tmp_path / "i18n"))
    )
    ana = ContactFactory(email="ana@lisboa.example", language="pt")
    kim = ContactFactory(email="kim@seoul.example", language="ko")
    for contact in (ana, kim):
        owner = UserFactory(email=contact.email, name=contact.name, contact=contact)
        FollowUpFactory(owner=owner, due_on=date(2027, 1, 20), created_at=LONG_AGO, title="Ata")
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0))
    scan_reminders(translated, at(date(2027, 1, 20), 9))
    deliver_outbox(translated, at(date(2027, 1, 20), 9))

    (message,) = mailbox.to("ana@lisboa.example")
    assert message["Subject"] == "Prazo hoje: Ata"
    assert message["Content-Language"] == "pt"
    assert "20 de janeiro de 2027" in text_of(message)  # dates follow the language
    # No Korean translations: the whole message stays in the network's language.
    (message,) = mailbox.to("kim@seoul.example")
    assert message["Subject"] == "Due today: Ata"
    assert message["Content-Language"] == "en"
    assert "January 20, 2027" in text_of(message)


# --- preferences ----------------------------------------------------------------------------


def test_digest_holds_and_off_skips(db, run, mailbox, base_day):
    digest_owner = UserFactory(email="weekly@example.org")
    off_owner = UserFactory(email="off@example.org")
    FollowUpFactory(owner=digest_owner, due_on=base_day, created_at=LONG_AGO)
    FollowUpFactory(owner=off_owner, due_on=base_day, created_at=LONG_AGO)
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0))
    services.set_preferences(
        db, "Weekly@Example.org", {Category.FOLLOW_UPS: DeliveryMode.DIGEST}, [Category.FOLLOW_UPS]
    )
    services.set_preferences(
        db, "off@example.org", {Category.FOLLOW_UPS: DeliveryMode.OFF}, [Category.FOLLOW_UPS]
    )
    scanned, delivered = run.cycle(at(base_day, 9))
    assert (scanned.queued, scanned.held, delivered.sent) == (0, 1, 0)
    assert mailbox.messages == []
    (held,) = run.notifications()
    assert (held.recipient_email, held.status) == ("weekly@example.org", S.HELD)
    # Turning it back on sends the held one right away; nothing for the one turned off.
    services.set_preferences(
        db,
        "weekly@example.org",
        {Category.FOLLOW_UPS: DeliveryMode.IMMEDIATELY},
        [Category.FOLLOW_UPS],
    )
    run.deliver(at(base_day, 9, 1))
    assert len(mailbox.to("weekly@example.org")) == 1
    assert mailbox.to("off@example.org") == []


def test_escalations_cannot_be_turned_off(db):
    with pytest.raises(services.RuleError) as refused:
        services.set_preferences(
            db,
            "staff@example.org",
            {Category.ESCALATIONS: DeliveryMode.OFF},
            [Category.ESCALATIONS],
        )
    assert "cannot be turned off" in refused.value.errors["escalations"]
    assert services.preferences(db, "staff@example.org")[Category.ESCALATIONS] is (
        DeliveryMode.IMMEDIATELY
    )


# --- reporting cycles -----------------------------------------------------------------------


def _cycle(db, members, base_day, **fields):
    cycle = past_cycle(
        db,
        [IndicatorFactory()],
        members,
        period="2026",
        state=CycleState.OPEN,
        opens_on=base_day - timedelta(days=20),
        **fields,
    )
    cycle.opened_at = at(base_day - timedelta(days=20), 7)
    db.flush()
    return cycle


def test_cycle_reminders_go_only_to_members_that_have_not_submitted(db, run, mailbox, base_day):
    reported = MemberFactory(name="Reported")
    drafting = MemberFactory(name="Drafting")
    silent = MemberFactory(name="Silent")
    returned = MemberFactory(name="Returned")
    for member in (reported, drafting, silent, returned):
        ContactFactory(member=member, email=f"primary@{member.slug}.example", is_primary=True)
    ContactFactory(member=drafting, email="deputy@drafting.example", receives_reminders=True)
    ContactFactory(
        member=drafting,
        email="left@drafting.example",
        receives_reminders=True,
        active_to=base_day - timedelta(days=30),
    )
    ContactFactory(member=drafting, email="other@drafting.example")  # not ticked
    cycle = _cycle(
        db, [reported, drafting, silent, returned], base_day, due_on=base_day + timedelta(days=3)
    )
    hand_submission(db, cycle, reported)
    hand_submission(db, cycle, drafting, status=SubmissionStatus.DRAFT)
    hand_submission(db, cycle, returned, status=SubmissionStatus.RETURNED)
    only_rules(db, (RuleKind.CYCLE_DUE, -3))

    run.cycle(at(base_day, 9))
    received = sorted(m["To"].split("<")[-1].rstrip(">") for m in mailbox.messages)
    assert received == sorted(
        [
            "deputy@drafting.example",
            f"primary@{drafting.slug}.example",
            f"primary@{returned.slug}.example",
            f"primary@{silent.slug}.example",
        ]
    )
    message = mailbox.to(f"primary@{silent.slug}.example")[0]
    assert message["Subject"] == f"Report due in 3 days: {cycle.name}"
    body = text_of(message)
    assert "Silent" in body
    assert f"/reporting/{cycle.id}/members/{silent.id}/submission" in body


def test_a_member_who_submits_before_delivery_gets_nothing(db, run, mailbox, base_day):
    member = MemberFactory()
    ContactFactory(member=member, email="fp@member.example", is_primary=True)
    cycle = _cycle(db, [member], base_day, due_on=base_day + timedelta(days=3))
    only_rules(db, (RuleKind.CYCLE_DUE, -3))
    run.scan(at(base_day, 9))
    hand_submission(db, cycle, member)
    delivered = run.deliver(at(base_day, 9, 1))
    assert (delivered.sent, delivered.cancelled) == (0, 1)
    assert mailbox.messages == []
    (notification,) = run.notifications()
    assert notification.status is S.CANCELLED
    assert "reported" in notification.reason


def test_opened_late_cycle_announces_when_opened(db, run, mailbox, base_day):
    member = MemberFactory()
    ContactFactory(member=member, email="fp@member.example", is_primary=True)
    cycle = _cycle(db, [member], base_day, due_on=base_day + timedelta(days=30))
    # Opening day was 20 days ago, but staff opened it only this morning.
    cycle.opened_at = at(base_day, 10)
    db.flush()
    only_rules(db, (RuleKind.CYCLE_OPENED, 0))
    run.cycle(at(base_day, 9, 59))
    assert mailbox.messages == []
    run.cycle(at(base_day, 10, 15))
    assert subjects(mailbox, "fp@member.example") == [f"Reporting is open: {cycle.name}"]


def test_overdue_reminder_stops_after_the_grace_period_and_staff_get_the_escalation(
    db, run, mailbox, base_day
):
    late = MemberFactory(name="Late city")
    on_time = MemberFactory(name="On-time city")
    ContactFactory(member=late, name="Lena", email="lena@late.example", is_primary=True)
    cycle = _cycle(
        db,
        [late, on_time],
        base_day,
        due_on=base_day - timedelta(days=1),
        grace_until=base_day + timedelta(days=6),
    )
    hand_submission(db, cycle, on_time)
    staff = UserFactory(email="staff@secretariat.example")
    UserFactory(email="former@secretariat.example", is_active=False)
    UserFactory(focal_point=True, email="fp@elsewhere.example")
    only_rules(db, (RuleKind.CYCLE_OVERDUE, 1), (RuleKind.CYCLE_ESCALATION, 1))

    run.cycle(at(base_day, 9))
    assert subjects(mailbox, "lena@late.example") == [f"Report overdue: {cycle.name}"]
    assert "until" in text_of(mailbox.to("lena@late.example")[0])  # the grace period is named

    # The day after the grace period: one escalation per active staff member.
    run.cycle(at(base_day + timedelta(days=7), 9))
    assert subjects(mailbox, staff.email) == [f"1 member has not reported: {cycle.name}"]
    body = text_of(mailbox.to(staff.email)[0])
    assert "Late city (Lena, lena@late.example)" in body
    assert "On-time city" not in body
    assert mailbox.to("former@secretariat.example") == []
    assert mailbox.to("fp@elsewhere.example") == []


# --- agreements, commitments, events, fees --------------------------------------------------


def test_agreement_expiry_and_renewal_notice_reach_the_owner(db, run, mailbox, base_day):
    owner = UserFactory(email="owner@example.org")
    AgreementFactory(
        owner=owner,
        title="MoU Lisbon",
        expires_on=base_day + timedelta(days=30),
        created_at=LONG_AGO,
    )
    AgreementFactory(
        owner=owner,
        title="Terminated",
        status=AgreementStatus.TERMINATED,
        expires_on=base_day + timedelta(days=30),
        created_at=LONG_AGO,
    )
    AgreementFactory(
        owner=owner,
        title="Notice",
        expires_on=base_day + timedelta(days=60),
        renewal_notice_days=60,
        created_at=LONG_AGO,
    )
    only_rules(db, (RuleKind.AGREEMENT_EXPIRING, -30), (RuleKind.AGREEMENT_RENEWAL_NOTICE, 0))
    run.cycle(at(base_day, 9))
    assert subjects(mailbox, "owner@example.org") == [
        "Expires in 30 days: MoU Lisbon",
        "Renewal notice period has begun: Notice",
    ]


def test_commitment_without_update_for_180_days_reminds_its_focal_points_once(
    db, run, mailbox, base_day
):
    member = MemberFactory()
    ContactFactory(member=member, email="fp@member.example", role=ContactRole.FOCAL_POINT)
    ContactFactory(member=member, email="mayor@member.example", role=ContactRole.LEADER)
    UserFactory(focal_point=True, member=member, email="account@member.example")
    last = at(base_day - timedelta(days=180), 15)
    stale = CommitmentFactory(
        member=member,
        title="Bike lanes",
        last_update_at=last,
        created_at=LONG_AGO,
        status=CommitmentStatus.IN_PROGRESS,
    )
    CommitmentFactory(
        member=member,
        title="Achieved",
        last_update_at=last,
        created_at=LONG_AGO,
        status=CommitmentStatus.ACHIEVED,
    )
    only_rules(db, (RuleKind.COMMITMENT_STALE, 180))
    run.cycle(at(base_day, 7, 59))
    assert mailbox.messages == []
    run.cycle(at(base_day, 8))
    run.cycle(at(base_day + timedelta(days=1), 8))
    assert subjects(mailbox, "fp@member.example") == ["No update for 180 days: Bike lanes"]
    assert len(mailbox.to("account@member.example")) == 1
    assert mailbox.to("mayor@member.example") == []
    # An update starts a new silence: the next reminder 180 days after it.
    stale.last_update_at = at(base_day + timedelta(days=2), 10)
    db.flush()
    run.cycle(at(base_day + timedelta(days=182), 8))
    assert len(mailbox.to("fp@member.example")) == 2


def test_event_tomorrow_to_registered_contacts_only(db, run, mailbox, base_day):
    member = MemberFactory()
    going = ContactFactory(member=member, email="going@member.example")
    declined = ContactFactory(member=member, email="declined@member.example")
    event = EventFactory(
        title="Climate webinar", starts_at=at(base_day + timedelta(days=1), 14), created_at=LONG_AGO
    )
    cancelled = EventFactory(
        title="Cancelled",
        starts_at=at(base_day + timedelta(days=1), 14),
        cancelled_at=LONG_AGO,
    )
    for ev in (event, cancelled):
        db.add(
            Registration(
                event_id=ev.id,
                member_id=member.id,
                contact_id=going.id,
                response=Response.REGISTERED,
            )
        )
    db.add(
        Registration(
            event_id=event.id,
            member_id=member.id,
            contact_id=declined.id,
            response=Response.DECLINED,
        )
    )
    db.flush()
    only_rules(db, (RuleKind.EVENT_START, -1))
    run.cycle(at(base_day, 9))
    assert subjects(mailbox, "going@member.example") == ["Tomorrow: Climate webinar"]
    assert mailbox.to("declined@member.example") == []


def test_fee_renewal_for_paying_members_30_days_before_the_anniversary(db, run, mailbox, base_day):
    anniversary = base_day + timedelta(days=30)
    paying = MemberFactory(
        name="Paying",
        joined_on=anniversary.replace(year=anniversary.year - 3),
        annual_fee=Decimal("2500.00"),
        fee_currency="EUR",
    )
    free = MemberFactory(name="Free", joined_on=anniversary.replace(year=anniversary.year - 3))
    lapsed = MemberFactory(
        name="Lapsed",
        joined_on=anniversary.replace(year=anniversary.year - 3),
        annual_fee=Decimal("100.00"),
        fee_currency="EUR",
        status=MemberStatus.LAPSED,
    )
    for member in (paying, free, lapsed):
        ContactFactory(member=member, email=f"fp@{member.slug}.example", is_primary=True)
    only_rules(db, (RuleKind.FEE_RENEWAL, -30))
    run.cycle(at(base_day, 9))
    (message,) = mailbox.messages
    assert f"fp@{paying.slug}.example" in message["To"]
    assert "2,500.00" in text_of(message)


def test_fee_renewal_for_a_member_who_joined_on_29_february(db, run, mailbox):
    member = MemberFactory(
        joined_on=date(2024, 2, 29), annual_fee=Decimal("10"), fee_currency="EUR"
    )
    ContactFactory(member=member, email="leap@member.example", is_primary=True)
    only_rules(db, (RuleKind.FEE_RENEWAL, -30))
    # 2027 has no 29 February: the anniversary is the 28th, the reminder 30 days before.
    run.cycle(at(date(2027, 2, 28) - timedelta(days=30), 9))
    assert len(mailbox.to("leap@member.example")) == 1


# --- concurrency, rules ---------------------------------------------------------------------


def test_a_key_queued_meanwhile_is_not_queued_again(db, run, base_day):
    owner = UserFactory(email="olga@example.org")
    FollowUpFactory(owner=owner, due_on=base_day, created_at=LONG_AGO)
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, 0))
    # A concurrent scan wins the race between this scan's check and its insert.
    planned = services.plan(db, at(base_day, 9))
    assert [p.action for p in planned] == [services.Action.SEND]
    run.scan(at(base_day, 9))
    rows = [
        {
            "dedup_key": planned[0].key,
            "category": Category.FOLLOW_UPS,
            "subject_kind": "x",
            "occurrence": "x",
            "recipient_email": "olga@example.org",
            "language": "en",
            "subject": "x",
            "body_text": "x",
            "body_html": "x",
            "due_at": at(base_day, 8),
            "status": S.QUEUED,
            "attempts": 0,
            "created_at": at(base_day, 9),
        }
    ]
    assert services._insert(db, rows) == {}
    assert db.scalar(select(Notification.id).where(Notification.subject == "x")) is None
    assert len(run.notifications()) == 1


def test_rule_changes_are_validated(db):
    admin = UserFactory(admin=True)
    rule = db.scalar(
        select(ReminderRule).where(
            ReminderRule.kind == RuleKind.FOLLOW_UP_DUE, ReminderRule.offset_days == -3
        )
    )
    for bad, message in (("abc", "whole number"), (-400, "from -60 to 60"), (0, "already")):
        with pytest.raises(services.RuleError) as refused:
            services.update_rule(db, admin, rule, bad, True)
        assert message in refused.value.errors["offset_days"]
    db.refresh(rule)
    assert (rule.offset_days, rule.enabled) == (-3, True)
    services.update_rule(db, admin, rule, -5, False)
    assert (rule.offset_days, rule.enabled, rule.updated_by_id) == (-5, False, admin.id)
    added = services.add_rule(db, admin, RuleKind.CYCLE_DUE, -7)
    assert added.enabled
    with pytest.raises(services.RuleError):
        services.add_rule(db, admin, RuleKind.CYCLE_OVERDUE, -1)  # overdue means after


def test_only_admins_change_rules(db):
    staff = UserFactory()
    rule = db.scalar(select(ReminderRule).limit(1))
    with pytest.raises(Exception) as refused:
        services.update_rule(db, staff, rule, rule.offset_days, False)
    assert refused.type.__name__ in {"OutOfScope", "NotFound", "PermissionDenied"}


def test_disabled_rules_send_nothing(db, run, mailbox, base_day):
    owner = UserFactory(email="olga@example.org")
    FollowUpFactory(owner=owner, due_on=base_day, created_at=LONG_AGO)
    db.execute(update(ReminderRule).values(enabled=False))
    run.cycle(at(base_day, 9))
    assert mailbox.messages == []
    assert run.notifications() == []


def test_moving_a_rule_sends_the_new_reminder_to_those_who_had_the_old(db, run, mailbox, base_day):
    admin = UserFactory(admin=True)
    owner = UserFactory(email="olga@example.org")
    FollowUpFactory(
        owner=owner, due_on=base_day + timedelta(days=3), created_at=LONG_AGO, title="T"
    )
    only_rules(db, (RuleKind.FOLLOW_UP_DUE, -3))
    run.cycle(at(base_day, 9))
    rule = db.scalar(select(ReminderRule).where(ReminderRule.enabled.is_(True)))
    services.update_rule(db, admin, rule, -1, True)
    run.cycle(at(base_day + timedelta(days=2), 9))
    assert subjects(mailbox, "olga@example.org") == ["Due in 1 day: T", "Due in 3 days: T"]


def test_overdue_reminders_go_out_for_a_cycle_without_a_grace_period(db, run, mailbox, base_day):
    member = MemberFactory()
    ContactFactory(member=member, email="fp@member.example", is_primary=True)
    cycle = _cycle(db, [member], base_day, due_on=base_day - timedelta(days=1))
    assert cycle.grace_until is None  # late reports are taken until staff close the cycle
    only_rules(db, (RuleKind.CYCLE_OVERDUE, 1))
    run.cycle(at(base_day, 9))
    (message,) = mailbox.to("fp@member.example")
    assert message["Subject"] == f"Report overdue: {cycle.name}"
    assert "You can still submit it." in text_of(message)
