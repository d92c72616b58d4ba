"""The spreadsheet import (zarts.domain.imports): files refused whole, rows checked as create_lead
checks them, duplicates skipped / updated / created, a run that resumes, the error report."""

from __future__ import annotations

import csv
import io
import os
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from zarts.domain import Forbidden, Invalid, imports, unit, webhooks
from zarts.extensions import db
from zarts.models import Event, ImportJob, Lead, Notification, Outbox, Task

HEADER = "Company,E-mail,Contact,Phone,Service,Value,Currency,Next action,Due,Consent\n"
ROWS = (
    "Acme GmbH,ana@acme.de,Ana Acme,+49 30 1234,SEO,4500,EUR,Call Ana,2999-01-10,yes\n"
    "Bolt Ltd,ben@bolt.co.uk,Ben Bolt,,Paid media,,,,,withdrawn\n"
    "Cobalt Inc,cy@cobalt.io,Cy Cobalt,,Analytics,12000.50,USD,,,\n"
)


@pytest.fixture
def folder(app, tmp_path):
    path = tmp_path / "imports"
    app.config["IMPORT_FOLDER"] = str(path)
    return str(path)


def upload(actor, folder, content, filename="leads.csv", kind="leads", max_bytes=10**6, max_rows=1000):
    data = content.encode("utf-8") if isinstance(content, str) else content
    with unit(db.session):
        job = imports.start_import(
            db.session,
            actor,
            kind=kind,
            filename=filename,
            stream=io.BytesIO(data),
            folder=folder,
            max_bytes=max_bytes,
            max_rows=max_rows,
        )
    return job


def run(job, actor, mapping=None, decisions=None, **options):
    """Map (the guessed mapping unless given), then confirm: the outbox runs the job inline."""
    with unit(db.session):
        imports.set_mapping(
            db.session,
            job,
            actor,
            job.version,
            mapping=mapping or job.mapping,
            options={"source": "event", **options},
        )
    with unit(db.session):
        imports.confirm_import(db.session, job, actor, job.version, decisions or {})
    db.session.expire_all()
    return db.session.get(ImportJob, job.id)


