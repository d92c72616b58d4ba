"""Importing leads or clients from a spreadsheet (CSV or XLSX): upload, map, preview, run as a job.

`start_import` keeps the uploaded file (refusing an empty, huge, binary, formula-holding or
header-less one with a message and nothing kept) → `set_mapping` records which column fills which
field and what applies to every row, and `preview` shows the first rows as they would be imported →
`confirm_import` queues the `import` job through the outbox → `run_import` (the job) imports the
rows in batches of BATCH.

Who may import: growth ops and admins (SECURITY.md). An import is its uploader's: only they or an
admin see it, change it or read its error report. Growth ops import leads they own; an admin may
give the leads to another owner.

Per row: a lead is checked exactly as `pipeline.create_lead` checks one (`pipeline.new_lead_fields`),
gets its `created` event (source and import id in the payload; endpoints listening to `lead.created`
get it as for a lead typed in: zarts.domain.imports_webhooks), consent (and when it was recorded) and
a source context; withdrawn consent pauses it at once, as `create_lead` does. A row that
duplicates a record (same email, email domain or company name; zarts.domain.duplicates' rules) is
skipped, updated or created anew, as chosen per previewed row or by the import's default (skip).
"Update" fills only the fields the record has no value for yet — an import never overwrites what
someone typed — through `pipeline.update_lead` (or `projects.update_client`), so the change has its
`fields_changed` event.

Unlike other domain functions `run_import` commits: once per batch, together with the import's
`processed_rows`. A run stopped half-way (a crash, a deploy) continues from the first row not yet
committed when the job runs again, so no row is imported twice.

At volume (bench/import_bench.py): a thread reads and checks the next batch while the database
writes this one; duplicates are looked up with one query per kind of key per batch; on PostgreSQL
the new leads' ids come from the sequence in one query and leads, events and tasks are loaded with
COPY. What is left is mostly PostgreSQL keeping the leads' indexes, above all the trigram search
index (built without fast update, on purpose: zarts.models.base.trigram_index).
"""

from __future__ import annotations

import contextlib
import csv
import json
import operator
import os
import queue
import threading
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..models import Client, Event, ImportJob, Lead, Outbox, Task, User, search_words, utcnow
from ..models.vocab import CONSENT, DUPLICATE_ACTIONS, IMPORT_KINDS, SERVICES, SOURCES
from . import imports_webhooks, notifications, pipeline, projects
from .errors import DomainError, Forbidden, Invalid
from .import_files import is_blank, neutralise, rows, scan, store_upload
from .import_rows import (
    FIELDS,
    LEAD_FIELDS,
    Found,
    Matcher,
    cells_of,
    client_fields,
    fill_empty,
    guess_mapping,
    keys_of,
    lead_fields,
)
from .trail import check_version, enqueue, next_action_key, require_staff

BATCH = 5000
PREVIEW_ROWS = 20
CLIENT_EDITABLE = ("status", "report_cadence", "notes")


# ---------------------------------------------------------------- who may


def require_import_actor(actor: User | None, job: ImportJob | None = None) -> None:
    """Growth ops and admins import; an import is changed only by its uploader or an admin."""
    require_staff(actor, "growth_ops", action="import spreadsheets")
    if job is not None and actor.role != "admin" and job.owner_id != actor.id:
        raise Forbidden("Only whoever uploaded this import (or an admin) can change it.")


def may_see(actor: User | None, job: ImportJob) -> bool:
    return bool(
        actor is not None
        and actor.is_staff
        and actor.is_active
        and (actor.role == "admin" or (actor.role == "growth_ops" and job.owner_id == actor.id))
    )


# ---------------------------------------------------------------- upload, mapping, confirm


