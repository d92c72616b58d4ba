"""/jobs/: what the background work is doing, for admins. Outbox rows by status, RQ's failed jobs,
and a "retry" that re-drives an outbox row (the relay owns every other change)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from ..auth.access import roles_required
from ..extensions import db
from ..models import Outbox
from ..models.vocab import OUTBOX_STATUS

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")

PAGE = 50


@bp.route("/")
@roles_required("admin")
def index():
    status = request.args.get("status", "failed")
    if status not in OUTBOX_STATUS:
        abort(404)
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**63:
        before = None  # not an id (a huge number would overflow the query)
    counts = dict(db.session.execute(sa.select(Outbox.status, sa.func.count()).group_by(Outbox.status)).all())
    query = sa.select(Outbox).where(Outbox.status == status).order_by(Outbox.id.desc()).limit(PAGE + 1)
    if before:
        query = query.where(Outbox.id < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    failed_jobs, redis_error = _rq_failed()
    return render_template(
        "jobs/index.html",
        rows=rows,
        status=status,
        statuses=OUTBOX_STATUS,
        counts=counts,
        next_before=rows[-1].id if more else None,
        failed_jobs=failed_jobs,
        redis_error=redis_error,
        inline=not current_app.config.get("REDIS_URL"),
    )


def _rq_failed(limit: int = PAGE):
    """Jobs RQ gave up on (retries exhausted), newest first; ([], message) when Redis is unreachable."""
    if not current_app.config.get("REDIS_URL"):
        return [], None
    import redis
    from rq.job import Job

    from .queue import queue

    try:
        registry = queue().failed_job_registry
        ids = registry.get_job_ids(0, limit - 1, desc=True)
        jobs = [j for j in Job.fetch_many(ids, connection=registry.connection) if j is not None]
        return [
            {"id": j.id, "description": j.description, "ended_at": j.ended_at, "error": _last_line(j)}
            for j in jobs
        ], None
    except redis.RedisError as exc:
        return [], f"Redis is unreachable ({exc})."


def _last_line(job) -> str:
    result = job.latest_result()
    text = (getattr(result, "exc_string", None) or "").strip()
    return text.splitlines()[-1] if text else ""


@bp.route("/outbox/<int:outbox_id>/retry", methods=["POST"])
@roles_required("admin")
def retry(outbox_id: int):
    from .relay import retry as redrive

    if redrive(outbox_id):
        flash("The job was queued again.", "ok")
    else:
        flash("That job is done or no longer exists.", "error")
    return redirect(url_for("jobs.index", status=request.form.get("status", "failed")))
