"""member registry, users and roles

Revision ID: c457d215b2f2
Revises:
Create Date: 2026-11-21 10:04:38.908553
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import secretariat.db

revision: str = "c457d215b2f2"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("created_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funders")),
        sa.UniqueConstraint("slug", name=op.f("uq_funders_slug")),
    )
    op.create_table(
        "terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "vocabulary",
            sa.Enum("region", "tier", name="vocabulary", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms")),
        sa.UniqueConstraint("vocabulary", "label", name=op.f("uq_terms_vocabulary_label")),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("search_name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "city",
                "metropolitan_authority",
                "region_or_state",
                "rural_area",
                "other",
                name="memberkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "applicant",
                "active",
                "suspended",
                "lapsed",
                "exited",
                name="memberstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("tier_id", sa.Integer(), nullable=True),
        sa.Column("annual_fee", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("fee_currency", sa.String(length=3), nullable=True),
        sa.Column("next_election_on", sa.Date(), nullable=True),
        sa.Column("leader_term_ends_on", sa.Date(), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(annual_fee IS NULL) = (fee_currency IS NULL)",
            name=op.f("ck_members_fee_has_currency"),
        ),
        sa.CheckConstraint(
            "annual_fee IS NULL OR annual_fee >= 0", name=op.f("ck_members_fee_not_negative")
        ),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0", name=op.f("ck_members_population_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["terms.id"], name=op.f("fk_members_region_id_terms")
        ),
        sa.ForeignKeyConstraint(["tier_id"], ["terms.id"], name=op.f("fk_members_tier_id_terms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("slug", name=op.f("uq_members_slug")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_search_name"), ["search_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_tier_id"), ["tier_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("job_title", sa.String(length=255), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "leader",
                "focal_point",
                "technical_lead",
                "national_representative",
                "other",
                name="contactrole",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("active_to", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_contacts_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            "uq_contacts_primary_per_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin", "staff", "focal_point", "funder", name="role", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("funder_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("login_blocked_until", secretariat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", secretariat.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role = 'focal_point') = (member_id IS NOT NULL)",
            name=op.f("ck_users_focal_point_has_member"),
        ),
        sa.CheckConstraint(
            "(role = 'funder') = (funder_id IS NOT NULL)", name=op.f("ck_users_funder_has_funder")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_users_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["funder_id"],
            ["funders.id"],
            name=op.f("fk_users_funder_id_funders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_users_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_funder_id"), ["funder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_member_id"), ["member_id"], unique=False)

    op.create_table(
        "login_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "magic_link",
                "invitation",
                "password_reset",
                name="tokenpurpose",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", secretariat.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_tokens_token_hash")),
    )
    with op.batch_alter_table("login_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "member_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "applicant",
                "active",
                "suspended",
                "lapsed",
                "exited",
                name="memberstatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "applicant",
                "active",
                "suspended",
                "lapsed",
                "exited",
                name="memberstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", secretariat.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_member_status_changes_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_status_changes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_status_changes")),
    )
    with op.batch_alter_table("member_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_status_changes_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("member_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_status_changes_member_id"))

    op.drop_table("member_status_changes")
    with op.batch_alter_table("login_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_tokens_user_id"))

    op.drop_table("login_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_member_id"))
        batch_op.drop_index(batch_op.f("ix_users_funder_id"))
        batch_op.drop_index(batch_op.f("ix_users_contact_id"))

    op.drop_table("users")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_contacts_primary_per_member",
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )
        batch_op.drop_index(batch_op.f("ix_contacts_member_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_email"))

    op.drop_table("contacts")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_tier_id"))
        batch_op.drop_index(batch_op.f("ix_members_status"))
        batch_op.drop_index(batch_op.f("ix_members_search_name"))
        batch_op.drop_index(batch_op.f("ix_members_region_id"))
        batch_op.drop_index(batch_op.f("ix_members_country"))

    op.drop_table("members")
    op.drop_table("terms")
    op.drop_table("funders")
