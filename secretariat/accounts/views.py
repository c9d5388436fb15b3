"""Sign-in, e-mailed links, own account, and the administration of users."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from secretariat.accounts import services
from secretariat.accounts.forms import (
    ROLE_LABELS,
    ChangePasswordForm,
    ConfirmForm,
    EmailLinkForm,
    ProfileForm,
    SetPasswordForm,
    SignInForm,
    UserForm,
)
from secretariat.accounts.models import Role, TokenPurpose, User
from secretariat.db import get_session
from secretariat.funding.models import Funder
from secretariat.mail import MailError
from secretariat.members.models import Member
from secretariat.permissions import Permission, public, requires

bp = Blueprint("accounts", __name__)
users_bp = Blueprint("users", __name__, url_prefix="/admin/users")


def is_safe_next(target: str | None) -> bool:
    """Accept only a path on this site: no scheme, no host, no protocol-relative tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _next_url() -> str:
    target = request.values.get("next")
    return target if is_safe_next(target) else url_for("dashboard.home")


def _sign_in(user: User, remember: bool = False) -> None:
    session.clear()  # no state from before the sign-in survives it
    login_user(user, remember=remember)


def _mail_failed() -> tuple[str, int]:
    flash(_("The e-mail could not be sent. Please try again in a few minutes."), "error")
    return render_template("accounts/mail_failed.html"), 503


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(get_session(), form.email.data, form.password.data)
        except services.AccountError as exc:
            error = exc.message
        else:
            _sign_in(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_next_url())
    return render_template(
        "accounts/sign_in.html", form=form, error=error, next=request.values.get("next", "")
    )


@bp.route("/sign-in/email", methods=["GET", "POST"])
@public
def email_link():  # type: ignore[no-untyped-def]
    form = EmailLinkForm()
    if form.validate_on_submit():
        try:
            services.send_magic_link(get_session(), form.email.data)
        except MailError:
            return _mail_failed()
        return render_template("accounts/link_sent.html", email=form.email.data)
    return render_template("accounts/email_link.html", form=form)


@bp.route("/sign-in/link/<token>", methods=["GET", "POST"])
@public
def magic_link(token: str):  # type: ignore[no-untyped-def]
    # A GET never consumes the link: mail scanners fetch links before people click them.
    form = ConfirmForm()
    db = get_session()
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = services.consume_token(db, token, TokenPurpose.MAGIC_LINK)
        except services.AccountError as exc:
            return render_template("accounts/link_invalid.html", message=exc.message), 410
        services.record_sign_in(db, user)
        _sign_in(user)
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        return redirect(url_for("dashboard.home"))
    found = services.find_token(db, token, TokenPurpose.MAGIC_LINK)
    if found is None:
        message = _("This link has expired or has already been used.")
        return render_template("accounts/link_invalid.html", message=message), 410
    return render_template("accounts/magic_link.html", form=form, user=found.user)


@bp.route("/sign-out", methods=["POST"])
@requires(Permission.SIGNED_IN)
def sign_out():  # type: ignore[no-untyped-def]
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.rotate_session(current_user._get_current_object())
    session.clear()
    logout_user()  # after clearing: it marks the remember-me cookie for deletion
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password():  # type: ignore[no-untyped-def]
    form = EmailLinkForm()
    if form.validate_on_submit():
        try:
            services.send_password_reset(get_session(), form.email.data)
        except MailError:
            return _mail_failed()
        return render_template("accounts/link_sent.html", email=form.email.data, reset=True)
    return render_template("accounts/forgot_password.html", form=form)


