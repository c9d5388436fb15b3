"""Who may do what: declared permissions, the route matrix, member scope and the uniform 404.

The route tests are derived from the application's URL map: a new endpoint is covered (and
must declare a permission) without editing this file; only the argument values used to build
its URL are listed here, and a rule with an unknown argument makes the tests fail.
"""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from secretariat import create_app
from secretariat.accounts.models import Role, User
from secretariat.agreements import documents
from secretariat.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    Obligation,
)
from secretariat.clock import network_today
from secretariat.commitments.models import (
    Commitment,
    CommitmentStatus,
    CommitmentUpdate,
    EvidenceDocument,
)
from secretariat.db import Base, utcnow
from secretariat.events.models import (
    Event,
    Invitation,
    UnmatchedAttendee,
    UnmatchedStatus,
)
from secretariat.exchanges.models import ExchangeStatus, PeerExchange
from secretariat.followups.models import FollowUp, FollowUpStatus, Priority, Recurrence
from secretariat.funding import services as funding
from secretariat.funding.models import Coverage, Funder, Grant, GrantReport, Programme
from secretariat.groups.models import GroupMembership, WorkingGroup
from secretariat.impact import services as impact
from secretariat.impact import snapshot as impact_snapshot
from secretariat.impact.models import ImpactReport, ImpactReportVersion, ReportStatus
from secretariat.indicators.models import Indicator, Target
from secretariat.members import services
from secretariat.members.models import Contact, ContactRole, Member, MemberKind, MemberStatus
from secretariat.notifications.models import (
    Category,
    Notification,
    NotificationPreference,
    NotificationStatus,
    ReminderRule,
    RuleKind,
)
from secretariat.notifications.render import preference_token
from secretariat.participation import services as participation
from secretariat.participation.models import (
    ParticipationScore,
    ParticipationSettings,
    SchemeState,
    ScoringScheme,
)
from secretariat.partners.models import Partner, PartnerContact, PartnerKind
from secretariat.permissions import (
    POLICY,
    OutOfScope,
    Permission,
    can_access_member,
    declared_permission,
    has_permission,
)
from secretariat.reporting import services as reporting
from secretariat.reporting.models import Audience as CycleAudience
from secretariat.reporting.models import CycleIndicator, CycleMember, ReportingCycle, Submission
from secretariat.stories.models import Story
from secretariat.vocabularies.models import Term, Vocabulary
from tests.factories import (
    ContactFactory,
    EventFactory,
    GroupMembershipFactory,
    IndicatorFactory,
    InvitationFactory,
    MemberFactory,
    PeerExchangeFactory,
    ReportingCycleFactory,
    TermFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.pages import without_tokens
from tests.stories.factories import StoryFactory

# -- the routes, read from the URL map ------------------------------------------------------


class Route(NamedTuple):
    endpoint: str
    rule: str
    arguments: frozenset[str]
    methods: tuple[str, ...]
    permission: Permission | None

    def __str__(self) -> str:
        return self.rule


def _routes_of(app) -> list[Route]:  # type: ignore[no-untyped-def]
    return [
        Route(
            endpoint=rule.endpoint,
            rule=rule.rule,
            arguments=frozenset(rule.arguments),
            methods=tuple(m for m in ("GET", "POST") if m in rule.methods),
            permission=declared_permission(app.view_functions[rule.endpoint]),
        )
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    ]


def _collect_routes() -> list[Route]:
    """The routes of a throwaway app, read at collection time to parametrize the tests."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "collect-routes",
                "DATABASE_URL": "sqlite://",
                "INSTANCE_PATH": tmp,
                "OUTBOX_PATH": f"{tmp}/outbox",
                "SERVER_NAME": "localhost",
            }
        )
        routes = _routes_of(app)
        app.extensions["secretariat.db"].engine.dispose()
    return routes


ROUTES = _collect_routes()
PROTECTED = [r for r in ROUTES if r.permission is not Permission.PUBLIC]
PUBLIC = [r for r in ROUTES if r.permission is Permission.PUBLIC]
MEMBER_AND_ADMIN = [r for r in ROUTES if r.rule.startswith(("/members/", "/admin/"))]
ADMIN_AREA = [r for r in ROUTES if r.rule.startswith(("/admin/users/", "/admin/lists/"))]
MEMBER_PAGES_GET = [r for r in ROUTES if r.rule.startswith("/members/") and "GET" in r.methods]
SLUG_ROUTES = [r for r in ROUTES if "slug" in r.arguments]
SLUG_AND_CONTACT_ROUTES = [r for r in ROUTES if {"slug", "contact_id"} <= r.arguments]
#: The pages of the network's activity: groups, events, exchanges and the network graph.
ACTIVITY = [
    r for r in ROUTES if r.rule.split("/")[1] in {"groups", "events", "exchanges", "network"}
]
STAFF_ONLY_ACTIVITY = [
    r
    for r in ACTIVITY
    if r.permission
    in {Permission.MANAGE_GROUPS, Permission.MANAGE_EVENTS, Permission.MANAGE_EXCHANGES}
]
EVENT_PAGES = [r for r in ACTIVITY if "event_id" in r.arguments]
#: Partners, agreements and follow-ups.
AGREEMENT_AREA = [
    r for r in ROUTES if r.rule.split("/")[1] in {"partners", "agreements", "follow-ups"}
]
STAFF_ONLY_AGREEMENT_AREA = [
    r
    for r in AGREEMENT_AREA
    if r.permission
    in {Permission.MANAGE_PARTNERS, Permission.MANAGE_AGREEMENTS, Permission.MANAGE_FOLLOW_UPS}
]
#: Pages of one agreement or one follow-up, which focal points reach within their scope.
SCOPED_AGREEMENT_PAGES = [
    r
    for r in AGREEMENT_AREA
    if r not in STAFF_ONLY_AGREEMENT_AREA and r.arguments & {"agreement_id", "follow_up_id"}
]

#: Commitments, indicators and reporting cycles (with the submission form).
REPORTING_AREA = [
    r for r in ROUTES if r.rule.split("/")[1] in {"commitments", "indicators", "reporting"}
]
STAFF_ONLY_REPORTING_AREA = [
    r
    for r in REPORTING_AREA
    if r.permission
    in {Permission.MANAGE_COMMITMENTS, Permission.MANAGE_INDICATORS, Permission.MANAGE_REPORTING}
]
#: Pages about one member's commitments or report, which focal points reach for their own.
SCOPED_REPORTING_PAGES = [
    r
    for r in REPORTING_AREA
    if r not in STAFF_ONLY_REPORTING_AREA
    and r.arguments & {"member_id", "commitment_id", "document_id", "cycle_id"}
]

#: Participation: the years, scores, method, recognition, at-risk list and scorecards.
PARTICIPATION_AREA = [r for r in ROUTES if r.rule.split("/")[1] == "participation"]
STAFF_ONLY_PARTICIPATION_AREA = [
    r
    for r in PARTICIPATION_AREA
    if r.permission
    in {
        Permission.VIEW_PARTICIPATION,
        Permission.MANAGE_PARTICIPATION,
        Permission.EDIT_SCORING_SCHEME,
    }
]
#: The method and the network's setting: administrators only.
ADMIN_ONLY_PARTICIPATION_AREA = [
    r for r in PARTICIPATION_AREA if r.permission is Permission.EDIT_SCORING_SCHEME
]
#: One member's scorecard, which focal points reach for their own member only.
SCOPED_PARTICIPATION_PAGES = [
    r
    for r in PARTICIPATION_AREA
    if r not in STAFF_ONLY_PARTICIPATION_AREA and "member_id" in r.arguments
]

#: Reminders: one's own delivery choices (signed in, or through a mailed link), and the rules,
#: the dry run and the outbox with its retries.
NOTIFICATIONS_AREA = [r for r in ROUTES if r.endpoint.startswith("notifications.")]
#: The rules, the dry run and the outbox: administrators only.
ADMIN_ONLY_NOTIFICATIONS_AREA = [
    r for r in NOTIFICATIONS_AREA if r.permission is Permission.MANAGE_NOTIFICATIONS
]


def _with_methods(routes: list[Route]) -> list:
    return [pytest.param(r, m, id=f"{m} {r.rule}") for r in routes for m in r.methods]


def _by_rule(routes: list[Route]) -> list:
    return [pytest.param(r, id=r.rule) for r in routes]


# -- test data ------------------------------------------------------------------------------


@dataclass
class World:
    region: Term
    member_a: Member
    contact_a: Contact
    member_b: Member
    contact_b: Contact
    other_user: User
    group: WorkingGroup
    membership: GroupMembership
    event: Event
    invitation: Invitation
    unmatched: UnmatchedAttendee
    exchange: PeerExchange
    partner: Partner
    partner_contact: PartnerContact
    agreement: Agreement
    obligation: Obligation
    document: AgreementDocument
    follow_up: FollowUp
    commitment: Commitment
    commitment_update: CommitmentUpdate
    evidence: EvidenceDocument
    indicator: Indicator
    target: Target
    cycle: ReportingCycle
    submission: Submission
    scheme: ScoringScheme
    reminder_rule: ReminderRule
    notification: Notification
    funder: Funder
    programme: Programme
    grant: Grant
    grant_report: GrantReport
    story: Story
    impact_report: ImpactReport
    funder_contact: User


@pytest.fixture
def world(db) -> World:
    member_a = MemberFactory(name="Aardvark City")
    member_b = MemberFactory(name="Beaver City")
    member_c = MemberFactory(name="Cormorant City")
    group = WorkingGroupFactory(name="Beaver Dams")
    now = utcnow().replace(microsecond=0)
    # Under way: every event page (answers, attendance, import) has something to do.
    event = EventFactory(
        title="Beaver Summit", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    other_user = UserFactory(name="Other Staff")
    partner, partner_contact, agreement, obligation, document, follow_up = _agreement_world(
        db, member_b, other_user
    )
    reporting_world = _reporting_world(db, member_b, other_user)
    world = World(
        **reporting_world,
        **_notification_world(db, follow_up),
        **_funding_world(db, member_b),
        partner=partner,
        partner_contact=partner_contact,
        agreement=agreement,
        obligation=obligation,
        document=document,
        follow_up=follow_up,
        region=member_b.region,
        member_a=member_a,
        contact_a=ContactFactory(member=member_a, name="Alice Anchor"),
        member_b=member_b,
        contact_b=ContactFactory(member=member_b, name="Bob Beaver", email="bob@beaver.example"),
        other_user=other_user,
        group=group,
        membership=GroupMembershipFactory(group=group, member=member_b),
        event=event,
        invitation=InvitationFactory(event=event, member=member_b),
        unmatched=UnmatchedAttendee(
            event_id=event.id,
            match_key="stranger@elsewhere.example",
            email="stranger@elsewhere.example",
            problem="No contact has this e-mail address.",
            status=UnmatchedStatus.OPEN,
        ),
        exchange=PeerExchangeFactory(
            from_member=member_b,
            to_member=member_c,
            status=ExchangeStatus.PROPOSED,
            proposed_by_member_id=member_b.id,
        ),
        scheme=participation.create_scheme(db, None, network_today().year),
    )
    db.add(world.unmatched)
    db.flush()
    # This year's scores, from the records above: members A and B (and C) have one.
    participation.compute(db, None, world.scheme)
    return world


def _funding_world(db, member_b: Member) -> dict:  # type: ignore[no-untyped-def]
    """Another funder's programme covering member B, with a grant, a story about member B and
    a published impact report (its PDF is rendered only if a test downloads it)."""
    year = network_today().year
    funder = Funder(name="Otter Fund", slug="otter-fund")
    db.add(funder)
    db.flush()
    programme = funding.create_programme(
        db,
        None,
        funding.ProgrammeData(
            name="Otter programme",
            starts_on=date(year - 1, 1, 1),
            ends_on=date(year + 1, 12, 31),
            coverage=Coverage.CHOSEN,
            member_ids=[member_b.id],
        ),
    )
    grant = funding.create_grant(
        db,
        None,
        funding.GrantData(
            funder_id=funder.id,
            programme_id=programme.id,
            amount="1000",
            currency="EUR",
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
        ),
    )
    story = StoryFactory(members=[member_b], title="How Beaver City cleaned its river")
    report = impact.create_report(db, None, programme.id, str(year))
    report.versions.append(
        ImpactReportVersion(
            number=1, snapshot=impact_snapshot.for_report(db, report), published_at=utcnow()
        )
    )
    report.status = ReportStatus.PUBLISHED
    db.flush()
    return {
        "funder": funder,
        "programme": programme,
        "grant": grant,
        "grant_report": grant.reports[0],
        "story": story,
        "impact_report": report,
        "funder_contact": UserFactory(role=Role.FUNDER, funder=funder, name="Otto Otter"),
    }


def _agreement_world(db, member_b: Member, owner: User):  # type: ignore[no-untyped-def]
    """A partner, an MoU between it, member B and the secretariat, with an obligation, a
    document and a follow-up about member B."""
    partner = Partner(
        name="Otter Bank", search_name="otter bank", kind=PartnerKind.DEVELOPMENT_BANK
    )
    partner_contact = PartnerContact(partner=partner, name="Olga Otter", email="olga@otter.example")
    agreement = Agreement(
        kind=AgreementKind.MOU,
        title="Beaver Dams MoU",
        status=AgreementStatus.DRAFT,
        owner=owner,
        renewal_notice_days=90,
        parties=[
            AgreementParty(is_secretariat=True, position=0),
            AgreementParty(member=member_b, position=1),
            AgreementParty(partner=partner, position=2),
        ],
    )
    today = utcnow().date()
    follow_up = FollowUp(
        title="Send the minutes",
        owner=owner,
        member=member_b,
        due_on=today + timedelta(days=7),
        series_start=today + timedelta(days=7),
        status=FollowUpStatus.OPEN,
        priority=Priority.NORMAL,
        recurrence=Recurrence.NONE,
    )
    obligation_follow_up = FollowUp(
        title="Report on the dams",
        owner=owner,
        member=member_b,
        agreement=agreement,
        due_on=today + timedelta(days=30),
        series_start=today + timedelta(days=30),
        status=FollowUpStatus.OPEN,
        priority=Priority.NORMAL,
        recurrence=Recurrence.NONE,
    )
    db.add_all([partner, partner_contact, agreement, follow_up, obligation_follow_up])
    db.flush()
    obligation = Obligation(
        agreement=agreement,
        description="Report on the dams",
        party_id=agreement.parties[1].id,
        due_on=today + timedelta(days=30),
        follow_up=obligation_follow_up,
    )
    content = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    document = AgreementDocument(
        agreement=agreement,
        filename="signed.pdf",
        file_type=documents.sniff(content),
        size=len(content),
        sha256=documents.store(content),
    )
    db.add_all([obligation, document])
    db.flush()
    return partner, partner_contact, agreement, obligation, document, follow_up


def _notification_world(db, follow_up: FollowUp) -> dict:  # type: ignore[no-untyped-def]
    """A default reminder rule, and a failed reminder about the follow-up to its owner (so
    that a retry, or a change of the rule, would change something)."""
    rule = db.scalar(
        select(ReminderRule).where(
            ReminderRule.kind == RuleKind.FOLLOW_UP_DUE, ReminderRule.offset_days == 7
        )
    )
    owner = follow_up.owner
    notification = Notification(
        dedup_key=f"r{rule.id}|follow_up:{follow_up.id}|{follow_up.due_on}|{owner.email}",
        rule=rule,
        category=Category.FOLLOW_UPS,
        subject_kind="follow_up",
        subject_id=follow_up.id,
        occurrence=follow_up.due_on.isoformat(),
        recipient_email=owner.email,
        recipient_name=owner.name,
        recipient_user_id=owner.id,
        language="en",
        subject="Overdue by 7 days: Send the minutes",
        body_text="Send the minutes",
        body_html="<p>Send the minutes</p>",
        due_at=utcnow(),
        status=NotificationStatus.FAILED,
        attempts=3,
        last_error="550 mailbox unavailable",
        reason="The mail server refused the message for good.",
    )
    db.add(notification)
    db.flush()
    return {"reminder_rule": rule, "notification": notification}


def _reporting_world(db, member_b: Member, staff: User) -> dict:  # type: ignore[no-untyped-def]
    """A commitment of member B with an update and evidence; an indicator with a target; an
    open cycle asking member B, whose report is submitted."""
    category = db.scalar(
        select(Term).where(Term.vocabulary == Vocabulary.COMMITMENT_CATEGORY).limit(1)
    )
    content = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    evidence = EvidenceDocument(
        member_id=member_b.id,
        filename="plan.pdf",
        file_type=documents.sniff(content),
        size=len(content),
        sha256=documents.store(content, "evidence"),
    )
    commitment = Commitment(
        member=member_b,
        title="Adopt a climate plan",
        category=category,
        status=CommitmentStatus.IN_PROGRESS,
        evidence_document=evidence,
        evidence_on=utcnow().date(),
    )
    update = CommitmentUpdate(
        commitment=commitment, status=CommitmentStatus.IN_PROGRESS, narrative="Drafting"
    )
    indicator = IndicatorFactory(code="BEAVERS", name="Beaver dams")
    target = Target(indicator=indicator, period="2025", value=12)
    db.add_all([evidence, commitment, update, target])
    db.flush()
    cycle = ReportingCycleFactory(
        name="Beaver report",
        audience=CycleAudience.CHOSEN,
        opens_on=utcnow().date() - timedelta(days=5),
        due_on=utcnow().date() + timedelta(days=30),
    )
    cycle.indicators = [CycleIndicator(indicator=indicator, position=1)]
    cycle.members = [CycleMember(member=member_b)]
    db.flush()
    reporting.open_cycle(db, staff, cycle)
    submission = reporting.save_submission(
        db,
        staff,
        cycle,
        member_b,
        reporting.SubmissionInput({indicator.id: reporting.ValueInput("7")}),
        submit=True,
    )
    return {
        "commitment": commitment,
        "commitment_update": update,
        "evidence": evidence,
        "indicator": indicator,
        "target": target,
        "cycle": cycle,
        "submission": submission,
    }


@pytest.fixture
def focal_point(db, world) -> User:
    user = UserFactory(focal_point=True, member=world.member_a)
    db.flush()
    return user


def url_values(route: Route, world: World, **overrides: object) -> dict:
    """Real values for the arguments of a rule; a new argument name must be added here."""
    values: dict[str, object] = {
        "slug": world.member_b.slug,
        "contact_id": world.contact_b.id,
        "user_id": world.other_user.id,
        "term_id": world.region.id,
        "vocabulary": Vocabulary.REGION.value,
        "what": "members",
        "fmt": "csv",
        "token": "0123456789abcdef",
        "group_slug": world.group.slug,
        "membership_id": world.membership.id,
        "event_id": world.event.id,
        "invitation_id": world.invitation.id,
        "unmatched_id": world.unmatched.id,
        "exchange_id": world.exchange.id,
        "partner_id": world.partner.id,
        "agreement_id": world.agreement.id,
        "document_id": world.document.id,
        "obligation_id": world.obligation.id,
        "status": AgreementStatus.NEGOTIATING.value,
        "follow_up_id": world.follow_up.id,
        "commitment_id": world.commitment.id,
        "update_id": world.commitment_update.id,
        "member_id": world.member_b.id,
        "indicator_id": world.indicator.id,
        "target_id": world.target.id,
        "cycle_id": world.cycle.id,
        "submission_id": world.submission.id,
        "year": world.scheme.year,
        "rule_id": world.reminder_rule.id,
        "notification_id": world.notification.id,
        "funder_id": world.funder.id,
        "programme_id": world.programme.id,
        "grant_id": world.grant.id,
        "story_id": world.story.id,
        "report_id": world.impact_report.id,
        "number": 1,
        "key": "members",
        "sha256": "0" * 64,
    }
    if route.rule.startswith("/funding/"):
        values["report_id"] = world.grant_report.id
        values["user_id"] = world.funder_contact.id
    if route.rule.startswith("/partners/"):
        values["contact_id"] = world.partner_contact.id
    if route.rule.startswith("/commitments/"):
        values["document_id"] = world.evidence.id
    values.update(overrides)
    missing = route.arguments - values.keys()
    assert not missing, f"no test value for {sorted(missing)} of {route.rule}: add one above"
    return {name: values[name] for name in route.arguments}


def build(app, route: Route, world: World, **overrides: object) -> str:  # type: ignore[no-untyped-def]
    return app.url_map.bind("localhost").build(
        route.endpoint, url_values(route, world, **overrides)
    )


def form_data(endpoint: str, world: World) -> dict[str, str]:
    """Valid form data: a missing check would let the request write something."""
    member = {
        "name": "Renamed City",
        "slug": "renamed-city",
        "kind": MemberKind.CITY.value,
        "country": "PT",
        "region_id": str(world.region.id),
    }
    contact = {
        "name": "Someone New",
        "role": ContactRole.FOCAL_POINT.value,
        "email": "someone@new.example",
        "active_from": "2021-01-01",
    }
    today = utcnow().date().isoformat()
    event = {
        "title": "A new event",
        "event_type": "webinar",
        "starts_local": "2030-01-10T10:00",
        "ends_local": "2030-01-10T12:00",
        "is_online": "y",
    }
    exchange = {
        "from_member_id": str(world.member_a.id),
        "to_member_id": str(world.member_b.id),
        "exchange_type": "study_visit",
        "occurred_on": today,
        "description": "A study visit",
    }
    agreement = {
        "kind": "mou",
        "title": "A new MoU",
        "owner_id": str(world.other_user.id),
        "secretariat_party": "y",
        "member_ids": str(world.member_b.id),
    }
    obligation = {
        "description": "Publish the data",
        "party_id": str(world.agreement.parties[1].id),
        "due_on": (utcnow().date() + timedelta(days=60)).isoformat(),
        "priority": "normal",
    }
    follow_up = {
        "title": "Call the mayor's office",
        "owner_id": str(world.other_user.id),
        "member_id": str(world.member_b.id),
        "due_on": (utcnow().date() + timedelta(days=10)).isoformat(),
        "priority": "normal",
        "recurrence": "none",
    }
    return {
        "members.new": {**member, "status": MemberStatus.APPLICANT.value},
        "members.edit": member,
        "members.change_status": {"status": MemberStatus.SUSPENDED.value, "reason": "Testing"},
        "members.new_contact": contact,
        "members.edit_contact": contact,
        "members.end_contact": {"active_to": utcnow().date().isoformat()},
        "users.new": {"email": "new-user@example.org", "name": "New User", "role": "staff"},
        "users.edit": {"email": "renamed@example.org", "name": "Renamed", "role": "admin"},
        "vocabularies.edit_list": {"label": "A new region"},
        "vocabularies.edit_term": {"label": "Renamed region", "position": "3", "is_active": "y"},
        "accounts.account": {"action": "profile", "profile-name": "Renamed"},
        "groups.new": {"name": "Otters", "slug": "otters"},
        "groups.edit": {"name": "Renamed Dams", "slug": "renamed-dams"},
        "groups.close": {"closed_on": today},
        "groups.add_members": {
            "member_ids": str(world.member_a.id),
            "role": "member",
            "joined_on": today,
        },
        "groups.change_role": {"role": "lead", "changed_on": today},
        "groups.remove_member": {"left_on": today},
        "events.new": event,
        "events.edit": event,
        "events.invite": {"audience": "chosen", "member_ids": str(world.member_a.id)},
        "events.respond": {"contact_id": str(world.contact_b.id), "response": "declined"},
        "events.attendance": {
            "shown_contact": str(world.contact_b.id),
            "attended_contact": str(world.contact_b.id),
        },
        "events.add_uninvited": {"member_id": str(world.member_a.id), "reason": "Walked in"},
        "events.resolve": {"contact_id": str(world.contact_b.id)},
        "events.calendar_feed": {"action": "create"},
        "exchanges.new": exchange,
        "exchanges.edit": exchange,
        "exchanges.reject": {"reason": "It did not happen"},
        "partners.new": {"name": "Heron Fund", "kind": "foundation"},
        "partners.edit": {"name": "Renamed Bank", "kind": "development_bank"},
        "partners.new_contact": {"name": "Pat Partner", "email": "pat@otter.example"},
        "partners.edit_contact": {"name": "Olga Renamed", "email": "olga@otter.example"},
        "agreements.new": {**agreement, "status": "draft"},
        "agreements.renew": {**agreement, "status": "draft"},
        "agreements.edit": agreement,
        "agreements.add_document": {
            "file": (io.BytesIO(b"%PDF-1.4\ntrailer<<>>\n%%EOF\n"), "annex.pdf"),
            "description": "Annex",
        },
        "agreements.new_obligation": obligation,
        "agreements.edit_obligation": obligation,
        "followups.new": follow_up,
        "followups.edit": follow_up,
        "followups.complete": {"completed_on": today, "note": "Sent"},
        "followups.cancel": {"cancelled_on": today, "note": "No longer needed"},
        "commitments.new": {
            "title": "Plant a million trees",
            "category_id": str(world.commitment.category_id),
            "status": "planned",
        },
        "commitments.edit": {
            "title": "Renamed commitment",
            "category_id": str(world.commitment.category_id),
            "status": "in_progress",
        },
        "commitments.add_update": {"status": "achieved", "narrative": "Done"},
        "indicators.new": {
            "code": "OTTERS",
            "name": "Otters",
            "value_type": "number",
            "direction": "higher",
            "level": "member",
            "aggregation": "sum",
            "is_active": "y",
        },
        "indicators.edit": {
            "code": "BEAVERS",
            "name": "Renamed",
            "value_type": "number",
            "direction": "higher",
            "level": "member",
            "aggregation": "sum",
            "is_active": "y",
        },
        "indicators.set_target": {"period": "2026", "value": "20", "member_id": ""},
        "indicators.record_network_value": {"period": "2026", "value": "20"},
        "reporting.new": {
            "name": "Otter report",
            "period": "2026",
            "opens_on": today,
            "due_on": (utcnow().date() + timedelta(days=30)).isoformat(),
            "audience": "all_active",
            "indicator_ids": str(world.indicator.id),
        },
        "reporting.edit": {
            "name": "Renamed report",
            "opens_on": today,
            "due_on": (utcnow().date() + timedelta(days=40)).isoformat(),
        },
        "reporting.return_submission": {"comment": "Check the unit"},
        "reporting.reopen": {"comment": "Late data"},
        "submissions.form": {f"value-{world.indicator.id}": "9", "action": "submit"},
        "participation.create_year": {"year": str(world.scheme.year + 1)},
        "participation.save_settings": {"recognition_visible": "y"},
        "participation.save_scheme": scheme_form({"attendance-weight": "30"}),
        "participation.reopen": {"reason": "Late attendance lists"},
        "notifications.preferences": REMINDER_CHOICES,
        "notifications.contact_preferences": REMINDER_CHOICES,
        "notifications.update_rule": {"offset_days": "5", "enabled": "on"},
        "notifications.add_rule": {"kind": "follow_up_due", "offset_days": "14"},
        "followups.from_event": {
            "rows-0-title": "Send the slides",
            "rows-0-owner_id": str(world.other_user.id),
            "rows-0-due_on": (utcnow().date() + timedelta(days=3)).isoformat(),
            "rows-0-priority": "normal",
        },
    }.get(endpoint, {})


#: Valid choices for every category offered to staff (focal points are offered fewer).
REMINDER_CHOICES = {
    category: "digest"
    for category in (
        "follow_ups",
        "agreements",
        "escalations",
        "reporting",
        "commitments",
        "fees",
    )
}
#: Event reminders cannot wait for the digest.
REMINDER_CHOICES["events"] = "immediately"


def scheme_form(changes: dict | None = None) -> dict:
    """The default method as the method page posts it; ``changes`` overrides fields by their
    names in the form, e.g. ``{"attendance-weight": "30"}``."""
    data: dict = {}
    for kind, default in participation.DEFAULT_CRITERIA.items():
        data[f"{kind.value}-weight"] = str(default.weight)
        data[f"{kind.value}-floor"] = str(default.floor)
        data[f"{kind.value}-target"] = str(default.target)
        data[f"{kind.value}-bonus"] = "" if default.bonus is None else str(default.bonus)
    data.update(
        leading_from="80",
        active_from="60",
        engaged_from="40",
        recognition_size="3",
        conditions=[kind.value for kind in participation.DEFAULT_CONDITIONS],
    )
    data.update(changes or {})
    return data


def request(client, method: str, path: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(path)
    return client.post(path, data=data or {})


def snapshot(db) -> list:  # type: ignore[no-untyped-def]
    """Every row of every table, to prove that a refused request wrote nothing."""
    return [db.execute(select(table)).all() for table in Base.metadata.sorted_tables]


def assert_refused_without_change(app, client, db, world: World, route: Route, method: str) -> None:  # type: ignore[no-untyped-def]
    """Send valid form data to the route: the answer is the uniform 404 and nothing changed."""
    before = snapshot(db)
    response = request(client, method, build(app, route, world), form_data(route.endpoint, world))
    assert refused(response), response.status_code
    assert snapshot(db) == before


def is_sign_in_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code != 302:
        return False
    return urlsplit(response.headers["Location"]).path == "/sign-in"


def refused(response) -> bool:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    return response.status_code == 404 and "Page not found" in body


# -- 1. every endpoint declares a permission ------------------------------------------------


def test_every_endpoint_declares_a_permission(app):
    endpoints = [e for e in app.view_functions if e != "static"]
    assert endpoints
    undeclared = [e for e in endpoints if declared_permission(app.view_functions[e]) is None]
    assert undeclared == []


def test_collected_routes_are_those_of_the_app(app):
    assert sorted(_routes_of(app)) == sorted(ROUTES)
    assert {r.endpoint for r in ROUTES} == set(app.view_functions) - {"static"}


def test_an_undeclared_endpoint_is_refused_even_to_an_admin(app, client, auth, db):
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    admin = UserFactory(admin=True)
    db.flush()
    auth.login(admin)
    assert refused(client.get("/undeclared"))


# -- 2. anonymous users are sent to sign in; public pages answer them ----------------------


@pytest.mark.parametrize(("route", "method"), _with_methods(PROTECTED))
def test_anonymous_is_sent_to_sign_in(app, client, db, world, mailbox, route, method):
    path = build(app, route, world)
    before = snapshot(db)
    response = request(client, method, path, form_data(route.endpoint, world))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query).get("next") == [path]
    assert snapshot(db) == before
    assert mailbox.messages == []


@pytest.mark.parametrize(("route", "method"), _with_methods(PUBLIC))
def test_public_pages_answer_anonymous(app, client, world, route, method):
    response = request(client, method, build(app, route, world))
    assert response.status_code < 500
    assert not is_sign_in_redirect(response)


def test_there_are_public_and_protected_routes():
    assert {r.endpoint for r in PUBLIC} >= {"accounts.sign_in", "accounts.forgot_password"}
    assert {r.endpoint for r in PROTECTED} >= {"dashboard.home", "members.detail", "users.index"}


def test_anonymous_cannot_tell_whether_a_member_exists(client, world):
    real = client.get(f"/members/{world.member_b.slug}")
    missing = client.get("/members/no-such-member")
    assert is_sign_in_redirect(real)
    assert is_sign_in_redirect(missing)


# -- 3. a focal point sees and edits only its own member -----------------------------------


@pytest.mark.parametrize(("route", "method"), _with_methods(SLUG_ROUTES))
def test_focal_point_is_refused_another_members_pages(
    app, client, auth, db, world, focal_point, mailbox, route, method
):
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


def test_member_scoped_routes_include_the_contact_pages():
    assert {(r.endpoint, m) for r in SLUG_ROUTES for m in r.methods} >= {
        ("members.detail", "GET"),
        ("members.edit", "GET"),
        ("members.edit", "POST"),
        ("members.change_status", "GET"),
        ("members.change_status", "POST"),
        ("members.new_contact", "GET"),
        ("members.new_contact", "POST"),
        ("members.edit_contact", "GET"),
        ("members.edit_contact", "POST"),
        ("members.end_contact", "GET"),
        ("members.end_contact", "POST"),
        ("members.invite_contact", "POST"),
    }


@pytest.mark.parametrize(("route", "method"), _with_methods(SLUG_AND_CONTACT_ROUTES))
def test_focal_point_cannot_reach_another_members_contact_through_own_slug(
    app, client, auth, db, world, focal_point, mailbox, route, method
):
    auth.login(focal_point)
    before = snapshot(db)
    path = build(app, route, world, slug=world.member_a.slug, contact_id=world.contact_b.id)
    response = request(client, method, path, form_data(route.endpoint, world))
    assert refused(response), response.status_code
    assert snapshot(db) == before
    assert mailbox.messages == []


def test_staff_can_post_the_same_form_data(client, auth, db, world):
    """The refusals above are meaningful: the same requests succeed for staff."""
    auth.login(UserFactory())
    b, contact = world.member_b.slug, world.contact_b.id
    for path, endpoint in [
        (f"/members/{b}/contacts/{contact}/edit", "members.edit_contact"),
        (f"/members/{b}/contacts/{contact}/end", "members.end_contact"),
        (f"/members/{b}/contacts/new", "members.new_contact"),
        (f"/members/{b}/status", "members.change_status"),
        (f"/members/{b}/edit", "members.edit"),
    ]:
        response = client.post(path, data=form_data(endpoint, world))
        assert response.status_code == 302, (path, response.get_data(as_text=True)[:500])
    db.expire_all()
    assert db.get(Member, world.member_b.id).status is MemberStatus.SUSPENDED
    assert db.get(Member, world.member_b.id).slug == "renamed-city"


def test_focal_point_sees_own_member_and_the_directory(client, auth, world, focal_point):
    auth.login(focal_point)
    own = client.get(f"/members/{world.member_a.slug}")
    assert own.status_code == 200
    assert "Alice Anchor" in own.get_data(as_text=True)
    assert client.get("/members/").status_code == 200
    assert client.get("/").status_code == 200
    for path in (
        f"/members/{world.member_a.slug}/contacts/new",
        f"/members/{world.member_a.slug}/contacts/{world.contact_a.id}/edit",
        f"/members/{world.member_a.slug}/contacts/{world.contact_a.id}/end",
    ):
        assert client.get(path).status_code == 200, path


def test_focal_point_adds_edits_and_ends_own_contacts(client, auth, db, world, focal_point):
    auth.login(focal_point)
    a = world.member_a.slug
    response = client.post(
        f"/members/{a}/contacts/new",
        data={"name": "Carla Novo", "role": "technical_lead", "email": "carla@a.example"},
    )
    assert response.status_code == 302
    added = db.scalar(select(Contact).where(Contact.name == "Carla Novo"))
    assert added is not None
    assert added.member_id == world.member_a.id
    assert added.email == "carla@a.example"

    response = client.post(
        f"/members/{a}/contacts/{world.contact_a.id}/edit",
        data={"name": "Alice Renamed", "role": "focal_point", "active_from": "2021-01-01"},
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Contact, world.contact_a.id).name == "Alice Renamed"

    today = utcnow().date()
    response = client.post(
        f"/members/{a}/contacts/{world.contact_a.id}/end", data={"active_to": today.isoformat()}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Contact, world.contact_a.id).active_to == today
    # Nothing of member B changed along the way.
    contact_b = db.get(Contact, world.contact_b.id)
    assert (contact_b.name, contact_b.active_to) == ("Bob Beaver", None)


def _table_head(body: str) -> str:
    found = re.search(r"<thead>(.*?)</thead>", body, re.S)
    assert found, body
    return found.group(1)


def test_focal_point_directory_has_no_private_columns_nor_links_to_others(
    client, auth, db, world, focal_point
):
    tier = TermFactory(vocabulary=Vocabulary.TIER, label="Platinum tier")
    world.member_b.tier = tier
    world.member_b.population = 7_654_321
    db.flush()
    auth.login(focal_point)
    body = client.get("/members/").get_data(as_text=True)
    head = _table_head(body)
    for private in ("Tier", "Population", "Joined", "sort=population", "sort=joined_on"):
        assert private not in head
    tbody = body.split("</thead>", 1)[1]
    assert "Platinum tier" not in tbody
    assert "7,654,321" not in body and "7654321" not in body
    assert "Beaver City" in body
    assert f'href="/members/{world.member_b.slug}"' not in body
    assert f'href="/members/{world.member_a.slug}"' in body
    # Nor the staff actions.
    assert "/members/new" not in body and "/members/export/" not in body


def test_staff_directory_has_the_private_columns(client, auth, world):
    auth.login(UserFactory())
    body = client.get("/members/").get_data(as_text=True)
    head = _table_head(body)
    assert "Tier" in head and "Population" in head
    assert f'href="/members/{world.member_b.slug}"' in body


def test_focal_point_cannot_learn_tiers_or_populations_from_the_directory(
    client, auth, db, world, focal_point
):
    """The directory ignores ``?tier=`` and ``?sort=population`` for focal points and lists no
    tiers: otherwise they would learn each member's tier and population rank."""
    gold = TermFactory(vocabulary=Vocabulary.TIER, label="Gold tier")
    world.member_a.tier = None
    world.member_a.population = 10
    world.member_b.tier = gold
    world.member_b.population = 9_000_000
    db.flush()
    auth.login(focal_point)

    filtered = client.get(f"/members/?tier={gold.id}").get_data(as_text=True)
    # Ignoring the filter lists both members; obeying it reveals that B alone is "Gold".
    assert "Aardvark City" in filtered, "the tier filter reveals the tier of each member"

    by_population = client.get("/members/?sort=population&dir=desc").get_data(as_text=True)
    by_name = client.get("/members/").get_data(as_text=True)
    order = [by_population.index("Aardvark City"), by_population.index("Beaver City")]
    name_order = [by_name.index("Aardvark City"), by_name.index("Beaver City")]
    assert (order[0] < order[1]) == (name_order[0] < name_order[1]), (
        "sorting by population reveals the population rank"
    )

    assert "Gold tier" not in by_name, "the tier filter lists the tiers"


# -- 4. a funder user sees neither members nor administration ------------------------------


@pytest.mark.parametrize(("route", "method"), _with_methods(MEMBER_AND_ADMIN))
def test_funder_is_refused_members_and_administration(
    app, client, auth, db, world, mailbox, route, method
):
    auth.login(UserFactory(funder_user=True))
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


def test_funder_sees_home_and_own_account(client, auth, db):
    funder = UserFactory(funder_user=True, name="Fiona Funder")
    db.flush()
    auth.login(funder)
    home = client.get("/")
    assert home.status_code == 200
    assert "/members/" not in home.get_data(as_text=True)
    assert client.get("/account").status_code == 200


def test_member_and_admin_routes_cover_every_area():
    prefixes = {r.rule.split("/")[1] for r in MEMBER_AND_ADMIN}
    assert prefixes == {"members", "admin"}
    assert any(r.endpoint.startswith("vocabularies.") for r in MEMBER_AND_ADMIN)
    assert any(r.endpoint.startswith("users.") for r in MEMBER_AND_ADMIN)


# -- 5. only an admin manages users and lists ----------------------------------------------


@pytest.mark.parametrize(("route", "method"), _with_methods(ADMIN_AREA))
def test_staff_is_refused_users_and_lists(app, client, auth, db, world, mailbox, route, method):
    auth.login(UserFactory())
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


def test_admin_area_is_admin_only_in_the_policy():
    assert ADMIN_AREA
    for route in ADMIN_AREA:
        assert POLICY[route.permission] == {Role.ADMIN}, route.rule


@pytest.mark.parametrize("route", _by_rule(ADMIN_AREA))
def test_admin_manages_users_and_lists(app, client, auth, db, world, route):
    auth.login(UserFactory(admin=True))
    path = build(app, route, world)
    if "GET" in route.methods:
        response = client.get(path, follow_redirects=True)
    else:
        response = client.post(path, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_staff_cannot_invite_a_contact_as_user(client, auth, db, world, mailbox):
    auth.login(UserFactory())
    before = snapshot(db)
    response = client.post(f"/members/{world.member_b.slug}/contacts/{world.contact_b.id}/invite")
    assert refused(response)
    assert snapshot(db) == before
    assert mailbox.messages == []


# -- 6. staff works on member pages, import and export -------------------------------------


@pytest.mark.parametrize("route", _by_rule(MEMBER_PAGES_GET))
def test_staff_sees_member_pages(app, client, auth, world, route):
    auth.login(UserFactory())
    response = client.get(build(app, route, world))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_member_pages_include_import_and_export():
    assert {r.endpoint for r in MEMBER_PAGES_GET} >= {
        "members.index",
        "members.detail",
        "members.import_upload",
        "members.export",
    }


def test_staff_exports_and_import_pages(client, auth, world):
    auth.login(UserFactory())
    for path in (
        "/members/import/members",
        "/members/import/contacts",
        "/members/export/members.csv",
        "/members/export/contacts.csv",
        "/members/export/members.xlsx",
        "/members/export/contacts.xlsx",
    ):
        assert client.get(path).status_code == 200, path
    exported = client.get("/members/export/contacts.csv").get_data(as_text=True)
    assert "Bob Beaver" in exported


# -- 7. the refusal is the same 404 as a page that does not exist --------------------------


def _not_found_pair(client, out_of_scope: str, missing: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    client.get("/")  # shows, and so clears, the welcome message flashed at sign-in
    first, second = client.get(out_of_scope), client.get(missing)
    assert (first.status_code, second.status_code) == (404, 404)
    assert first.content_type == second.content_type
    return without_tokens(first.get_data()), without_tokens(second.get_data())


def test_out_of_scope_is_the_same_404_as_missing_for_a_focal_point(
    client, auth, world, focal_point
):
    auth.login(focal_point)
    a, b = world.member_a.slug, world.member_b.slug
    pairs = [
        (f"/members/{b}", "/members/no-such-member"),
        (f"/members/{b}/edit", "/members/no-such-member/edit"),
        (f"/members/{b}/contacts/new", "/members/no-such-member/contacts/new"),
        (
            f"/members/{b}/contacts/{world.contact_b.id}/edit",
            f"/members/no-such-member/contacts/{world.contact_b.id}/edit",
        ),
        (
            f"/members/{a}/contacts/{world.contact_b.id}/edit",
            f"/members/{a}/contacts/999999/edit",
        ),
        (
            f"/members/{a}/contacts/{world.contact_b.id}/end",
            f"/members/{a}/contacts/999999/end",
        ),
    ]
    for out_of_scope, missing in pairs:
        refused_body, missing_body = _not_found_pair(client, out_of_scope, missing)
        assert "Page not found" in refused_body
        assert refused_body == missing_body, out_of_scope
        assert world.member_b.name not in refused_body
        assert "Bob Beaver" not in refused_body


def test_out_of_scope_is_the_same_404_as_missing_for_a_funder(client, auth, world):
    auth.login(UserFactory(funder_user=True))
    refused_body, missing_body = _not_found_pair(
        client, f"/members/{world.member_b.slug}", "/members/no-such-member"
    )
    assert "Page not found" in refused_body
    assert refused_body == missing_body


def test_staff_gets_the_same_404_for_a_user_it_may_not_manage_and_a_missing_one(
    client, auth, world
):
    auth.login(UserFactory())
    refused_body, missing_body = _not_found_pair(
        client, f"/admin/users/{world.other_user.id}/edit", "/admin/users/999999/edit"
    )
    assert "Page not found" in refused_body
    assert refused_body == missing_body
    assert "Other Staff" not in refused_body


# -- 8. the services check the scope again -------------------------------------------------


def _contact_data(name: str = "Mallory") -> services.ContactData:
    return services.ContactData(name=name, role=ContactRole.FOCAL_POINT, email="m@x.example")


def test_services_refuse_a_focal_point_another_members_contacts(db, world, focal_point):
    before = snapshot(db)
    with pytest.raises(OutOfScope):
        services.add_contact(db, focal_point, world.member_b, _contact_data())
    with pytest.raises(OutOfScope):
        services.update_contact(db, focal_point, world.contact_b, _contact_data())
    with pytest.raises(OutOfScope):
        services.end_contact(db, focal_point, world.contact_b)
    assert snapshot(db) == before
    db.expire_all()
    assert db.get(Contact, world.contact_b.id).name == "Bob Beaver"


def test_services_let_a_focal_point_manage_own_contacts(db, world, focal_point):
    added = services.add_contact(db, focal_point, world.member_a, _contact_data("Dora"))
    assert added.member_id == world.member_a.id
    services.update_contact(db, focal_point, world.contact_a, _contact_data("Alice Again"))
    services.end_contact(db, focal_point, world.contact_a, utcnow().date())
    assert world.contact_a.name == "Alice Again"
    assert world.contact_a.active_to == utcnow().date()


def test_services_refuse_a_funder_contacts(db, world):
    funder = UserFactory(funder_user=True)
    db.flush()
    with pytest.raises(OutOfScope):
        services.add_contact(db, funder, world.member_b, _contact_data())
    with pytest.raises(OutOfScope):
        services.update_contact(db, funder, world.contact_b, _contact_data())
    with pytest.raises(OutOfScope):
        services.end_contact(db, funder, world.contact_b)


@pytest.fixture(params=["focal_point", "funder_user"])
def non_staff(request, db, world) -> User:
    if request.param == "focal_point":
        user = UserFactory(focal_point=True, member=world.member_a)
    else:
        user = UserFactory(funder_user=True)
    db.flush()
    return user


def _member_data(member: Member) -> services.MemberData:
    data = services.MemberData.from_member(member)
    data.name = "Taken Over"
    return data


@pytest.mark.parametrize("own", [True, False], ids=["own-member", "other-member"])
def test_services_refuse_member_changes_to_non_staff(db, world, non_staff, own):
    member = world.member_a if own else world.member_b
    before = snapshot(db)
    with pytest.raises(OutOfScope):
        services.update_member(db, non_staff, member, _member_data(member))
    with pytest.raises(OutOfScope):
        services.change_status(db, non_staff, member, MemberStatus.EXITED, "Because")
    new = services.MemberData(name="New Town", slug="new-town", kind=MemberKind.CITY, country="PT")
    with pytest.raises(OutOfScope):
        services.create_member(db, non_staff, new)
    assert snapshot(db) == before


def test_services_let_staff_change_members(db, world):
    staff = UserFactory()
    db.flush()
    services.update_member(db, staff, world.member_b, _member_data(world.member_b))
    services.change_status(db, staff, world.member_b, MemberStatus.EXITED, "Left the network")
    new = services.MemberData(name="New Town", slug="new-town", kind=MemberKind.CITY, country="PT")
    created = services.create_member(db, staff, new)
    assert world.member_b.name == "Taken Over"
    assert world.member_b.status is MemberStatus.EXITED
    assert created.slug == "new-town"


# -- 9. has_permission and can_access_member ------------------------------------------------

ANONYMOUS = "anonymous"
ALL = {ANONYMOUS, *Role}
SIGNED_IN = set(Role)
STAFF = {Role.ADMIN, Role.STAFF}

#: The expected policy, written out: who holds each permission.
EXPECTED: dict[Permission, set] = {
    Permission.PUBLIC: ALL,
    Permission.SIGNED_IN: SIGNED_IN,
    Permission.VIEW_MEMBER_DIRECTORY: STAFF | {Role.FOCAL_POINT},
    Permission.VIEW_MEMBER: STAFF | {Role.FOCAL_POINT},
    Permission.EDIT_CONTACTS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_MEMBERS: STAFF,
    Permission.MANAGE_USERS: {Role.ADMIN},
    Permission.MANAGE_SETTINGS: {Role.ADMIN},
    Permission.VIEW_GROUPS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_GROUPS: STAFF,
    Permission.VIEW_EVENTS: STAFF | {Role.FOCAL_POINT},
    Permission.RESPOND_TO_EVENTS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_EVENTS: STAFF,
    Permission.USE_CALENDAR_FEED: STAFF | {Role.FOCAL_POINT},
    Permission.PROPOSE_EXCHANGES: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_EXCHANGES: STAFF,
    Permission.MANAGE_PARTNERS: STAFF,
    Permission.VIEW_AGREEMENTS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_AGREEMENTS: STAFF,
    Permission.UPDATE_FOLLOW_UPS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_FOLLOW_UPS: STAFF,
    Permission.VIEW_COMMITMENTS: STAFF | {Role.FOCAL_POINT},
    Permission.UPDATE_COMMITMENTS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_COMMITMENTS: STAFF,
    Permission.MANAGE_INDICATORS: STAFF,
    Permission.SUBMIT_REPORTS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_REPORTING: STAFF,
    Permission.VIEW_SCORECARD: STAFF | {Role.FOCAL_POINT},
    Permission.VIEW_RECOGNITION: STAFF | {Role.FOCAL_POINT},
    Permission.VIEW_PARTICIPATION: STAFF,
    Permission.MANAGE_PARTICIPATION: STAFF,
    Permission.EDIT_SCORING_SCHEME: {Role.ADMIN},
    Permission.CHOOSE_NOTIFICATIONS: STAFF | {Role.FOCAL_POINT},
    Permission.MANAGE_NOTIFICATIONS: {Role.ADMIN},
    Permission.MANAGE_FUNDING: {Role.ADMIN, Role.STAFF},
    Permission.VIEW_STORIES: {Role.ADMIN, Role.STAFF, Role.FOCAL_POINT},
    Permission.APPROVE_STORIES: {Role.FOCAL_POINT},
    Permission.MANAGE_STORIES: {Role.ADMIN, Role.STAFF},
    Permission.MANAGE_IMPACT_REPORTS: {Role.ADMIN, Role.STAFF},
    Permission.VIEW_FUNDED_PROGRAMMES: {Role.FUNDER},
}

MEMBER_ID = 41
OTHER_MEMBER_ID = 42


def make_user(who: str | Role):  # type: ignore[no-untyped-def]
    if who == ANONYMOUS:
        return AnonymousUserMixin()
    role = Role(who)
    return User(
        id=1,
        role=role,
        member_id=MEMBER_ID if role is Role.FOCAL_POINT else None,
        funder_id=7 if role is Role.FUNDER else None,
    )


def test_the_expected_policy_names_every_permission():
    assert set(EXPECTED) == set(Permission)


@pytest.mark.parametrize("who", [ANONYMOUS, *Role])
@pytest.mark.parametrize("permission", list(Permission))
def test_has_permission(who, permission):
    assert has_permission(make_user(who), permission) is (who in EXPECTED[permission])


@pytest.mark.parametrize(
    ("who", "own", "other"),
    [
        (ANONYMOUS, False, False),
        (Role.ADMIN, True, True),
        (Role.STAFF, True, True),
        (Role.FOCAL_POINT, True, False),
        (Role.FUNDER, False, False),
    ],
)
def test_can_access_member(who, own, other):
    user = make_user(who)
    assert can_access_member(user, MEMBER_ID) is own
    assert can_access_member(user, OTHER_MEMBER_ID) is other


def test_a_focal_point_without_member_accesses_no_member():
    user = User(id=1, role=Role.FOCAL_POINT, member_id=None)
    assert can_access_member(user, MEMBER_ID) is False


def test_an_object_without_authentication_flag_holds_nothing_but_public():
    anything = object()
    assert has_permission(anything, Permission.PUBLIC)
    for permission in set(Permission) - {Permission.PUBLIC}:
        assert not has_permission(anything, permission)
    assert not can_access_member(anything, MEMBER_ID)


def test_navigation_follows_the_policy(client, auth, focal_point):
    """The navigation shows only what the role may open."""
    auth.login(focal_point)
    body = client.get("/").get_data(as_text=True)
    assert 'href="/members/"' in body
    assert "/admin/users/" not in body and "/admin/lists/" not in body


# -- 8. groups, events and exchanges -------------------------------------------------------


def test_activity_routes_cover_groups_events_and_exchanges():
    assert {r.rule.split("/")[1] for r in ACTIVITY} >= {"groups", "events", "exchanges"}
    assert {r.permission for r in STAFF_ONLY_ACTIVITY} == {
        Permission.MANAGE_GROUPS,
        Permission.MANAGE_EVENTS,
        Permission.MANAGE_EXCHANGES,
    }
    assert {"events.detail", "events.respond", "events.download"} <= {
        r.endpoint for r in EVENT_PAGES
    }


@pytest.mark.parametrize(("route", "method"), _with_methods(STAFF_ONLY_ACTIVITY))
def test_focal_point_cannot_manage_groups_events_or_exchanges(
    app, client, auth, db, world, mailbox, route, method
):
    """Even with its member invited to the event and in the group."""
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


@pytest.mark.parametrize(("route", "method"), _with_methods(EVENT_PAGES))
def test_focal_point_is_refused_events_its_member_is_not_invited_to(
    app, client, auth, db, world, focal_point, mailbox, route, method
):
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize(("route", "method"), _with_methods(ACTIVITY))
def test_funder_is_refused_groups_events_and_exchanges(
    app, client, auth, db, world, mailbox, route, method
):
    auth.login(UserFactory(funder_user=True))
    before = snapshot(db)
    response = request(client, method, build(app, route, world), form_data(route.endpoint, world))
    assert response.status_code == 404, response.status_code
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "route",
    _by_rule([r for r in ACTIVITY if "GET" in r.methods and r.permission != Permission.PUBLIC]),
)
def test_staff_sees_every_activity_page(app, client, auth, world, route):
    auth.login(UserFactory())
    response = client.get(build(app, route, world))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_focal_point_of_an_invited_member_sees_and_answers_the_event(client, auth, db, world):
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    event = world.event
    event.starts_at = utcnow() + timedelta(days=3)
    event.ends_at = event.starts_at + timedelta(hours=2)
    db.flush()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Beaver Summit" in page and "Bob Beaver" in page
    assert "Alice Anchor" not in page
    response = client.post(
        f"/events/{event.id}/respond",
        data={"contact_id": str(world.contact_b.id), "response": "registered"},
    )
    assert response.status_code == 302
    # Another member's contact, through an event the focal point may see: the uniform 404.
    other = client.post(
        f"/events/{event.id}/respond",
        data={"contact_id": str(world.contact_a.id), "response": "registered"},
    )
    assert refused(other)


# -- 9. partners, agreements and follow-ups ------------------------------------------------


def test_agreement_area_covers_partners_agreements_and_follow_ups():
    assert {r.rule.split("/")[1] for r in AGREEMENT_AREA} == {
        "partners",
        "agreements",
        "follow-ups",
    }
    assert {r.permission for r in STAFF_ONLY_AGREEMENT_AREA} == {
        Permission.MANAGE_PARTNERS,
        Permission.MANAGE_AGREEMENTS,
        Permission.MANAGE_FOLLOW_UPS,
    }
    assert {"agreements.detail", "agreements.download", "followups.detail"} <= {
        r.endpoint for r in SCOPED_AGREEMENT_PAGES
    }


@pytest.mark.parametrize(("route", "method"), _with_methods(STAFF_ONLY_AGREEMENT_AREA))
def test_focal_point_cannot_manage_partners_agreements_or_follow_ups(
    app, client, auth, db, world, mailbox, route, method
):
    """Even the focal point of a party to the agreement, whose member the follow-up is about."""
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


@pytest.mark.parametrize(("route", "method"), _with_methods(SCOPED_AGREEMENT_PAGES))
def test_focal_point_is_refused_agreements_and_follow_ups_of_other_members(
    app, client, auth, db, world, focal_point, mailbox, route, method
):
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize(
    ("route", "method"),
    _with_methods([r for r in AGREEMENT_AREA if r.permission is not Permission.SIGNED_IN]),
)
def test_funder_is_refused_partners_agreements_and_follow_ups(
    app, client, auth, db, world, mailbox, route, method
):
    auth.login(UserFactory(funder_user=True))
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize("route", _by_rule([r for r in AGREEMENT_AREA if "GET" in r.methods]))
def test_staff_sees_every_partner_agreement_and_follow_up_page(app, client, auth, world, route):
    auth.login(UserFactory())
    response = client.get(build(app, route, world))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_focal_point_of_a_party_sees_the_agreement_and_its_document(client, auth, db, world):
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    page = client.get(f"/agreements/{world.agreement.id}").get_data(as_text=True)
    assert "Beaver Dams MoU" in page and "signed.pdf" in page
    assert "/edit" not in page and "/status/" not in page
    listing = client.get("/agreements/").get_data(as_text=True)
    assert "Beaver Dams MoU" in listing
    download = client.get(f"/agreements/{world.agreement.id}/documents/{world.document.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data.startswith(b"%PDF-")


def test_focal_point_of_another_member_does_not_see_the_agreement_listed(
    client, auth, world, focal_point
):
    auth.login(focal_point)
    listing = client.get("/agreements/").get_data(as_text=True)
    assert "Beaver Dams MoU" not in listing
    member_page = client.get(f"/members/{world.member_a.slug}").get_data(as_text=True)
    assert "Beaver Dams MoU" not in member_page and "Send the minutes" not in member_page


def test_focal_point_sees_and_moves_follow_ups_about_its_member(client, auth, db, world):
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    mine = client.get("/follow-ups/").get_data(as_text=True)
    assert "Send the minutes" in mine
    assert client.get(f"/follow-ups/{world.follow_up.id}").status_code == 200
    response = client.post(f"/follow-ups/{world.follow_up.id}/start")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(FollowUp, world.follow_up.id).status is FollowUpStatus.IN_PROGRESS


def test_agreement_and_follow_up_refusals_are_the_same_404_as_missing(
    client, auth, world, focal_point
):
    auth.login(focal_point)
    a, f, d = world.agreement.id, world.follow_up.id, world.document.id
    for out_of_scope, missing in [
        (f"/agreements/{a}", "/agreements/999999"),
        (f"/agreements/{a}/documents/{d}", "/agreements/999999/documents/999999"),
        (f"/follow-ups/{f}", "/follow-ups/999999"),
        (f"/partners/{world.partner.id}", "/partners/999999"),
    ]:
        refused_body, missing_body = _not_found_pair(client, out_of_scope, missing)
        assert refused_body == missing_body, out_of_scope
        assert "Beaver Dams MoU" not in refused_body and "Otter Bank" not in refused_body


@pytest.mark.parametrize(
    "route", _by_rule([r for r in STAFF_ONLY_AGREEMENT_AREA if "POST" in r.methods])
)
def test_staff_can_post_what_focal_points_are_refused(app, client, auth, db, world, route):
    """The refusals above are meaningful: the same valid requests succeed for staff."""
    if route.endpoint == "agreements.renew":
        world.agreement.status = AgreementStatus.ACTIVE
        world.agreement.signed_on = utcnow().date() - timedelta(days=30)
    if route.endpoint == "partners.restore":
        world.partner.archived_at = utcnow()
    db.flush()
    auth.login(UserFactory())
    before = snapshot(db)
    response = request(client, "POST", build(app, route, world), form_data(route.endpoint, world))
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    assert snapshot(db) != before


# -- 10. commitments, indicators and reporting ---------------------------------------------


def test_reporting_area_covers_commitments_indicators_and_cycles():
    assert {r.rule.split("/")[1] for r in REPORTING_AREA} == {
        "commitments",
        "indicators",
        "reporting",
    }
    assert {r.permission for r in STAFF_ONLY_REPORTING_AREA} == {
        Permission.MANAGE_COMMITMENTS,
        Permission.MANAGE_INDICATORS,
        Permission.MANAGE_REPORTING,
    }
    assert {
        "commitments.member",
        "commitments.detail",
        "commitments.edit",
        "commitments.add_update",
        "commitments.evidence",
        "submissions.form",
    } <= {r.endpoint for r in SCOPED_REPORTING_PAGES}


@pytest.mark.parametrize(("route", "method"), _with_methods(STAFF_ONLY_REPORTING_AREA))
def test_focal_point_cannot_manage_indicators_cycles_or_verify(
    app, client, auth, db, world, mailbox, route, method
):
    """Even the focal point of the member whose commitment and report these are."""
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize(("route", "method"), _with_methods(SCOPED_REPORTING_PAGES))
def test_focal_point_is_refused_another_members_commitments_and_report(
    app, client, auth, db, world, focal_point, mailbox, route, method
):
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize(
    ("route", "method"),
    _with_methods([r for r in REPORTING_AREA if r.endpoint != "commitments.index"]),
)
def test_funder_is_refused_commitments_indicators_and_reporting(
    app, client, auth, db, world, mailbox, route, method
):
    auth.login(UserFactory(funder_user=True))
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize("route", _by_rule([r for r in REPORTING_AREA if "GET" in r.methods]))
def test_staff_sees_every_commitment_indicator_and_reporting_page(app, client, auth, world, route):
    auth.login(UserFactory())
    response = client.get(build(app, route, world))
    if route.endpoint in ("submissions.mine", "reporting.reopen"):
        # Staff have no reports of their own; the cycle still takes submissions.
        assert response.status_code == 302
        return
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_focal_point_reaches_own_commitments_and_report(client, auth, db, world):
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    for path in (
        f"/commitments/member/{world.member_b.id}",
        f"/commitments/{world.commitment.id}",
        f"/commitments/evidence/{world.evidence.id}",
        f"/reporting/{world.cycle.id}/members/{world.member_b.id}/submission",
        "/reporting/mine",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    response = client.post(
        f"/commitments/{world.commitment.id}/update",
        data=form_data("commitments.add_update", world),
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Commitment, world.commitment.id).status is CommitmentStatus.ACHIEVED


def test_staff_can_post_the_reporting_form_data(client, auth, db, world):
    """The refusals above are meaningful: the same requests succeed for staff."""
    auth.login(UserFactory())
    for path, endpoint in [
        (f"/commitments/{world.commitment.id}/edit", "commitments.edit"),
        (f"/indicators/{world.indicator.id}/targets", "indicators.set_target"),
        (f"/reporting/submissions/{world.submission.id}/return", "reporting.return_submission"),
        (f"/reporting/{world.cycle.id}/members/{world.member_b.id}/submission", "submissions.form"),
    ]:
        response = client.post(path, data=form_data(endpoint, world))
        assert response.status_code == 302, (path, response.get_data(as_text=True)[:500])
    db.expire_all()
    assert db.get(Commitment, world.commitment.id).title == "Renamed commitment"
    assert db.get(Submission, world.submission.id).status.value == "submitted"


# -- 11. participation ---------------------------------------------------------------------


def test_participation_area_covers_years_method_recognition_and_scorecards():
    endpoints = {r.endpoint for r in PARTICIPATION_AREA}
    assert {
        "participation.index",
        "participation.create_year",
        "participation.save_settings",
        "participation.year",
        "participation.scores",
        "participation.export",
        "participation.compute",
        "participation.finalise",
        "participation.reopen",
        "participation.scheme",
        "participation.save_scheme",
        "participation.recognition",
        "participation.at_risk",
        "participation.mine",
        "participation.latest",
        "participation.scorecard",
    } == endpoints
    assert {r.endpoint for r in ADMIN_ONLY_PARTICIPATION_AREA} == {
        "participation.save_scheme",
        "participation.save_settings",
    }
    assert {r.endpoint for r in SCOPED_PARTICIPATION_PAGES} == {
        "participation.latest",
        "participation.scorecard",
    }
    # What focal points may reach at all: their scorecard and, if shown, the recognition list.
    assert endpoints - {r.endpoint for r in STAFF_ONLY_PARTICIPATION_AREA} == {
        "participation.mine",
        "participation.latest",
        "participation.scorecard",
        "participation.recognition",
    }


def test_the_participation_world_has_scores_for_both_members(db, world):
    scored = set(
        db.scalars(
            select(ParticipationScore.member_id).where(
                ParticipationScore.scheme_id == world.scheme.id,
                ParticipationScore.total.is_not(None),
            )
        )
    )
    assert {world.member_a.id, world.member_b.id} <= scored
    assert world.scheme.state is SchemeState.PROVISIONAL


def _prepare_participation(db, world: World, route: Route) -> None:
    """Reopening needs a final year: finalise it, so that a refused reopen means something."""
    if route.endpoint == "participation.reopen":
        participation.finalise(db, UserFactory(name="Finalising Staff"), world.scheme)
        db.flush()


def _participation_state(db, world: World) -> tuple:
    """The year's state, method and scores, and the network's setting, read again."""
    db.expire_all()
    scheme = db.get(ScoringScheme, world.scheme.id)
    settings = db.get(ParticipationSettings, 1)
    return (
        db.scalars(select(ScoringScheme.year).order_by(ScoringScheme.year)).all(),
        scheme.state,
        scheme.computed_at,
        [(c.kind, c.weight, c.floor, c.target) for c in scheme.criteria],
        sorted(c.kind for c in scheme.conditions),
        db.execute(
            select(ParticipationScore.member_id, ParticipationScore.total)
            .where(ParticipationScore.scheme_id == scheme.id)
            .order_by(ParticipationScore.member_id)
        ).all(),
        settings.recognition_visible_to_members if settings else False,
    )


def assert_participation_refused(app, client, db, world: World, route: Route, method: str) -> None:  # type: ignore[no-untyped-def]
    """The uniform 404, no row changed, and in particular the year left as it was."""
    state = _participation_state(db, world)
    assert_refused_without_change(app, client, db, world, route, method)
    assert _participation_state(db, world) == state


@pytest.mark.parametrize(("route", "method"), _with_methods(STAFF_ONLY_PARTICIPATION_AREA))
def test_focal_point_cannot_reach_the_staff_participation_pages(
    app, client, auth, db, world, mailbox, route, method
):
    """Even the focal point of member B, which has a score this year."""
    _prepare_participation(db, world, route)
    focal_point = UserFactory(focal_point=True, member=world.member_b)
    db.flush()
    auth.login(focal_point)
    assert_participation_refused(app, client, db, world, route, method)
    assert mailbox.messages == []


@pytest.mark.parametrize(("route", "method"), _with_methods(SCOPED_PARTICIPATION_PAGES))
def test_focal_point_is_refused_another_members_scorecard(
    app, client, auth, db, world, focal_point, mailbox, route, method
):
    auth.login(focal_point)
    assert_participation_refused(app, client, db, world, route, method)


@pytest.mark.parametrize(("route", "method"), _with_methods(PARTICIPATION_AREA))
def test_funder_is_refused_participation(app, client, auth, db, world, mailbox, route, method):
    _prepare_participation(db, world, route)
    auth.login(UserFactory(funder_user=True))
    assert_participation_refused(app, client, db, world, route, method)


@pytest.mark.parametrize(("route", "method"), _with_methods(ADMIN_ONLY_PARTICIPATION_AREA))
def test_staff_cannot_change_the_method_nor_the_setting(
    app, client, auth, db, world, mailbox, route, method
):
    auth.login(UserFactory())
    assert_participation_refused(app, client, db, world, route, method)


@pytest.mark.parametrize("route", _by_rule([r for r in PARTICIPATION_AREA if "GET" in r.methods]))
def test_staff_sees_every_participation_page(app, client, auth, db, world, route):
    _prepare_participation(db, world, route)
    auth.login(UserFactory())
    response = client.get(build(app, route, world))
    if route.endpoint == "participation.latest":
        # Member B's latest year with a score.
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == (
            f"/participation/{world.scheme.year}/members/{world.member_b.id}"
        )
        return
    if route.endpoint == "participation.mine":
        # Staff have no member, hence no scorecard, of their own (nor a link to this page).
        assert refused(response)
        return
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(
    "route", _by_rule([r for r in STAFF_ONLY_PARTICIPATION_AREA if "POST" in r.methods])
)
def test_staff_and_admins_can_post_what_the_others_are_refused(app, client, auth, db, world, route):
    """The refusals above are meaningful: the same valid requests change the year."""
    _prepare_participation(db, world, route)
    user = UserFactory(admin=True) if route in ADMIN_ONLY_PARTICIPATION_AREA else UserFactory()
    db.flush()
    auth.login(user)
    state = _participation_state(db, world)
    before = snapshot(db)
    response = request(client, "POST", build(app, route, world), form_data(route.endpoint, world))
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    assert snapshot(db) != before
    assert _participation_state(db, world) != state


def test_focal_point_reaches_own_scorecard(client, auth, db, world, focal_point):
    auth.login(focal_point)
    year, a = world.scheme.year, world.member_a.id
    mine = client.get("/participation/mine")
    assert mine.status_code == 302
    assert urlsplit(mine.headers["Location"]).path == f"/participation/members/{a}"
    latest = client.get(f"/participation/members/{a}")
    assert latest.status_code == 302
    assert urlsplit(latest.headers["Location"]).path == f"/participation/{year}/members/{a}"
    page = client.get(f"/participation/{year}/members/{a}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Aardvark City" in body
    assert "Beaver City" not in body
    # No link to the staff pages of the year.
    assert f'href="/participation/{year}"' not in body


def test_participation_refusals_are_the_same_404_as_missing(client, auth, world, focal_point):
    auth.login(focal_point)
    year, b = world.scheme.year, world.member_b.id
    for out_of_scope, missing in [
        (f"/participation/{year}/members/{b}", f"/participation/{year}/members/999999"),
        (f"/participation/members/{b}", "/participation/members/999999"),
        (f"/participation/{year}/recognition", f"/participation/{year}/members/999999"),
    ]:
        refused_body, missing_body = _not_found_pair(client, out_of_scope, missing)
        assert refused_body == missing_body, out_of_scope
        assert "Beaver City" not in refused_body


def test_recognition_is_shown_to_focal_points_only_when_the_network_says_so(
    client, auth, db, world, focal_point
):
    path = f"/participation/{world.scheme.year}/recognition"
    auth.login(focal_point)
    assert refused(client.get(path))

    participation.set_recognition_visibility(db, UserFactory(admin=True), True)
    db.flush()
    response = client.get(path)
    assert response.status_code == 200
    assert "Regional recognition" in response.get_data(as_text=True)

    # A funder still is not.
    auth.logout()
    auth.login(UserFactory(funder_user=True))
    assert refused(client.get(path))


def test_the_network_setting_does_not_open_anything_else_to_focal_points(
    app, client, auth, db, world, focal_point
):
    participation.set_recognition_visibility(db, UserFactory(admin=True), True)
    db.flush()
    auth.login(focal_point)
    for route in STAFF_ONLY_PARTICIPATION_AREA:
        if "GET" in route.methods:
            assert refused(client.get(build(app, route, world))), route.rule


# -- 12. reminders and the outbox ----------------------------------------------------------


def test_notifications_area_covers_preferences_rules_and_outbox():
    assert {r.endpoint for r in NOTIFICATIONS_AREA} == {
        "notifications.preferences",
        "notifications.contact_preferences",
        "notifications.rules",
        "notifications.update_rule",
        "notifications.add_rule",
        "notifications.dry_run",
        "notifications.outbox",
        "notifications.message",
        "notifications.message_html",
        "notifications.retry",
        "notifications.retry_failed",
    }
    assert {r.endpoint for r in NOTIFICATIONS_AREA} - {
        r.endpoint for r in ADMIN_ONLY_NOTIFICATIONS_AREA
    } == {"notifications.preferences", "notifications.contact_preferences"}
    permissions = {r.endpoint: r.permission for r in NOTIFICATIONS_AREA}
    assert permissions["notifications.preferences"] is Permission.CHOOSE_NOTIFICATIONS
    # The link in every reminder: whoever holds it, signed in or not.
    assert permissions["notifications.contact_preferences"] is Permission.PUBLIC
    assert {r.rule.split("/")[1] for r in ADMIN_ONLY_NOTIFICATIONS_AREA} == {"admin"}
    assert POLICY[Permission.MANAGE_NOTIFICATIONS] == {Role.ADMIN}
    assert POLICY[Permission.CHOOSE_NOTIFICATIONS] == STAFF | {Role.FOCAL_POINT}


def _signed_in(db, auth, world: World, who: str) -> User:  # type: ignore[no-untyped-def]
    """Sign in a user of the kind; a focal point of member B, whose follow-up the world's
    failed reminder is about."""
    user = {
        "admin": lambda: UserFactory(admin=True),
        "staff": lambda: UserFactory(),
        "focal_point": lambda: UserFactory(focal_point=True, member=world.member_b),
        "funder": lambda: UserFactory(funder_user=True),
    }[who]()
    db.flush()
    auth.login(user)
    return user


@pytest.mark.parametrize("who", ["staff", "focal_point", "funder"])
@pytest.mark.parametrize(("route", "method"), _with_methods(ADMIN_ONLY_NOTIFICATIONS_AREA))
def test_only_admins_reach_the_rules_dry_run_and_outbox(
    app, client, auth, db, world, mailbox, who, route, method
):
    _signed_in(db, auth, world, who)
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("route", "method"),
    _with_methods([r for r in NOTIFICATIONS_AREA if r.endpoint == "notifications.preferences"]),
)
def test_funder_cannot_choose_reminders(app, client, auth, db, world, route, method):
    _signed_in(db, auth, world, "funder")
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize("who", ["admin", "staff", "focal_point"])
def test_admins_staff_and_focal_points_choose_their_reminders(client, auth, db, world, who):
    """The refusal above is meaningful: the same valid choices are saved for the others."""
    user = _signed_in(db, auth, world, who)
    assert client.get("/notifications/preferences").status_code == 200
    before = snapshot(db)
    response = client.post("/notifications/preferences", data=REMINDER_CHOICES)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    assert snapshot(db) != before
    chosen = db.scalars(
        select(NotificationPreference.category).where(NotificationPreference.email == user.email)
    ).all()
    assert Category.FOLLOW_UPS in chosen
    assert (Category.ESCALATIONS in chosen) is (who != "focal_point")


@pytest.mark.parametrize(
    "route",
    _by_rule([r for r in ADMIN_ONLY_NOTIFICATIONS_AREA if "GET" in r.methods]),
)
def test_admin_sees_every_reminder_page(app, client, auth, db, world, route):
    _signed_in(db, auth, world, "admin")
    response = client.get(build(app, route, world))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if route.endpoint in ("notifications.outbox", "notifications.message"):
        assert "Overdue by 7 days: Send the minutes" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "route", _by_rule([r for r in ADMIN_ONLY_NOTIFICATIONS_AREA if "POST" in r.methods])
)
def test_admin_can_post_what_the_others_are_refused(app, client, auth, db, world, route):
    """The refusals above are meaningful: the same valid requests change something."""
    _signed_in(db, auth, world, "admin")
    before = snapshot(db)
    response = request(client, "POST", build(app, route, world), form_data(route.endpoint, world))
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    assert snapshot(db) != before


def test_the_preferences_link_is_public(client, db, world):
    """Anyone holding the link of a reminder chooses for its address, without signing in."""
    path = f"/notifications/preferences/{preference_token(world.contact_b.email)}"
    page = client.get(path)
    assert page.status_code == 200
    assert "bob@beaver.example" in page.get_data(as_text=True)
    response = client.post(path, data=REMINDER_CHOICES)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == path
    chosen = db.scalars(
        select(NotificationPreference.category).where(
            NotificationPreference.email == "bob@beaver.example"
        )
    ).all()
    # A contact is offered the member's categories only.
    assert sorted(chosen) == sorted(
        [Category.REPORTING, Category.COMMITMENTS, Category.EVENTS, Category.FEES]
    )


def test_a_bad_preferences_link_is_the_uniform_404(client, db, world):
    before = snapshot(db)
    for method in ("GET", "POST"):
        response = request(client, method, "/notifications/preferences/0123456789abcdef")
        assert refused(response), response.status_code
        assert not is_sign_in_redirect(response)
    assert snapshot(db) == before


def test_reminder_refusals_are_the_same_404_as_missing(client, auth, db, world):
    _signed_in(db, auth, world, "staff")
    n = world.notification.id
    for out_of_scope, missing in [
        (f"/admin/outbox/{n}", "/admin/no-such-page"),
        (f"/admin/outbox/{n}/html", "/admin/no-such-page"),
        ("/admin/outbox", "/admin/no-such-page"),
        ("/admin/reminders/dry-run", "/admin/no-such-page"),
    ]:
        refused_body, missing_body = _not_found_pair(client, out_of_scope, missing)
        assert refused_body == missing_body, out_of_scope
        assert "Send the minutes" not in refused_body


# -- 13. funding, stories, impact reports and the funder portal ----------------------------

#: Funders, programmes and grants; stories; impact reports; the funder portal.
FUNDING_AREA = [
    r for r in ROUTES if r.rule.split("/")[1] in {"funding", "stories", "impact", "portal"}
]
STAFF_ONLY_FUNDING_AREA = [
    r
    for r in FUNDING_AREA
    if r.permission
    in {Permission.MANAGE_FUNDING, Permission.MANAGE_STORIES, Permission.MANAGE_IMPACT_REPORTS}
]
#: A story's pages and actions, which focal points reach for stories about their own member.
SCOPED_STORY_PAGES = [
    r
    for r in FUNDING_AREA
    if r.permission in {Permission.VIEW_STORIES, Permission.APPROVE_STORIES}
    and "story_id" in r.arguments
]
PORTAL = [r for r in FUNDING_AREA if r.permission is Permission.VIEW_FUNDED_PROGRAMMES]
#: Everything a funder user must not reach: all but the pages of any signed-in user, the
#: public ones and the portal's own list (the world's programme is another funder's).
NOT_FOR_FUNDERS = [
    r
    for r in PROTECTED
    if r.permission is not Permission.SIGNED_IN
    and r not in MEMBER_AND_ADMIN
    and r.endpoint != "portal.index"
]


def test_funding_area_is_split_by_role():
    assert {r.rule.split("/")[1] for r in STAFF_ONLY_FUNDING_AREA} == {
        "funding",
        "stories",
        "impact",
    }
    assert {r.endpoint for r in PORTAL} >= {
        "portal.index",
        "portal.programme",
        "portal.report",
        "portal.download",
        "portal.image",
    }
    assert {r.endpoint for r in SCOPED_STORY_PAGES} >= {
        "stories.detail",
        "stories.image",
        "stories.approve",
        "stories.withdraw",
    }
    assert POLICY[Permission.VIEW_FUNDED_PROGRAMMES] == {Role.FUNDER}
    assert POLICY[Permission.APPROVE_STORIES] == {Role.FOCAL_POINT}


@pytest.mark.parametrize("who", ["focal_point", "funder"])
@pytest.mark.parametrize(("route", "method"), _with_methods(STAFF_ONLY_FUNDING_AREA))
def test_staff_only_funding_stories_and_reports(
    app, client, auth, db, world, mailbox, who, route, method
):
    _signed_in(db, auth, world, who)
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


@pytest.mark.parametrize(("route", "method"), _with_methods(SCOPED_STORY_PAGES))
def test_focal_point_is_refused_stories_about_another_member(
    app, client, auth, db, world, focal_point, route, method
):
    auth.login(focal_point)
    assert_refused_without_change(app, client, db, world, route, method)


@pytest.mark.parametrize(("route", "method"), _with_methods(SCOPED_STORY_PAGES))
def test_focal_point_of_the_member_reaches_its_story(app, client, auth, db, world, route, method):
    """The refusal above is meaningful: member B's focal point is let through."""
    _signed_in(db, auth, world, "focal_point")
    response = request(client, method, build(app, route, world), form_data(route.endpoint, world))
    # The story has no image: its image answers 404 like any missing file.
    if route.endpoint == "stories.image":
        assert response.status_code == 404
    else:
        assert response.status_code in (200, 302), response.status_code


@pytest.mark.parametrize(("route", "method"), _with_methods(NOT_FOR_FUNDERS))
def test_funder_reaches_nothing_but_its_own_portal(
    app, client, auth, db, world, mailbox, route, method
):
    _signed_in(db, auth, world, "funder")
    assert_refused_without_change(app, client, db, world, route, method)
    assert mailbox.messages == []


@pytest.mark.parametrize("who", ["admin", "staff", "focal_point"])
@pytest.mark.parametrize(("route", "method"), _with_methods(PORTAL))
def test_the_portal_is_for_funders_only(app, client, auth, db, world, who, route, method):
    _signed_in(db, auth, world, who)
    assert_refused_without_change(app, client, db, world, route, method)


def test_the_funder_of_the_programme_reaches_its_portal_pages(client, auth, db, world):
    user = UserFactory(role=Role.FUNDER, funder=world.funder)
    db.flush()
    auth.login(user)
    report = world.impact_report
    for path in (
        "/portal/",
        f"/portal/programmes/{world.programme.id}",
        f"/portal/reports/{report.id}/versions/1",
        f"/portal/reports/{report.id}/versions/1/report.xlsx",
    ):
        assert client.get(path).status_code == 200, path
