"""Prepared reads of the reports pages: the client reports list (overdue first) and one report with its
notes and the approvals of both."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from ..domain.cadence import prepare_task_key, report_overdue
from ..models import Approval, Report, ReportNote, Task, today

LIST_LIMIT = 100  # unpublished ones first, so only old published reports fall off the end


@dataclass
class ReportRow:
    report: Report
    overdue: bool


def report_list(session: Session, limit: int = LIST_LIMIT) -> list[ReportRow]:
    """Client reports: overdue ones first, then drafts and approved ones by period, then published ones
    newest first. One statement (client and owner joined)."""
    overdue = report_overdue(today())
    published = Report.status == "published"
    rows = session.execute(
        sa.select(Report, overdue.label("overdue"))
        .where(Report.kind == "client_report")
        .options(joinedload(Report.client), joinedload(Report.owner))
        .order_by(
            sa.case((overdue, 0), (published, 2), else_=1),
            sa.case((published, Report.published_at)).desc(),
            Report.period_end,
            Report.id,
        )
        .limit(limit)
    ).all()
    return [ReportRow(r, bool(late)) for r, late in rows]


@dataclass
class NoteView:
    note: ReportNote
    approval: Approval | None  # its latest approval request, if any


@dataclass
class ReportView:
    report: Report
    overdue: bool
    approvals: list[Approval]  # of the report's client summary, newest first
    notes: list[NoteView] = field(default_factory=list)
    task: Task | None = None  # the cadence's "complete, approve and publish" task

    @property
    def latest(self) -> Approval | None:
        live = [a for a in self.approvals if a.state != "superseded"]
        return live[0] if live else None

    @property
    def can_request(self) -> bool:
        """Something waits for a request: a draft summary not yet asked for, or a client-safe note."""
        summary = (
            self.report.status == "draft"
            and bool((self.report.client_summary or "").strip())
            and (
                self.latest is None
                or self.latest.state == "rejected"
                or self.latest.content != self.report.client_summary.strip()
            )
        )
        return summary or any(
            n.note.visibility == "client_safe" and n.note.status == "none" for n in self.notes
        )


def report_view(session: Session, report_id: int) -> ReportView | None:
    report = session.execute(
        sa.select(Report, report_overdue(today()).label("overdue"))
        .where(Report.id == report_id)
        .options(
            joinedload(Report.client),
            joinedload(Report.owner),
            joinedload(Report.lead),
            joinedload(Report.project),
        )
    ).first()
    if report is None:
        return None
    report, overdue = report
    notes = (
        session.execute(
            sa.select(ReportNote)
            .where(ReportNote.report_id == report.id)
            .options(joinedload(ReportNote.author))
            .order_by(ReportNote.id)
        )
        .scalars()
        .all()
    )
    note_ids = [n.id for n in notes]
    subject = Approval.report_id == report.id
    if note_ids:
        subject = sa.or_(subject, Approval.report_note_id.in_(note_ids))
    approvals = (
        session.execute(
            sa.select(Approval)
            .where(subject)
            .options(joinedload(Approval.decided_by))
            .order_by(Approval.requested_at.desc(), Approval.id.desc())
        )
        .scalars()
        .all()
    )
    latest_by_note: dict[int, Approval] = {}
    for a in approvals:
        if a.report_note_id is not None:
            latest_by_note.setdefault(a.report_note_id, a)
    task = None
    if report.key is not None:
        task = session.execute(
            sa.select(Task).where(Task.key == prepare_task_key(report.key))
        ).scalar_one_or_none()
    return ReportView(
        report=report,
        overdue=bool(overdue),
        task=task,
        approvals=[a for a in approvals if a.report_id == report.id],
        notes=[NoteView(n, latest_by_note.get(n.id)) for n in notes],
    )


def report_row(session: Session, report_id: int) -> Report | None:
    return session.get(Report, report_id)


def note_row(session: Session, report_id: int, note_id: int | None) -> ReportNote | None:
    """A note of this report (a note of another report or of an audit is not found here)."""
    if note_id is None:
        return None
    return session.execute(
        sa.select(ReportNote).where(ReportNote.id == note_id, ReportNote.report_id == report_id)
    ).scalar_one_or_none()
