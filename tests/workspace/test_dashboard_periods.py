"""The dashboard's period figures: stage conversion and time in stage against hand-computed figures
(on SQLite and PostgreSQL), the figures kept at volume (a user's own win shows at once, another's
waits for the refresh, labelled with its time; one owner's figures never shown for another), and the
app's PostgreSQL connections without JIT compilation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g

from tests.conftest import AuthActions
from zarts.domain.reads import metrics
from zarts.domain.reads.metrics import Filters
from zarts.extensions import db
from zarts.models import Event, utcnow

# --- Conversion and time in stage, by hand -------------------------------------------------------

PERIOD = (40, 10)  # days ago: the custom period runs from 40 days ago to 10 days ago (inclusive)


def path(lead, *steps):
    """A lead's stage events as set-up, `steps` = (days ago, stage) in time order: the first is its
    "created" event, each later one a stage move, stamped as the domain stamps them (the event holds
    the stage entered, the payload the stage left)."""
    previous = None
    for days_ago, stage in steps:
        moved = previous is not None
        db.session.add(
            Event(
                lead_id=lead.id,
                kind="stage_moved" if moved else "created",
                owner_id=lead.owner_id,
                actor_id=lead.owner_id,
                stage=stage,
                payload={"from_stage": previous, "to_stage": stage} if moved else {},
                created_at=utcnow() - timedelta(days=days_ago),
            )
        )
        previous = stage
    db.session.flush()


def build_paths(make):
    owner = make.user("growth_ops")
    leads = [make.lead(owner=owner) for _ in range(6)]
    db.session.execute(sa.delete(Event))  # the builders' own events: replaced by the paths below
    a, b, c, d, e, f = leads
    path(a, (30, "new"), (25, "qualified"), (5, "discovery"))  # moves on after the period's end
    path(b, (35, "new"), (30, "qualified"), (20, "new"), (15, "lost"))  # back to new, then lost
    path(c, (50, "new"), (30, "qualified"), (12, "discovery"))  # created before the period
    path(d, (20, "new"))  # still new
    path(e, (5, "new"), (3, "qualified"))  # after the period
    path(f, (60, "new"), (55, "qualified"), (45, "discovery"), (2, "audit"))  # all outside it
    return Filters.parse(
        {
            "period": "custom",
            "from": (utcnow() - timedelta(days=PERIOD[0])).date().isoformat(),
            "to": (utcnow() - timedelta(days=PERIOD[1])).date().isoformat(),
        },
        None,
    )


def check_paths(period):
    conversion = {stage: (n, on) for stage, n, on in metrics.conversion_rows(db.session, period)}
    # new: a, b, d entered it (c before the period); a and b went on to qualified (b's later return to
    # new and its loss do not undo that). qualified: a, b, c entered it; a went on to discovery after
    # the period (still counted: "went on"), c within it, b went back and was lost.
    # discovery: only c, not (yet) further.
    assert conversion == {"new": (3, 2), "qualified": (3, 2), "discovery": (1, 0)}
    cycle = {stage: (n, days) for stage, n, days in metrics.cycle_rows(db.session, period)}
    # Stays that ended in the period: new — a 5, b 5 and 5 (twice new), c 20 (begun before the
    # period); qualified — b 10 (back to new), c 18.
    assert cycle.keys() == {"new", "qualified"}
    assert cycle["new"][0] == 4 and cycle["new"][1] == pytest.approx(35 / 4, abs=1e-3)
    assert cycle["qualified"][0] == 2 and cycle["qualified"][1] == pytest.approx(14, abs=1e-3)
    shown = {row["stage"]: row for row in metrics.dashboard(db.session, period)["conversion"]}
    assert (shown["qualified"]["entered"], shown["qualified"]["moved_on"], shown["qualified"]["rate"]) == (
        3,
        2,
        67,
    )


def test_conversion_and_time_in_stage_by_hand_on_sqlite(app, make):
    check_paths(build_paths(make))


@pytest.mark.pg
def test_conversion_and_time_in_stage_by_hand_on_postgresql(pg_app, make):
    check_paths(build_paths(make))


@pytest.mark.pg
def test_the_apps_postgresql_connections_compile_nothing_just_in_time(pg_app):
    # JIT compiling cost the dashboard 1.3 s for a 0.4 s statement at a million leads.
    assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"
    with db.engine.connect() as other:  # every connection of the pool, not just the first
        with db.engine.connect() as third:
            assert other.execute(sa.text("SHOW jit")).scalar() == "off"
            assert third.execute(sa.text("SHOW jit")).scalar() == "off"


# --- Kept at volume -----------------------------------------------------------------------------


def won_shown(html: str) -> int:
    return int(re.search(r'id="stat-won"><strong>(\d+)</strong>', html).group(1))


def period_as_of(html: str) -> datetime:
    """The time the "as of" label under the period gives (its <time datetime>, UTC)."""
    label = re.search(r'<p class="muted" id="period-as-of">(.*?)</p>', html, re.S).group(1)
    stamp = re.search(r'<time datetime="([^"]+)Z">', label).group(1)
    return datetime.fromisoformat(stamp)


def view(client, url="/workspace/dashboard") -> str:
    g.pop("_login_user", None)
    resp = client.get(url)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_own_win_shows_at_once_another_users_view_waits_for_the_refresh(
    app, client, sign_in, hx_post, make, journey, owner, at_volume
):
    colleague = make.user("growth_ops")
    lead = journey.to(make.lead(owner=owner), "accepted")
    journey.sign(lead)
    theirs = app.test_client()
    db.session.commit()
    AuthActions(theirs).login_as(colleague)
    sign_in(owner)

    first = view(theirs)  # the colleague's view computes the figures and keeps them
    assert won_shown(first) == 0
    kept_at = period_as_of(first)
    assert abs((utcnow() - kept_at).total_seconds()) < 60
    again = view(client)
    assert won_shown(again) == 0 and period_as_of(again) == kept_at  # served as kept

    before_win = utcnow()
    resp = hx_post(f"/workspace/leads/{lead.id}/won", {"version": lead.version})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]

    # The colleague, who changed nothing, still sees the kept figures, labelled with their time...
    stale = view(theirs)
    assert won_shown(stale) == 0 and period_as_of(stale) == kept_at
    # ...the owner sees their own win at once, computed after it...
    mine = view(client)
    assert won_shown(mine) == 1 and period_as_of(mine) >= before_win.replace(microsecond=0)
    # ...and those fresher figures are the ones kept for everyone from then on.
    assert won_shown(view(theirs)) == 1


def test_a_second_view_reads_the_kept_figures(client, sign_in, make, owner, at_volume, count_queries):
    sign_in(owner)
    view(client)
    with count_queries() as kept:
        view(client)
    metrics._PERIODS.clear()
    with count_queries() as computed:
        view(client)
    assert kept.count < computed.count


def test_one_owners_kept_figures_are_never_shown_for_another(
    app, client, sign_in, make, journey, owner, at_volume
):
    colleague = make.user("growth_ops")
    journey.to(make.lead(owner=owner), "won")
    theirs = app.test_client()
    db.session.commit()
    AuthActions(theirs).login_as(colleague)
    sign_in(owner)
    assert won_shown(view(client, "/workspace/dashboard?owner=me")) == 1  # the owner's own figures, kept
    assert won_shown(view(theirs, "/workspace/dashboard?owner=me")) == 0  # the colleague's: none won
    assert won_shown(view(theirs, f"/workspace/dashboard?owner={owner.id}")) == 1
    assert won_shown(view(theirs)) == 1  # everyone's