def start_import(
    session: Session,
    actor: User,
    *,
    kind: str,
    filename: str,
    stream,
    folder: str,
    max_bytes: int,
    max_rows: int,
) -> ImportJob:
    """Keep the uploaded file under `folder` and record the import with a guessed column mapping.

    Refused with a message, keeping nothing: an empty file, one over `max_bytes` or `max_rows`, one
    that is not CSV or XLSX (or not UTF-8 / Windows-1252 text), one without a header row, and one
    holding a formula anywhere (never run, never imported)."""
    require_import_actor(actor)
    if kind not in IMPORT_KINDS:
        raise Invalid("Choose what the file holds: leads or clients.", "kind")
    name = os.path.basename((filename or "").replace("\\", "/")).strip()[:200] or "upload"
    stored = store_upload(stream, name, folder, max_bytes)
    try:
        scanned = scan(stored.path, stored.kind, stored.encoding, max_rows)
        job = ImportJob(
            kind=kind,
            owner_id=actor.id,
            filename=name,
            stored_name=os.path.basename(stored.path),
            file_sha256=stored.sha256,
            size_bytes=stored.size,
            status="uploaded",
            headers=scanned.headers,
            mapping=guess_mapping(kind, scanned.headers),
            options={
                "consent": "unknown",
                "duplicate_action": "skip",
                "source_context": f"Imported from {name}"[:500],
                "file": {
                    "kind": stored.kind,
                    "encoding": stored.encoding,
                    "header_row": scanned.header_row,
                    "data_rows": scanned.data_rows,
                },
            },
            decisions={},
            total_rows=scanned.total_rows,
        )
        session.add(job)
        session.flush()
        job.stored_name = f"{job.id}-{stored.sha256[:16]}.{stored.kind}"
        os.replace(stored.path, os.path.join(folder, job.stored_name))
        session.flush()
    except BaseException:
        if os.path.exists(stored.path):
            os.remove(stored.path)
        raise
    return job


def earlier_imports_of_same_file(session: Session, job: ImportJob) -> list[ImportJob]:
    """The uploader's earlier imports of this very file (same SHA-256): the page warns about them."""
    return list(
        session.scalars(
            sa.select(ImportJob)
            .where(
                ImportJob.file_sha256 == job.file_sha256,
                ImportJob.owner_id == job.owner_id,
                ImportJob.id != job.id,
                ImportJob.kind == job.kind,
            )
            .order_by(ImportJob.id.desc())
            .limit(3)
        )
    )


def set_mapping(
    session: Session,
    job: ImportJob,
    actor: User,
    expected_version: int | None,
    *,
    mapping: dict[str, str],
    options: dict,
) -> ImportJob:
    """Which column fills which field ({header: field}, "" for none) and what applies to every row:
    source and service (required when no column holds them), consent, source context, owner, and
    what to do with a duplicate. Only before the import runs."""
    require_import_actor(actor, job)
    check_version(job, expected_version, "This import")
    if job.status != "uploaded":
        raise Invalid("This import has already started: upload the file again to import it differently.")
    fields, clean, used = FIELDS[job.kind], {}, {}
    for header, name in mapping.items():
        if header not in job.headers:
            raise Invalid(f"The file has no column “{header}”.", "mapping")
        if not name:
            continue
        if name not in fields:
            raise Invalid(f"“{name}” is not a field an import fills.", "mapping")
        if name in used:
            raise Invalid(
                f"{fields[name]} is chosen for both “{used[name]}” and “{header}”: choose one.", "mapping"
            )
        clean[header], used[name] = name, header
    job.options = {**_options(session, job, actor, options), "file": job.options.get("file", {})}
    job.mapping = clean
    _check_ready(job)
    session.flush()
    return job