def report(job, folder):
    with open(imports.error_report_path(job, folder), newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def test_a_csv_becomes_leads_each_with_its_created_event_consent_and_source_context(make, folder):
    owner = make.user("growth_ops")
    job = upload(owner, folder, HEADER + ROWS)
    assert job.total_rows == 3 and job.status == "uploaded"
    assert job.mapping == {
        "Company": "company",
        "E-mail": "contact_email",
        "Contact": "contact_name",
        "Phone": "contact_phone",
        "Service": "service",
        "Value": "value",
        "Currency": "currency",
        "Next action": "next_action",
        "Due": "next_action_due",
        "Consent": "consent",
    }
    done = run(job, owner, source_context="Trade fair list 2026")
    assert (done.status, done.created_count, done.error_count, done.processed_rows) == ("done", 3, 0, 3)

    leads = {lead.company: lead for lead in db.session.scalars(sa.select(Lead))}
    acme, bolt, cobalt = leads["Acme GmbH"], leads["Bolt Ltd"], leads["Cobalt Inc"]
    assert (acme.title, acme.source, acme.service, acme.owner_id, acme.stage) == (
        "Acme GmbH",
        "event",
        "seo",
        owner.id,
        "new",
    )
    assert (acme.value_cents, acme.currency, cobalt.value_cents, cobalt.currency) == (
        450000,
        "EUR",
        1200050,
        "USD",
    )
    assert acme.source_context == "Trade fair list 2026" and acme.contact_phone == "+49 30 1234"
    assert (acme.consent, cobalt.consent) == ("granted", "unknown")
    assert acme.consent_recorded_at is not None and cobalt.consent_recorded_at is None
    assert (acme.company_key, acme.email_key, acme.email_domain) == ("acme", "ana@acme.de", "acme.de")
    assert bolt.service == "paid_media" and bolt.is_paused and bolt.pause_reason == "consent"
    created = db.session.scalars(sa.select(Event).where(Event.kind == "created")).all()
    assert sorted(e.lead_id for e in created) == sorted(lead.id for lead in leads.values())
    assert all(
        e.payload == {"source": "event", "import_id": job.id} and e.actor_id == owner.id for e in created
    )
    assert db.session.scalars(sa.select(Event.lead_id).where(Event.kind == "paused")).all() == [bolt.id]
    task = db.session.scalars(sa.select(Task).where(Task.lead_id == acme.id)).one()
    assert (task.title, task.due, task.owner_id) == ("Call Ana", date(2999, 1, 10), owner.id)
    note = db.session.scalars(sa.select(Notification).where(Notification.user_id == owner.id)).one()
    assert (
        note.kind == "import_done" and "3 created" in note.title and note.url.endswith(f"/imports/{job.id}")
    )
    assert (
        db.session.scalars(sa.select(Outbox.status).where(Outbox.key == f"import:{job.id}")).one() == "done"
    )


def test_the_same_file_again_creates_nothing_and_is_recognised(make, folder):
    owner = make.user("growth_ops")
    run(upload(owner, folder, HEADER + ROWS), owner)
    again = upload(owner, folder, HEADER + ROWS)
    assert [j.id for j in imports.earlier_imports_of_same_file(db.session, again)] == [again.id - 1]
    imports.set_mapping(db.session, again, owner, None, mapping=again.mapping, options={"source": "event"})
    preview = imports.preview(db.session, again, folder)
    assert [row.match.why for row in preview] == [
        "same contact email, same email domain, same company name",
        "same contact email, same email domain, same company name",
        "same contact email, same email domain, same company name",
    ]
    done = run(again, owner)
    assert (done.created_count, done.skipped_count) == (0, 3)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 3


def test_update_fills_only_empty_fields_with_a_fields_changed_event(make, folder):
    owner = make.user("growth_ops")
    lead = make.lead(
        owner=owner,
        company="Acme GmbH",
        contact_email="ana@acme.de",
        contact_phone=None,
        contact_name="Ana Original",
    )
    db.session.commit()
    job = upload(owner, folder, HEADER + ROWS)
    done = run(job, owner, decisions={"2": "update"})
    db.session.refresh(lead)
    assert (done.created_count, done.updated_count) == (2, 1)
    assert lead.contact_phone == "+49 30 1234" and lead.contact_name == "Ana Original"  # never overwritten
    change = db.session.scalars(
        sa.select(Event).where(Event.lead_id == lead.id, Event.kind == "fields_changed")
    ).one()
    assert change.payload["via"] == f"import {job.id}"
    # The phone and the value were empty: filled (with the value's currency); the name was not.
    assert {c["field"] for c in change.payload["changes"]} == {"contact_phone", "value_cents", "currency"}


def test_a_company_twice_in_one_file_is_created_once(make, folder):
    owner = make.user("growth_ops")
    job = upload(owner, folder, "Company,Service\nAcme GmbH,SEO\nACME gmbh.,SEO\nOther,SEO\n")
    done = run(job, owner)
    assert (done.created_count, done.skipped_count) == (2, 1)


def test_a_later_row_that_updates_an_earlier_one_fills_its_email_and_match_keys(make, folder):
    owner = make.user("growth_ops")
    job = upload(owner, folder, "Company,Email,Service\nAcme GmbH,,SEO\nACME GmbH,ana@acme.de,SEO\n")
    done = run(job, owner, decisions={"3": "update"})
    lead = db.session.scalars(sa.select(Lead)).one()
    assert (done.created_count, done.updated_count) == (1, 1)
    assert (lead.contact_email, lead.email_key, lead.email_domain) == (
        "ana@acme.de",
        "ana@acme.de",
        "acme.de",
    )


def test_refused_rows_go_to_the_error_report_with_formulas_neutralised(make, folder):
    owner = make.user("growth_ops")
    content = (
        "Company,Service,Due,Phone\n"
        "Good Co,SEO,2999-02-01,+1 555\n"
        ",SEO,,@SUM(1+1)\n"
        "Bad Service,Plumbing,,+cmd|' /C calc'!A0\n"
        "Bad Date,SEO,next week,-2+3\n"
    )
    done = run(upload(owner, folder, content), owner)
    assert (done.created_count, done.error_count) == (1, 3)
    lines = report(done, folder)
    assert lines[0] == ["Row", "Column", "Problem", "Company", "Service", "Due", "Phone"]
    assert [line[:3] for line in lines[1:]] == [
        ["3", "Company", "Company is required."],
        ["4", "Service", "Choose a service from the list."],
        ["5", "Due", "Next action due: write the date as 2026-12-31 (or 31.12.2026)."],
    ]
    assert lines[1][6] == "'@SUM(1+1)" and lines[2][6] == "'+cmd|' /C calc'!A0" and lines[3][6] == "'-2+3"


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (b"", "x.csv", "The file is empty."),
        (b"\n\n", "x.csv", "The file has nothing in it"),
        (b"ana@acme.de,Acme\nben@bolt.de,Bolt\n", "x.csv", "The first row looks like data"),
        (b"Company\n", "x.csv", "names its columns but has no rows"),
        (b'Company,Service\n=HYPERLINK("http://x"),SEO\n', "x.csv", "holds a formula"),
        ("Company\nM\u00fcller\n".encode("utf-16"), "x.csv", "saved as UTF-16"),
        (b"Company\nAcme\x00\x01\x02\n", "x.csv", "binary data"),
        (
            bytes(range(128, 192)) + b"\x00",
            "x.csv",
            "binary",
        ),  # fixed bytes: xdist workers must collect the same ids
        (b"\xd0\xcf\x11\xe0rest", "x.xls", "old Excel .xls"),
        (b"PK\x03\x04broken zip", "x.xlsx", "cannot be read"),
        (b"Company\nA\nB\nC\n", "x.csv", "more than 2 rows"),
        (b"Company\n" + b"A" * 200, "x.csv", "larger than"),
        (b"%PDF-1.4", "x.pdf", "Upload a CSV or XLSX file."),
    ],
)
def test_bad_files_get_a_clear_message_and_change_nothing(make, folder, content, filename, message):
    owner = make.user("growth_ops")
    with pytest.raises(Invalid) as refused:
        upload(owner, folder, content, filename, max_bytes=150, max_rows=2)
    assert message in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0
    assert not os.listdir(folder)


