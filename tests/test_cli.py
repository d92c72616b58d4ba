"""The `zarts` command: create-user and the migrations behind `zarts db upgrade`."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import _make_app
from zarts.auth.passwords import verify_password
from zarts.extensions import db
from zarts.models import Base, User

GOOD_PASSWORD = "a long enough passphrase"


def create_user(runner, *args, password=GOOD_PASSWORD):
    return runner.invoke(args=["create-user", *args, "--password", password])


def _user(email):
    db.session.expire_all()
    return db.session.execute(sa.select(User).filter_by(email=email)).scalar_one_or_none()


def test_create_user_makes_a_staff_user_who_can_sign_in(runner):
    result = create_user(runner, "--email", " Ada@Zarts.test ", "--name", "Ada", "--role", "approver")

    assert result.exit_code == 0, result.output
    assert "Created approver ada@zarts.test" in result.output
    user = _user("ada@zarts.test")
    assert user.role == "approver" and user.client_id is None and user.active
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, GOOD_PASSWORD)


def test_create_user_prompts_twice_for_the_password(runner):
    args = ["create-user", "--email", "bo@zarts.test", "--name", "Bo", "--role", "admin"]
    result = runner.invoke(args=args, input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert GOOD_PASSWORD not in result.output  # hidden input
    assert verify_password(_user("bo@zarts.test").password_hash, GOOD_PASSWORD)


def test_create_user_refuses_a_weak_password(runner):
    result = create_user(
        runner, "--email", "weak@zarts.test", "--name", "Weak", "--role", "admin", password="short"
    )
    assert result.exit_code != 0
    assert "Use at least 10 characters." in result.output
    assert _user("weak@zarts.test") is None

    result = create_user(
        runner, "--email", "weak@zarts.test", "--name", "Weak", "--role", "admin", password="aaaaaaaaaaaa"
    )
    assert result.exit_code != 0 and "less predictable" in result.output


def test_a_client_contact_needs_a_client_id(runner):
    result = create_user(runner, "--email", "cc@client.test", "--name", "CC", "--role", "client")
    assert result.exit_code != 0 and "--client-id" in result.output
    assert _user("cc@client.test") is None


def test_a_client_contact_needs_an_existing_client(runner):
    result = create_user(
        runner, "--email", "cc@client.test", "--name", "CC", "--role", "client", "--client-id", "999"
    )
    assert result.exit_code != 0 and "no client with id 999" in result.output


def test_staff_cannot_belong_to_a_client(runner, make):
    client = make.client()
    db.session.commit()
    result = create_user(
        runner,
        "--email",
        "st@zarts.test",
        "--name",
        "St",
        "--role",
        "delivery",
        "--client-id",
        str(client.id),
    )
    assert result.exit_code != 0 and _user("st@zarts.test") is None


def test_create_user_makes_a_client_contact(runner, make):
    client = make.client()
    db.session.commit()
    result = create_user(
        runner, "--email", "cc@client.test", "--name", "CC", "--role", "client", "--client-id", str(client.id)
    )
    assert result.exit_code == 0, result.output
    assert _user("cc@client.test").client_id == client.id


def test_create_user_refuses_a_taken_email(runner, make):
    existing = make.user("growth_ops")
    db.session.commit()
    result = create_user(runner, "--email", existing.email.upper(), "--name", "Twin", "--role", "admin")
    assert result.exit_code != 0 and "already has an account" in result.output


def test_create_user_refuses_an_unknown_role(runner):
    result = create_user(runner, "--email", "x@zarts.test", "--name", "X", "--role", "superuser")
    assert result.exit_code != 0 and _user("x@zarts.test") is None


def test_db_upgrade_creates_the_tables(tmp_path):
    app = _make_app(f"sqlite:///{tmp_path / 'fresh.db'}")
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