def _options(session: Session, job: ImportJob, actor: User, options: dict) -> dict:
    out = {
        "duplicate_action": options.get("duplicate_action") or "skip",
        "source_context": (options.get("source_context") or "").strip()[:500] or None,
    }
    if out["duplicate_action"] not in DUPLICATE_ACTIONS:
        raise Invalid("Choose skip, update or create for duplicates.", "duplicate_action")
    owner_id = options.get("owner_id")
    if owner_id in (None, ""):
        owner_id = actor.id
    try:
        owner_id = int(owner_id)
    except (TypeError, ValueError):
        raise Invalid("Choose the owner from the list.", "owner_id") from None
    if job.kind == "leads":
        out["owner_id"] = pipeline.new_lead_owner(session, actor, owner_id)
        for name, allowed in (("source", SOURCES), ("service", SERVICES)):
            value = options.get(name) or None
            if value is not None and value not in allowed:
                raise Invalid(f"Choose a {name} from the list.", name)
            out[name] = value
        out["consent"] = options.get("consent") or "unknown"
        if out["consent"] not in CONSENT:
            raise Invalid("Consent must be unknown, granted or withdrawn.", "consent")
    else:
        if actor.role != "admin" and owner_id != actor.id:
            raise Forbidden("Only an admin can import clients for someone else.")
        owner = session.get(User, owner_id)
        if owner is None or not owner.is_staff or not owner.is_active:
            raise Invalid("The owner must be an active staff member.", "owner_id")
        out["owner_id"] = owner_id
    return out


def _check_ready(job: ImportJob) -> None:
    used, options = set(job.mapping.values()), job.options
    if job.kind == "clients":
        if "name" not in used:
            raise Invalid("Choose the column that holds the client's name.", "mapping")
        return
    if "company" not in used:
        raise Invalid("Choose the column that holds the company: every lead needs one.", "mapping")
    for name in ("source", "service"):
        if name not in used and not options.get(name):
            raise Invalid(f"No column holds the {name}: choose the {name} of these leads.", name)


def confirm_import(
    session: Session, job: ImportJob, actor: User, expected_version: int | None, decisions: dict[str, str]
) -> ImportJob:
    """Start the import with the mapping previewed: the per-row duplicate choices
    ({"<row number>": "skip" | "update" | "create"}) are kept and the `import` job is queued. A
    second confirm of an import already started changes nothing (a double submit is harmless)."""
    require_import_actor(actor, job)
    if job.status != "uploaded":
        return job
    check_version(job, expected_version, "This import")
    _check_ready(job)
    clean = {}
    for number, action in decisions.items():
        if not str(number).isdigit() or action not in DUPLICATE_ACTIONS:
            raise Invalid("Choose skip, update or create for each duplicate.", "decisions")
        clean[str(int(number))] = action
    job.decisions, job.status = clean, "queued"
    enqueue(session, "import", f"import:{job.id}", import_id=job.id)
    session.flush()
    return job


# ---------------------------------------------------------------- reading rows


@dataclass
class Outcome:
    """One row as the import sees it: its number in the sheet, its cells, and its fields or its error."""

    number: int
    cells: list
    fields: dict | None = None
    error: Invalid | None = None
    keys: dict | None = None
    match: Found | None = None
    action: str = "create"