def test_a_million_rows_are_refused_without_reading_them_all(make, folder):
    owner = make.user("growth_ops")
    content = b"Company\n" + b"A\n" * 1_000_000  # 2 MB, under the size limit
    with pytest.raises(Invalid, match="more than 200,000 rows"):
        upload(owner, folder, content, max_bytes=20 * 2**20, max_rows=200_000)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0


def test_an_xlsx_file_with_dates_numbers_and_a_formula(make, folder, tmp_path):
    owner = make.user("growth_ops")
    book = Workbook()
    sheet = book.active
    sheet.append(["Company", "Email", "Service", "Value", "Currency", "Due"])
    sheet.append(["Xlsx AG", "x@xlsx.de", "Content", 2500, "EUR", date(2999, 3, 1)])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    done = run(upload(owner, folder, path.read_bytes(), "leads.xlsx"), owner)
    lead = db.session.scalars(sa.select(Lead)).one()
    assert (done.created_count, lead.company, lead.value_cents, lead.next_action_due) == (
        1,
        "Xlsx AG",
        250000,
        date(2999, 3, 1),
    )

    sheet.append(["Formula GmbH", "f@f.de", "SEO", "=1+1", "EUR", None])
    book.save(path)
    with pytest.raises(Invalid, match="Row 3, column “Value” holds a formula"):
        upload(owner, folder, path.read_bytes(), "leads.xlsx")


def test_a_windows_1252_csv_is_read_as_such(make, folder):
    owner = make.user("growth_ops")
    job = upload(owner, folder, "Company,Service\nMüller & Söhne,SEO\n".encode("cp1252"))
    assert job.options["file"]["encoding"] == "cp1252"
    run(job, owner)
    assert db.session.scalars(sa.select(Lead.company)).one() == "Müller & Söhne"