def _set_password_with_token(token: str, purpose: TokenPurpose, template: str):  # type: ignore[no-untyped-def]
    db = get_session()
    found = services.find_token(db, token, purpose)
    if found is None:
        message = _("This link has expired or has already been used.")
        return render_template("accounts/link_invalid.html", message=message), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.consume_token(db, token, purpose)
        except services.AccountError as exc:  # used by a concurrent request meanwhile
            return render_template("accounts/link_invalid.html", message=exc.message), 410
        services.set_password(user, form.password.data)
        services.invalidate_password_links(db, user)
        services.record_sign_in(db, user)
        _sign_in(user)
        flash(_("Your password is set. Welcome, %(name)s.", name=user.name), "success")
        return redirect(url_for("dashboard.home"))
    return render_template(template, form=form, user=found.user)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):  # type: ignore[no-untyped-def]
    return _set_password_with_token(
        token, TokenPurpose.PASSWORD_RESET, "accounts/reset_password.html"
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    return _set_password_with_token(token, TokenPurpose.INVITATION, "accounts/invitation.html")


@bp.route("/account", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def account():  # type: ignore[no-untyped-def]
    user: User = current_user._get_current_object()
    profile = ProfileForm(prefix="profile", obj=user)
    password = ChangePasswordForm(prefix="password")
    if request.form.get("action") == "profile" and profile.validate_on_submit():
        user.name = profile.name.data.strip()
        get_session().flush()
        flash(_("Your name is saved."), "success")
        return redirect(url_for("accounts.account"))
    if request.form.get("action") == "password" and password.validate_on_submit():
        try:
            services.change_password(
                get_session(), user, password.current_password.data, password.password.data
            )
        except services.AccountError as exc:
            password.current_password.errors.append(exc.message)
        else:
            _sign_in(user)  # the session identifier was rotated; keep this device signed in
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html",
        profile=profile,
        password=password,
        user=user,
        role_label=ROLE_LABELS[user.role],
    )


# -- user administration (admin only) -------------------------------------------------------


def _choices():  # type: ignore[no-untyped-def]
    db = get_session()
    members = db.execute(select(Member.id, Member.name).order_by(Member.name)).all()
    funders = db.execute(select(Funder.id, Funder.name).order_by(Funder.name)).all()
    return (
        [(str(m.id), m.name) for m in members],
        [(str(f.id), f.name) for f in funders],
    )


def _user_data(form: UserForm) -> services.UserData:
    db = get_session()
    role = Role(form.role.data)
    member = db.get(Member, int(form.member.data)) if form.member.data else None
    funder = db.get(Funder, int(form.funder.data)) if form.funder.data else None
    return services.UserData(
        email=form.email.data, name=form.name.data, role=role, member=member, funder=funder
    )


def _get_user(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@users_bp.route("/")
@requires(Permission.MANAGE_USERS)
def index():  # type: ignore[no-untyped-def]
    stmt = (
        select(User)
        .options(joinedload(User.member), joinedload(User.funder))
        .order_by(User.is_active.desc(), User.name)
    )
    role = request.args.get("role")
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    users = get_session().scalars(stmt).all()
    return render_template(
        "users/index.html", users=users, role_labels=ROLE_LABELS, role=role, form=ConfirmForm()
    )


@users_bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def new():  # type: ignore[no-untyped-def]
    members, funders = _choices()
    form = UserForm(member_choices=members, funder_choices=funders)
    if request.method == "GET":
        form.role.data = request.args.get("role", Role.STAFF.value)
        form.member.data = request.args.get("member", "")
    if form.validate_on_submit():
        try:
            user = services.invite_user(
                get_session(), _user_data(form), current_user._get_current_object()
            )
        except services.AccountError as exc:
            getattr(form, exc.field or "email").errors.append(exc.message)
        except MailError:
            return _mail_failed()
        else:
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=None)


@users_bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def edit(user_id: int):  # type: ignore[no-untyped-def]
    user = _get_user(user_id)
    members, funders = _choices()
    form = UserForm(obj=user, member_choices=members, funder_choices=funders)
    if request.method == "GET":
        form.role.data = user.role.value
        form.member.data = str(user.member_id or "")
        form.funder.data = str(user.funder_id or "")
    if form.validate_on_submit():
        try:
            services.update_user(
                get_session(), current_user._get_current_object(), user, _user_data(form)
            )
        except services.AccountError as exc:
            getattr(form, exc.field or "role").errors.append(exc.message)
        else:
            flash(_("%(name)s is saved.", name=user.name), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user)


@users_bp.route("/<int:user_id>/deactivate", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def deactivate(user_id: int):  # type: ignore[no-untyped-def]
    user = _get_user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.deactivate_user(get_session(), current_user._get_current_object(), user)
    except services.AccountError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s is deactivated and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("users.index"))


@users_bp.route("/<int:user_id>/reactivate", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def reactivate(user_id: int):  # type: ignore[no-untyped-def]
    user = _get_user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.reactivate_user(get_session(), user)
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("users.index"))


@users_bp.route("/<int:user_id>/invite", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def resend_invitation(user_id: int):  # type: ignore[no-untyped-def]
    user = _get_user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not user.is_active:
        flash(_("Reactivate the account before sending an invitation."), "error")
        return redirect(url_for("users.index"))
    try:
        services.send_invitation(get_session(), user, current_user._get_current_object())
    except MailError:
        return _mail_failed()
    flash(_("A new invitation was sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("users.index"))