class Plan:
    def __init__(self, job: ImportJob):
        self.job, self.kind = job, job.kind
        self.columns = [(job.headers.index(h), name) for h, name in job.mapping.items() if h in job.headers]
        self.header_of = {name: h for h, name in job.mapping.items()}
        self.options = {
            **job.options,
            "source_context": job.options.get("source_context") or f"Import {job.id} ({job.filename})",
        }
        self.default = job.options.get("duplicate_action") or "skip"
        self.matcher = Matcher(job.kind)

    def outcomes(self, session: Session, batch: list[tuple[int, list]]) -> list[Outcome]:
        """The batch's rows checked, with the duplicates of all of them looked up at once."""
        out = self.check(batch)
        self.look_up(session, out)
        return out

    def check(self, batch: list[tuple[int, list]]) -> list[Outcome]:
        """The batch's rows checked (no database: run_import checks the next batch in a thread while
        the database writes this one)."""
        out = []
        for number, cells in batch:
            if is_blank(cells):
                continue
            row = Outcome(number, cells)
            try:
                mapped = cells_of(cells, self.columns)
                row.fields = (
                    lead_fields(mapped, self.options) if self.kind == "leads" else client_fields(mapped)
                )
                row.fields["owner_id"] = self.options.get("owner_id")
                row.keys = keys_of(self.kind, row.fields)
            except Invalid as exc:
                row.error, row.fields = exc, None
            out.append(row)
        return out

    def look_up(self, session: Session, out: list[Outcome]) -> None:
        self.matcher.look_up(session, [r.keys for r in out if r.keys is not None])

    def decide(self, row: Outcome) -> None:
        row.match = self.matcher.match(row.keys)
        row.action = self.job.decisions.get(str(row.number), self.default) if row.match else "create"

    def column_of(self, error: Invalid) -> str:
        name = "value" if error.field == "value_cents" else error.field
        labels = {**LEAD_FIELDS, **FIELDS["clients"]} if self.kind == "leads" else FIELDS["clients"]
        return self.header_of.get(name) or labels.get(name or "", "")


def _records(job: ImportJob, folder: str, skip: int = 0):
    """(number, cells) of the data records after the header, the first `skip` of them left out. The
    import's attributes are read now, so the records may be read in another thread."""
    info = job.options.get("file", {})
    first = int(info.get("header_row") or 1) + skip
    path, kind, encoding = (
        os.path.join(folder, job.stored_name),
        info.get("kind", "csv"),
        info.get("encoding"),
    )

    def records():
        source = rows(path, kind, encoding)
        try:
            for number, cells in enumerate(source, start=1):
                if number > first:
                    yield number, cells
        finally:
            source.close()

    return records()


def preview(session: Session, job: ImportJob, folder: str, limit: int = PREVIEW_ROWS) -> list[Outcome]:
    """The first `limit` rows as the import would take them: fields or error, duplicate, action."""
    batch = []
    for number, cells in _records(job, folder):
        if not is_blank(cells):
            batch.append((number, cells))
        if len(batch) >= limit:
            break
    plan = Plan(job)
    for name in missing_choices(job):  # said once above the preview, not as every row's error
        plan.options[name] = (SOURCES if name == "source" else SERVICES)[0]
    out = plan.outcomes(session, batch)
    for row in out:
        if row.fields is not None:
            plan.decide(row)
            if row.action == "create":
                label = row.fields.get("company") or row.fields.get("name") or ""
                plan.matcher.add_pending(row.keys, row.fields, label)
    return out


def missing_choices(job: ImportJob) -> list[str]:
    """The fields every lead needs that neither a column nor the form gives yet ("source",
    "service"): the page asks for them once; the preview checks the rows' other fields meanwhile."""
    if job.kind != "leads":
        return []
    used = set((job.mapping or {}).values())
    return [name for name in ("source", "service") if name not in used and not (job.options or {}).get(name)]


def error_report_path(job: ImportJob, folder: str) -> str:
    return os.path.join(folder, f"{job.id}-errors.csv")


# ---------------------------------------------------------------- the job


def run_import(
    session: Session, import_id: int, *, folder: str, link: str | None = None, batch_size: int = BATCH
) -> str:
    """Import the confirmed import's rows, BATCH at a time, each batch committed with the import's
    progress; a re-run continues after the last committed row. Ends with the counts, the error
    report under `folder`, and an `import_done` notification to the uploader (linking to `link`)."""
    job = session.get(ImportJob, import_id)
    if job is None:
        return "import: gone"
    if job.status not in ("queued", "running"):
        return f"import {job.id}: {job.status}, nothing to do"
    actor = session.get(User, job.owner_id)
    try:
        require_import_actor(actor, job)
        if not os.path.exists(os.path.join(folder, job.stored_name)):
            raise Invalid("The uploaded file is no longer there: upload it again.")
        plan = Plan(job)
        _check_ready(job)
    except DomainError as exc:
        return _finish(session, job, actor, link, failed=exc.message)
    if job.status == "queued":
        job.status, job.started_at = "running", utcnow()
        session.commit()
    report = _ErrorReport(error_report_path(job, folder), job)
    try:
        records = _records(job, folder, skip=job.processed_rows)
        with contextlib.closing(_read_ahead(lambda: _checked_batches(plan, records, batch_size))) as batches:
            for batch, outcomes in batches:  # a batch that fails stops the reading thread at once
                _run_batch(session, plan, actor, batch, outcomes, report)
    except Invalid as exc:  # the file became unreadable half-way: what was committed stays
        session.rollback()
        return _finish(session, job, actor, link, failed=exc.message)
    return _finish(session, job, actor, link)


