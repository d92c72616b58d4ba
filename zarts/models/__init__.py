"""SQLAlchemy models: the tables of DESIGN.md. No business rules here; those live in zarts.domain."""

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .base import Base, today, utcnow  # noqa: F401
from .delivery import Connector, Outbox, Project, Promise, PromiseMeasurement
from .evidence import Audit, EvidenceItem, Report, ReportNote
from .files import Attachment
from .imports import ImportJob
from .integrations import ApiToken, CaptureSource, WebhookDelivery, WebhookEndpoint
from .metrics import MetricSnapshot
from .money import CurrencyRate
from .people import AuthToken, Client, Notification, SavedView, User, new_session_token  # noqa: F401
from .pipeline import Event, Lead, Task
from .sales import Approval, ClaimCitation, Contract, Message, Proposal, ProposalItem
from . import keys as _keys
from . import search_words as _search_words
from .search_words import SearchWord

_keys.install(Lead, Client)
_search_words.install(Lead, Client, Project, Task)

__all__ = [
    "ApiToken",
    "Approval",
    "Attachment",
    "Audit",
    "CaptureSource",
    "ClaimCitation",
    "AuthToken",
    "Base",
    "Client",
    "Connector",
    "Contract",
    "CurrencyRate",
    "EvidenceItem",
    "Event",
    "ImportJob",
    "Lead",
    "Message",
    "MetricSnapshot",
    "Notification",
    "Outbox",
    "Project",
    "Promise",
    "PromiseMeasurement",
    "Proposal",
    "ProposalItem",
    "Report",
    "ReportNote",
    "SavedView",
    "SearchWord",
    "Task",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]


class AppendOnlyError(RuntimeError):
    pass


@sa_event.listens_for(Session, "before_flush")
def _events_are_append_only(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Event) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError("events are append-only: they cannot be edited or deleted")
    for obj in session.deleted:
        if isinstance(obj, Lead):
            raise AppendOnlyError("leads are never deleted: mark the deal lost instead")


# The same guard in the database itself, for anything that bypasses the ORM.
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
]
_PG_TRIGGER = [
    "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'events are append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
]


def append_only_ddl(dialect_name: str) -> list[str]:
    return _PG_TRIGGER if dialect_name == "postgresql" else _SQLITE_TRIGGERS


@sa_event.listens_for(Event.__table__, "after_create")
def _create_event_triggers(target, connection, **kw):
    for stmt in append_only_ddl(connection.dialect.name):
        connection.execute(sa.text(stmt))