def test_a_stopped_run_resumes_where_it_stopped_and_duplicates_nothing(make, folder, monkeypatch):
    owner = make.user("growth_ops")
    content = "Company,Service,Phone\n" + "".join(f"Co {i},SEO,{'bad' if i == 5 else ''}\n" for i in range(7))
    content = content.replace("Co 5,SEO,bad", "Co 5,Nope,")
    job = upload(owner, folder, content)
    calls = {"n": 0}
    real = imports._insert_leads

    def crash_on_second_batch(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the worker died")
        return real(*args)

    monkeypatch.setattr(imports, "_insert_leads", crash_on_second_batch)
    with unit(db.session):
        imports.set_mapping(
            db.session, job, owner, job.version, mapping=job.mapping, options={"source": "ads"}
        )
        job.status = "queued"  # as confirm_import leaves it (its job is run by hand here, in batches of 3)
    with pytest.raises(RuntimeError):
        imports.run_import(db.session, job.id, folder=folder, batch_size=3)
    assert "import-read-ahead" not in {t.name for t in threading.enumerate()}  # the reading thread stopped
    db.session.rollback()  # what the job runner does with a failed run
    monkeypatch.setattr(imports, "_insert_leads", real)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert (job.status, job.processed_rows, job.created_count) == ("running", 3, 3)
    folder_ = folder
    result = imports.run_import(db.session, job.id, folder=folder_, batch_size=3)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert result.startswith(f"import {job.id}: 6 created")
    assert (job.status, job.processed_rows, job.created_count, job.error_count) == ("done", 7, 6, 1)
    assert sorted(db.session.scalars(sa.select(Lead.company))) == [f"Co {i}" for i in range(7) if i != 5]
    assert [line[0] for line in report(job, folder)[1:]] == ["7"]
    assert imports.run_import(db.session, job.id, folder=folder_).endswith("done, nothing to do")


def test_clients_import_with_duplicates_by_domain(make, folder):
    owner = make.user("growth_ops")
    make.client(name="Existing Client", domain="known.de")
    db.session.commit()
    content = (
        "Name,Website,Status,Cadence,Notes\n"
        "New Client,https://www.new.de/home,Active,Weekly,Met at fair\n"
        "Known Again,known.de,,,\n"
        "Bad Status,bad.de,Sleeping,,\n"
    )
    job = upload(owner, folder, content, kind="clients")
    assert job.mapping == {
        "Name": "name",
        "Website": "domain",
        "Status": "status",
        "Cadence": "report_cadence",
        "Notes": "notes",
    }
    with unit(db.session):
        imports.set_mapping(db.session, job, owner, job.version, mapping=job.mapping, options={})
    with unit(db.session):
        imports.confirm_import(db.session, job, owner, job.version, {})
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert (job.created_count, job.skipped_count, job.error_count) == (1, 1, 1)
    from zarts.models import Client

    new = db.session.scalars(sa.select(Client).where(Client.name == "New Client")).one()
    assert (new.domain, new.status, new.report_cadence, new.notes, new.owner_id) == (
        "new.de",
        "active",
        "weekly",
        "Met at fair",
        owner.id,
    )


def test_only_the_uploader_or_an_admin_changes_an_import(make, folder):
    owner, other, admin = make.user("growth_ops"), make.user("growth_ops"), make.user("admin")
    job = upload(owner, folder, HEADER + ROWS)
    with pytest.raises(Forbidden):
        imports.set_mapping(db.session, job, other, None, mapping=job.mapping, options={"source": "ads"})
    with pytest.raises(Forbidden):
        upload(make.user("approver"), folder, HEADER + ROWS)
    with pytest.raises(Forbidden, match="Only an admin can create an opportunity for someone else"):
        imports.set_mapping(
            db.session, job, owner, None, mapping=job.mapping, options={"source": "ads", "owner_id": other.id}
        )
    imports.set_mapping(
        db.session, job, admin, None, mapping=job.mapping, options={"source": "ads", "owner_id": other.id}
    )
    assert job.options["owner_id"] == other.id
    with pytest.raises(Invalid, match="company"):
        imports.set_mapping(db.session, job, owner, None, mapping={"Company": ""}, options={"source": "ads"})


def test_a_double_confirm_runs_the_import_once(make, folder):
    owner = make.user("growth_ops")
    job = upload(owner, folder, HEADER + ROWS)
    stale = job.version
    done = run(job, owner)
    with unit(db.session):
        imports.confirm_import(db.session, done, owner, stale, {})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 3


def test_duplicates_are_looked_up_once_per_key_kind_per_batch(pg_app, make, tmp_path, count_queries):
    """On PostgreSQL a batch costs the same statements for 8 rows as for 40 (SQLite inserts the new
    leads one statement each: it has no ordered multi-row RETURNING)."""
    pg_app.config["IMPORT_FOLDER"] = folder = str(tmp_path / "pg-imports")
    owner = make.user("growth_ops")
    make.lead(owner=owner, company="Row 3 Co", contact_email="r3@row.de")
    db.session.commit()

    def statements(n):
        content = "Company,Email,Service\nRow 3 Co,r3@row.de,SEO\n" + "".join(  # one duplicate each time
            f"Batch{n} {i} Co,b{n}r{i}@b{n}r{i}.de,SEO\n" for i in range(n)
        )
        job = upload(owner, folder, content)
        with unit(db.session):
            imports.set_mapping(
                db.session, job, owner, job.version, mapping=job.mapping, options={"source": "ads"}
            )
            job.status = "running"
        with count_queries() as q:
            imports.run_import(db.session, job.id, folder=folder)
        return q.count

    webhooks.subscriptions(db.session)  # the endpoints listening are read once per app, then cached
    assert statements(40) == statements(8)


def test_postgresql_import_with_duplicates_and_resume(pg_app, make, tmp_path):
    pg_app.config["IMPORT_FOLDER"] = folder = str(tmp_path / "pg-imports")
    owner = make.user("growth_ops")
    make.lead(owner=owner, company="Existing AG", contact_email="boss@existing.de")
    db.session.commit()
    content = "Company,Email,Service\n" + "".join(f"Pg {i} GmbH,p{i}@pg{i}.de,SEO\n" for i in range(25))
    content += "Existing AG,other@existing.de,SEO\n"
    job = upload(owner, folder, content)
    with unit(db.session):
        imports.set_mapping(
            db.session, job, owner, job.version, mapping=job.mapping, options={"source": "ads"}
        )
        job.status = "running"
    result = imports.run_import(db.session, job.id, folder=folder, batch_size=10)
    assert result == f"import {job.id}: 25 created, 0 updated, 1 skipped, 0 with errors"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lead)) == 26
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(Event.kind == "created")) == 25
    )