def _checked_batches(plan: Plan, records, batch_size: int):
    """(records, their outcomes) of `records`, `batch_size` records at a time (no database)."""
    batch: list[tuple[int, list]] = []
    try:
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                yield batch, plan.check(batch)
                batch = []
        if batch:
            yield batch, plan.check(batch)
    finally:
        records.close()


def _read_ahead(make_items):
    """The items of the iterator `make_items()` makes, each computed in a thread while the caller
    works on the one before: reading and checking the next batch (Python) overlaps writing this one
    (the database, which releases the GIL). At most two items wait, so memory stays flat. An error
    of the iterator is raised here, in its place; stopping early stops the thread."""
    app = current_app._get_current_object() if has_app_context() else None
    items: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        with app.app_context() if app is not None else contextlib.nullcontext():
            source = make_items()
            try:
                for item in source:
                    if not put(("item", item)):
                        return
                put(("end", None))
            except BaseException as exc:  # noqa: BLE001 - handed over to the caller's thread
                put(("error", exc))
            finally:
                source.close()

    thread = threading.Thread(target=work, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=10)


def _run_batch(
    session: Session, plan: Plan, actor: User, batch: list, outcomes: list[Outcome], report: _ErrorReport
) -> None:
    job = plan.job
    expected = job.processed_rows
    session.refresh(job, with_for_update=True)  # two runs of one import never interleave
    if job.processed_rows != expected or job.status != "running":
        raise RuntimeError(f"import {job.id} moved on in another run")
    plan.look_up(session, outcomes)
    counts = (_lead_batch if plan.kind == "leads" else _client_batch)(session, plan, actor, outcomes)
    errors = [row for row in outcomes if row.error is not None]
    report.add(plan, errors)
    job.processed_rows += len(batch)
    job.created_count += counts["created"]
    job.updated_count += counts["updated"]
    job.skipped_count += counts["skipped"]
    job.error_count += len(errors)
    session.commit()
    plan.matcher.clear_pending()


def _lead_batch(session: Session, plan: Plan, actor: User, outcomes: list[Outcome]) -> dict:
    counts = {"created": 0, "updated": 0, "skipped": 0}
    creates, updates = [], []
    for row in outcomes:
        if row.error is not None:
            continue
        plan.decide(row)
        if row.action == "skip":
            counts["skipped"] += 1
        elif row.action == "update" and row.match.pending is not None:  # a row of this very batch
            extra = fill_empty(row.match.pending, row.fields, pipeline.EDITABLE_FIELDS)
            row.match.pending.update(extra)
            row.match.pending_keys.update(keys_of("leads", row.match.pending))  # an email filled in
            counts["updated" if extra else "skipped"] += 1
        elif row.action == "update":
            updates.append(row)
        else:
            creates.append(row)
            plan.matcher.add_pending(row.keys, row.fields, row.fields["company"])
    _insert_leads(session, plan.job, actor, [(row.fields, row.keys) for row in creates])
    search_words.add(session, search_words.lead_texts(row.fields for row in creates))
    counts["created"] += len(creates)
    leads = (
        {
            lead.id: lead
            for lead in session.scalars(sa.select(Lead).where(Lead.id.in_({row.match.id for row in updates})))
        }
        if updates
        else {}
    )
    for row in updates:
        lead = leads[row.match.id]
        changes = fill_empty(
            {name: getattr(lead, name) for name in row.fields if hasattr(lead, name)},
            row.fields,
            pipeline.EDITABLE_FIELDS,
        )
        if not changes:
            counts["skipped"] += 1
            continue
        try:
            pipeline.update_lead(session, lead, actor, None, via=f"import {plan.job.id}", **changes)
            counts["updated"] += 1
        except (Invalid, Forbidden) as exc:
            row.error = (
                exc
                if isinstance(exc, Invalid)
                else Invalid(
                    f"Matches {lead.company} (lead {lead.id}), which is someone else's: only its owner or an "
                    "admin can update it."
                )
            )
    return counts


