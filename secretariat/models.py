"""Import every feature's models so that Alembic and tooling see the whole schema."""

from secretariat.accounts.models import LoginToken, Role, TokenPurpose, User
from secretariat.agreements.models import (
    Agreement,
    AgreementChange,
    AgreementDocument,
    AgreementParty,
    Obligation,
)
from secretariat.commitments.models import Commitment, CommitmentUpdate, EvidenceDocument
from secretariat.db import Base
from secretariat.events.models import (
    Attendance,
    AttendanceImport,
    CalendarFeed,
    Event,
    Invitation,
    Registration,
    UnmatchedAttendee,
)
from secretariat.exchanges.models import PeerExchange
from secretariat.followups.models import FollowUp
from secretariat.funding.models import (
    Funder,
    Grant,
    GrantReport,
    Programme,
    ProgrammeIndicator,
    ProgrammeMember,
)
from secretariat.groups.models import GroupMembership, WorkingGroup
from secretariat.impact.models import ImpactReport, ImpactReportStory, ImpactReportVersion
from secretariat.indicators.models import Indicator, NetworkValue, Target
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.notifications.models import (
    JobRun,
    Notification,
    NotificationPreference,
    ReminderRule,
    SchedulerHeartbeat,
)
from secretariat.participation.models import (
    Criterion,
    ParticipationScore,
    ParticipationSettings,
    SchemeCondition,
    SchemeEvent,
    ScoreCondition,
    ScoreCriterion,
    ScoreEvidence,
    ScoringScheme,
)
from secretariat.partners.models import Partner, PartnerContact
from secretariat.reporting.models import (
    CycleIndicator,
    CycleMember,
    ReportingCycle,
    Submission,
    SubmissionEvent,
    SubmissionValue,
)
from secretariat.stories.models import Story, StoryEvidence, StoryMember
from secretariat.vocabularies.models import Term, Vocabulary

__all__ = [
    "ImpactReport",
    "ImpactReportStory",
    "ImpactReportVersion",
    "Story",
    "StoryEvidence",
    "StoryMember",
    "Grant",
    "GrantReport",
    "Programme",
    "ProgrammeIndicator",
    "ProgrammeMember",
    "JobRun",
    "Notification",
    "NotificationPreference",
    "ReminderRule",
    "SchedulerHeartbeat",
    "ScoringScheme",
    "ScoreEvidence",
    "ScoreCriterion",
    "ScoreCondition",
    "SchemeEvent",
    "SchemeCondition",
    "ParticipationSettings",
    "ParticipationScore",
    "Criterion",
    "Commitment",
    "CommitmentUpdate",
    "CycleIndicator",
    "CycleMember",
    "EvidenceDocument",
    "Indicator",
    "NetworkValue",
    "ReportingCycle",
    "Submission",
    "SubmissionEvent",
    "SubmissionValue",
    "Target",
    "Agreement",
    "AgreementChange",
    "AgreementDocument",
    "AgreementParty",
    "FollowUp",
    "Obligation",
    "Partner",
    "PartnerContact",
    "Attendance",
    "AttendanceImport",
    "CalendarFeed",
    "Event",
    "GroupMembership",
    "Invitation",
    "PeerExchange",
    "Registration",
    "UnmatchedAttendee",
    "WorkingGroup",
    "Base",
    "Contact",
    "ContactRole",
    "Funder",
    "LoginToken",
    "Member",
    "MemberKind",
    "MemberStatus",
    "MemberStatusChange",
    "Role",
    "Term",
    "TokenPurpose",
    "User",
    "Vocabulary",
]
