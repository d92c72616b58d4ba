"""The `zarts` command: a Flask CLI group (run, db, seed-demo, create-user, worker, schedule, …)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app():
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main():
    """ZartsAlgo Sales Ops."""


def register_commands(app) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(demo_if_empty)
    app.cli.add_command(worker)
    app.cli.add_command(schedule)
    app.cli.add_command(relay)
    app.cli.add_command(mail_in)


@click.command("seed-demo")
@click.option("--password", default=None, help="Password for every demo login (default: a fixed demo one).")
@with_appcontext
def seed_demo(password):
    """Fill an empty database with a realistic agency pipeline and print the logins."""
    from .demo import DEMO_PASSWORD, seed

    logins = seed(password or DEMO_PASSWORD)
    if logins is None:
        raise click.ClickException("The database already holds data; seed-demo only fills an empty one.")
    _print_logins(logins, password or DEMO_PASSWORD)


@click.command("demo-if-empty", hidden=True)
@with_appcontext
def demo_if_empty():
    """Seed the demo when the database is empty; print the logins either way (used by `make run`)."""
    from .demo import DEMO_PASSWORD, demo_logins, seed

    logins = seed(DEMO_PASSWORD) or demo_logins()
    _print_logins(logins, DEMO_PASSWORD)


def _print_logins(logins, password):
    click.echo(f"\nDemo logins (password: {password}) at {current_app.config['BASE_URL']}/login")
    for role, email in logins:
        click.echo(f"  {role:<12} {email}")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["admin", "growth_ops", "approver", "delivery", "client"])
)
@click.option("--client-id", type=int, default=None, help="Required for --role client.")
@click.password_option()
@with_appcontext
def create_user(email, name, role, client_id, password):
    """Create a staff user or a client contact."""
    from .auth import set_password
    from .auth.passwords import password_problem
    from .extensions import db
    from .models import Client, User

    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    if (role == "client") != (client_id is not None):
        raise click.BadParameter("a client contact needs --client-id; staff must not have one")
    if client_id is not None and db.session.get(Client, client_id) is None:
        raise click.BadParameter(f"no client with id {client_id}")
    email = email.strip().lower()
    if db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none():
        raise click.ClickException(f"{email} already has an account")
    user = User(email=email, name=name, role=role, client_id=client_id)
    set_password(user, password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {email} (id {user.id})")


@click.command("worker")
@click.option("--queue", "queue_name", default=None, help="RQ queue (default: the app's RQ_QUEUE).")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
@click.option(
    "--heartbeat",
    type=int,
    default=None,
    help="Seconds between heartbeats while a job runs (default JOBS_HEARTBEAT_SECONDS).",
)
@click.option(
    "--fork/--no-fork",
    default=False,
    show_default=True,
    help="Run each job in a forked work-horse (RQ's Worker: isolation, but every job starts "
    "cold) instead of in the worker process (RQ's SimpleWorker, the default).",
)
@with_appcontext
def worker(queue_name, burst, name, heartbeat, fork):
    """Run an RQ worker (with RQ's scheduler, for retries with backoff) on the app's queue."""
    from .jobs.worker import NoRedis, run_worker

    try:
        run_worker(
            current_app._get_current_object(),
            queue_name=queue_name,
            burst=burst,
            name=name,
            heartbeat=heartbeat,
            fork=fork,
        )
    except NoRedis as exc:
        raise click.ClickException(str(exc)) from None


@click.command("schedule")
@click.option("--queue", "queue_name", default=None, help="RQ queue (default: the app's RQ_QUEUE).")
@click.option("--once", is_flag=True, help="Run every sweep once, then stop.")
@with_appcontext
def schedule(queue_name, once):
    """Run the periodic sweeps: outbox relay, reminders, report cadence, weekly pipeline report.

    Only one scheduler works at a time (a Redis lock); start more as stand-bys if you like.
    """
    import logging

    from .jobs.worker import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    Scheduler(current_app._get_current_object(), queue_name=queue_name).run(once=once)


@click.command("relay")
@with_appcontext
def relay():
    """Relay pending outbox rows now (and re-drive expired ones); prints what happened."""
    from .jobs.relay import sweep

    counts = sweep()
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if v) or "nothing to relay")


@click.command("mail-in")
@click.option(
    "--maildir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="The Maildir the MTA delivers MAIL_REPLY_TO mail into.",
)
@with_appcontext
def mail_in(maildir):
    """Post clients' email replies (new mail in the Maildir) onto their portal threads.

    A reply goes on only with a valid thread token and from an active contact of that client; anything
    else moves to the Maildir's `quarantine` folder. Run it from cron or a systemd timer.
    """
    import logging

    from .extensions import db
    from .jobs.mail_in import CannotRun, process_maildir

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        counts = process_maildir(db.session, maildir)
    except CannotRun as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"posted: {counts['posted']}, quarantined: {counts['quarantined']}")
