"""Sign-in for staff and client contacts: login, logout, invite acceptance, password reset and change."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import object_session

from ..extensions import db, login_manager
from ..models import User, new_session_token, utcnow
from .access import home_for, is_safe_next
from .forms import ChangePasswordForm, LoginForm, ResetRequestForm, SetPasswordForm
from .passwords import hash_password, password_problem, verify_password
from .tokens import USED, read_token, revoke, spend

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "That email and password do not match an active account."


def init_auth(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str):
    uid, _, token = (user_id or "").partition(":")
    if not (uid.isascii() and uid.isdigit() and len(uid) <= 18) or not token:
        return None
    user = db.session.get(User, int(uid))
    if user is None or not user.active or user.session_token != token:
        return None  # logged out elsewhere, password changed or deactivated
    return user


def end_all_sessions(user: User) -> None:
    """Rotate the user's session token: every cookie signed with the old one stops working."""
    user.session_token = new_session_token()


def set_password(user: User, password: str) -> None:
    """A new password ends every session and spends every invite or reset link still out."""
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    _revoke_links(user)


def _revoke_links(user: User) -> None:
    session = object_session(user)
    if session is not None and user.id is not None:  # a user not yet saved has no links
        with session.no_autoflush:  # may run inside an attribute event: flush nothing half-set
            revoke(session, user_id=user.id)


@sa.event.listens_for(User.active, "set", active_history=True)
def _deactivation_ends_sessions(user, value, oldvalue, initiator):
    """However a user is deactivated (admin, CLI, a script), every session and every invite or reset
    link dies with it; a later reactivation brings neither an old cookie nor an old link back."""
    if not value and oldvalue is not False:
        end_all_sessions(user)
        _revoke_links(user)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("landing.html")


@bp.route("/login", methods=["GET", "POST"])
@bp.route("/portal/login", methods=["GET", "POST"], endpoint="portal_login")
def login():
    form = LoginForm()
    next_url = request.values.get("next")
    error = None
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        if user is not None and user.active and verify_password(user.password_hash, form.password.data):
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(user)
            return redirect(next_url if is_safe_next(next_url) else home_for(user))
        if user is None:
            verify_password(None, form.password.data)  # same work as a real check
        error = WRONG_CREDENTIALS
    elif request.method == "POST":
        error = (
            "Enter your email and password."
            if not form.errors.get("csrf_token")
            else "Your form expired. Please try again."
        )
    status = 401 if error else 200
    return render_template(
        "auth/login.html", form=form, error=error, next=next_url if is_safe_next(next_url) else None
    ), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        end_all_sessions(user)
        db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


def _password_page(purpose: str, token: str, title: str):
    user, problem = read_token(token, purpose)
    if user is None:
        return render_template("auth/link_invalid.html", message=problem), 400
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        error = password_problem(form.password.data)
        if error is None:
            if not spend(token):  # another request used it a moment ago
                db.session.rollback()
                return render_template("auth/link_invalid.html", message=USED), 400
            set_password(user, form.password.data)  # also spends the user's other links
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(user)
            flash("Your password is set.", "success")
            return redirect(home_for(user))
    elif request.method == "POST":
        error = next(iter(form.errors.get("confirm", [])), None) or "Enter the password twice."
    return render_template("auth/set_password.html", form=form, error=error, title=title, user=user), (
        400 if error else 200
    )


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    return _password_page("invite", token, "Welcome — choose your password")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_page("reset", token, "Choose a new password")


@bp.route("/reset", methods=["GET", "POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        if user is not None and user.active:
            from ..domain.messaging import send_password_reset

            send_password_reset(db.session, user)
            db.session.commit()
        # The same answer either way: no account enumeration.
        flash("If that address has an account, a reset link is on its way.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """A signed-in user changes their password: this session stays signed in (with the new session
    token), every other session of the user ends."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    user = db.session.get(User, current_user.id)
    form = ChangePasswordForm()
    error = None
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data):
            error = "Your current password is not right."
        elif form.password.data == form.current.data:
            error = "Choose a new password that differs from the current one."
        else:
            error = password_problem(form.password.data)
        if error is None:
            set_password(user, form.password.data)
            db.session.commit()
            login_user(user)  # this session carries the new token; the others are refused
            flash(
                "Your password is changed. Any other device you were signed in on is signed out.", "success"
            )
            return redirect(home_for(user))
    elif request.method == "POST":
        if form.errors.get("csrf_token"):
            error = "Your form expired. Please try again."
        else:
            differ = "The two new passwords differ."
            error = (
                differ
                if differ in form.errors.get("confirm", [])
                else "Enter your current password and the new one twice."
            )
    return render_template("auth/change_password.html", form=form, error=error), (400 if error else 200)