LEAD_INSERT_COLUMNS = sorted(
    pipeline.NEW_LEAD_FIELDS
    | {
        "stage",
        "probability",
        "consent_recorded_at",
        "paused_at",
        "pause_reason",
        "pause_note",
        "company_key",
        "email_key",
        "email_domain",
        "version",
        "created_at",
        "updated_at",
        "reactivation_never",
    }
)
EVENT_KINDS = ("created", "paused")  # the events an import writes for a new lead (_follow_ups)
EVENT_COLUMNS = (
    "lead_id",
    "kind",
    "actor_id",
    "owner_id",
    "stage",
    "next_action",
    "next_action_due",
    "payload",
    "created_at",
)
TASK_COLUMNS = (
    "key",
    "kind",
    "lead_id",
    "owner_id",
    "title",
    "due",
    "client_visible",
    "version",
    "created_at",
    "updated_at",
)


def _insert_leads(session: Session, job: ImportJob, actor: User, rows: list[dict]) -> None:
    """New leads as `create_lead` makes them (stage new, its probability, consent recorded, paused
    when consent is withdrawn, the next action's task, the `created` event and the webhook
    deliveries of its events), in a few statements: on PostgreSQL ids reserved from the sequences
    in one query each and the rows loaded with COPY."""
    if not rows:
        return
    now = utcnow()
    leads = [_new_lead(fields, keys, now) for fields, keys in rows]
    hooks = imports_webhooks.listeners(session, EVENT_KINDS)
    if session.get_bind().dialect.name == "postgresql":
        deliveries = _copy_leads(session, job, actor, leads, now, hooks)
    else:
        deliveries = _insert_rows(session, job, actor, leads, now, hooks)
    imports_webhooks.relay_after_commit(session, deliveries)


def _insert_rows(
    session: Session, job: ImportJob, actor: User, leads: list[dict], now, hooks: dict
) -> list[dict]:
    """SQLite: leads, events, tasks and the events' webhook deliveries, a multi-row statement each
    (the events' ids returned only when an endpoint listens). Returns the deliveries' outbox rows."""
    table = Lead.__table__
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = session.execute(statement, leads).scalars().all()
    events, tasks = _follow_ups(job, actor, ids, leads, now)
    records = [dict(zip(EVENT_COLUMNS, e, strict=True)) for e in events]
    deliveries = []
    if any(e[1] in hooks for e in events):
        events_table = Event.__table__
        statement = sa.insert(events_table).returning(events_table.c.id, sort_by_parameter_order=True)
        event_ids = session.execute(statement, records).scalars().all()
        kinds = (e[1] for e in events)
        deliveries = imports_webhooks.delivery_rows(hooks, zip(event_ids, kinds, strict=True), now)
        if deliveries:
            session.execute(sa.insert(Outbox.__table__), deliveries)
    else:
        session.execute(sa.insert(Event.__table__), records)
    if tasks:
        session.execute(sa.insert(Task.__table__), [dict(zip(TASK_COLUMNS, t, strict=True)) for t in tasks])
    return deliveries


def _new_lead(fields: dict, keys: dict, now) -> dict:
    withdrawn = fields.get("consent") == "withdrawn"
    lead = dict.fromkeys(LEAD_INSERT_COLUMNS)
    lead.update(fields)
    lead.update(
        stage="new",
        probability=fields.get("probability") or pipeline.STAGE_PROBABILITY["new"],
        next_action=(fields.get("next_action") or "")[:300] or None,
        consent_recorded_at=now if lead["consent"] in ("granted", "withdrawn") else None,
        paused_at=now if withdrawn else None,
        pause_reason="consent" if withdrawn else None,
        pause_note="Consent withdrawn" if withdrawn else None,
        company_key=keys["company"],
        email_key=keys["email"],  # zarts.models.keys, as keys_of made them
        email_domain=keys["domain"],
        version=1,
        created_at=now,
        updated_at=now,
        reactivation_never=False,
    )
    return lead


def _follow_ups(
    job: ImportJob, actor: User, ids: list[int], leads: list[dict], now, dump=lambda payload: payload
) -> tuple[list[tuple], list[tuple]]:
    """The leads' `created` (and `paused`) events and next-action tasks, as tuples of EVENT_COLUMNS
    and TASK_COLUMNS. Created events first, then the pauses, as create_lead records them."""
    created, paused, tasks = [], [], []
    for lead_id, lead in zip(ids, leads, strict=True):
        owner_id, action, due = lead["owner_id"], lead["next_action"], lead["next_action_due"]
        created.append(
            (
                lead_id,
                "created",
                actor.id,
                owner_id,
                "new",
                action,
                due,
                dump({"source": lead["source"], "import_id": job.id}),
                now,
            )
        )
        if lead["paused_at"] is not None:
            paused.append(
                (lead_id, "paused", actor.id, owner_id, "new", action, due, dump({"reason": "consent"}), now)
            )
        if action and due is not None:
            tasks.append(
                (
                    next_action_key(lead_id),
                    "follow_up",
                    lead_id,
                    owner_id or actor.id,
                    action,
                    due,
                    False,
                    1,
                    now,
                    now,
                )
            )
    return created + paused, tasks


def _copy_leads(
    session: Session, job: ImportJob, actor: User, leads: list[dict], now, hooks: dict
) -> list[dict]:
    """PostgreSQL: the batch's lead ids from the sequence in one query, then leads, events, tasks
    and the events' webhook deliveries (when an endpoint listens: the events' ids reserved too) each
    in one COPY on the session's own connection (same transaction: a failed batch rolls back whole).
    No per-row statement, no RETURNING. Returns the deliveries' outbox rows."""
    from psycopg import sql

    session.flush()
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        ids = _reserve_ids(cursor, "leads", len(leads))
        events, tasks = _follow_ups(job, actor, ids, leads, now, dump=json.dumps)
        event_columns, deliveries = EVENT_COLUMNS, []
        if any(e[1] in hooks for e in events):
            event_ids = _reserve_ids(cursor, "events", len(events))
            events = [(event_id, *e) for event_id, e in zip(event_ids, events, strict=True)]
            event_columns = ("id", *EVENT_COLUMNS)
            deliveries = imports_webhooks.delivery_rows(hooks, ((e[0], e[2]) for e in events), now)
        outbox = [
            tuple(json.dumps(row[c]) if c == "payload" else row[c] for c in imports_webhooks.OUTBOX_COLUMNS)
            for row in deliveries
        ]
        columns, values = ("id", *LEAD_INSERT_COLUMNS), operator.itemgetter(*LEAD_INSERT_COLUMNS)
        for table, names, records in (
            ("leads", columns, ((lead_id, *values(lead)) for lead_id, lead in zip(ids, leads, strict=True))),
            ("events", event_columns, events),
            ("tasks", TASK_COLUMNS, tasks),
            ("outbox", imports_webhooks.OUTBOX_COLUMNS, outbox),
        ):
            if not records:
                continue
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
            )
            with cursor.copy(statement) as copy:
                for record in records:
                    copy.write_row(record)
    return deliveries


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    """`count` ids of `table` taken from its sequence in one query."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, count)
    )
    return [row[0] for row in cursor.fetchall()]


def _client_batch(session: Session, plan: Plan, actor: User, outcomes: list[Outcome]) -> dict:
    counts = {"created": 0, "updated": 0, "skipped": 0}
    for row in outcomes:
        if row.error is not None:
            continue
        plan.decide(row)
        fields = row.fields
        try:
            if row.action == "skip":
                counts["skipped"] += 1
            elif row.action == "update":
                client = session.get(Client, row.match.id)
                current = {name: getattr(client, name) for name in (*CLIENT_EDITABLE, "domain")}
                changes = fill_empty(current, fields, (*CLIENT_EDITABLE, "domain"))
                domain = changes.pop("domain", None)
                if changes:
                    projects.update_client(session, client, actor, None, **changes)
                if domain:
                    client.domain = domain
                counts["updated" if changes or domain else "skipped"] += 1
            else:
                given = {k: v for k, v in fields.items() if k in ("name", "owner_id", *CLIENT_EDITABLE)}
                client = projects.create_client(session, actor, **given)
                client.domain = fields.get("domain")
                session.flush()
                plan.matcher.add_pending(row.keys, fields, client.name, record_id=client.id)
                counts["created"] += 1
        except (Invalid, Forbidden) as exc:
            row.error = exc if isinstance(exc, Invalid) else Invalid(exc.message)
    return counts


def _finish(
    session: Session, job: ImportJob, actor: User | None, link: str | None, *, failed: str | None = None
) -> str:
    job.status = "failed" if failed else "done"
    job.message = failed
    job.finished_at = utcnow()
    summary = (
        f"{job.created_count} created, {job.updated_count} updated, {job.skipped_count} skipped, "
        f"{job.error_count} with errors"
    )
    if link and actor is not None and actor.is_staff and actor.is_active:
        title = f"Import of {job.filename} " + (f"failed: {failed}" if failed else f"finished: {summary}")
        notifications.record(
            session,
            actor,
            kind="import_done",
            title=title,
            url=link,
            lead_id=None,
            key=f"import_done:{job.id}",
        )
    result = f"import {job.id}: " + (f"failed ({failed})" if failed else summary)
    session.commit()
    return result


class _ErrorReport:
    """The rows refused, as a CSV a person opens in a spreadsheet (every cell neutralised against
    formula injection). Written before each batch commits; a re-run first drops the lines of rows
    that were not committed, so a resumed import reports each row once."""

    def __init__(self, path: str, job: ImportJob):
        self.path = path
        self.header = ["Row", "Column", "Problem", *job.headers]
        last = int(job.options.get("file", {}).get("header_row") or 1) + job.processed_rows
        if job.processed_rows == 0 or not os.path.exists(path):
            with open(path, "w", newline="", encoding="utf-8-sig") as fh:
                csv.writer(fh).writerow([neutralise(cell) for cell in self.header])
            return
        kept = path + ".tmp"
        with (
            open(path, newline="", encoding="utf-8-sig") as src,
            open(kept, "w", newline="", encoding="utf-8-sig") as out,
        ):
            reader, writer = csv.reader(src), csv.writer(out)
            for index, line in enumerate(reader):
                if index == 0 or (line and line[0].isdigit() and int(line[0]) <= last):
                    writer.writerow(line)
        os.replace(kept, path)

    def add(self, plan: Plan, errors: list[Outcome]) -> None:
        if not errors:
            return
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            for row in errors:
                writer.writerow(
                    [
                        row.number,
                        neutralise(plan.column_of(row.error)),
                        neutralise(row.error.message),
                        *(neutralise(cell) for cell in row.cells),
                    ]
                )
